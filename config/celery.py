"""The Celery app. Settings come from Django's (CELERY_ namespace); the beat schedule is
here, in code, so that every deployment runs the same schedule."""

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# No task is ever scheduled further ahead than this. Redis redelivers a message nobody has
# acknowledged after `visibility_timeout`, counted from when it was sent: a long ETA or
# countdown is redelivered again and again while it waits ("20 hours later, task duplicated
# 19 times"). What must happen later is an outbox row with a due time, never a delayed task.
MAX_TASK_DELAY_SECONDS = 300.0


class BoundedDelayTask(Task):  # type: ignore[type-arg]
    """Every task of the app: refuses a countdown or ETA beyond MAX_TASK_DELAY_SECONDS
    (``Task.retry`` goes through ``apply_async`` too)."""

    def apply_async(self, *args: Any, **options: Any) -> Any:
        countdown = options.get("countdown")
        if countdown is not None and float(countdown) > MAX_TASK_DELAY_SECONDS:
            raise ValueError(f"countdown={countdown} exceeds {MAX_TASK_DELAY_SECONDS:.0f} s: use the outbox")
        eta = options.get("eta")
        if eta is not None:
            moment = datetime.fromisoformat(eta) if isinstance(eta, str) else eta
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            if (moment - datetime.now(UTC)).total_seconds() > MAX_TASK_DELAY_SECONDS:
                raise ValueError(
                    f"eta={eta} is more than {MAX_TASK_DELAY_SECONDS:.0f} s ahead: use the outbox"
                )
        return super().apply_async(*args, **options)


app: "Celery[Task[Any, Any]]" = Celery("urakata", task_cls=BoundedDelayTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare_embedded_broker(sender: Celery, **kwargs: object) -> None:
    # The filesystem transport needs its folders to exist before a message is written.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if folder := options.get(key):
            Path(folder).mkdir(parents=True, exist_ok=True)


SWEEP_EXPIRES_FLOOR = 15.0  # seconds


def _beat_schedule() -> dict[str, dict[str, object]]:
    from django.conf import settings

    return {
        "heartbeat": {
            "task": "core.tasks.heartbeat_task",
            "schedule": float(settings.HEARTBEAT_SECONDS),
            # A missed heartbeat is simply replaced by the next one.
            "options": {"expires": float(settings.HEARTBEAT_SECONDS)},
        },
        "outbox-sweep": {
            "task": "core.tasks.outbox_sweep_task",
            "schedule": float(settings.REMINDER_SWEEP_SECONDS),
            # Sweeps that could not start in time are dropped: the next one covers them. Not
            # before SWEEP_EXPIRES_FLOOR, though: with a short period on a busy machine a
            # worker can take longer than the period to receive one, and then every sweep
            # would expire on arrival. A few extra queued sweeps are harmless (SKIP LOCKED).
            "options": {"expires": max(float(settings.REMINDER_SWEEP_SECONDS), SWEEP_EXPIRES_FLOOR)},
        },
        "webhook-deliveries": {
            "task": "leads.tasks.webhooks_dispatch_task",
            "schedule": float(settings.REMINDER_SWEEP_SECONDS),
            # As the outbox's: a run that could not start in time is covered by the next.
            "options": {"expires": max(float(settings.REMINDER_SWEEP_SECONDS), SWEEP_EXPIRES_FLOOR)},
        },
        "webhook-history-purge": {
            "task": "leads.tasks.webhook_history_purge_task",
            # Daily at 04:00 JST; a missed run is made up by the next.
            "schedule": crontab(hour=4, minute=0),
            "options": {"expires": 23 * 3600.0},
        },
        "idempotency-purge": {
            "task": "core.tasks.idempotency_purge_task",
            "schedule": 3600.0,
            "options": {"expires": 3600.0},
        },
        "quiet-candidates-scan": {
            "task": "leads.tasks.quiet_candidates_scan_task",
            "schedule": 3600.0,
            # One query and one INSERT; a lost or doubled scan is harmless (keyed rows).
            "options": {"expires": 3600.0},
        },
        "api-key-usage-flush": {
            "task": "leads.tasks.api_key_usage_flush_task",
            "schedule": 300.0,
            "options": {"expires": 300.0},
        },
        "invoices-daily": {
            "task": "leads.tasks.invoices_daily_task",
            # Daily at 00:10 JST: a placement is invoiced on its start date.
            "schedule": crontab(hour=0, minute=10),
            # A run that could not start within the day is replaced by the next one, which
            # issues whatever this one would have.
            "options": {"expires": 23 * 3600.0},
        },
        "partner-statements": {
            "task": "leads.tasks.partner_statements_issue_task",
            # The 1st at 09:00 JST: the month before, ended nine hours ago.
            "schedule": crontab(day_of_month=1, hour=9, minute=0),
            # A run that could not start within the day is replaced by a manual one (the
            # command), which issues exactly what this one would have.
            "options": {"expires": 23 * 3600.0},
        },
        "privacy-retention": {
            "task": "leads.tasks.retention_anonymise_task",
            # Daily at 03:30 JST (celery's timezone is Django's TIME_ZONE), a quiet hour.
            "schedule": crontab(hour=3, minute=30),
            # A run that could not start within the day is replaced by the next one.
            "options": {"expires": 23 * 3600.0},
        },
    }


@app.on_after_configure.connect
def _install_beat_schedule(sender: Celery, **kwargs: object) -> None:
    sender.conf.beat_schedule = _beat_schedule()
