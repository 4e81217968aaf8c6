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
