"""A partner's webhook endpoints through its API key (CONTRACT section 7): registering (the
secret shown once, the SSRF guard, event types, the cap), listing and deleting its own only,
the deliveries with their attempts after real deliveries to the loopback receiver, and the
replay of the failed ones with their original webhook-id."""

import socket
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from core.models import OutboxMessage
from core.outbox import OutboxItem, outbox_enqueue
from core.outbox_sweep import outbox_sweep
from leads.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from leads.partners.webhooks import (
    KIND_ENDPOINT_DISABLED,
    MAX_ENDPOINTS_PER_PARTNER,
    lead_status_changed_emit,
    webhook_endpoint_create,
    webhook_endpoint_update,
)
from tests.leads.payouts.helpers import manager, move, send_lead
from tests.leads.webhooks.helpers import at, dispatch, endpoint_for

URL = "/api/v1/partner/webhook-endpoints/"
BOTH = ["lead.status_changed", "statement.issued"]


def post(partner, path, body):
    return partner.client.post(path, body, content_type="application/json", headers=partner.headers())


def delete(partner, path):
    return partner.client.delete(path, headers=partner.headers())


def invalid(attr, detail):
    return {"type": "validation_error", "errors": [{"code": "invalid", "detail": detail, "attr": attr}]}


NOT_FOUND = {
    "type": "client_error",
    "errors": [{"code": "not_found", "detail": "見つかりませんでした。", "attr": None}],
}


def test_it_registers_an_endpoint_and_shows_its_secret_this_once(partner, webhook_receiver):
    with at("2027-03-01T10:00:00"):
        created = post(partner, URL, {"url": webhook_receiver.url(), "events": ["statement.issued"]})

    assert created.status_code == 201
    body = created.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body == {
        "id": str(endpoint.pk),
        "url": webhook_receiver.url(),
        "events": ["statement.issued"],
        "enabled": True,
        "disabled_reason": None,
        "created_at": "2027-03-01T10:00:00+09:00",
        "secret": endpoint.secret,
    }
    assert body["secret"].startswith("whsec_")
    shown = {k: v for k, v in body.items() if k != "secret"}
    listing = partner.get(URL)
    assert listing.status_code == 200
    assert listing.json() == {"next": None, "previous": None, "results": [shown]}
    detail = partner.get(f"{URL}{endpoint.pk}/")
    assert (detail.status_code, detail.json()) == (200, shown)
    assert endpoint.secret not in listing.content.decode() + detail.content.decode()


def test_events_left_out_mean_every_type(partner, webhook_receiver):
    created = post(partner, URL, {"url": webhook_receiver.url()})
    assert created.status_code == 201
    assert created.json()["events"] == BOTH
    assert WebhookEndpoint.objects.get().events == []  # stored as "every type", new ones included


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"url": "https://hooks.example.com/", "events": ["lead.status_changed", "lead.created"]},
            invalid("events.1", "不明なイベント種別です: lead.created。"),
        ),
        (
            {"url": "https://hooks.example.com/", "events": ["webhook.test"]},  # the staff's only
            invalid("events.0", "不明なイベント種別です: webhook.test。"),
        ),
        (
            {"url": "https://hooks.example.com/", "events": []},
            invalid(
                "events",
                "イベント種別を1つ以上選ぶか、すべての種別を受け取る場合は `events` を省略してください。",
            ),
        ),
        (
            {"url": "https://hooks.example.com/", "secret": "whsec_mine"},
            invalid("secret", "不明な項目です。"),
        ),
        (
            {"events": ["statement.issued"]},
            {
                "type": "validation_error",
                "errors": [{"code": "required", "detail": "この項目は必須です。", "attr": "url"}],
            },
        ),
        ({"url": "hooks.example.com"}, invalid("url", "有効なURLを入力してください。")),
    ],
)
def test_a_wrong_body_is_refused_and_nothing_is_registered(partner, body, expected):
    response = post(partner, URL, body)
    assert (response.status_code, response.json()) == (400, expected)
    assert WebhookEndpoint.objects.count() == 0


@pytest.fixture
def fake_dns(monkeypatch):
    """`hooks.partner.example` resolves to 127.0.0.1, as a partner's name could."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "hooks.partner.example":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (
            "https://hooks.partner.example/hooks",
            "ホスト hooks.partner.example は 127.0.0.1 に解決されますが、これは公開アドレスではありません。",
        ),
        ("https://[::1]/hooks", "ホスト ::1 は ::1 に解決されますが、これは公開アドレスではありません。"),
        ("http://93.184.216.34/hooks", "URL は https:// で始めてください。"),
        ("https://no-such-host.invalid/", "ホスト no-such-host.invalid の名前を解決できません。"),
    ],
)
@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_the_ssrf_guard_refuses_at_registration(partner, fake_dns, url, detail):
    response = post(partner, URL, {"url": url})
    assert (response.status_code, response.json()) == (400, invalid("url", detail))
    assert WebhookEndpoint.objects.count() == 0


def test_a_partner_has_at_most_ten_endpoints(partner, make_partner, webhook_receiver):
    for n in range(MAX_ENDPOINTS_PER_PARTNER):
        webhook_endpoint_create(partner_id=partner.partner.pk, url=webhook_receiver.url(f"/{n}"))
    other = make_partner("other-site")

    response = post(partner, URL, {"url": webhook_receiver.url("/eleventh")})

    assert (response.status_code, response.json()) == (
        400,
        invalid(
            None,
            "Webhook エンドポイントはパートナーごとに最大 10 件です。先にどれかを削除してください。",
        ),
    )
    assert WebhookEndpoint.objects.filter(partner=partner.partner).count() == 10
    assert post(other, URL, {"url": webhook_receiver.url("/other")}).status_code == 201  # per partner


def test_a_partner_lists_reads_and_deletes_its_own_endpoints_only(partner, make_partner, webhook_receiver):
    other = make_partner("other-site")
    mine = endpoint_for(partner, webhook_receiver, "/mine")
    theirs = endpoint_for(other, webhook_receiver, "/theirs")

    assert [e["id"] for e in partner.get(URL).json()["results"]] == [str(mine.pk)]
    for response in (
        partner.get(f"{URL}{theirs.pk}/"),
        partner.get(f"{URL}{theirs.pk}/deliveries/"),
        post(partner, f"{URL}{theirs.pk}/replay/", {"since": "2027-03-01T00:00:00+09:00"}),
        delete(partner, f"{URL}{theirs.pk}/"),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)  # never 403
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()

    response = delete(partner, f"{URL}{mine.pk}/")

    assert (response.status_code, response.content) == (204, b"")
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert (delete(partner, f"{URL}{mine.pk}/").status_code, partner.get(URL).json()["results"]) == (404, [])


def test_the_endpoints_need_a_partner_key(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_deleting_an_endpoint_deletes_its_deliveries_and_attempts(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    webhook_receiver.answer = lambda _request: 500
    with at("2027-03-01T10:00:00"):
        move(manager(), send_lead(partner), "contacted")
        dispatch()
    assert (WebhookDelivery.objects.count(), WebhookAttempt.objects.count()) == (1, 1)

    assert delete(partner, f"{URL}{endpoint.pk}/").status_code == 204

    assert (WebhookDelivery.objects.count(), WebhookAttempt.objects.count()) == (0, 0)
    assert WebhookEvent.objects.count() == 1  # kept for the purge, told to nobody


def test_the_deliveries_list_each_attempt_newest_first_and_nothing_personal(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    answers = iter([503, 204, 500])
    webhook_receiver.answer = lambda _request: next(answers)
    user = manager()
    with at("2027-03-01T10:00:00") as clock:
        lead = send_lead(partner, external_id="cm-1", family_name="山田", email="yamada@example.com")
        move(user, lead, "contacted")
        dispatch()  # 503: retried in 5 s
        clock.shift(timedelta(seconds=5))
        dispatch()  # 204
        clock.shift(timedelta(minutes=1))
        move(user, lead, "consultation_booked")
        dispatch()  # 500: retried in 5 s
        response = partner.get(f"{URL}{endpoint.pk}/deliveries/")

    first, second = WebhookEvent.objects.order_by("created_at")
    first_attempts = list(WebhookAttempt.objects.filter(delivery__event=first).order_by("at"))
    second_attempt = WebhookAttempt.objects.get(delivery__event=second)
    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": WebhookDelivery.objects.get(event=second).pk,
                "webhook_id": second.webhook_id,
                "event_type": "lead.status_changed",
                "state": "pending",
                "created_at": "2027-03-01T10:01:05+09:00",
                "due_at": "2027-03-01T10:01:10+09:00",
                "attempt_count": 1,
                "next_attempt_at": "2027-03-01T10:01:10+09:00",
                "last_error": "HTTP 500",
                "attempts": [
                    {
                        "at": "2027-03-01T10:01:05+09:00",
                        "status": 500,
                        "duration_ms": second_attempt.duration_ms,
                        "error": "HTTP 500",
                    }
                ],
            },
            {
                "id": WebhookDelivery.objects.get(event=first).pk,
                "webhook_id": first.webhook_id,
                "event_type": "lead.status_changed",
                "state": "succeeded",
                "created_at": "2027-03-01T10:00:00+09:00",
                "due_at": "2027-03-01T10:00:05+09:00",
                "attempt_count": 2,
                "next_attempt_at": None,
                "last_error": "",
                "attempts": [
                    {
                        "at": "2027-03-01T10:00:00+09:00",
                        "status": 503,
                        "duration_ms": first_attempts[0].duration_ms,
                        "error": "HTTP 503",
                    },
                    {
                        "at": "2027-03-01T10:00:05+09:00",
                        "status": 204,
                        "duration_ms": first_attempts[1].duration_ms,
                        "error": "",
                    },
                ],
            },
        ],
    }
    assert [r.webhook_id for r in webhook_receiver.received] == [first.webhook_id] * 2 + [second.webhook_id]
    text = response.content.decode()
    for personal in ("山田", "太郎", "yamada", "+8190", "cm-1", str(lead.pk)):
        assert personal not in text  # ids and statuses of the events are in their bodies only
    only_failed = partner.get(f"{URL}{endpoint.pk}/deliveries/", {"state": "pending"}).json()["results"]
    assert [d["webhook_id"] for d in only_failed] == [second.webhook_id]
    wrong = partner.get(f"{URL}{endpoint.pk}/deliveries/", {"state": "lost"})
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == [
        {"code": "invalid", "detail": '"lost"は有効な選択肢ではありません。', "attr": "state"}
    ]


@pytest.mark.parametrize("deliveries", [1, 40])
def test_a_page_of_deliveries_costs_the_same_queries_whatever_their_number(
    partner, webhook_receiver, deliveries, django_assert_num_queries
):
    endpoint = endpoint_for(partner, webhook_receiver)
    now = timezone.now()
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(partner=partner.partner, type="lead.status_changed", body="{}", created_at=now)
        for _ in range(deliveries)
    )
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=e, endpoint=endpoint, state="failed", due_at=now, created_at=now)
        for e in events
    )
    WebhookAttempt.objects.bulk_create(
        WebhookAttempt(delivery=d, at=now, status=500, duration_ms=3, error="HTTP 500")
        for d in rows
        for _ in range(8)
    )
    url = f"{URL}{endpoint.pk}/deliveries/"
    partner.get(url)  # the key's cache and usage counters warmed
    # The key, the endpoint, a page of deliveries with their events' types, their attempts.
    with django_assert_num_queries(4):
        response = partner.get(url)
    results = response.json()["results"]
    assert len(results) == deliveries
    assert {r["attempt_count"] for r in results} == {8}


def test_replay_sends_the_failed_deliveries_since_a_time_again_with_their_ids(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    webhook_receiver.answer = lambda _request: 500
    user = manager()
    replay = f"{URL}{endpoint.pk}/replay/"
    with at("2027-03-01T09:00:00") as clock:
        lead = send_lead(partner)
        move(user, lead, "contacted")  # 09:00: before `since`, not replayed
        dispatch()
        clock.move_to("2027-03-01T10:00:00+09:00")
        move(user, lead, "consultation_booked")
        dispatch()
        # The staff disable the failing endpoint: its pending deliveries fail.
        webhook_endpoint_update(endpoint, enabled=False, by_staff=True)
        assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}

        refused = post(partner, replay, {"since": "2027-03-01T09:30:00+09:00"})
        assert (refused.status_code, refused.json()) == (
            409,
            {
                "type": "client_error",
                "errors": [
                    {
                        "code": "endpoint_disabled",
                        "detail": "このエンドポイントは無効です。再送する前に有効にしてください。",
                        "attr": None,
                    }
                ],
            },
        )

        webhook_endpoint_update(endpoint, enabled=True, by_staff=True)
        webhook_receiver.answer = lambda _request: 204
        naive = post(partner, replay, {"since": "2027-03-01T09:30:00"})
        assert (naive.status_code, naive.json()) == (
            400,
            invalid("since", "タイムゾーンのオフセットを指定してください（例: +09:00）。"),
        )
        missing = post(partner, replay, {})
        assert missing.json()["errors"] == [
            {"code": "required", "detail": "この項目は必須です。", "attr": "since"}
        ]
        assert WebhookDelivery.objects.filter(state="pending").count() == 0

        clock.shift(timedelta(minutes=5))
        response = post(partner, replay, {"since": "2027-03-01T00:30:00Z"})  # any offset: 09:30 JST
        assert (response.status_code, response.json()) == (202, {"replayed": 1})
        assert dispatch() == "succeeded=1 retrying=0 failed=0"

    early, late = WebhookEvent.objects.order_by("created_at")
    *_, replayed = webhook_receiver.received
    assert replayed.webhook_id == late.webhook_id  # the original id
    assert replayed.verified_with == webhook_receiver.secrets
    sent = [r.webhook_id for r in webhook_receiver.received]
    assert (set(sent), sent.count(late.webhook_id)) == ({early.webhook_id, late.webhook_id}, 2)
    states = dict(WebhookDelivery.objects.values_list("event_id", "state"))
    assert states == {early.pk: "failed", late.pk: "succeeded"}


def test_the_disabled_notice_of_a_deleted_endpoint_is_skipped(partner, webhook_receiver, mailoutbox):
    endpoint = endpoint_for(partner, webhook_receiver)
    outbox_enqueue(
        items=[
            OutboxItem(
                kind=KIND_ENDPOINT_DISABLED,
                subject=f"webhook-endpoint:{endpoint.pk}",
                due_at=timezone.now(),
                payload={"endpoint_id": str(endpoint.pk)},
                variant="test",
            )
        ]
    )
    assert delete(partner, f"{URL}{endpoint.pk}/").status_code == 204

    outbox_sweep()

    assert list(OutboxMessage.objects.values_list("kind", "state")) == [(KIND_ENDPOINT_DISABLED, "skipped")]
    assert mailoutbox == []


@pytest.mark.postgresql("a delete from another session while the delivery loop holds its rows")
@pytest.mark.django_db(transaction=True)
def test_an_endpoint_deleted_while_its_delivery_is_in_flight_is_skipped(make_partner, webhook_receiver):
    doomed_partner, other_partner = make_partner("doomed"), make_partner("other")
    doomed = endpoint_for(doomed_partner, webhook_receiver, "/doomed")
    endpoint_for(other_partner, webhook_receiver, "/other")
    deleted = []

    def answer(request):
        if request.path == "/doomed":
            try:  # the partner deletes it while the loop waits for this answer
                deleted.append(delete(doomed_partner, f"{URL}{doomed.pk}/").status_code)
            finally:
                connection.close()  # this server thread's own connection
        return 204

    webhook_receiver.answer = answer
    with at("2027-03-01T10:00:00"):
        # The change told directly (a transactional test has no staff groups for `move`).
        for lead in [send_lead(doomed_partner), send_lead(other_partner), send_lead(other_partner)]:
            lead_status_changed_emit(candidate_id=lead.candidate_id, status="contacted", at=timezone.now())
        result = dispatch(threads=2, per_endpoint=1)

    assert deleted == [204]
    assert result == "succeeded=2 retrying=0 failed=0"  # the other endpoint's, nothing crashed
    assert sorted(r.path for r in webhook_receiver.received) == ["/doomed", "/other", "/other"]
    assert not WebhookEndpoint.objects.filter(pk=doomed.pk).exists()
    assert list(WebhookDelivery.objects.values_list("state", flat=True)) == ["succeeded", "succeeded"]
    assert WebhookAttempt.objects.count() == 2
