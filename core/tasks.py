import logging
import time

from celery import shared_task
from django.db import transaction

from core.outbox import outbox_sweep
from core.services import heartbeat_record

logger = logging.getLogger(__name__)


@shared_task
def heartbeat_task() -> None:
    """Record that beat, the broker and a worker all work. At-most-once is fine: a lost
    heartbeat is replaced by the next one, and a doubled one writes the same row."""
    heartbeat_record(name="scheduler")


@shared_task
def outbox_sweep_task() -> str:
    """Deliver due outbox rows. Safe at-least-once and in parallel: rows are claimed with
    SKIP LOCKED and a lease, so a repeated or concurrent run finds nothing to do twice."""
    return str(outbox_sweep())


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
        try:
            outbox_sweep_task.apply_async(countdown=KICK_DELAY, retry=False)
        except Exception as exc:  # the broker is down: the beat sweep will deliver later
            logger.warning("outbox: could not enqueue a sweep (%s); beat will deliver", type(exc).__name__)

    transaction.on_commit(kick)


@shared_task
def idempotency_purge_task() -> int:
    """Delete idempotency records past their 24 h retention. Idempotent."""
    from core.idempotency import idempotency_purge

    return idempotency_purge()
