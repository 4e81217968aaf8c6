"""The candidates' pages: book directly (/book/: a hold, confirmed from the link sent to
the person) or from a lead's link, confirm a hold, then move or cancel from the booking's
link. Plain Django templates, mobile first, no JavaScript needed; the same services and the
same abuse rules as the API (CONTRACT section 5)."""

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from consultations.forms import DirectBookingForm
from consultations.models import Booking, ConsultationKind, ConsultationMode
from consultations.selectors import Slot, booking_get_by_token, slots_for_range
from consultations.services import (
    AlreadyBooked,
    BookingClosed,
    BookingError,
    HoldLimitReached,
    HoldReleased,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_hold,
    booking_reschedule,
)
from consultations.services.abuse import Refused, direct_attempt_admit, holds_refused, slot_query_admit
from core.business_time import BUSINESS_TZ
from core.channels import LINE, channel_get
from core.ratelimit import client_address, client_key
from leads.candidates.line_link import IssuedCode, line_link_code_issue, line_unlink
from leads.intake.inputs import LeadInput
from leads.intake.tokens import booking_token_lead_id
from leads.models import ContactChannel, Lead
from roles.selectors import role_list

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


def _too_many(request: HttpRequest, refused: Refused) -> HttpResponse:
    response = render(
        request,
        "consultations/pages/too_many.html",
        {"minutes": max(1, -(-refused.retry_after // 60))},
        status=429,
    )
    response["Retry-After"] = str(refused.retry_after)
    return response


def _roles() -> list[Any]:
    return list(role_list())


def _lead_input(form: DirectBookingForm, request: HttpRequest, now: datetime) -> LeadInput:
    data = form.cleaned_data
    return LeadInput(
        family_name=data["family_name"],
        given_name=data["given_name"],
        family_name_kana=data["family_name_kana"],
        given_name_kana=data["given_name_kana"],
        email=data["email"],
        phone=data["phone"],
        current_occupation=data["current_occupation"],
        desired_roles=list(data["desired_roles"]),
        consent_policy_version=settings.PRIVACY_POLICY_VERSION,
        consent_agreed_at=now,
        consent_third_party_provision=False,  # the agency's own page: nobody else's lead
        source_url=request.build_absolute_uri(request.path)[:500],
        raw_payload={"channel": "booking_page"},
    )


@require_http_methods(["GET", "POST"])
def book_direct(request: HttpRequest) -> HttpResponse:
    """The free first consultation for anyone: pick a time, say who you are; the seat is
    held until the person confirms it from the message we send (services.bookings)."""
    client = client_key(client_address(request))
    if request.method == "GET" and (refused := slot_query_admit(client=client)) is not None:
        return _too_many(request, refused)
    now = timezone.now()
    kind = _kind(request)
    roles = _roles()
    wanted_role = request.GET.get("role", "")
    form = DirectBookingForm(
        request.POST if request.method == "POST" else None,
        roles=roles,
        initial={"desired_roles": [wanted_role] if wanted_role in {r.slug for r in roles} else []},
    )
    error, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            refused = direct_attempt_admit(client=client, email=data["email"], phone=data["phone"])
            if refused is not None:
                return _too_many(request, refused)
            try:
                created = booking_hold(
                    start=data["start"],
                    kind=kind,
                    mode=data["mode"],
                    contact=_lead_input(form, request, now),
                    client=client,
                    notes=data["notes"],
                    language=translation.get_language() or "ja",
                )
            except HoldLimitReached as exc:
                return _too_many(request, holds_refused(retry_at=exc.retry_at))
            except BookingError as exc:
                error, status = _error_text(exc), 409
            else:  # Post/Redirect/Get: a reload cannot hold a second seat
                return HttpResponseRedirect(reverse("book-held", args=[created.booking.pk]))
        else:
            status = 400
    chosen = form["start"].value() if form.is_bound else None
    context: dict[str, Any] = {
        "kind": kind,
        "kinds": ConsultationKind.choices,
        "form": form,
        "chosen_start": chosen,
        "privacy_policy_url": settings.PRIVACY_POLICY_URL,
        "privacy_policy_version": settings.PRIVACY_POLICY_VERSION,
        **_day_choice(request, kind=kind, now=now),
        "error": error,
    }
    return render(request, "consultations/pages/book_direct.html", context, status=status)


@require_http_methods(["GET"])
def book_held(request: HttpRequest, booking_id: uuid.UUID) -> HttpResponse:
    """After a direct booking: "check your messages", with the time held and until when.
    Nothing personal is shown (the id alone opens it)."""
    booking = Booking.objects.select_related("advisor").filter(pk=booking_id).first()
    if booking is None or booking.confirm_by is None:
        return render(request, "consultations/pages/link_invalid.html", status=404)
    return render(request, "consultations/pages/book_held.html", {"booking": booking})


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the hold's message: shows the time held and a button that confirms it
    (a GET never confirms: mail scanners open links)."""
    booking = booking_get_by_token(token=token, now=timezone.now())
    if booking is None:
        return render(request, "consultations/pages/link_invalid.html", status=404)
    if booking.status == Booking.Status.BOOKED:
        return HttpResponseRedirect(reverse("consultation-manage", args=[token]))
    released = booking.status == Booking.Status.RELEASED or (
        booking.status == Booking.Status.HELD
        and booking.confirm_by is not None
        and booking.confirm_by <= timezone.now()
    )
    if request.method == "POST" and booking.status == Booking.Status.HELD:
        try:  # past its deadline, it is released here (and HoldReleased says so)
            booking_confirm(booking_id=booking.pk)
        except HoldReleased:
            released = True
        except BookingError:
            return render(request, "consultations/pages/link_invalid.html", status=404)
        else:
            return HttpResponseRedirect(reverse("consultation-manage", args=[token]))
    if booking.status not in (Booking.Status.HELD, Booking.Status.RELEASED):  # cancelled
        return render(request, "consultations/pages/link_invalid.html", status=404)
    return render(
        request,
        "consultations/pages/confirm.html",
        {"booking": booking, "released": released, "kind": booking.kind},
        status=409 if released else 200,
    )


def _fallback_label(email: str | None) -> str:
    """The channel a candidate goes back to from LINE (line_unlink): email, else SMS."""
    return pgettext("message channel", "email") if email else pgettext("message channel", "SMS")


def _line_offered() -> bool:
    """LINE is on (push and webhook) and the page can point at our official account."""
    return bool(settings.LINE_BOT_BASIC_ID and settings.LINE_CHANNEL_SECRET and channel_get(LINE) is not None)


def _line_context(booking: Booking, issued: IssuedCode | None) -> dict[str, Any]:
    """The "LINEで受け取る" block: linked or not, and after a request the code with the
    links that add our account and open a chat with the code typed in."""
    if not _line_offered():
        return {"line": None}
    candidate = booking.candidate
    basic_id = settings.LINE_BOT_BASIC_ID
    context: dict[str, Any] = {
        "linked": candidate.contact_channel == ContactChannel.LINE and bool(candidate.line_user_id),
        "fallback": _fallback_label(candidate.email),
        "add_url": f"https://line.me/R/ti/p/{quote(basic_id)}",
        "code": None,
    }
    if issued is not None:
        context["code"] = issued.code
        context["send_url"] = f"https://line.me/R/oaMessage/{quote(basic_id)}/?{quote(issued.code)}"
        context["expires"] = issued.expires_at.astimezone(BUSINESS_TZ).strftime("%H:%M")
    return {"line": context}


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    booking = booking_get_by_token(token=token, now=timezone.now())
    if booking is None:
        return render(request, "consultations/pages/link_invalid.html", status=404)
    message, error = "", ""
    issued: IssuedCode | None = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action in ("line_link", "line_unlink") and _line_offered():
        # Not a change of the booking: the candidate's channel for every message.
        if action == "line_link":
            issued = line_link_code_issue(candidate_id=booking.candidate_id)
        else:
            line_unlink(candidate_id=booking.candidate_id)
            message = _("Your messages will come by %(channel)s again.") % {
                "channel": _fallback_label(booking.candidate.email)
            }
        booking = booking_get_by_token(token=token, now=timezone.now()) or booking
    elif request.method == "POST":
        try:
            if action == "cancel":
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
        **_line_context(booking, issued),
        **(
            _day_choice(request, kind=booking.kind, now=now)
            if open_for_changes
            else {"days": [], "day": None}
        ),
    }
    return render(request, "consultations/pages/manage.html", context, status=409 if error else 200)
