"""A worker killed (kill -9) after LINE accepted a push and before the outbox row was
marked sent (CONTRACT section 6): the row is taken again once its lease expires, the
resend carries the same ``X-Line-Retry-Key``, LINE (the fake, which deduplicates by retry
key as LINE does) answers 409, the row counts as sent and the candidate got one message.
Real processes, through the harness of test_outbox_faults (its own redis-server, celery
worker and beat)."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.channels.base import idempotency_key_for
from core.models import OutboxMessage
from leads.models import Candidate
from tests.fake_line import LINE_USER, FakeLine
from tests.faults.test_outbox_faults import RETAKEN, Cluster, RedisServer, _real_consultation_reminders, _wait

pytestmark = [
    pytest.mark.processes,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql("worker processes share the test database; sweeps claim with SKIP LOCKED"),
]


def test_a_worker_killed_after_line_accepted_a_push_resends_with_the_same_retry_key_once(tmp_path):
    fake = FakeLine()
    fake.hold.set()  # LINE accepts the push, and its answer never reaches the worker
    redis_server = RedisServer(tmp_path)
    cluster = Cluster(tmp_path, redis_server)
    cluster.env.update(
        LINE_BACKEND="core.channels.line.LineMessagingApi",
        LINE_API_BASE_URL=fake.url,
        LINE_CHANNEL_ACCESS_TOKEN="fault-channel-token",
        LINE_READ_TIMEOUT="120",  # the worker waits for the answer until it is killed
        REMINDER_LEASE_SECONDS="4",  # the victim's lease: the resend waits for it to expire
    )
    try:
        (row_id,) = _real_consultation_reminders(1, due=timezone.now() - timedelta(seconds=1))
        Candidate.objects.update(contact_channel="line", line_user_id=LINE_USER)
        row = OutboxMessage.objects.get(pk=row_id)
        worker = cluster.worker("worker1")
        cluster.beat("beat")
        _wait(lambda: len(fake.delivered) == 1, timeout=120, what="LINE to accept the push", cluster=cluster)

        os.kill(worker.pid, signal.SIGKILL)  # after LINE accepted, before the row is marked
        worker.wait(timeout=10)
        fake.hold.clear()
        fake.released.set()
        assert OutboxMessage.objects.get(pk=row_id).state == "sending"
        time.sleep(0.2)
        cluster.worker("worker2")
        _wait(
            lambda: OutboxMessage.objects.get(pk=row_id).state == "sent",
            timeout=90,  # the lease (4 s) expires first
            what="the reminder to be marked sent",
            interval=0.25,
            cluster=cluster,
        )
        cluster.stop()

        keys = [request["headers"]["X-Line-Retry-Key"] for request in fake.requests]
        assert keys == [str(idempotency_key_for(row.key))] * 2  # the resend carried the same key
        assert len(fake.delivered) == 1  # LINE answered the second 409: one message
        assert fake.delivered[0]["to"] == LINE_USER
        assert [int(pk) for pk in RETAKEN.findall(cluster.logs())] == [row_id]  # and it was logged
    finally:
        cluster.stop()
        redis_server.stop()
        fake.close()
