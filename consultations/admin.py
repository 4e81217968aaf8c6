from django.contrib import admin

from consultations.models import WeeklyAvailability


@admin.register(WeeklyAvailability)
class WeeklyAvailabilityAdmin(admin.ModelAdmin[WeeklyAvailability]):
    list_display = ("advisor", "weekday", "start_time", "end_time")
    list_filter = ("weekday", "advisor")
    list_select_related = ("advisor",)
    ordering = ("advisor__display_name", "weekday", "start_time")
