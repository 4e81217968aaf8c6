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
    }


@app.on_after_configure.connect
def _install_beat_schedule(sender: Celery, **kwargs: object) -> None:
    sender.conf.beat_schedule = _beat_schedule()
