"""The candidates' pages: book from a lead's link, then move or cancel from the booking's
link. Plain Django templates, mobile first, no JavaScript needed; the same services as the
API (CONTRACT section 5)."""

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from consultations.models import Booking, ConsultationKind, ConsultationMode
from consultations.selectors import Slot, booking_get_by_token, slots_for_range
from consultations.services import (
    AlreadyBooked,
    BookingClosed,
    BookingError,
    booking_cancel,
    booking_create,
    booking_reschedule,
)
from core.business_time import BUSINESS_TZ
from leads.intake.tokens import booking_token_lead_id
from leads.models import Lead

DAYS_SHOWN = 14


def _slots_by_day(*, kind: str, now: datetime) -> list[tuple[date, list[Slot]]]:
    today = now.astimezone(BUSINESS_TZ).date()
    days: dict[date, list[Slot]] = defaultdict(list)
    for slot in slots_for_range(
        date_from=today, date_to=today + timedelta(days=DAYS_SHOWN - 1), kind=kind, now=now
    ):
        days[slot.start.astimezone(BUSINESS_TZ).date()].append(slot)
    return sorted(days.items())


def _day_choice(request: HttpRequest, *, kind: str, now: datetime) -> dict[str, Any]:
    """The days with free times (a short row a thumb can scroll) and one day's times: a
    phone screen cannot show two weeks of quarter hours at once."""
    days = _slots_by_day(kind=kind, now=now)
    wanted = request.GET.get("day", "")
    chosen = next((day for day in days if day[0].isoformat() == wanted), days[0] if days else None)
    return {"days": [(day, len(slots)) for day, slots in days], "day": chosen}


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or ConsultationKind.CAREER
    return kind if kind in ConsultationKind.values else ConsultationKind.CAREER


def _start(request: HttpRequest) -> datetime | None:
    try:
        start = parse_datetime(request.POST.get("start", ""))
    except ValueError:
        return None
    return start if start is not None and start.tzinfo is not None else None


def _error_text(error: BookingError) -> str:
    if isinstance(error, AlreadyBooked):
        return _("You already have a booking of this kind. Change or cancel it from its link.")
    if isinstance(error, BookingClosed):
        return _("This booking can no longer be changed.")
    return _("That time was just taken. Please choose another one.")


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, token: str) -> HttpResponse:
    lead_id = booking_token_lead_id(token=token)
    if lead_id is None:
        return render(request, "consultations/pages/link_invalid.html", status=404)
    now = timezone.now()
    kind = _kind(request)
    error = ""
    if request.method == "POST":
        start = _start(request)
        mode = request.POST.get("mode", "")
        if start is None or mode not in ConsultationMode.values:
            error = _("Choose a time and how you would like to talk.")
        else:
            try:
                created = booking_create(
                    start=start,
                    kind=kind,
                    mode=mode,
                    lead_id=uuid.UUID(str(lead_id)),
                    notes=request.POST.get("notes", "")[:1000],
                    language=translation.get_language() or "ja",
                )
            except BookingError as exc:
                error = _error_text(exc)
            except Lead.DoesNotExist:  # erased since the link was sent
                return render(request, "consultations/pages/link_invalid.html", status=404)
            else:  # Post/Redirect/Get: a reload cannot book twice
                return HttpResponseRedirect(reverse("consultation-manage", args=[created.manage_token]))
    context: dict[str, Any] = {
        "kind": kind,
        "kinds": ConsultationKind.choices,
        "modes": ConsultationMode.choices,
        **_day_choice(request, kind=kind, now=now),
        "error": error,
    }
    return render(request, "consultations/pages/book.html", context, status=409 if error else 200)


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    booking = booking_get_by_token(token=token, now=timezone.now())
    if booking is None:
        return render(request, "consultations/pages/link_invalid.html", status=404)
    message, error = "", ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                booking = booking_cancel(booking_id=booking.pk, reason=request.POST.get("reason", "")[:500])
                message = _("Your consultation is cancelled.")
            elif (start := _start(request)) is not None:
                booking = booking_reschedule(booking_id=booking.pk, start=start)
                message = _("Your consultation has been moved.")
            else:
                error = _("Choose a new time.")
        except BookingError as exc:
            error = _error_text(exc)
        if booking.status != Booking.Status.CANCELLED:  # read again, as the link now opens it
            current = booking_get_by_token(token=token, now=timezone.now())
            if current is None:  # the consultation ended meanwhile: the link is spent
                return render(request, "consultations/pages/link_invalid.html", status=404)
            booking = current
    now = timezone.now()
    open_for_changes = booking.status == Booking.Status.BOOKED and booking.start_at > now
    context = {
        "booking": booking,
        "kind": booking.kind,
        "token": token,
        "message": message,
        "error": error,
        "open_for_changes": open_for_changes,
        **(
            _day_choice(request, kind=booking.kind, now=now)
            if open_for_changes
            else {"days": [], "day": None}
        ),
    }
    return render(request, "consultations/pages/manage.html", context, status=409 if error else 200)
