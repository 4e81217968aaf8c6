import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from core.models import Heartbeat
from core.tasks import heartbeat_task


def test_it_is_configured_deliberately():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_acks_late is False
    assert conf.task_time_limit == 300
    # Redelivery after the visibility timeout must never beat the longest task.
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.broker_url.startswith("redis://")
    assert conf.beat_schedule["heartbeat"]["task"] == "core.tasks.heartbeat_task"
    assert conf.beat_schedule["heartbeat"]["schedule"] == float(settings.HEARTBEAT_SECONDS)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_through_the_real_redis_broker():
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        heartbeat_task.delay()
        deadline = time.monotonic() + 20
        while not Heartbeat.objects.filter(name="scheduler").exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    assert Heartbeat.objects.filter(name="scheduler").exists()
