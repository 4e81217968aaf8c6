"""The outbox's sweep (core.outbox has the rules): claims due rows with a lease, delivers each
through its kind's handler on a few threads, marks them sent, retries what can recover
with backoff, hands back what a lost lease or a time limit leaves undone."""

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.models import OutboxMessage
from core.outbox_delivery import outbox_deliver_one

logger = logging.getLogger("core.outbox")  # the outbox's one log, whichever module writes it


# A row is delivered only while its lease has at least this long to run, so a slow send
# cannot overlap another sweep's re-take of the same row.
LEASE_MARGIN = timedelta(seconds=30)


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
        counted = outbox_deliver_one(message, token, now)
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
