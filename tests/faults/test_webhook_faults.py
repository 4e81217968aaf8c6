"""Fault tests of webhook delivery (CONTRACT section 7) with real processes: a private
redis-server, real `celery worker` and `celery beat` processes (the harness of
test_outbox_faults), and a real receiver on loopback (tests.webhook_receiver) verifying
every request with the reference `standardwebhooks` library.

(a) The receiver is down (its port closed), then up: every event arrives, once, at the
    first retry (5 s); nothing is lost.
(b) kill -9 of the worker while it has requests in flight and more claimed: a new worker
    takes the victim's deliveries once their lease expires; every event arrives at least
    once, the only second copies are the requests in flight at the kill, each with the same
    `webhook-id` and body, and every delivery ends succeeded.

Anything that cannot start fails the test loudly; nothing is skipped. The shared Redis on
6379 is never touched (the test process's own kicks are switched off)."""

import os
import re
import signal
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from leads.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from leads.partners.keys import partner_create
from leads.partners.webhook_delivery import AHEAD
from leads.partners.webhooks import EventSpec, webhook_endpoint_create, webhook_events_emit
from tests.faults.test_outbox_faults import Cluster, RedisServer, _free_port, _wait
from tests.webhook_receiver import Received, WebhookReceiver

pytestmark = [
    pytest.mark.processes,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql("worker processes share the test database; runs claim with SKIP LOCKED"),
]

EVENTS = 60
PER_ENDPOINT = 4  # WEBHOOK_ENDPOINT_CONCURRENCY of the workers: requests in flight at once
# The kill test's lease: the new worker waits for it. A run starts a delivery only while its
# lease has LEASE_MARGIN (5 s) left, so it must be longer than that.
KILL_LEASE_SECONDS = 8
RETAKEN = re.compile(r"webhooks: delivery (\d+) re-taken after its lease expired")


@pytest.fixture
def cluster(transactional_db, tmp_path, monkeypatch):
    # The events written here would ask the test settings' broker for a run; the workers
    # listen to their own redis-server, and beat (every 2 s) asks them.
    monkeypatch.setattr("leads.partners.webhooks._kick", [])
    redis_server = RedisServer(tmp_path)
    cluster = Cluster(tmp_path, redis_server)
    cluster.env.update(WEBHOOK_ENDPOINT_CONCURRENCY=str(PER_ENDPOINT), WEBHOOK_THREADS="8")
    yield cluster
    cluster.stop()  # before the database is flushed
    redis_server.stop()


def _endpoint(url: str) -> tuple[WebhookEndpoint, str]:
    partner = partner_create(slug="fault-partner", name="Fault Partner")
    return webhook_endpoint_create(partner_id=partner.pk, url=url)


def _events(endpoint: WebhookEndpoint, count: int = EVENTS) -> dict[str, int]:
    """`count` lead.status_changed events for the endpoint, due now (the real service: one
    delivery each). {webhook-id: delivery id}."""
    now = timezone.now()
    events = webhook_events_emit(
        (
            EventSpec(
                partner_id=endpoint.partner_id,
                type="lead.status_changed",
                data={
                    "id": f"fault-{i}",
                    "external_id": None,
                    "status": "contacted",
                    "status_changed_at": "",
                },
            )
            for i in range(count)
        ),
        at=now,
    )
    deliveries = dict(WebhookDelivery.objects.values_list("event_id", "pk"))
    return {event.webhook_id: deliveries[event.pk] for event in events}


def _all_succeeded(cluster: Cluster, timeout: float = 60) -> None:
    _wait(
        lambda: not WebhookDelivery.objects.exclude(state="succeeded").exists(),
        timeout=timeout,
        what="every delivery to succeed",
        interval=0.25,
        cluster=cluster,
    )


def test_a_receiver_down_then_up_gets_every_event_once_at_the_first_retry(cluster):
    port = _free_port()  # nothing listens there yet: connections are refused
    endpoint, secret = _endpoint(f"http://127.0.0.1:{port}/hooks")
    ids = _events(endpoint)
    cluster.worker("worker1")
    cluster.beat("beat")
    _wait(
        lambda: set(WebhookDelivery.objects.values_list("state", "attempts")) == {("pending", 1)},
        timeout=120,  # the processes start first: slow on a machine running other suites
        what="every delivery's first attempt to fail",
        interval=0.05,
        cluster=cluster,
    )

    # Up before the first retry falls due (5 s after each first attempt).
    receiver = WebhookReceiver(port=port)
    receiver.secrets.append(secret)
    try:
        _all_succeeded(cluster)
        cluster.stop()
    finally:
        receiver.close()

    received = Counter(r.webhook_id for r in receiver.received)
    assert received == Counter(dict.fromkeys(ids, 1))  # every event, once
    assert all(r.verified_with == [secret] for r in receiver.received)
    assert set(WebhookDelivery.objects.values_list("state", "attempts", "last_status")) == {
        ("succeeded", 2, 204)
    }
    attempts: dict[int, list[tuple[Any, ...]]] = {}
    for delivery_id, at, status, error in WebhookAttempt.objects.order_by("at").values_list(
        "delivery_id", "at", "status", "error"
    ):
        attempts.setdefault(delivery_id, []).append((at, status, error))
    assert set(attempts) == set(ids.values())
    for (first_at, *first), (second_at, *second) in attempts.values():
        assert first == [None, "Could not connect ([Errno 111] Connection refused)."]
        assert second == [204, ""]
        assert second_at - first_at >= timedelta(seconds=5)  # the schedule's first retry
    assert RETAKEN.findall(cluster.logs()) == []


def test_kill_9_of_the_worker_mid_batch_loses_nothing_and_resends_only_what_was_in_flight(cluster):
    receiver = WebhookReceiver()
    hold, release = threading.Event(), threading.Event()
    held: list[Received] = []

    def answer(request: Received) -> tuple[int, float]:
        if hold.is_set():  # the receiver got it; the worker will never hear the answer
            held.append(request)
            release.wait(60)
        return 204, 0.2  # slow: 20 a second with four in flight

    receiver.answer = answer
    endpoint, secret = _endpoint(receiver.url())
    receiver.secrets.append(secret)
    ids = _events(endpoint)
    cluster.env["REMINDER_LEASE_SECONDS"] = str(KILL_LEASE_SECONDS)
    try:
        victim = cluster.worker("worker1")
        cluster.beat("beat")
        _wait(
            lambda: len(receiver.received) >= 20,
            timeout=120,  # the processes start first: slow on a machine running other suites
            what="20 deliveries",
            interval=0.02,
            cluster=cluster,
        )

        # Hold every request from now on: once PER_ENDPOINT are held, the victim has that
        # many in flight (and more claimed ahead) and sends nothing else.
        hold.set()
        _wait(lambda: len(held) == PER_ENDPOINT, timeout=30, what="the requests in flight", cluster=cluster)
        answered = len(receiver.received) - PER_ENDPOINT
        _wait(
            lambda: WebhookDelivery.objects.filter(state="succeeded").count() == answered,
            timeout=30,
            what="the answered deliveries to be recorded",
            cluster=cluster,
        )
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        release.set()
        hold.clear()
        in_flight = {r.webhook_id for r in held}
        assert WebhookDelivery.objects.filter(
            pk__in=[ids[i] for i in in_flight], state="sending"
        ).count() == (PER_ENDPOINT)

        cluster.worker("worker2")
        _all_succeeded(cluster)  # once the victim's lease (8 s) has expired
        cluster.stop()
    finally:
        release.set()
        receiver.close()

    received = Counter(r.webhook_id for r in receiver.received)
    assert set(received) == set(ids)  # every event arrived
    doubled = {webhook_id for webhook_id, count in received.items() if count > 1}
    assert doubled == in_flight  # a second copy only of what was in flight at the kill
    assert max(received.values()) == 2
    for webhook_id in doubled:  # the same event again: same id, same body, signed anew
        copies = [r for r in receiver.received if r.webhook_id == webhook_id]
        assert copies[0].body == copies[1].body
    assert all(r.verified_with == [secret] for r in receiver.received)
    # Taken again after the lease: the requests in flight and the victim's claimed-ahead
    # jobs, each logged; nothing else.
    retaken = {int(pk) for pk in RETAKEN.findall(cluster.logs())}
    assert {ids[i] for i in in_flight} <= retaken
    assert len(retaken) <= PER_ENDPOINT * AHEAD  # what one run claims ahead per endpoint
    assert dict(WebhookDelivery.objects.values_list("pk", "attempts")) == {
        pk: 2 if pk in retaken else 1 for pk in ids.values()
    }
    assert set(WebhookDelivery.objects.values_list("state", "last_status")) == {("succeeded", 204)}
    # One attempt recorded per delivery: the victim's in-flight ones died with it.
    assert Counter(WebhookAttempt.objects.values_list("delivery_id", flat=True)) == Counter(
        dict.fromkeys(ids.values(), 1)
    )
