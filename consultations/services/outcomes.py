"""The outcome of a held consultation: what was said, the next step and when. Recording it
moves the candidate's stage on and gives the advisor a follow-up task for the next step."""

import uuid
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from consultations.models import Booking
from consultations.services.attendance import booking_mark_held
from consultations.services.bookings import BookingClosed, BookingError
from consultations.services.followups import KIND_POST_CONSULTATION, MORNING, next_business_morning
from consultations.services.notices import booking_subject
from core.business_time import BUSINESS_TZ
from core.outbox import outbox_cancel
from leads.candidates.followups import followup_task_create
from leads.candidates.pipeline import candidate_advance_to
from leads.models import Candidate, FollowUpTask

NextStep = Booking.NextStep

# The stage a next step means the candidate has reached (beyond `consulted`).
STAGE_FOR_NEXT_STEP = {
    NextStep.DOCUMENTS: Candidate.Stage.DOCUMENTS,
    NextStep.APPLY: Candidate.Stage.APPLYING,
}


class OutcomeAlreadyRecorded(BookingError):
    code = "outcome_recorded"


def _task_title(next_step: str) -> str:
    """In the staff's language (LANGUAGE_CODE), whoever records: tasks are shared."""
    with translation.override(settings.LANGUAGE_CODE):
        titles = {
            NextStep.DOCUMENTS: _("Prepare the documents agreed in the consultation"),
            NextStep.APPLY: _("Send postings and start the applications agreed in the consultation"),
            NextStep.ANOTHER_CONSULTATION: _("Arrange the next consultation"),
            NextStep.THINKING: _("Check in with the candidate who was thinking it over"),
        }
        return titles[NextStep(next_step)]


def _task_due(*, next_step_due: date | None, now: datetime) -> datetime:
    if next_step_due is None:
        return next_business_morning(now)
    return datetime.combine(next_step_due, MORNING, tzinfo=BUSINESS_TZ)


def _validate(*, booking: Booking, next_step: str, next_step_due: date | None) -> None:
    if next_step not in NextStep.values:
        raise ValidationError(_("Choose the next step."), code="invalid")
    if next_step_due is None:
        return
    if next_step == NextStep.NONE:
        raise ValidationError(_("No further support has no due date."), code="invalid")
    if next_step_due < booking.start_at.astimezone(BUSINESS_TZ).date():
        raise ValidationError(_("The next step cannot be due before the consultation."), code="invalid")


def booking_record_outcome(
    *,
    booking_id: uuid.UUID,
    next_step: str,
    note: str = "",
    next_step_due: date | None = None,
    by: User | None,
    now: datetime | None = None,
) -> Booking:
    """Record what came of a consultation. A booking still `booked` is marked held first.

    The candidate reaches `consulted`, and `documents` or `applying` when that is the next
    step; unless there is no further support, the advisor gets one follow-up task for the
    next step, due at 09:00 JST on ``next_step_due`` (the next business morning without
    one). The post-consultation reminder is cancelled: the outcome is what it asks for.

    An outcome is recorded once: recording the same next step and date again only updates
    the note (a resubmitted form changes nothing), a different one raises
    OutcomeAlreadyRecorded. Raises BookingClosed for a cancelled or no-show booking or one
    that has not started, and ValidationError for an unknown step or an impossible date."""
    now = now or timezone.now()
    note = note.strip()
    with transaction.atomic():
        booking = Booking.objects.select_for_update(of=("self",)).get(pk=booking_id)
        _validate(booking=booking, next_step=next_step, next_step_due=next_step_due)
        if booking.status == Booking.Status.BOOKED:
            booking = booking_mark_held(booking_id=booking.pk, by=by, now=now)
        elif booking.status != Booking.Status.ATTENDED:
            raise BookingClosed
        if booking.outcome_recorded_at is not None:
            if (booking.next_step, booking.next_step_due) != (next_step, next_step_due):
                raise OutcomeAlreadyRecorded
            if booking.outcome_note != note:
                booking.outcome_note = note
                booking.save(update_fields=["outcome_note", "updated_at"])
            return booking
        booking.outcome_note = note
        booking.next_step = next_step
        booking.next_step_due = next_step_due
        booking.outcome_recorded_at = now
        booking.outcome_recorded_by = by
        booking.save(
            update_fields=[
                "outcome_note",
                "next_step",
                "next_step_due",
                "outcome_recorded_at",
                "outcome_recorded_by",
                "updated_at",
            ]
        )
        candidate_advance_to(candidate_id=booking.candidate_id, stage=Candidate.Stage.CONSULTED, by=by)
        if next_step in STAGE_FOR_NEXT_STEP:
            candidate_advance_to(
                candidate_id=booking.candidate_id, stage=STAGE_FOR_NEXT_STEP[NextStep(next_step)], by=by
            )
        if next_step != NextStep.NONE:
            followup_task_create(
                candidate_id=booking.candidate_id,
                advisor_id=booking.advisor_id,
                due_at=_task_due(next_step_due=next_step_due, now=now),
                title=_task_title(next_step),
                source=FollowUpTask.Source.POST_CONSULTATION,
                created_by=by,
                key=f"booking.outcome:{booking.pk}",  # one task per consultation, whatever repeats
            )
        outbox_cancel(subject=booking_subject(booking.pk), kinds=[KIND_POST_CONSULTATION])
    return booking
