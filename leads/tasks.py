import time

from celery import shared_task
from django.utils import timezone

from leads.partners.keys import api_key_usage_flush
from leads.privacy.retention import retention_anonymise


@shared_task
def api_key_usage_flush_task() -> int:
    """Copy API keys' last-use times from the cache to the database. Idempotent (it only
    ever moves a timestamp forward), so at-least-once delivery is harmless."""
    return api_key_usage_flush()


# A run must end within the task's 240 s soft limit. An erasure takes about 60 ms on
# PostgreSQL (measured on a loaded 2-core machine), so 2,000 take about 2 minutes; no new
# batch of 100 starts after 180 s either. A larger backlog is finished by the following
# days' runs, or at once with `manage.py privacy_retention`.
RETENTION_RUN_LIMIT = 2000
RETENTION_TIME_BUDGET = 180.0  # seconds


@shared_task
def retention_anonymise_task() -> str:
    """Anonymise the candidates past RETENTION_PERIOD (daily, from beat). At-least-once is
    safe: each candidate is erased in its own transaction after re-checking under its lock
    that it is still due, and an erased candidate is never due again."""
    result = retention_anonymise(
        as_of=timezone.now(), limit=RETENTION_RUN_LIMIT, time_budget=RETENTION_TIME_BUDGET
    )
    return f"anonymised={result.anonymised} skipped={result.skipped}"


@shared_task
def quiet_candidates_scan_task() -> int:
    """Write the quiet-candidate follow-ups (leads.candidates.quiet). Idempotent: a row per
    candidate and quiet period, keyed, so a repeated or doubled scan adds nothing; a lost
    one is made up by the next hour's."""
    from leads.candidates.quiet import candidates_quiet_scan

    return candidates_quiet_scan()


@shared_task
def partner_statements_issue_task() -> str:
    """The previous JST month's partner statements (beat, on the 1st at 09:00 JST). Running
    twice issues nothing new."""
    from leads.payouts.services import previous_month, statements_issue

    month = previous_month(timezone.now())
    result = statements_issue(month=month)
    return f"{month:%Y-%m}: issued={len(result.issued)} skipped={result.skipped}"


@shared_task
def invoices_daily_task() -> str:
    """Issue the invoices of placements starting today (and any a failed run left), then
    write the follow-ups of invoices gone overdue (daily, from beat). At-least-once is safe:
    issuing locks the placements and skips those invoiced, in batches each committed on its
    own; the overdue rows are keyed per invoice."""
    from leads.invoices.overdue import invoices_overdue_scan
    from leads.invoices.services import invoices_issue_due

    issued = invoices_issue_due()
    overdue = invoices_overdue_scan()
    return f"issued={issued} overdue={overdue}"


# A delivery run claims for this long, then finishes what is in flight (at most
# WEBHOOK_TIMEOUT more), far inside the 240 s soft time limit; beat and the kicks start the
# next one.
WEBHOOK_DISPATCH_BUDGET = 50.0  # seconds


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhooks_dispatch_task() -> str:
    """Deliver due webhooks (leads.partners.webhook_delivery). Idempotent: deliveries are
    claimed with SKIP LOCKED and a lease, so a repeated, redelivered or concurrent run
    delivers nothing twice. At most WEBHOOK_DISPATCHERS runs at once (slots in the cache), so
    that webhooks never take every worker from the reminders; a run that finds no free
    slot ends at once. A run that finds a backlog (an endpoint with more due than it claims
    ahead) asks once for another run, so that a second worker helps with it at once rather
    than at beat's next tick."""
    from django.conf import settings
    from django.core.cache import cache

    from core.tasks import task_kick
    from leads.partners.webhook_delivery import webhook_dispatch

    hold = WEBHOOK_DISPATCH_BUDGET + settings.WEBHOOK_TIMEOUT + 30
    for slot in range(settings.WEBHOOK_DISPATCHERS):
        key = f"webhooks:dispatcher:{slot}"
        if cache.add(key, 1, timeout=hold):
            try:
                result = webhook_dispatch(
                    time_budget=WEBHOOK_DISPATCH_BUDGET,
                    on_backlog=lambda: task_kick(webhooks_dispatch_task),
                )
                return str(result)
            finally:
                cache.delete(key)
    return "busy"


KICK_DELAY = 1.0  # seconds
_next_kick = 0.0


def webhooks_kick() -> None:
    """Ask for a delivery run a second from now (called once a transaction that wrote
    deliveries has committed; leads.apps registers it). At most one a second per process,
    run a second later, so that it covers every delivery committed in that second (as
    core.tasks.outbox_kick_on_commit does); best effort, as beat's run every
    REMINDER_SWEEP_SECONDS delivers whatever a lost kick leaves."""
    from core.tasks import task_kick

    global _next_kick  # noqa: PLW0603 - a per-process rate limit, nothing to share
    now = time.monotonic()
    if now < _next_kick:
        return
    _next_kick = now + KICK_DELAY
    task_kick(webhooks_dispatch_task, countdown=KICK_DELAY)


@shared_task
def webhook_history_purge_task() -> int:
    """Delete webhook events past their 30 days, with their deliveries and attempts (daily,
    from beat). Idempotent."""
    from leads.partners.webhooks import webhook_history_purge

    return webhook_history_purge()
