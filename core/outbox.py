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

import logging
import smtplib
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.db import prepared_cursor
from core.models import OutboxMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# A row is delivered only while its lease has at least this long to run, so a slow send
# cannot overlap another sweep's re-take of the same row.
LEASE_MARGIN = timedelta(seconds=30)


class Outcome(Enum):
    SENT = "sent"
    SKIPPED = "skipped"
    EXPIRED = "expired"  # it would arrive too late to be of use


class TransientError(Exception):
    """A failure that may go away by itself (a provider timeout, no advisor yet)."""


class Deferred(Exception):  # a control-flow signal, not an error
    """Raised by a handler: not now, try again at ``until`` (e.g. after quiet hours). The
    row goes back to pending without counting an attempt."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


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
    deferred: int = 0

    def __str__(self) -> str:
        return f"sent={self.sent} skipped={self.skipped} failed={self.failed}"


def _lease_margin(lease: timedelta) -> timedelta:
    return min(LEASE_MARGIN, lease / 3)


def _claim(*, now: datetime, limit: int, token: uuid.UUID) -> tuple[list[OutboxMessage], datetime]:
    """Take up to ``limit`` due rows for this sweep; return them and the lease's end."""
    # Due-ness is judged at `now` (which --as-of may move); leases always run on the clock.
    clock = timezone.now()
    lease_until = clock + timedelta(seconds=settings.REMINDER_LEASE_SECONDS)
    due = Q(state=OutboxMessage.State.PENDING, due_at__lte=now) | Q(
        state=OutboxMessage.State.SENDING, lease_until__lt=clock
    )
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("due_at")
            .values_list("pk", "state", "kind")[:limit]
        )
        ids = [pk for pk, _state, _kind in rows]
        OutboxMessage.objects.filter(pk__in=ids).update(
            state=OutboxMessage.State.SENDING,
            lease_token=token,
            lease_until=lease_until,
            attempts=F("attempts") + 1,
            updated_at=clock,
        )
    for pk, state, kind in rows:
        if state == OutboxMessage.State.SENDING:
            # The sweep that held it died or stalled: it may have sent it before dying.
            logger.warning(
                "outbox: %s (id %s) re-taken after its lease expired; a second delivery is possible",
                kind,
                pk,
            )
    claimed = list(OutboxMessage.objects.filter(pk__in=ids, lease_token=token).order_by("due_at"))
    return claimed, lease_until


def _release(messages: list[OutboxMessage], token: uuid.UUID) -> None:
    """Hand rows this sweep claimed but will not deliver back to pending, uncounted."""
    if messages:
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages], lease_token=token).update(
            state=OutboxMessage.State.PENDING,
            lease_token=None,
            lease_until=None,
            attempts=F("attempts") - 1,
            updated_at=timezone.now(),
        )


def _finish(message: OutboxMessage, token: uuid.UUID, **changes: object) -> None:
    changes = {"lease_token": None, "lease_until": None, "updated_at": timezone.now(), **changes}
    updated = OutboxMessage.objects.filter(pk=message.pk, lease_token=token).update(**changes)
    if not updated:
        # Our lease ran out and another sweep took the row: it may deliver it again.
        logger.warning(
            "outbox: lease lost on %s (id %s); a second delivery is possible", message.kind, message.pk
        )


_MARK_SENT = (
    f"UPDATE {OutboxMessage._meta.db_table} SET state = %s, sent_at = %s, updated_at = %s,"  # noqa: S608
    " last_error = '', lease_token = NULL, lease_until = NULL WHERE id = %s AND lease_token = %s"
)


_SENT_AT = OutboxMessage._meta.get_field("sent_at")
_LEASE_TOKEN = OutboxMessage._meta.get_field("lease_token")


def _mark_sent(message: OutboxMessage, token: uuid.UUID) -> None:
    """``_finish`` for the hot path, in plain SQL (a quarter of the ORM's CPU per row)."""
    # Parameters prepared by the fields, as the ORM would: SQLite (the embedded default)
    # stores UUIDs as hex text and cannot bind a uuid.UUID itself.
    now = _SENT_AT.get_db_prep_value(timezone.now(), connection)
    lease = _LEASE_TOKEN.get_db_prep_value(token, connection)
    # On PostgreSQL a prepared statement: parsed and planned once per connection, not per row.
    with prepared_cursor() if connection.vendor == "postgresql" else connection.cursor() as cursor:
        cursor.execute(_MARK_SENT, [OutboxMessage.State.SENT.value, now, now, message.pk, lease])
        updated = cursor.rowcount
    if not updated:
        logger.warning(
            "outbox: lease lost on %s (id %s); a second delivery is possible", message.kind, message.pk
        )


def _backoff(attempts: int) -> timedelta:
    delay: timedelta = BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return min(delay, BACKOFF_CAP)


def _deliver(message: OutboxMessage, token: uuid.UUID, now: datetime) -> str:
    """Run the handler and record what happened; return the SweepResult field to count."""
    handler = _handlers.get(message.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler registered for {message.kind!r}")
        outcome = handler(message)
    except Deferred as deferral:
        _finish(
            message,
            token,
            state=OutboxMessage.State.PENDING,
            due_at=deferral.until,
            attempts=F("attempts") - 1,
        )
        return "deferred"
    except SoftTimeLimitExceeded:
        raise  # the sweep hands its rows back (outbox_sweep)
    except RETRYABLE as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            logger.error(
                "outbox: %s (id %s) failed after %d attempts", message.kind, message.pk, message.attempts
            )
            _finish(message, token, state=OutboxMessage.State.FAILED, last_error=error)
            return "failed"
        retry_at = now + _backoff(message.attempts)
        _finish(message, token, state=OutboxMessage.State.PENDING, due_at=retry_at, last_error=error)
        return "retrying"
    except Exception as exc:  # a bug or a permanent refusal: fail visibly, never retry blindly
        logger.exception("outbox: %s (id %s) failed permanently", message.kind, message.pk)
        _finish(
            message, token, state=OutboxMessage.State.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return "failed"
    if outcome is Outcome.SENT:
        _mark_sent(message, token)
        return "sent"
    _finish(
        message,
        token,
        state=OutboxMessage.State.EXPIRED if outcome is Outcome.EXPIRED else OutboxMessage.State.SKIPPED,
    )
    return "skipped"


class _Deliverers:
    """The threads that deliver one sweep's rows, each with its own database connection
    (closed when the sweep ends). Sending is mostly waiting (the provider, the commit of
    each row's state), so a few threads per process multiply throughput; each row is still
    delivered and marked by exactly one thread, one at a time."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(
        self,
        claimed: list[OutboxMessage],
        deliver: Callable[[OutboxMessage], None],
        lease_over: Callable[[], bool],
        release: Callable[[list[OutboxMessage]], None],
    ) -> list[OutboxMessage]:
        """Deliver ``claimed``; return the rows left untouched because the lease was nearly
        over or the sweep was told to stop."""
        queue = deque(claimed)
        untouched: list[OutboxMessage] = []

        def work() -> None:
            while True:
                with self.lock:
                    if not queue:
                        return
                    if self.stop.is_set() or lease_over():
                        untouched.extend(queue)
                        queue.clear()
                        return
                    message = queue.popleft()
                try:
                    deliver(message)
                except BaseException:
                    self.stop.set()  # the others finish the row in hand and start no other
                    raise

        futures = [self.pool.submit(work) for _ in range(min(self.threads, len(claimed)))]
        try:
            for future in futures:
                future.result()
        except BaseException:
            # The soft time limit, raised in this (the main) thread: the threads finish the
            # row each has in hand (and mark it), start no other; the rest go back at once.
            self.stop.set()
            wait(futures)
            with self.lock:
                untouched.extend(queue)
                queue.clear()
            release(untouched)
            raise
        return untouched

    def close(self) -> None:
        barrier = threading.Barrier(self.threads)

        def close_connection() -> None:
            barrier.wait(timeout=30)  # one call on each thread of the pool
            connection.close()

        wait([self.pool.submit(close_connection) for _ in range(self.threads)])
        self.pool.shutdown()


def _deliver_serially(
    claimed: list[OutboxMessage],
    deliver: Callable[[OutboxMessage], None],
    lease_over: Callable[[], bool],
    token: uuid.UUID,
) -> list[OutboxMessage]:
    """Deliver the rows one after the other; return those left when the lease ran short."""
    for index, message in enumerate(claimed):
        if lease_over():
            return claimed[index:]
        try:
            deliver(message)
        except SoftTimeLimitExceeded:
            # The row in flight may have reached the provider: it stays leased, so that its
            # re-take is logged. The rest go back at once.
            logger.warning("outbox: time limit; %d row(s) handed back", len(claimed) - index - 1)
            _release(claimed[index + 1 :], token)
            raise
    return []


def outbox_sweep(
    *,
    now: datetime | None = None,
    batch_size: int = 200,
    max_batches: int = 50,
    time_budget: float | None = None,
    on_full_batch: Callable[[], None] | None = None,
    threads: int = 1,
) -> SweepResult:
    """Deliver every row due at ``now`` (default: the current time), in batches of
    ``batch_size``. Safe to run in any number of processes at once.

    ``time_budget`` (seconds) stops claiming new batches after that long (Celery tasks stay
    well inside their time limits); ``on_full_batch`` is called after each full batch is
    claimed, so that a task can ask for a helper sweep while there is more to do;
    ``threads`` > 1 delivers each batch's rows on that many threads (_Deliverers)."""
    now = now or timezone.now()
    result = SweepResult()
    token = uuid.uuid4()
    started = time.monotonic()
    lock = threading.Lock()

    def deliver(message: OutboxMessage) -> None:
        counted = _deliver(message, token, now)
        with lock:
            setattr(result, counted, getattr(result, counted) + 1)

    if connection.vendor == "sqlite":
        threads = 1  # one writer at a time: threads would only wait for each other's locks
    deliverers = _Deliverers(threads) if threads > 1 else None
    try:
        for _ in range(max_batches):
            if time_budget is not None and time.monotonic() - started >= time_budget:
                break
            claimed, lease_until = _claim(now=now, limit=batch_size, token=token)
            if len(claimed) == batch_size and on_full_batch is not None:
                on_full_batch()
            margin = _lease_margin(lease_until - timezone.now())

            def lease_over(lease_until: datetime = lease_until, margin: timedelta = margin) -> bool:
                return timezone.now() >= lease_until - margin

            if deliverers is not None:
                untouched = deliverers.run(
                    claimed, deliver, lease_over, release=lambda rows: _release(rows, token)
                )
            else:
                untouched = _deliver_serially(claimed, deliver, lease_over, token)
            if untouched:
                logger.warning("outbox: lease nearly over; %d row(s) handed back", len(untouched))
                _release(untouched, token)
                break
            if len(claimed) < batch_size:
                break
    finally:
        if deliverers is not None:
            deliverers.close()
    return result
