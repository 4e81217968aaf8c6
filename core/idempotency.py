"""Idempotency keys for POST endpoints (CONTRACT section 3).

`idempotency_begin` claims a key in its own autocommitted statement and returns either the
claim (this request does the work and stores its response with `idempotency_complete`, in the
work's own transaction) or the record of an earlier request with that key: complete (replay
it), for another body (422), or still running. A request whose twin is still running waits up
to `IN_FLIGHT_WAIT` for it to finish, then replays its response or answers 409.

A claim whose work failed is released (`idempotency_release`); one whose process died is
taken over once it is older than `IN_FLIGHT_TTL`, longer than any request may run.
"""

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from core.db import prepared_cursor
from core.models import IdempotencyRecord

RETENTION = timedelta(hours=24)
IN_FLIGHT_TTL = timedelta(seconds=60)
IN_FLIGHT_WAIT = 3.0  # seconds a twin waits for the first request to finish
POLL_INTERVAL = 0.05


class KeyInFlight(Exception):
    """The same key is being processed by another request right now."""


@dataclass(frozen=True)
class Claim:
    record_id: int
    claim: uuid.UUID
    owned: bool
    request_hash: str
    response_status: int | None
    response_body: Any


def request_fingerprint(data: Any) -> str:
    """The same body means the same JSON value, whatever its key order or spacing."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _upsert(*, scope: str, key: str, request_hash: str, now: datetime) -> Claim:
    """One statement: insert the claim, or return the existing record unchanged unless it is
    expired (24 h) or an abandoned claim (no response after IN_FLIGHT_TTL), which is taken."""
    mine = uuid.uuid4()
    table = IdempotencyRecord._meta.db_table
    take = (
        f"({table}.created_at < %(expired)s"
        f" OR ({table}.response_status IS NULL AND {table}.created_at < %(abandoned)s))"
    )
    sql = f"""
        INSERT INTO {table} (scope, key, claim, request_hash, response_status, response_body, created_at)
        VALUES (%(scope)s, %(key)s, %(claim)s, %(hash)s, NULL, NULL, %(now)s)
        ON CONFLICT (scope, key) DO UPDATE SET
            claim = CASE WHEN {take} THEN excluded.claim ELSE {table}.claim END,
            request_hash = CASE WHEN {take} THEN excluded.request_hash ELSE {table}.request_hash END,
            response_status = CASE WHEN {take} THEN NULL ELSE {table}.response_status END,
            response_body = CASE WHEN {take} THEN NULL ELSE {table}.response_body END,
            created_at = CASE WHEN {take} THEN excluded.created_at ELSE {table}.created_at END
        RETURNING id, claim, request_hash, response_status, response_body
    """  # noqa: S608 - the table name is our model's; every value is a bound parameter
    params = {
        "scope": scope,
        "key": key,
        "claim": mine.hex if connection.vendor == "sqlite" else mine,
        "hash": request_hash,
        "now": now,
        "expired": now - RETENTION,
        "abandoned": now - IN_FLIGHT_TTL,
    }
    # Every request with a key runs it: prepared on PostgreSQL (parsed and planned once).
    with prepared_cursor() if connection.vendor == "postgresql" else connection.cursor() as cursor:
        cursor.execute(sql, params)
        record_id, claim, stored_hash, status, body = cursor.fetchone()
    return _claim(record_id, claim, stored_hash, status, body, mine=mine)


def _claim(
    record_id: int, claim: Any, stored_hash: str, status: Any, body: Any, *, mine: uuid.UUID | None
) -> Claim:
    claim = claim if isinstance(claim, uuid.UUID) else uuid.UUID(str(claim))
    if isinstance(body, str):  # SQLite returns JSON as text
        body = json.loads(body)
    return Claim(record_id, claim, claim == mine, stored_hash, status, body)


def idempotency_begin(*, scope: str, key: str, request_hash: str) -> Claim:
    """Claim `key`, or return the record holding it (complete, or for another body).
    Raises KeyInFlight when a twin is still running after IN_FLIGHT_WAIT. Must run outside
    a transaction: the claim is visible to twins at once."""
    deadline = time.monotonic() + IN_FLIGHT_WAIT
    while True:
        claim = _upsert(scope=scope, key=key, request_hash=request_hash, now=timezone.now())
        if claim.owned or claim.request_hash != request_hash or claim.response_status is not None:
            return claim
        while time.monotonic() < deadline:  # a twin is running: wait for its answer
            time.sleep(POLL_INTERVAL)
            row = IdempotencyRecord.objects.filter(pk=claim.record_id, claim=claim.claim).values_list(
                "response_status", "response_body"
            )
            current = row.first()
            if current is None:
                break  # released by a failed twin: try to claim it ourselves
            if current[0] is not None:
                return Claim(claim.record_id, claim.claim, False, claim.request_hash, current[0], current[1])
        else:
            raise KeyInFlight


def idempotency_complete(*, claim: Claim, status: int, body: Any) -> None:
    """Store the response; call it inside the transaction of the work it answers for."""
    IdempotencyRecord.objects.filter(pk=claim.record_id, claim=claim.claim).update(
        response_status=status, response_body=body
    )


def idempotency_release(*, claim: Claim) -> None:
    """Give the key back after the work failed, so that a retry runs afresh."""
    IdempotencyRecord.objects.filter(
        pk=claim.record_id, claim=claim.claim, response_status__isnull=True
    ).delete()


def idempotency_purge(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - RETENTION).delete()
    return deleted
