"""Lead intake: one partner sign-up becomes a lead on exactly one candidate.

Deduplication is decided by the unique constraints on Candidate.email and Candidate.phone:
a new person is inserted with ON CONFLICT DO NOTHING, and whoever loses a race finds and
locks the winner's row instead. Everything that must happen afterwards (advisor assignment
and notice, the contact-SLA follow-up) is written to the outbox in the same transaction.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from core.business_time import business_time_add
from core.db import insert_or_ignore
from core.outbox import OutboxItem, outbox_enqueue
from core.tasks import outbox_kick_on_commit
from leads.models import Candidate, Lead, Partner

KIND_ASSIGN = "lead.assign"
KIND_CONTACT_SLA = "lead.contact_sla"
KIND_CONTACT_24H = "lead.contact_24h"
KIND_CONTACT_ESCALATION = "lead.contact_escalation"
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class LeadInput:
    """A lead's fields, already validated and normalised by the caller."""

    family_name: str
    given_name: str
    consent_policy_version: str
    consent_agreed_at: datetime
    consent_third_party_provision: bool
    raw_payload: dict[str, object]
    family_name_kana: str = ""
    given_name_kana: str = ""
    email: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    prefecture: str = ""
    current_occupation: str = ""
    desired_roles: list[str] = field(default_factory=list)
    certifications: list[str] = field(default_factory=list)
    message: str = ""
    external_id: str | None = None
    source_url: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    existing_candidate: bool
    status: str


class LeadAlreadyReceived(Exception):
    """The partner already sent a lead with this external_id. Raised inside the intake
    transaction so that everything it wrote is rolled back."""


# What a known person's new lead may fill in or add to.
_ABSORBED = ("family_name_kana", "given_name_kana", "prefecture", "current_occupation", "birth_date")
_ABSORBED_LISTS = ("desired_roles", "certifications")


def _candidate_for_update(*, email: str | None, phone: str | None) -> Candidate | None:
    match = Q()
    if email:
        match |= Q(email=email)
    if phone:
        match |= Q(phone=phone)
    # An email match wins over a phone match when they point at two different people.
    email_first = Case(When(email=email, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        Candidate.objects.select_for_update(of=("self",))
        .select_related("credited_lead")
        .only(*_ABSORBED, *_ABSORBED_LISTS, "partner_status", "credited_lead__created_at")
        .filter(match)
        .order_by(email_first)
        .first()
    )


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
    return Candidate(
        id=uuid.uuid4(),
        family_name=data.family_name,
        given_name=data.given_name,
        family_name_kana=data.family_name_kana,
        given_name_kana=data.given_name_kana,
        email=data.email,
        phone=data.phone,
        birth_date=data.birth_date,
        prefecture=data.prefecture,
        current_occupation=data.current_occupation,
        desired_roles=list(data.desired_roles),
        certifications=list(data.certifications),
        partner_status_changed_at=now,
        credited_lead_id=lead_id,  # the FK is checked at commit, when the lead exists
    )


def _candidate_find_or_create(
    *, data: LeadInput, lead_id: uuid.UUID, now: datetime
) -> tuple[Candidate, bool]:
    """(candidate, existed). Insert first: a new person costs one statement. A conflict on
    email or phone means the person exists (the unique index made us wait for a concurrent
    inserter to commit), so the lookup that follows finds and locks their row."""
    for _ in range(3):
        candidate = _candidate_new(data=data, lead_id=lead_id, now=now)
        if insert_or_ignore(candidate):
            return candidate, False
        existing = _candidate_for_update(email=data.email, phone=data.phone)
        if existing is not None:
            _candidate_absorb(candidate=existing, data=data, lead_id=lead_id, now=now)
            return existing, True
    raise RuntimeError("candidate deduplication did not settle after 3 attempts")


def lead_ingest(*, partner: Partner | None, data: LeadInput, now: datetime | None = None) -> IntakeResult:
    """Record one lead. Joins the caller's transaction if there is one (no savepoint).

    Raises LeadAlreadyReceived when the partner's external_id is already known; the caller
    must let it roll the transaction back, then read the existing lead."""
    now = now or timezone.now()
    lead_id = uuid.uuid4()
    with transaction.atomic(savepoint=False):
        candidate, existed = _candidate_find_or_create(data=data, lead_id=lead_id, now=now)
        lead = Lead(
            id=lead_id,
            partner=partner,
            candidate=candidate,
            external_id=data.external_id,
            existing_candidate=existed,
            family_name=data.family_name,
            given_name=data.given_name,
            family_name_kana=data.family_name_kana,
            given_name_kana=data.given_name_kana,
            email=data.email,
            phone=data.phone,
            birth_date=data.birth_date,
            prefecture=data.prefecture,
            current_occupation=data.current_occupation,
            desired_roles=list(data.desired_roles),
            certifications=list(data.certifications),
            message=data.message,
            consent_policy_version=data.consent_policy_version,
            consent_agreed_at=data.consent_agreed_at,
            consent_third_party_provision=data.consent_third_party_provision,
            source_url=data.source_url,
            utm_source=data.utm_source,
            utm_medium=data.utm_medium,
            utm_campaign=data.utm_campaign,
            raw_payload=data.raw_payload,
            created_at=now,
        )
        if not insert_or_ignore(lead):
            raise LeadAlreadyReceived(data.external_id)
        subject = f"lead:{lead_id}"
        payload: dict[str, object] = {"lead_id": str(lead_id)}
        outbox_enqueue(
            items=[
                OutboxItem(kind=KIND_ASSIGN, subject=subject, due_at=now, payload=payload),
                OutboxItem(
                    kind=KIND_CONTACT_SLA,
                    subject=subject,
                    due_at=business_time_add(now, settings.LEAD_CONTACT_SLA),
                    payload=payload,
                ),
                # Still not contacted a day later: the advisor again, then the managers.
                OutboxItem(kind=KIND_CONTACT_24H, subject=subject, due_at=now + DAY, payload=payload),
                OutboxItem(
                    kind=KIND_CONTACT_ESCALATION,
                    subject=subject,
                    due_at=business_time_add(now + DAY, settings.LEAD_CONTACT_SLA),
                    payload=payload,
                ),
            ]
        )
        outbox_kick_on_commit()
    return IntakeResult(lead=lead, existing_candidate=existed, status=candidate.partner_status)
