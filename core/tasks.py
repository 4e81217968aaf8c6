import logging
import os
import threading
import time
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction

from core.outbox_sweep import outbox_sweep
from core.services import heartbeat_record

logger = logging.getLogger(__name__)


@shared_task
def heartbeat_task() -> None:
    """Record that beat, the broker and a worker all work. At-most-once is fine: a lost
    heartbeat is replaced by the next one, and a doubled one writes the same row."""
    heartbeat_record(name="scheduler")


# One sweep task claims batches for at most this long (far inside the 240 s soft time limit),
# then ends; a backlog is shared out by the helper sweeps it asks for (below).
SWEEP_TIME_BUDGET = 60.0  # seconds


# Proven idempotent (tests/core/test_outbox.py, tests/faults/): rows are claimed with
# SKIP LOCKED and a lease, so a redelivered, repeated or concurrent sweep finds nothing to
# do twice. Hence acks_late: a sweep whose worker died is redelivered, not lost (it would
# be replaced by beat's next one anyway).
@shared_task(acks_late=True, reject_on_worker_lost=True)
def outbox_sweep_task() -> str:
    """Deliver due outbox rows in batches of REMINDER_BATCH_SIZE.

    Fan-out: each time this sweep claims a full batch (more may be waiting), it enqueues one
    helper sweep, at most one per task, so an idle worker joins in; a helper that finds a
    partial batch or nothing asks for no one. A backlog therefore spreads over every free
    worker within a few batches, and the queue never holds more than about one sweep per
    worker. Two sweeps never deliver one row twice (SKIP LOCKED + lease)."""
    asked = False

    def ask_for_help() -> None:
        nonlocal asked
        if not asked:
            asked = True
            _enqueue_sweep()

    result = outbox_sweep(
        batch_size=settings.REMINDER_BATCH_SIZE,
        max_batches=1_000_000,  # bounded by the time budget instead
        time_budget=SWEEP_TIME_BUDGET,
        on_full_batch=ask_for_help,
        threads=settings.REMINDER_SWEEP_THREADS,
    )
    return str(result)


class _KickConnection:
    """The broker connection sweeps are enqueued on, one per process, kept between kicks
    (a new one per kick cost 3.5 ms instead of 0.4 ms). It makes one connection attempt, no
    reconnection loop: kombu's default (retries 2 s apart until the 4 s connect timeout) held
    every request up about 6 s while the broker was down. After a failure it is dropped, and
    the next kick tries a fresh one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # kombu connections are not thread-safe
        self.connection: Any = None
        self.pid = 0

    def enqueue(self, countdown: float, task: Any = None) -> None:
        task = task or outbox_sweep_task
        with self.lock:
            if self.connection is None or self.pid != os.getpid():  # none yet, or forked
                app = outbox_sweep_task.app
                self.connection = app.connection_for_write(transport_options={"max_retries": 0})
                self.pid = os.getpid()
            try:
                task.apply_async(  # celery-types omit `connection`
                    countdown=countdown, retry=False, connection=self.connection
                )
            except Exception:
                self.connection.release()
                self.connection = None
                raise


_kick_connection = _KickConnection()


def _enqueue_sweep(countdown: float = 0.0) -> None:
    try:
        _kick_connection.enqueue(countdown)
    except Exception as exc:  # the broker is down: the row is committed, beat's sweep delivers it
        logger.warning("outbox: could not enqueue a sweep (%s); beat will deliver", type(exc).__name__)


def task_kick(task: Any, *, countdown: float = 0.0) -> None:
    """Enqueue ``task`` on the kept broker connection; with the broker down, log it and
    leave the work to beat's next run."""
    try:
        _kick_connection.enqueue(countdown, task)
    except Exception as exc:
        logger.warning("could not enqueue %s (%s); beat will run it", task.name, type(exc).__name__)


KICK_DELAY = 1.0  # seconds
_next_kick = 0.0


def outbox_kick_on_commit() -> None:
    """Ask for a sweep soon after the current transaction commits, so immediate effects do
    not wait for beat. At most one kick a second per process, run a second later, so that
    one sweep covers every row committed in that second instead of one message per row.
    Best effort: with the broker down the rows wait for beat's next sweep, and the request
    that wrote them is neither failed nor slowed beyond one refused connection."""

    def kick() -> None:
        global _next_kick  # noqa: PLW0603 - a per-process rate limit, nothing to share
        now = time.monotonic()
        if now < _next_kick:
            return
        _next_kick = now + KICK_DELAY
        _enqueue_sweep(countdown=KICK_DELAY)

    transaction.on_commit(kick)


@shared_task
def idempotency_purge_task() -> int:
    """Delete idempotency records past their 24 h retention. Idempotent."""
    from core.idempotency import idempotency_purge

    return idempotency_purge()
