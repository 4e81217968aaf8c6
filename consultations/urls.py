from django.urls import path

from consultations.apis import (
    BookingCalendarApi,
    BookingCancelApi,
    BookingConfirmApi,
    BookingCreateApi,
    BookingManageApi,
    BookingRescheduleApi,
    SlotListApi,
)

urlpatterns = [
    path("consultations/slots/", SlotListApi.as_view(), name="consultation-slots"),
    path("consultations/bookings/", BookingCreateApi.as_view(), name="consultation-bookings"),
    path("consultations/confirm/<str:token>/", BookingConfirmApi.as_view(), name="consultation-confirm"),
    path("consultations/manage/<str:token>/", BookingManageApi.as_view(), name="consultation-manage"),
    path("consultations/manage/<str:token>/cancel/", BookingCancelApi.as_view(), name="consultation-cancel"),
    path(
        "consultations/manage/<str:token>/reschedule/",
        BookingRescheduleApi.as_view(),
        name="consultation-reschedule",
    ),
    # No trailing slash: the contract's path, and calendar apps like a file-looking URL.
    path("consultations/manage/<str:token>/ics", BookingCalendarApi.as_view(), name="consultation-ics"),
]
