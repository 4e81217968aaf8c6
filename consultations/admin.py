"""The advisors' consultation screens: their availability (each advisor their own, managers
everyone's), and the bookings: today's and this week's, held or no-show, the outcome."""

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import ForeignKey, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Groups, User
from accounts.staff import is_manager, staff_user
from consultations.models import AvailabilityOverride, Booking, BookingRefusal, WeeklyAvailability
from consultations.services import (
    BookingError,
    OutcomeAlreadyRecorded,
    booking_cancel,
    booking_mark_held,
    booking_mark_no_show,
    booking_record_outcome,
)
from core.business_time import BUSINESS_TZ


class OwnAvailabilityAdmin(admin.ModelAdmin[Any]):
    """An advisor sees and edits only their own hours, and the advisor field of the form is
    fixed to them (a forged value is refused by the form, not trusted); managers (and
    superusers) see and edit everyone's, choosing among the active advisors."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return queryset if is_manager(request) else queryset.filter(advisor=staff_user(request))

    def _own(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or is_manager(request) or obj.advisor_id == staff_user(request).pk

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self._own(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._own(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._own(request, obj)

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        return filters if is_manager(request) else tuple(f for f in filters if f != "advisor")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        if not is_manager(request):
            initial["advisor"] = str(staff_user(request).pk)
        return initial

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "advisor":
            if is_manager(request):
                kwargs["queryset"] = User.objects.filter(
                    is_active=True, groups__name=Groups.ADVISORS
                ).order_by("display_name")
            else:
                me = staff_user(request)
                kwargs["queryset"] = User.objects.filter(pk=me.pk)
                kwargs["initial"] = me.pk
                kwargs["disabled"] = True  # the submitted value is ignored; the initial one is checked
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(WeeklyAvailability)
class WeeklyAvailabilityAdmin(OwnAvailabilityAdmin):
    list_display = ("advisor", "weekday", "start_time", "end_time")
    list_filter = ("weekday", "advisor")
    list_select_related = ("advisor",)
    ordering = ("advisor__display_name", "weekday", "start_time")


@admin.register(AvailabilityOverride)
class AvailabilityOverrideAdmin(OwnAvailabilityAdmin):
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


class OutcomeFilter(admin.SimpleListFilter):
    """Consultations whose outcome is still to be recorded: held without one, or still
    `booked` although they have started (nobody marked them)."""

    title = _("outcome")
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("missing", _("To record")), ("recorded", _("Recorded"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "missing":
            return queryset.filter(
                Q(status=Booking.Status.ATTENDED, outcome_recorded_at__isnull=True)
                | Q(status=Booking.Status.BOOKED, start_at__lte=timezone.now())
            )
        if self.value() == "recorded":
            return queryset.filter(outcome_recorded_at__isnull=False)
        return queryset


class OutcomeForm(forms.Form):
    next_step = forms.ChoiceField(
        label=_("next step"), choices=Booking.NextStep.choices, widget=forms.RadioSelect
    )
    next_step_due = forms.DateField(
        label=_("next step due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The follow-up task is due at 09:00 that day (the next business morning if empty)."),
    )
    outcome_note = forms.CharField(
        label=_("outcome"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 8})
    )


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin[Booking]):
    """The advisors' consultations. Times, people, status and outcome change only through
    the actions and the outcome form (the booking services), so that emails, reminders,
    stages and follow-ups follow. Everyone sees every booking; an advisor changes only their
    own, managers all."""

    list_display = ("start_at", "end_at", "kind", "mode", "status", "next_step", "advisor", "candidate")
    list_filter = (WhenFilter, OutcomeFilter, "status", "kind", "mode", "advisor")
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
        "confirm_by",
        "confirmed_at",
        "notes",
        "meeting_url",
        "record_outcome",
        "next_step",
        "next_step_due",
        "outcome_note",
        "outcome_recorded_at",
        "outcome_recorded_by",
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

    def has_change_permission(self, request: HttpRequest, obj: Booking | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or is_manager(request) or obj.advisor_id == staff_user(request).pk)

    def get_fields(self, request: HttpRequest, obj: Booking | None = None) -> Any:
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            return [f for f in fields if f != "record_outcome"]  # only its advisor (or a manager) may
        return fields

    def get_urls(self) -> list[URLPattern]:
        outcome = path(
            "<path:object_id>/outcome/",
            self.admin_site.admin_view(self.outcome_view),
            name="consultations_booking_outcome",
        )
        return [outcome, *super().get_urls()]  # before "<path:object_id>/", which would take it

    @admin.display(description=_("Outcome and next step"))
    def record_outcome(self, booking: Booking) -> str:
        if booking.outcome_recorded_at is not None or booking.status not in (
            Booking.Status.BOOKED,
            Booking.Status.ATTENDED,
        ):
            return "-"
        url = reverse("admin:consultations_booking_outcome", args=[booking.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Record outcome"))

    def outcome_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The outcome form: next step, its date, notes. Only for the booking's advisor (or a
        manager), and only for a consultation that has started."""
        booking = self.get_object(request, object_id)
        if booking is None:
            raise Http404
        if not self.has_change_permission(request, booking):
            raise PermissionDenied
        change_url = reverse("admin:consultations_booking_change", args=[booking.pk])
        form = OutcomeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                booking_record_outcome(
                    booking_id=booking.pk,
                    next_step=form.cleaned_data["next_step"],
                    next_step_due=form.cleaned_data["next_step_due"],
                    note=form.cleaned_data["outcome_note"],
                    by=staff_user(request),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except OutcomeAlreadyRecorded:
                form.add_error(None, _("Another outcome has already been recorded for this consultation."))
            except BookingError:
                form.add_error(None, _("Only a consultation that has taken place can have an outcome."))
            else:
                self.message_user(request, _("The outcome has been recorded."))
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record outcome"),
            "opts": self.opts,
            "booking": booking,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "consultations/admin/booking_outcome.html", context)

    def _apply(self, request: HttpRequest, queryset: QuerySet[Booking], action: Any, done: Any) -> None:
        changed = 0
        for booking in queryset:
            if not self.has_change_permission(request, booking):
                self.message_user(
                    request,
                    _("%(booking)s is another advisor's consultation: not changed.") % {"booking": booking},
                    messages.WARNING,
                )
                continue
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
        by = staff_user(request)
        self._apply(
            request,
            queryset,
            lambda b: booking_mark_held(booking_id=b.pk, by=by),
            _("%(count)d consultation(s) marked as held."),
        )

    @admin.action(description=_("Mark as no-show"), permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        by = staff_user(request)
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
            lambda b: booking_cancel(
                booking_id=b.pk, reason=str(_("Cancelled by the advisor")), by_staff=True
            ),
            _("%(count)d consultation(s) cancelled."),
        )


@admin.register(BookingRefusal)
class BookingRefusalAdmin(admin.ModelAdmin[BookingRefusal]):
    """Refused direct booking attempts per hour and reason (services.abuse): what an attack
    on the public booking looks like. Read-only: the counts are written by the refusals."""

    list_display = ("hour", "reason", "count")
    list_filter = ("reason",)
    date_hierarchy = "hour"
    ordering = ("-hour", "reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BookingRefusal | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BookingRefusal | None = None) -> bool:
        return False
