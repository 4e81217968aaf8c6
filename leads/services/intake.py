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
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from core.business_time import business_time_add
from core.db import JsonRow, insert_or_ignore, json_dumps, json_row_new, prepared_cursor
from core.idempotency import Claim, idempotency_complete
from core.models import IdempotencyRecord, OutboxMessage
from core.outbox import OutboxItem, outbox_enqueue
from core.tasks import outbox_kick_on_commit
from leads.models import LEAD_SIGN_UP_FIELDS, Candidate, Lead, Partner

KIND_ASSIGN = "lead.assign"
KIND_CONTACT_SLA = "lead.contact_sla"
KIND_CONTACT_24H = "lead.contact_24h"
KIND_CONTACT_ESCALATION = "lead.contact_escalation"
DAY = timedelta(hours=24)
EXTERNAL_ID_CONSTRAINT = "lead_external_id_unique_per_partner"


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
    answer: dict[str, Any] | None = None  # the response stored on the idempotency claim


@dataclass(frozen=True)
class Answer:
    """A response to store on an idempotency claim (core.idempotency) together with the lead,
    atomically: ``body`` builds it from the result, once; it is stored with status 201."""

    claim: Claim
    body: Callable[[IntakeResult], dict[str, Any]]


class LeadAlreadyReceived(Exception):
    """The partner already sent a lead with this external_id. Raised inside the intake
    transaction so that everything it wrote is rolled back."""


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


def _sign_up_values(data: LeadInput) -> dict[str, Any]:
    """The person's items the sign-up carries (LEAD_SIGN_UP_FIELDS), lists copied."""
    values = {name: getattr(data, name) for name in LEAD_SIGN_UP_FIELDS}
    values["desired_roles"], values["certifications"] = list(data.desired_roles), list(data.certifications)
    return values


def _candidate_values(*, data: LeadInput, lead_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """A new person's fields (by attname); the others take their defaults. A candidate has
    every sign-up item but the message (that stays on the lead)."""
    values = _sign_up_values(data)
    del values["message"]
    return {
        "id": uuid.uuid4(),
        **values,
        "partner_status_changed_at": now,
        "credited_lead_id": lead_id,  # the FK is checked at commit, when the lead exists
    }


def _candidate_new(*, data: LeadInput, lead_id: uuid.UUID, now: datetime) -> Candidate:
    return Candidate(**_candidate_values(data=data, lead_id=lead_id, now=now))


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


def _lead_values(
    *, candidate_id: uuid.UUID, data: LeadInput, lead_id: uuid.UUID, existed: bool, now: datetime
) -> dict[str, Any]:
    """A lead's fields (by attname) but its partner."""
    return {
        "id": lead_id,
        "candidate_id": candidate_id,
        "external_id": data.external_id,
        "existing_candidate": existed,
        **_sign_up_values(data),
        "consent_policy_version": data.consent_policy_version,
        "consent_agreed_at": data.consent_agreed_at,
        "consent_third_party_provision": data.consent_third_party_provision,
        "source_url": data.source_url,
        "utm_source": data.utm_source,
        "utm_medium": data.utm_medium,
        "utm_campaign": data.utm_campaign,
        "raw_payload": data.raw_payload,
        "created_at": now,
    }


def _contact_follow_up(kind: str, *, lead_id: uuid.UUID, received_at: datetime) -> OutboxItem:
    """The contact follow-up ``kind`` of the lead received at ``received_at``: after
    LEAD_CONTACT_SLA of business time, again 24 h after the lead, then (escalation, to the
    managers) LEAD_CONTACT_SLA of business time after that (CONTRACT section 6)."""
    if kind == KIND_CONTACT_SLA:
        due = business_time_add(received_at, settings.LEAD_CONTACT_SLA)
    elif kind == KIND_CONTACT_24H:
        due = received_at + DAY
    elif kind == KIND_CONTACT_ESCALATION:
        due = business_time_add(received_at + DAY, settings.LEAD_CONTACT_SLA)
    else:
        raise ValueError(f"not a contact follow-up: {kind!r}")
    return OutboxItem(kind=kind, subject=f"lead:{lead_id}", due_at=due, payload={"lead_id": str(lead_id)})


CONTACT_FOLLOW_UP_CHAIN = {KIND_CONTACT_SLA: KIND_CONTACT_24H, KIND_CONTACT_24H: KIND_CONTACT_ESCALATION}


def contact_follow_up_next(*, kind: str, lead: Lead) -> OutboxItem | None:
    """The follow-up that comes after ``kind`` for ``lead`` (None after the last), for the
    delivering handler to enqueue. Written whatever the lead's state: the next one checks
    again when it is due, as every follow-up does."""
    following = CONTACT_FOLLOW_UP_CHAIN.get(kind)
    if following is None:
        return None
    return _contact_follow_up(following, lead_id=lead.pk, received_at=lead.created_at)


def _effects(*, lead_id: uuid.UUID, now: datetime) -> list[OutboxItem]:
    """What must follow every lead: assignment, and the first contact follow-up (which
    brings the next ones, contact_follow_up_next)."""
    payload: dict[str, object] = {"lead_id": str(lead_id)}
    assign = OutboxItem(kind=KIND_ASSIGN, subject=f"lead:{lead_id}", due_at=now, payload=payload)
    return [assign, _contact_follow_up(KIND_CONTACT_SLA, lead_id=lead_id, received_at=now)]


_NEW_PERSON_SQL: dict[tuple[object, ...], str] = {}
_ANSWERED = f"""
            , answered AS (
                UPDATE {IdempotencyRecord._meta.db_table} SET response_status = 201, response_body = %s::jsonb
                WHERE id = %s AND claim = %s AND EXISTS (SELECT FROM new_lead) RETURNING 1
            )"""  # noqa: S608 - our table; the values are bound parameters


def _new_person_sql(candidate: JsonRow, lead: JsonRow, effects: JsonRow, *, answered: bool) -> str:
    parts = (candidate.columns, lead.columns, effects.columns, answered)
    sql = _NEW_PERSON_SQL.get(parts)
    if sql is None:
        # Each part runs only if the one before wrote its row: no lead without its candidate,
        # no effects without their lead. A lead conflict (the partner's external_id) fails the
        # statement whole, so no candidate is ever left without its lead.
        sql = _NEW_PERSON_SQL[parts] = f"""
            WITH new_candidate AS (
                INSERT INTO {candidate.table} ({candidate.columns})
                SELECT {candidate.columns} FROM jsonb_populate_record(NULL::{candidate.table}, %s::jsonb)
                ON CONFLICT DO NOTHING RETURNING 1
            ), new_lead AS (
                INSERT INTO {lead.table} ({lead.columns})
                SELECT {lead.columns} FROM jsonb_populate_record(NULL::{lead.table}, %s::jsonb)
                WHERE EXISTS (SELECT FROM new_candidate) RETURNING 1
            ), effects AS (
                INSERT INTO {effects.table} ({effects.columns})
                SELECT {effects.columns} FROM jsonb_populate_recordset(NULL::{effects.table}, %s::jsonb)
                WHERE EXISTS (SELECT FROM new_lead) ON CONFLICT DO NOTHING
            ){_ANSWERED if answered else ""}
            SELECT EXISTS (SELECT FROM new_lead)
        """  # noqa: S608 - table and column names are our models'; the rows are bound parameters
    return sql


def _ingest_new_person(
    *, partner: Partner | None, data: LeadInput, lead_id: uuid.UUID, now: datetime, answer: Answer | None
) -> IntakeResult | None:
    """PostgreSQL: the common case, a person not known yet, in ONE prepared statement
    (candidate, lead and outbox rows in data-modifying CTEs, each row one jsonb parameter;
    with ``answer``, the idempotency record's response too), so a new lead costs one round
    trip and, outside a transaction, no BEGIN or COMMIT of its own. None when the email or
    phone is already taken (nothing was written): the caller then takes the general path."""
    connection = connections[router.db_for_write(Lead)]
    using = connection.alias
    values = _candidate_values(data=data, lead_id=lead_id, now=now)
    candidate_row = json_row_new(Candidate, values, using=using)
    lead_values = _lead_values(candidate_id=values["id"], data=data, lead_id=lead_id, existed=False, now=now)
    lead_row = json_row_new(Lead, {**lead_values, "partner_id": partner.pk if partner else None}, using=using)
    lead = Lead(partner=partner, **lead_values)
    effects = [
        json_row_new(
            OutboxMessage,
            {"key": i.key, "kind": i.kind, "subject": i.subject, "payload": i.payload, "due_at": i.due_at},
            using=using,
        )
        for i in _effects(lead_id=lead_id, now=now)
    ]
    result = IntakeResult(lead=lead, existing_candidate=False, status=candidate_row.values["partner_status"])
    sql = _new_person_sql(candidate_row, lead_row, effects[0], answered=answer is not None)
    params: list[Any] = [
        json_dumps(candidate_row.values),
        json_dumps(lead_row.values),
        json_dumps([e.values for e in effects]),
    ]
    if answer is not None:
        result = replace(result, answer=answer.body(result))
        params += [json_dumps(result.answer), answer.claim.record_id, answer.claim.claim]
    # Inside the caller's transaction a failed statement would abort all of it: a savepoint
    # confines the one expected failure, an external_id conflict (only such a lead can meet one).
    confine = connection.in_atomic_block and data.external_id is not None
    try:
        with (
            transaction.atomic(using=connection.alias) if confine else nullcontext(),
            prepared_cursor(connection.alias) as cursor,
        ):
            cursor.execute(sql, params)
            (inserted,) = cursor.fetchone()
    except IntegrityError as exc:
        if _violated(exc) == EXTERNAL_ID_CONSTRAINT:  # the whole statement was undone
            raise LeadAlreadyReceived(data.external_id) from exc
        raise
    if not inserted:
        return None
    outbox_kick_on_commit()  # outside a transaction: at once, the statement has committed
    return result


def _violated(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


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
        result = _ingest_new_person(partner=partner, data=data, lead_id=lead_id, now=now, answer=answer)
        if result is not None:
            return result
        conflicted = True  # a known person (or one being inserted right now)
    with transaction.atomic(savepoint=False):
        candidate, existed = _candidate_find_or_create(
            data=data, lead_id=lead_id, now=now, conflicted=conflicted
        )
        values = _lead_values(candidate_id=candidate.pk, data=data, lead_id=lead_id, existed=existed, now=now)
        lead = Lead(partner=partner, **values)
        if not insert_or_ignore(lead):  # before the candidate is touched: nothing to undo
            raise LeadAlreadyReceived(data.external_id)
        if existed:
            _candidate_absorb(candidate=candidate, data=data, lead_id=lead_id, now=now)
        outbox_enqueue(items=_effects(lead_id=lead_id, now=now))
        outbox_kick_on_commit()
        result = IntakeResult(lead=lead, existing_candidate=existed, status=candidate.partner_status)
        if answer is not None:
            result = replace(result, answer=answer.body(result))
            idempotency_complete(claim=answer.claim, status=201, body=result.answer)
    return result
