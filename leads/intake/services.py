"""Lead intake: one partner sign-up becomes a lead on exactly one candidate.

Deduplication is decided by the unique constraints on Candidate.email and Candidate.phone:
a new person is inserted with ON CONFLICT DO NOTHING, and whoever loses a race finds and
locks the winner's row instead. Everything that must happen afterwards (advisor assignment
and notice, the contact-SLA follow-up) is written to the outbox in the same transaction.
The later contact follow-ups (24 h, then the managers) are a chain: each follow-up, when it
is delivered, writes the next (``contact_follow_up_next``), so a lead costs two outbox rows
at intake, not four, and none is ever lost (the next row is written before the current one
is marked sent).
"""

import uuid
from dataclasses import replace
from datetime import datetime

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from core.db import insert_or_ignore
from core.idempotency import idempotency_complete
from core.outbox import outbox_cancel, outbox_enqueue
from core.tasks import outbox_kick_on_commit
from leads.intake.effects import lead_effects, lead_subject
from leads.intake.fast_path import ingest_new_person
from leads.intake.inputs import (
    Answer,
    IntakeResult,
    LeadAlreadyReceived,
    LeadInput,
    candidate_values,
    lead_values,
)
from leads.models import Candidate, Lead, Partner, PayoutEvent
from leads.payouts.services import payout_record

# What a known person's new lead may fill in or add to.
_ABSORBED = ("family_name_kana", "given_name_kana", "prefecture", "current_occupation", "birth_date")


_ABSORBED_LISTS = ("desired_roles", "certifications")


def _candidate_for_update(*, email: str | None, phone: str | None) -> Candidate | None:
    """The known person with this email or phone, locked; a record merged into another is
    followed to the one kept (the lead belongs to the person, not to a closed duplicate)."""
    match = Q()
    if email:
        match |= Q(email=email)
    if phone:
        match |= Q(phone=phone)
    # An email match wins over a phone match when they point at two different people.
    email_first = Case(When(email=email, then=Value(0)), default=Value(1), output_field=IntegerField())
    candidates = (
        Candidate.objects.select_for_update(of=("self",))
        .select_related("credited_lead")
        .only(*_ABSORBED, *_ABSORBED_LISTS, "partner_status", "merged_into", "credited_lead__created_at")
    )
    found = candidates.filter(match).order_by(email_first).first()
    for _step in range(10):  # merge keeps the way one step long; a bound, not a loop forever
        if found is None or found.merged_into_id is None:
            break
        found = candidates.filter(pk=found.merged_into_id).first()
    return found


def _merge(existing: list[str], new: list[str]) -> list[str]:
    return existing + [item for item in new if item not in existing]


def _candidate_absorb(*, candidate: Candidate, data: LeadInput, lead_id: uuid.UUID, now: datetime) -> None:
    """Fold a known person's new lead into their record: fill what was blank, add wishes,
    move the credit only if the credited lead has lapsed. Contacts are never overwritten.
    Writes only when something changed (the lead itself is the record of the contact)."""
    changed = []
    for name in _ABSORBED:
        if not getattr(candidate, name) and getattr(data, name):
            setattr(candidate, name, getattr(data, name))
            changed.append(name)
    for name in _ABSORBED_LISTS:
        merged = _merge(getattr(candidate, name), getattr(data, name))
        if merged != getattr(candidate, name):
            setattr(candidate, name, merged)
            changed.append(name)
    credited = candidate.credited_lead
    if credited is None or credited.created_at < now - settings.LEAD_ATTRIBUTION_WINDOW:
        candidate.credited_lead_id = lead_id
        changed.append("credited_lead")
    if changed:
        candidate.save(update_fields=[*changed, "updated_at"])


def _candidate_new(*, data: LeadInput, lead_id: uuid.UUID, now: datetime) -> Candidate:
    return Candidate(**candidate_values(data=data, lead_id=lead_id, now=now))


def _candidate_find_or_create(
    *, data: LeadInput, lead_id: uuid.UUID, now: datetime, conflicted: bool = False
) -> tuple[Candidate, bool]:
    """(candidate, existed). Insert first: a new person costs one statement. A conflict on
    email or phone means the person exists (the unique index made us wait for a concurrent
    inserter to commit), so the lookup that follows finds and locks their row (the caller
    folds the lead into it once the lead is in). `conflicted`: the caller's own insert
    already met the conflict, so start with the lookup."""
    for attempt in range(3):
        if attempt or not conflicted:
            candidate = _candidate_new(data=data, lead_id=lead_id, now=now)
            if insert_or_ignore(candidate):
                return candidate, False
        existing = _candidate_for_update(email=data.email, phone=data.phone)
        if existing is not None:
            return existing, True
    raise RuntimeError("candidate deduplication did not settle after 3 attempts")


def lead_ingest(
    *, partner: Partner | None, data: LeadInput, now: datetime | None = None, answer: Answer | None = None
) -> IntakeResult:
    """Record one lead. Joins the caller's transaction if there is one; otherwise it is
    atomic on its own. With ``answer``, the response it builds is stored on the idempotency
    claim in the same statement or transaction as the lead (``IntakeResult.answer``).

    Raises LeadAlreadyReceived when the partner's external_id is already known, having
    written nothing (only if a conflicting person vanished meanwhile may a new candidate be
    left in the caller's transaction: the caller must let the exception roll it back), then
    the caller reads the existing lead."""
    now = now or timezone.now()
    lead_id = uuid.uuid4()
    conflicted = False
    if connections[router.db_for_write(Lead)].vendor == "postgresql":
        result = ingest_new_person(partner=partner, data=data, lead_id=lead_id, now=now, answer=answer)
        if result is not None:
            return result
        conflicted = True  # a known person (or one being inserted right now)
    with transaction.atomic(savepoint=False):
        candidate, existed = _candidate_find_or_create(
            data=data, lead_id=lead_id, now=now, conflicted=conflicted
        )
        values = lead_values(candidate_id=candidate.pk, data=data, lead_id=lead_id, existed=existed, now=now)
        lead = Lead(partner=partner, **values)
        if not insert_or_ignore(lead):  # before the candidate is touched: nothing to undo
            raise LeadAlreadyReceived(data.external_id)
        if existed:
            _candidate_absorb(candidate=candidate, data=data, lead_id=lead_id, now=now)
        elif partner is not None:  # a person not known before: the partner may be paid for it
            payout_record(lead_id=lead_id, event=PayoutEvent.LEAD_ACCEPTED, at=now)
        outbox_enqueue(items=lead_effects(lead_id=lead_id, now=now))
        outbox_kick_on_commit()
        result = IntakeResult(lead=lead, existing_candidate=existed, status=candidate.partner_status)
        if answer is not None:
            result = replace(result, answer=answer.body(result))
            idempotency_complete(claim=answer.claim, status=201, body=result.answer)
    return result


def lead_confirmation_await(*, lead_id: uuid.UUID) -> None:
    """In the transaction that recorded the lead: it is a request not confirmed yet (a
    direct booking's hold, which anyone can make with anyone's address). Its effects (the
    advisor's notice, the contact follow-ups) wait for ``lead_confirmed``; the new-lead
    dashboard leaves it out meanwhile."""
    Lead.objects.filter(pk=lead_id).update(awaiting_confirmation=True)
    outbox_cancel(subject=lead_subject(lead_id))


def lead_confirmed(*, lead_id: uuid.UUID, now: datetime) -> None:
    """The person confirmed (from the link sent to them): the lead's effects are written
    now, as if it had just arrived (new rows: the cancelled ones keep their keys). Its
    received time stays the request's (at most CONSULTATION_HOLD_TTL earlier)."""
    updated = Lead.objects.filter(pk=lead_id, awaiting_confirmation=True).update(awaiting_confirmation=False)
    if updated:
        outbox_enqueue(items=[replace(item, version=2) for item in lead_effects(lead_id=lead_id, now=now)])
        outbox_kick_on_commit()
