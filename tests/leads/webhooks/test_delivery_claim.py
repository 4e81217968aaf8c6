"""The delivery loop's claim (leads.partners.webhook_delivery._claim) and what a round's
writes return: each endpoint with due work is listed once, whatever its number of due
deliveries, and an endpoint disabled by a 410 is named so that its queued jobs are dropped."""

import uuid
from datetime import datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import WebhookDelivery, WebhookEndpoint
from leads.partners.webhook_delivery import DispatchResult, _claim, _Job, _Outcome, _Queues, _record
from leads.partners.webhooks import EventSpec, webhook_endpoint_create, webhook_events_emit

AT = datetime.fromisoformat("2027-03-01T10:00:00+09:00")


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
        claimed = _claim(queues, token=token, now=AT + timedelta(minutes=1))

    assert claimed == 6
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
    assert claimed == 0
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
