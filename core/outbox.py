"""The transactional outbox: effects written in the same transaction as what they are
about, delivered afterwards by a sweep that can run anywhere, any number of times at once.

- Enqueue (`outbox_enqueue`) inside the caller's transaction: nothing is lost if the broker
  is down; the row waits for the next sweep.
- The sweep claims due rows with `SELECT ... FOR UPDATE SKIP LOCKED` and a lease (a token and
  an expiry written by a conditional UPDATE), so two sweeps never take the same row.
- A worker killed mid-delivery leaves its row `sending`; once the lease expires another
  sweep takes it again. A duplicate can therefore only come from a kill between the handler
  finishing and the row being marked sent; that case is logged when detected.
- Handlers are registered per kind by the apps (`@outbox_handler("lead.assign")`), re-check
  at delivery time that the effect is still wanted, and return `Outcome.SKIPPED` otherwise.
"""

import logging
import smtplib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


class Outcome(Enum):
    SENT = "sent"
    SKIPPED = "skipped"
    EXPIRED = "expired"  # it would arrive too late to be of use


class TransientError(Exception):
    """A failure that may go away by itself (a provider timeout, no advisor yet)."""


# Failures worth retrying; anything else is a bug or a permanent refusal and fails at once.
RETRYABLE = (TransientError, DatabaseError, smtplib.SMTPException, ConnectionError, TimeoutError)

Handler = Callable[[OutboxMessage], Outcome]
_handlers: dict[str, Handler] = {}


def outbox_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if kind in _handlers and _handlers[kind] is not handler:
            raise RuntimeError(f"Two outbox handlers for {kind!r}")
        _handlers[kind] = handler
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


@dataclass
class SweepResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: int = 0

    def __str__(self) -> str:
        return f"sent={self.sent} skipped={self.skipped} failed={self.failed}"


def _claim(*, now: datetime, limit: int, token: uuid.UUID) -> list[OutboxMessage]:
    # Due-ness is judged at `now` (which --as-of may move); leases always run on the clock.
    clock = timezone.now()
    lease = timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    due = Q(state=OutboxMessage.State.PENDING, due_at__lte=now) | Q(
        state=OutboxMessage.State.SENDING, lease_until__lt=clock
    )
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("due_at")
            .values_list("pk", flat=True)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            state=OutboxMessage.State.SENDING,
            lease_token=token,
            lease_until=clock + lease,
            attempts=F("attempts") + 1,
            updated_at=clock,
        )
    return list(OutboxMessage.objects.filter(pk__in=ids, lease_token=token).order_by("due_at"))


def _finish(message: OutboxMessage, token: uuid.UUID, **changes: object) -> None:
    changes = {"lease_token": None, "lease_until": None, "updated_at": timezone.now(), **changes}
    updated = OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(**changes)
    if not updated:
        # Our lease ran out and another sweep took the row: it may deliver it again.
        logger.warning(
            "outbox: lease lost on %s (id %s); a second delivery is possible", message.kind, message.pk
        )


def _backoff(attempts: int) -> timedelta:
    delay: timedelta = BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return min(delay, BACKOFF_CAP)


def _deliver(message: OutboxMessage, token: uuid.UUID, now: datetime, result: SweepResult) -> None:
    handler = _handlers.get(message.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler registered for {message.kind!r}")
        outcome = handler(message)
    except RETRYABLE as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            logger.error(
                "outbox: %s (id %s) failed after %d attempts", message.kind, message.pk, message.attempts
            )
            _finish(message, token, state=OutboxMessage.State.FAILED, last_error=error)
            result.failed += 1
        else:
            retry_at = now + _backoff(message.attempts)
            _finish(message, token, state=OutboxMessage.State.PENDING, due_at=retry_at, last_error=error)
            result.retrying += 1
        return
    except Exception as exc:  # a bug or a permanent refusal: fail visibly, never retry blindly
        logger.exception("outbox: %s (id %s) failed permanently", message.kind, message.pk)
        _finish(
            message, token, state=OutboxMessage.State.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        result.failed += 1
        return
    if outcome is Outcome.SENT:
        _finish(message, token, state=OutboxMessage.State.SENT, sent_at=timezone.now(), last_error="")
        result.sent += 1
    elif outcome is Outcome.EXPIRED:
        _finish(message, token, state=OutboxMessage.State.EXPIRED)
        result.skipped += 1
    else:
        _finish(message, token, state=OutboxMessage.State.SKIPPED)
        result.skipped += 1


def outbox_sweep(*, now: datetime | None = None, batch_size: int = 200, max_batches: int = 50) -> SweepResult:
    """Deliver every row due at ``now`` (default: the current time). Safe to run in any
    number of processes at once."""
    now = now or timezone.now()
    result = SweepResult()
    token = uuid.uuid4()
    for _ in range(max_batches):
        claimed = _claim(now=now, limit=batch_size, token=token)
        for message in claimed:
            _deliver(message, token, now, result)
        if len(claimed) < batch_size:
            break
    return result
