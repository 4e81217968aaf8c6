"""Delivery of the follow-ups a consultation leaves behind (consultations.services.followups;
registered in ConsultationsConfig.ready).

Each handler checks again at delivery that its booking is still in the state that warranted
it, at the time it was written for, and returns SKIPPED otherwise. Advisor follow-ups also
create a follow-up task, keyed by the outbox row so that a repeated delivery makes one task.

Messages to the candidate go through the channel layer (leads.candidates.messages): email,
SMS or LINE by the candidate's preference, held to quiet hours at delivery; the short text
for SMS and LINE is consultations/short/no_show_rebook.txt."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from consultations.models import Booking
from consultations.services.followups import KIND_NO_SHOW, KIND_NO_SHOW_REBOOK, KIND_POST_CONSULTATION
from core.business_time import BUSINESS_TZ
from core.models import OutboxMessage
from core.outbox import Outcome, outbox_handler
from leads.candidates.messages import advisor_follow_up, candidate_message_send
from leads.intake.tokens import booking_token_for, booking_url_for
from leads.models import FollowUpTask, Lead


def _advisor_follow_up(
    message: OutboxMessage, booking: Booking, *, title: StrOrPromise, source: str, template: str
) -> None:
    # The email carries the time and a link, never the candidate's name or contacts.
    path = reverse("admin:consultations_booking_change", args=[booking.pk])
    advisor_follow_up(
        key=message.key,  # a repeated delivery does not make a second task
        candidate_id=booking.candidate_id,
        advisor=booking.advisor,
        title=title,
        source=source,
        template=f"consultations/{template}",
        context={"booking": booking, "booking_url": f"{settings.SITE_URL}{path}", "business_tz": BUSINESS_TZ},
    )


def _booking(message: OutboxMessage) -> Booking | None:
    return (
        Booking.objects.select_related("advisor", "candidate")
        .filter(pk=message.payload["booking_id"])
        .first()
    )


def _written_for(message: OutboxMessage, field: str) -> datetime:
    return datetime.fromisoformat(str(message.payload[field]))


@outbox_handler(KIND_POST_CONSULTATION)
def post_consultation_follow_up(message: OutboxMessage) -> Outcome:
    """The morning after: a held consultation (at the time written for) whose outcome is
    still unrecorded. Anything else (recorded, no-show, cancelled, moved) is skipped."""
    booking = _booking(message)
    if (
        booking is None
        or booking.status != Booking.Status.ATTENDED
        or booking.outcome_recorded_at is not None
        or booking.end_at != _written_for(message, "end")
    ):
        return Outcome.SKIPPED
    _advisor_follow_up(
        message,
        booking,
        title=_("Record the outcome and next step of the consultation"),
        source=FollowUpTask.Source.POST_CONSULTATION,
        template="post_consultation_advisor",
    )
    return Outcome.SENT


def _still_no_show(message: OutboxMessage) -> Booking | None:
    booking = _booking(message)
    if booking is None or booking.status != Booking.Status.NO_SHOW:
        return None
    if booking.start_at != _written_for(message, "start"):
        return None
    return booking


@outbox_handler(KIND_NO_SHOW)
def no_show_follow_up(message: OutboxMessage) -> Outcome:
    """The advisor: a task to reach the candidate who did not come, and an email; not for
    someone who withdrew consent or was erased meanwhile (nobody may contact them)."""
    booking = _still_no_show(message)
    if booking is None or booking.candidate.consent_withdrawn_at or booking.candidate.erased_at:
        return Outcome.SKIPPED
    _advisor_follow_up(
        message,
        booking,
        title=_("Call the candidate who did not come to the consultation"),
        source=FollowUpTask.Source.NO_SHOW,
        template="no_show_advisor",
    )
    return Outcome.SENT


def _lead_for(booking: Booking) -> Lead | None:
    if booking.lead_id is not None:
        return Lead.objects.filter(pk=booking.lead_id).only("pk").first()
    return Lead.objects.filter(candidate_id=booking.candidate_id).only("pk").order_by("-created_at").first()


@outbox_handler(KIND_NO_SHOW_REBOOK)
def no_show_rebooking_link(message: OutboxMessage) -> Outcome:
    """The candidate: a fresh link to book again (a new booking token, valid for
    BOOKING_TOKEN_TTL), unless they have booked that kind again meanwhile."""
    booking = _still_no_show(message)
    if booking is None:
        return Outcome.SKIPPED
    rebooked = Booking.objects.filter(
        candidate_id=booking.candidate_id, kind=booking.kind, status=Booking.Status.BOOKED
    ).exists()
    lead = _lead_for(booking)
    if rebooked or lead is None:
        return Outcome.SKIPPED
    token = booking_token_for(lead_id=lead.pk)
    return candidate_message_send(
        message=message,
        candidate=booking.candidate,
        template="consultations/no_show_rebook",
        context={
            "booking": booking,
            "candidate": booking.candidate,
            "booking_url": f"{booking_url_for(token=token)}?kind={booking.kind}",
            "business_tz": BUSINESS_TZ,
        },
        language=booking.language,
    )
