"""The Celery app. Settings come from Django's (CELERY_ namespace); the beat schedule is
here, in code, so that every deployment runs the same schedule."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("urakata")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare_embedded_broker(sender: Celery, **kwargs: object) -> None:
    # The filesystem transport needs its folders to exist before a message is written.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if folder := options.get(key):
            Path(folder).mkdir(parents=True, exist_ok=True)


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
            # Sweeps that could not start in time are dropped: the next one covers them.
            "options": {"expires": float(settings.REMINDER_SWEEP_SECONDS)},
        },
        "idempotency-purge": {
            "task": "core.tasks.idempotency_purge_task",
            "schedule": 3600.0,
            "options": {"expires": 3600.0},
        },
        "api-key-usage-flush": {
            "task": "leads.tasks.api_key_usage_flush_task",
            "schedule": 300.0,
            "options": {"expires": 300.0},
        },
    }


@app.on_after_configure.connect
def _install_beat_schedule(sender: Celery, **kwargs: object) -> None:
    sender.conf.beat_schedule = _beat_schedule()
