"""Emails to the candidate about their booking (registered in ConsultationsConfig.ready).

Rendered at delivery time from the booking as it is then, in the booking's language, with
the .ics attached. Each handler first checks that the message still applies (a confirmation
for a booking cancelled meanwhile is skipped, not sent); a candidate without an email
address (phone only, or erased) is skipped too."""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from consultations.calendar import booking_ics
from consultations.models import Booking
from consultations.services.bookings import KIND_CANCELLED, KIND_CONFIRMATION, KIND_REMINDER, KIND_RESCHEDULED
from consultations.tokens import manage_token_rebuild, manage_url_for
from core.business_time import BUSINESS_TZ
from core.models import OutboxMessage
from core.outbox import Outcome, outbox_handler

# kind -> (template name, the booking status it needs to still apply)
TEMPLATES = {
    KIND_CONFIRMATION: ("booking_confirmation", Booking.Status.BOOKED),
    KIND_RESCHEDULED: ("booking_rescheduled", Booking.Status.BOOKED),
    KIND_CANCELLED: ("booking_cancelled", Booking.Status.CANCELLED),
}


def booking_email_send(message: OutboxMessage) -> Outcome:
    template, wanted_status = TEMPLATES[message.kind]
    booking = Booking.objects.select_related("advisor", "candidate").get(pk=message.payload["booking_id"])
    if booking.status != wanted_status or not booking.candidate.email:
        return Outcome.SKIPPED
    token = manage_token_rebuild(
        booking_id=booking.pk, salt=booking.manage_token_salt, token_hash=booking.manage_token_hash
    )
    manage_url = manage_url_for(token=token) if token else None
    context = {
        "booking": booking,
        "candidate": booking.candidate,
        "manage_url": manage_url,
        "business_tz": BUSINESS_TZ,
    }
    with translation.override(booking.language):
        subject = render_to_string(f"consultations/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"consultations/email/{template}_body.txt", context)
    email = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [booking.candidate.email])
    method = "CANCEL" if booking.status == Booking.Status.CANCELLED else "PUBLISH"
    email.attach(
        "consultation.ics",
        booking_ics(booking=booking, manage_url=manage_url),
        f"text/calendar; method={method}; charset=UTF-8",
    )
    email.send()
    return Outcome.SENT


for _kind in TEMPLATES:
    outbox_handler(_kind)(booking_email_send)


@outbox_handler(KIND_REMINDER)
def booking_reminder_send(message: OutboxMessage) -> Outcome:
    """A reminder goes out only for the booking as it still is: booked, at the start it was
    written for, not yet begun. Anything else is skipped (or expired, once too late)."""
    booking = Booking.objects.select_related("advisor", "candidate").get(pk=message.payload["booking_id"])
    written_for = datetime.fromisoformat(str(message.payload["start"]))
    if booking.status != Booking.Status.BOOKED or booking.start_at != written_for:
        return Outcome.SKIPPED
    if timezone.now() >= booking.start_at:
        return Outcome.EXPIRED
    if not booking.candidate.email:
        return Outcome.SKIPPED
    token = manage_token_rebuild(
        booking_id=booking.pk, salt=booking.manage_token_salt, token_hash=booking.manage_token_hash
    )
    context = {
        "booking": booking,
        "candidate": booking.candidate,
        "manage_url": manage_url_for(token=token) if token else None,
        "business_tz": BUSINESS_TZ,
    }
    with translation.override(booking.language):
        subject = render_to_string("consultations/email/booking_reminder_subject.txt", context).strip()
        body = render_to_string("consultations/email/booking_reminder_body.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [booking.candidate.email]).send()
    return Outcome.SENT
