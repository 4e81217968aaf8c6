"""After the start: a consultation held (the candidate moves on to `consulted`) or a no-show
(the candidate may book that kind again; the follow-ups go out 30 minutes after)."""

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from consultations.models import Booking
from consultations.services.bookings import BookingClosed, booking_locked
from consultations.services.followups import no_show_followups_schedule
from consultations.services.notices import CANDIDATE_NOTICE_KINDS, booking_subject
from core.outbox import outbox_cancel
from leads.candidates.pipeline import candidate_advance_to
from leads.models import Candidate


def _mark(*, booking_id: uuid.UUID, status: str, now: datetime) -> tuple[Booking, bool]:
    """Set a past booking's status; (the booking, whether it changed)."""
    booking = booking_locked(booking_id)
    if booking.status == status:
        return booking, False
    if booking.status not in (Booking.Status.BOOKED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW):
        raise BookingClosed  # a cancelled booking stays cancelled
    if booking.start_at > now:
        raise BookingClosed  # not happened yet
    if booking.outcome_recorded_at is not None:
        raise BookingClosed  # its outcome says it was held
    booking.status = status
    booking.save(update_fields=["status", "updated_at"])
    # No reminder outlives its consultation. The follow-ups stay: each checks at delivery
    # that the status it is about still holds (a no-show corrected to held is followed up
    # as held, and the reverse).
    outbox_cancel(subject=booking_subject(booking.pk), kinds=CANDIDATE_NOTICE_KINDS)
    return booking, True


def booking_mark_held(*, booking_id: uuid.UUID, by: User | None, now: datetime | None = None) -> Booking:
    """The consultation took place: the candidate moves on to `consulted`. The advisor is
    reminded the next business morning unless the outcome is recorded by then."""
    with transaction.atomic():
        booking, _changed = _mark(
            booking_id=booking_id, status=Booking.Status.ATTENDED, now=now or timezone.now()
        )
        candidate_advance_to(candidate_id=booking.candidate_id, stage=Candidate.Stage.CONSULTED, by=by)
    return booking


def booking_mark_no_show(*, booking_id: uuid.UUID, by: User | None, now: datetime | None = None) -> Booking:
    """The candidate did not come. Frees the candidate to book that kind again; 30 minutes
    after the start the advisor gets a task and the candidate a link to book again."""
    now = now or timezone.now()
    with transaction.atomic():
        booking, changed = _mark(booking_id=booking_id, status=Booking.Status.NO_SHOW, now=now)
        if changed:
            no_show_followups_schedule(booking=booking, subject=booking_subject(booking.pk), now=now)
    return booking
