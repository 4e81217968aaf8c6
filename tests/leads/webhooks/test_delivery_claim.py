"""The delivery loop's claim (leads.partners.webhook_delivery._claim) and what a round's
writes return: each endpoint with due work is listed once, whatever its number of due
deliveries; a claim that fills an endpoint's room is a backlog, for which a run asks once for
help; an endpoint disabled by a 410 is named so that its queued jobs are dropped."""

import uuid
from datetime import datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import WebhookDelivery, WebhookEndpoint
from leads.partners.webhook_delivery import (
    DispatchResult,
    _claim,
    _Job,
    _Outcome,
    _Queues,
    _record,
    webhook_dispatch,
)
from leads.partners.webhooks import EventSpec, webhook_endpoint_create, webhook_events_emit
from leads.tasks import webhooks_dispatch_task

AT = datetime.fromisoformat("2027-03-01T10:00:00+09:00")


def due_to_receiver(partner, receiver, count: int) -> None:
    _endpoint, secret = webhook_endpoint_create(partner_id=partner.partner.pk, url=receiver.url())
    receiver.secrets.append(secret)
    webhook_events_emit(
        [EventSpec(partner_id=partner.partner.pk, type="webhook.test", data={"n": n}) for n in range(count)],
        at=timezone.now(),  # due now
    )


def endpoints_with_due_deliveries(make_partner, *, per_endpoint: int) -> list[WebhookEndpoint]:
    """Two partners with an endpoint each and `per_endpoint` due deliveries each, created a
    second apart and alternating between the partners (the model orders by creation)."""
    endpoints = []
    for slug in ("first", "second"):
        partner = make_partner(slug).partner
        endpoint, _secret = webhook_endpoint_create(partner_id=partner.pk, url=f"http://127.0.0.1:9/{slug}")
        endpoints.append(endpoint)
    for i in range(per_endpoint):
        for endpoint in endpoints:
            webhook_events_emit(
                [EventSpec(partner_id=endpoint.partner_id, type="webhook.test", data={"n": i})],
                at=AT + timedelta(seconds=len(endpoints) * i),
                endpoints=[endpoint],
            )
    return endpoints


def test_it_lists_each_endpoint_with_due_work_once(make_partner, django_assert_num_queries):
    endpoints = endpoints_with_due_deliveries(make_partner, per_endpoint=3)
    queues = _Queues(per_endpoint=4)  # room for 16 each: all three claimed at once
    token = uuid.uuid4()

    # The endpoints with due work (one SELECT DISTINCT); per endpoint a transaction (a
    # savepoint in the test's) taking its rows: SAVEPOINT, SELECT ... FOR UPDATE SKIP
    # LOCKED, UPDATE, RELEASE; then the claimed rows with their events and endpoints. With
    # the model's ordering in the DISTINCT, each endpoint was listed once per due delivery
    # and claimed again twice more (three more queries each time, nothing left to take).
    with CaptureQueriesContext(connection) as queries, django_assert_num_queries(1 + 2 * 4 + 1):
        claimed, backlog = _claim(queues, token=token, now=AT + timedelta(minutes=1))

    assert (claimed, backlog) == (6, False)
    listing = queries.captured_queries[0]["sql"]
    selected = listing.split(" FROM ", 1)[0]
    assert selected == 'SELECT DISTINCT "leads_webhookdelivery"."endpoint_id" AS "endpoint_id"'
    assert "ORDER BY" not in listing
    assert {e: len(jobs) for e, jobs in queues.waiting.items()} == {endpoints[0].pk: 3, endpoints[1].pk: 3}
    assert set(WebhookDelivery.objects.values_list("state", "lease_token", "attempts")) == {
        ("sending", token, 1)
    }


def test_it_claims_nothing_not_due_yet(make_partner, django_assert_num_queries):
    endpoints_with_due_deliveries(make_partner, per_endpoint=3)
    queues = _Queues(per_endpoint=4)
    with django_assert_num_queries(1):  # the listing finds no endpoint
        claimed = _claim(queues, token=uuid.uuid4(), now=AT - timedelta(seconds=1))
    assert claimed == (0, False)
    assert queues.waiting == {}
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"pending"}


def test_a_round_that_disabled_an_endpoint_names_it(make_partner):
    endpoints = endpoints_with_due_deliveries(make_partner, per_endpoint=1)
    queues = _Queues(per_endpoint=4)
    token = uuid.uuid4()
    _claim(queues, token=token, now=AT + timedelta(minutes=1))
    gone, fine = (queues.waiting[e.pk][0] for e in endpoints)

    disabled = _record(
        [
            _Outcome(job=_Job(delivery=gone.delivery, lease_until=gone.lease_until), at=AT, status=410),
            _Outcome(job=_Job(delivery=fine.delivery, lease_until=fine.lease_until), at=AT, status=204),
        ],
        token=token,
        result=(result := DispatchResult()),
    )

    assert disabled == {endpoints[0].pk}  # the loop drops its queued jobs (_Queues.drop)
    assert str(result) == "succeeded=1 retrying=0 failed=1"
    assert list(WebhookEndpoint.objects.order_by("partner__slug").values_list("enabled", flat=True)) == [
        False,
        True,
    ]


def test_a_run_asks_for_help_once_when_an_endpoint_has_more_due_than_it_claims_ahead(
    partner, webhook_receiver
):
    due_to_receiver(partner, webhook_receiver, 9)
    asked = []
    # One request in flight, four claimed ahead: 9 due fill the room several times.
    result = webhook_dispatch(
        time_budget=30, threads=2, per_endpoint=1, wait_for_due=False, on_backlog=lambda: asked.append(1)
    )
    assert str(result) == "succeeded=9 retrying=0 failed=0"
    assert asked == [1]
    assert len({r.webhook_id for r in webhook_receiver.received}) == 9


def test_a_run_whose_claims_leave_room_asks_for_no_help(partner, webhook_receiver):
    due_to_receiver(partner, webhook_receiver, 3)
    asked = []
    result = webhook_dispatch(
        time_budget=30, threads=2, per_endpoint=1, wait_for_due=False, on_backlog=lambda: asked.append(1)
    )
    assert str(result) == "succeeded=3 retrying=0 failed=0"
    assert asked == []


def test_the_task_asks_for_one_more_run_when_it_finds_a_backlog(
    partner, webhook_receiver, settings, monkeypatch
):
    kicked = []
    monkeypatch.setattr(
        "core.tasks.task_kick", lambda task, countdown=0.0: kicked.append((task.name, countdown))
    )
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 1  # four claimed ahead
    due_to_receiver(partner, webhook_receiver, 6)
    assert webhooks_dispatch_task() == "succeeded=6 retrying=0 failed=0"
    # Another worker helps at once rather than at beat's next tick; it takes the second
    # dispatcher slot, or ends at once when none is free.
    assert kicked == [("leads.tasks.webhooks_dispatch_task", 0.0)]
