"""PostgreSQL's fast path of lead intake: a person not known yet in ONE prepared statement
(bench/RESULTS.md, "Lead intake"). The general path (leads.intake.services) is the
reference; tests/leads/intake/test_apis_intake.py checks that both store the same rows."""

import uuid
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from core.db import JsonRow, json_dumps, json_row_new, prepared_cursor
from core.integrity import violated_constraint
from core.models import IdempotencyRecord, OutboxMessage
from core.tasks import outbox_kick_on_commit
from leads.intake.effects import lead_effects
from leads.intake.inputs import (
    EXTERNAL_ID_CONSTRAINT,
    Answer,
    IntakeResult,
    LeadAlreadyReceived,
    LeadInput,
    candidate_values,
    lead_values,
)
from leads.models import Candidate, Lead, Partner, PayoutEvent, PayoutLine, PayoutRule

_NEW_PERSON_SQL: dict[tuple[object, ...], str] = {}  # by the rows' columns and the answer
_ANSWERED = f"""
            , answered AS (
                UPDATE {IdempotencyRecord._meta.db_table} SET response_status = 201, response_body = %s::jsonb
                WHERE id = %s AND claim = %s AND EXISTS (SELECT FROM new_lead) RETURNING 1
            )"""  # noqa: S608 - our table; the values are bound parameters


# The partner's pay for a person not known before (leads.payouts.services.payout_record, the
# reference): the rule in force on the lead's JST day, if any and not zero.
_PAYABLE = f"""
            , payable AS (
                INSERT INTO {PayoutLine._meta.db_table}
                    (partner_id, kind, event, lead_id, occurred_at, amount_jpy, rule_id, reason,
                     created_at)
                SELECT rule.partner_id, 'event', rule.event, %s, %s, rule.amount_jpy, rule.id, '', %s
                FROM (
                    SELECT id, partner_id, event, amount_jpy FROM {PayoutRule._meta.db_table}
                    WHERE partner_id = %s AND event = '{PayoutEvent.LEAD_ACCEPTED.value}'
                        AND effective_from <= %s
                    ORDER BY effective_from DESC LIMIT 1
                ) AS rule
                WHERE rule.amount_jpy > 0 AND EXISTS (SELECT FROM new_lead)
            )"""  # noqa: S608 - our tables; the values are bound parameters


def _new_person_sql(
    candidate: JsonRow, lead: JsonRow, effects: JsonRow, *, answered: bool, payable: bool
) -> str:
    parts = (candidate.columns, lead.columns, effects.columns, answered, payable)
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
            ){_PAYABLE if payable else ""}{_ANSWERED if answered else ""}
            SELECT EXISTS (SELECT FROM new_lead)
        """  # noqa: S608 - table and column names are our models'; the rows are bound parameters
    return sql


def ingest_new_person(
    *, partner: Partner | None, data: LeadInput, lead_id: uuid.UUID, now: datetime, answer: Answer | None
) -> IntakeResult | None:
    """PostgreSQL: the common case, a person not known yet, in ONE prepared statement
    (candidate, lead and outbox rows in data-modifying CTEs, each row one jsonb parameter;
    with ``answer``, the idempotency record's response too), so a new lead costs one round
    trip and, outside a transaction, no BEGIN or COMMIT of its own. None when the email or
    phone is already taken (nothing was written): the caller then takes the general path."""
    connection = connections[router.db_for_write(Lead)]
    using = connection.alias
    values = candidate_values(data=data, lead_id=lead_id, now=now)
    candidate_row = json_row_new(Candidate, values, using=using)
    lead_fields = lead_values(candidate_id=values["id"], data=data, lead_id=lead_id, existed=False, now=now)
    lead_row = json_row_new(Lead, {**lead_fields, "partner_id": partner.pk if partner else None}, using=using)
    lead = Lead(partner=partner, **lead_fields)
    effects = [
        json_row_new(
            OutboxMessage,
            {"key": i.key, "kind": i.kind, "subject": i.subject, "payload": i.payload, "due_at": i.due_at},
            using=using,
        )
        for i in lead_effects(lead_id=lead_id, now=now)
    ]
    result = IntakeResult(lead=lead, existing_candidate=False, status=candidate_row.values["partner_status"])
    sql = _new_person_sql(
        candidate_row, lead_row, effects[0], answered=answer is not None, payable=partner is not None
    )
    params: list[Any] = [
        json_dumps(candidate_row.values),
        json_dumps(lead_row.values),
        json_dumps([e.values for e in effects]),
    ]
    if partner is not None:
        params += [lead_id, now, now, partner.pk, timezone.localdate(now)]
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
        if violated_constraint(exc) == EXTERNAL_ID_CONSTRAINT:  # the whole statement was undone
            raise LeadAlreadyReceived(data.external_id) from exc
        raise
    if not inserted:
        return None
    outbox_kick_on_commit()  # outside a transaction: at once, the statement has committed
    return result
