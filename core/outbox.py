"""The transactional outbox: effects written in the same transaction as what they are
about, delivered afterwards by a sweep that can run anywhere, any number of times at once.

- Enqueue (`outbox_enqueue`) inside the caller's transaction: nothing is lost if the broker
  is down; the row waits for the next sweep.
- The sweep claims due rows with `SELECT ... FOR UPDATE SKIP LOCKED` and a lease (a token and
  an expiry written by a conditional UPDATE), so two sweeps never take the same row.
- A worker killed mid-delivery leaves its row `sending`; once the lease expires another
  sweep takes it again. A duplicate can therefore only come from a kill between the handler
  finishing and the row being marked sent; every such re-take is logged (WARNING, "re-taken
  after its lease expired", with the row id), and providers that take an idempotency key
  get one derived from the row (core.channels), so they drop the second copy.
- A sweep never delivers a row whose lease it may have lost: before each delivery it checks
  that the lease still has REMINDER_LEASE_MARGIN to run, and otherwise hands the rest of
  its batch back (pending, as they were) and stops. A Celery soft time limit does the same.
- Handlers are registered per kind by the apps (`@outbox_handler("lead.assign")`), re-check
  at delivery time that the effect is still wanted, and return `Outcome.SKIPPED` otherwise,
  or raise `Deferred(until)` to wait (a candidate message in quiet hours).
"""

import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from django.db import DatabaseError
from django.utils import timezone

from core.models import OutboxMessage


class Outcome(Enum):
    SENT = "sent"
    SKIPPED = "skipped"
    EXPIRED = "expired"  # it would arrive too late to be of use


class TransientError(Exception):
    """A failure that may go away by itself (a provider timeout, no advisor yet).
    ``retry_after``: the provider said when to try again (a 429's Retry-After); the row then
    waits at least that long, and longer if its backoff says so."""

    def __init__(self, *args: object, retry_after: timedelta | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after


class Deferred(Exception):  # a control-flow signal, not an error
    """Raised by a handler: not now, try again at ``until`` (e.g. after quiet hours). The
    row goes back to pending without counting an attempt."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


# Failures worth retrying; anything else is a bug or a permanent refusal and fails at once.
RETRYABLE = (TransientError, DatabaseError, smtplib.SMTPException, ConnectionError, TimeoutError)


Handler = Callable[[OutboxMessage], Outcome]


OUTBOX_HANDLERS: dict[str, Handler] = {}


def outbox_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if kind in OUTBOX_HANDLERS and OUTBOX_HANDLERS[kind] is not handler:
            raise RuntimeError(f"Two outbox handlers for {kind!r}")
        OUTBOX_HANDLERS[kind] = handler
        return handler

    return register


@dataclass(frozen=True)
class OutboxItem:
    kind: str
    subject: str
    due_at: datetime
    payload: dict[str, object] = field(default_factory=dict)
    version: int = 1
    variant: str = ""  # several rows of one kind, subject and version (e.g. 24h and 1h)

    @property
    def key(self) -> str:
        key = f"{self.kind}:{self.subject}:{self.version}"
        return f"{key}:{self.variant}" if self.variant else key


def outbox_enqueue(*, items: Iterable[OutboxItem]) -> None:
    """Write the rows in the caller's transaction (one INSERT). Enqueueing the same key
    twice keeps the first row: safe to repeat."""
    rows = [
        OutboxMessage(key=i.key, kind=i.kind, subject=i.subject, payload=i.payload, due_at=i.due_at)
        for i in items
    ]
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)


def outbox_cancel(*, subject: str, kinds: Iterable[str] | None = None) -> int:
    """Cancel the subject's rows that have not been sent; call it in the transaction that
    makes them moot, so that no stale effect can survive it."""
    rows = OutboxMessage.objects.filter(subject=subject, state=OutboxMessage.State.PENDING)
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    return rows.update(state=OutboxMessage.State.CANCELLED, updated_at=timezone.now())
