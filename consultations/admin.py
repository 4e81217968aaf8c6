from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.models import AvailabilityOverride, Booking, WeeklyAvailability
from consultations.services import (
    BookingError,
    booking_cancel,
    booking_mark_held,
    booking_mark_no_show,
)
from core.business_time import BUSINESS_TZ


@admin.register(WeeklyAvailability)
class WeeklyAvailabilityAdmin(admin.ModelAdmin[WeeklyAvailability]):
    list_display = ("advisor", "weekday", "start_time", "end_time")
    list_filter = ("weekday", "advisor")
    list_select_related = ("advisor",)
    ordering = ("advisor__display_name", "weekday", "start_time")


@admin.register(AvailabilityOverride)
class AvailabilityOverrideAdmin(admin.ModelAdmin[AvailabilityOverride]):
    list_display = ("date", "advisor", "kind", "start_time", "end_time", "note")
    list_filter = ("kind", "advisor")
    list_select_related = ("advisor",)
    date_hierarchy = "date"
    ordering = ("-date", "advisor__display_name", "start_time")


class WhenFilter(admin.SimpleListFilter):
    """Today's and this week's consultations (Asia/Tokyo; the week starts on Monday)."""

    title = _("when")
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("today", _("Today")), ("week", _("This week")), ("upcoming", _("Upcoming"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        today = now.astimezone(BUSINESS_TZ).date()
        midnight = datetime.combine(today, time(), tzinfo=BUSINESS_TZ)
        if self.value() == "today":
            return queryset.filter(start_at__gte=midnight, start_at__lt=midnight + timedelta(days=1))
        if self.value() == "week":
            monday = midnight - timedelta(days=today.weekday())
            return queryset.filter(start_at__gte=monday, start_at__lt=monday + timedelta(days=7))
        if self.value() == "upcoming":
            return queryset.filter(start_at__gte=now)
        return queryset


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin[Booking]):
    """The advisors' consultations. Times, people and status change only through the
    actions (the booking services), so that emails, reminders and stages follow."""

    list_display = ("start_at", "end_at", "kind", "mode", "status", "advisor", "candidate")
    list_filter = (WhenFilter, "status", "kind", "mode", "advisor")
    list_select_related = ("advisor", "candidate")
    search_fields = ("candidate__family_name", "candidate__given_name", "candidate__email")
    date_hierarchy = "start_at"
    ordering = ("start_at",)
    fields = (
        "candidate",
        "advisor",
        "kind",
        "mode",
        "start_at",
        "end_at",
        "status",
        "notes",
        "meeting_url",
        "sequence",
        "cancel_reason",
        "cancelled_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = tuple(f for f in fields if f != "meeting_url")
    actions = ("mark_held", "mark_no_show", "cancel")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # bookings are made by candidates (or for them) through the booking API

    def has_delete_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        return False  # cancel instead: the record stays

    def _apply(self, request: HttpRequest, queryset: QuerySet[Booking], action: Any, done: Any) -> None:
        changed = 0
        for booking in queryset:
            try:
                action(booking)
            except BookingError:
                self.message_user(
                    request,
                    _("%(booking)s cannot be changed that way.") % {"booking": booking},
                    messages.WARNING,
                )
            else:
                changed += 1
        self.message_user(request, done % {"count": changed})

    @admin.action(description=_("Mark as held"), permissions=["change"])
    def mark_held(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        by = request.user if request.user.is_authenticated else None
        self._apply(
            request,
            queryset,
            lambda b: booking_mark_held(booking_id=b.pk, by=by),
            _("%(count)d consultation(s) marked as held."),
        )

    @admin.action(description=_("Mark as no-show"), permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        by = request.user if request.user.is_authenticated else None
        self._apply(
            request,
            queryset,
            lambda b: booking_mark_no_show(booking_id=b.pk, by=by),
            _("%(count)d consultation(s) marked as no-show."),
        )

    @admin.action(description=_("Cancel (the candidate is told)"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._apply(
            request,
            queryset,
            lambda b: booking_cancel(booking_id=b.pk, reason=str(_("Cancelled by the advisor"))),
            _("%(count)d consultation(s) cancelled."),
        )
