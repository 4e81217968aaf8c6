"""The candidate pipeline: every stage change goes through here, with its actor and time,
and keeps the partner-safe status (CONTRACT section 3) in step.

Rules: advisors move a candidate forward any number of stages, or back one stage to
correct a mistake; `placed` is final. Closing keeps the last stage reached (the funnel
counts what was reached) and needs a reason. The system (a booking, an application)
only ever moves a candidate forward, with `candidate_advance_to`.
"""

import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from leads.models import Candidate, PayoutEvent, TimelineEvent
from leads.partners.webhooks import lead_status_changed_emit
from leads.payouts.services import payout_record

Stage = Candidate.Stage
Status = Candidate.PartnerStatus
ORDER: list[str] = list(Stage.values)

# What a partner may see of each stage (the closed flag overrides it).
PARTNER_STATUS = {
    Stage.NEW: Status.RECEIVED,
    Stage.CONTACTING: Status.RECEIVED,
    Stage.CONTACTED: Status.CONTACTED,
    Stage.CONSULTATION_BOOKED: Status.CONSULTATION_BOOKED,
    Stage.CONSULTED: Status.CONSULTATION_HELD,
    Stage.DOCUMENTS: Status.CONSULTATION_HELD,
    Stage.APPLYING: Status.APPLIED,
    Stage.INTERVIEWING: Status.APPLIED,
    Stage.OFFERED: Status.APPLIED,
    Stage.PLACED: Status.PLACED,
}


class StageTransitionError(ValidationError):
    """A stage change the rules do not allow."""


def partner_status_for(*, stage: str, is_closed: bool) -> str:
    if is_closed and stage != Stage.PLACED:
        return Status.CLOSED
    return PARTNER_STATUS[Stage(stage)]


def transition_allowed(*, current: str, to: str) -> bool:
    if current == Stage.PLACED:
        return False
    here, there = ORDER.index(current), ORDER.index(to)
    return there > here or there == here - 1


def _locked(candidate_id: uuid.UUID) -> Candidate:
    return Candidate.objects.select_for_update().get(pk=candidate_id)


# The partner-safe statuses a partner may be paid for reaching (CONTRACT section 8).
PAYABLE: dict[str, str] = {
    Status.CONSULTATION_HELD: PayoutEvent.CONSULTATION_HELD,
    Status.PLACED: PayoutEvent.PLACEMENT,
}


def _save(candidate: Candidate, *, fields: list[str], now: datetime) -> None:
    status = partner_status_for(stage=candidate.stage, is_closed=candidate.is_closed)
    if status != candidate.partner_status:
        candidate.partner_status = status
        candidate.partner_status_changed_at = now
        fields += ["partner_status", "partner_status_changed_at"]
        if status in PAYABLE and candidate.credited_lead_id is not None:
            payout_record(lead_id=candidate.credited_lead_id, event=PAYABLE[status], at=now)
        lead_status_changed_emit(candidate_id=candidate.pk, status=status, at=now)
    candidate.save(update_fields=[*fields, "updated_at"])


def timeline_record(
    *,
    candidate_id: uuid.UUID,
    kind: str,
    by: User | None,
    data: dict[str, object] | None = None,
    note: str = "",
    at: datetime | None = None,
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        candidate_id=candidate_id,
        kind=kind,
        actor=by,
        data=data or {},
        note=note,
        occurred_at=at or timezone.now(),
    )


def _move(candidate: Candidate, *, to: str, by: User | None, note: str, now: datetime) -> None:
    previous = candidate.stage
    candidate.stage = to
    _save(candidate, fields=["stage"], now=now)
    timeline_record(
        candidate_id=candidate.pk,
        kind=TimelineEvent.Kind.STAGE_CHANGED,
        by=by,
        data={"from": previous, "to": to},
        note=note,
        at=now,
    )


@transaction.atomic
def candidate_stage_change(*, candidate_id: uuid.UUID, to: str, by: User | None, note: str = "") -> Candidate:
    """An advisor's stage change. Raises StageTransitionError when the rules forbid it."""
    candidate = _locked(candidate_id)
    if candidate.stage == to:
        return candidate
    if candidate.is_closed:
        raise StageTransitionError(_("Reopen the candidate before changing the stage."), code="closed")
    if not transition_allowed(current=candidate.stage, to=to):
        raise StageTransitionError(
            _("A candidate cannot move from %(from)s to %(to)s.")
            % {"from": Stage(candidate.stage).label, "to": Stage(to).label},
            code="transition",
        )
    _move(candidate, to=to, by=by, note=note, now=timezone.now())
    return candidate


@transaction.atomic
def candidate_advance_to(*, candidate_id: uuid.UUID, stage: str, by: User | None = None) -> Candidate:
    """Move forward to `stage` if the candidate has not reached it yet; never backward.
    A closed candidate who acts (books a consultation, applies) is reopened first."""
    candidate = _locked(candidate_id)
    now = timezone.now()
    if candidate.is_closed and candidate.stage != Stage.PLACED:
        _reopen(candidate, by=by, now=now)
    if ORDER.index(stage) > ORDER.index(candidate.stage):
        _move(candidate, to=stage, by=by, note="", now=now)
    return candidate


@transaction.atomic
def candidate_close(*, candidate_id: uuid.UUID, reason: str, by: User | None, note: str = "") -> Candidate:
    """Close with a reason, keeping the last stage reached. Closing twice changes nothing."""
    reason = Candidate.ClosedReason(reason)
    candidate = _locked(candidate_id)
    if candidate.is_closed:
        return candidate
    if candidate.stage == Stage.PLACED:
        raise StageTransitionError(_("A placed candidate cannot be closed."), code="placed")
    now = timezone.now()
    candidate.is_closed, candidate.closed_reason = True, reason
    _save(candidate, fields=["is_closed", "closed_reason"], now=now)
    timeline_record(
        candidate_id=candidate.pk,
        kind=TimelineEvent.Kind.CLOSED,
        by=by,
        data={"reason": reason},
        note=note,
        at=now,
    )
    return candidate


def _reopen(candidate: Candidate, *, by: User | None, now: datetime) -> None:
    reason = candidate.closed_reason
    candidate.is_closed, candidate.closed_reason = False, ""
    _save(candidate, fields=["is_closed", "closed_reason"], now=now)
    timeline_record(
        candidate_id=candidate.pk, kind=TimelineEvent.Kind.REOPENED, by=by, data={"was": reason}, at=now
    )


@transaction.atomic
def candidate_reopen(*, candidate_id: uuid.UUID, by: User | None) -> Candidate:
    candidate = _locked(candidate_id)
    if candidate.is_closed:
        _reopen(candidate, by=by, now=timezone.now())
    return candidate


CALL_OUTCOMES = ("reached", "no_answer", "voicemail")


@transaction.atomic
def candidate_call_log(
    *, candidate_id: uuid.UUID, outcome: str, by: User | None, note: str = ""
) -> Candidate:
    """Record a call. Any attempt moves a new candidate to `contacting`; reaching them
    moves them to `contacted` and stops the contact-SLA follow-ups."""
    if outcome not in CALL_OUTCOMES:
        raise ValidationError(_("Unknown call outcome."), code="invalid")
    candidate = _locked(candidate_id)
    now = timezone.now()
    timeline_record(
        candidate_id=candidate.pk,
        kind=TimelineEvent.Kind.CALL,
        by=by,
        data={"outcome": outcome},
        note=note,
        at=now,
    )
    if outcome == "reached":
        candidate.last_contacted_at = now
        candidate.save(update_fields=["last_contacted_at", "updated_at"])
        target = Stage.CONTACTED
    else:
        target = Stage.CONTACTING
    if not candidate.is_closed and ORDER.index(target) > ORDER.index(candidate.stage):
        _move(candidate, to=target, by=by, note="", now=now)
    return candidate


def candidate_note_add(*, candidate_id: uuid.UUID, note: str, by: User | None) -> TimelineEvent:
    """An advisor's note on the candidate's timeline. Raises ValidationError when empty."""
    text = note.strip()
    if not text:
        raise ValidationError(_("Write the note first."), code="required")
    return timeline_record(candidate_id=candidate_id, kind=TimelineEvent.Kind.NOTE, by=by, note=text)
