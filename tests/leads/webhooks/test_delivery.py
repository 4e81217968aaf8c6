"""Webhooks to partners, delivered (CONTRACT section 7): the events a change writes, their
bodies and Standard Webhooks signatures as the reference library verifies them on a real
loopback receiver, the retry schedule, 410, five days of failures, the SSRF guard at
delivery, redirects, timeouts, and one slow receiver not holding back another."""

import json
import socket
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone, translation

from accounts.models import Groups
from accounts.services import staff_user_create
from core.outbox_sweep import outbox_sweep
from leads.candidates.merge import candidate_merge
from leads.models import PayoutEvent, WebhookAttempt, WebhookDelivery, WebhookEvent
from leads.partners.webhooks import (
    RETRY_SCHEDULE,
    WebhookUrlRefused,
    webhook_endpoint_create,
    webhook_url_resolve,
)
from leads.payouts.services import statements_issue
from leads.tasks import webhooks_dispatch_task
from tests.leads.payouts.helpers import manager, move, rule, send_lead
from tests.leads.webhooks.helpers import at, dispatch, endpoint_for


def test_a_status_change_is_one_signed_event_per_lead_with_no_personal_data(partner, webhook_receiver):
    endpoint_for(partner, webhook_receiver)
    with at("2027-03-01T10:00:00"):
        lead = send_lead(partner, external_id="cm-1", family_name="山田", email="yamada@example.com")
        move(manager(), lead, "contacted")
        assert dispatch() == "succeeded=1 retrying=0 failed=0"

    (request,) = webhook_receiver.received
    assert request.verified_with == webhook_receiver.secrets
    assert request.json == {
        "type": "lead.status_changed",
        "timestamp": "2027-03-01T10:00:00+09:00",
        "data": {
            "id": str(lead.pk),
            "external_id": "cm-1",
            "status": "contacted",
            "status_changed_at": "2027-03-01T10:00:00+09:00",
        },
    }
    event = WebhookEvent.objects.get()
    assert request.webhook_id == f"msg_{event.pk.hex}"
    assert request.headers["webhook-timestamp"] == str(
        int(datetime.fromisoformat("2027-03-01T10:00:00+09:00").timestamp())
    )
    assert request.headers["content-type"] == "application/json"
    for personal in ("山田", "太郎", "yamada", "+8190", "090"):
        assert personal not in request.body.decode()
    # What the partner reads from the API says the same.
    answer = partner.get(f"/api/v1/leads/{lead.pk}/").json()
    assert (answer["status"], answer["status_changed_at"]) == ("contacted", "2027-03-01T10:00:00+09:00")


def test_one_event_per_change_never_one_per_save(partner, webhook_receiver):
    endpoint_for(partner, webhook_receiver)
    user = manager()
    with at("2027-03-01T10:00:00"):
        lead = send_lead(partner)
        move(user, lead, "contacting")  # still "received" for the partner: nothing to tell
        assert WebhookEvent.objects.count() == 0
        move(user, lead, "contacted")
        move(user, lead, "consultation_booked")
    assert list(WebhookEvent.objects.order_by("created_at", "body").values_list("type", flat=True)) == [
        "lead.status_changed",
        "lead.status_changed",
    ]
    assert sorted(json.loads(e.body)["data"]["status"] for e in WebhookEvent.objects.all()) == [
        "consultation_booked",
        "contacted",
    ]


def test_each_partner_hears_of_its_own_lead_only_and_only_the_types_it_wants(make_partner, webhook_receiver):
    first, second, third = make_partner("first"), make_partner("second"), make_partner("third")
    endpoint_for(first, webhook_receiver, "/first")
    endpoint_for(second, webhook_receiver, "/second")
    endpoint_for(third, webhook_receiver, "/third", events=["statement.issued"])
    with at("2027-03-01T10:00:00"):
        lead = send_lead(first, email="same@example.com")
        again = send_lead(second, email="same@example.com")  # the same person, known: one candidate
        send_lead(third, email="same@example.com")
        assert again.candidate_id == lead.candidate_id
        move(manager(), lead, "contacted")
        dispatch()
    by_path = {r.path: r.json["data"]["id"] for r in webhook_receiver.received}
    assert by_path == {"/first": str(lead.pk), "/second": str(again.pk)}


def test_the_retry_schedule_keeps_the_webhook_id_then_fails(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    webhook_receiver.answer = lambda _request: 500
    start = datetime.fromisoformat("2027-03-01T10:00:00+09:00")
    with time_machine.travel(start, tick=False) as clock:
        move(manager(), send_lead(partner), "contacted")
        delivery = WebhookDelivery.objects.get()
        waits = []
        for attempt in range(1, 9):
            dispatch()
            delivery.refresh_from_db()
            assert delivery.attempts == attempt
            if attempt < 8:
                assert delivery.state == "pending"
                waits.append(delivery.due_at - timezone.now())
                clock.move_to(delivery.due_at - timedelta(seconds=1))
                dispatch()  # not due yet: nothing sent
                assert len(webhook_receiver.received) == attempt
                clock.move_to(delivery.due_at)
        assert delivery.state == "failed"
        assert (delivery.last_status, delivery.last_error) == (500, "HTTP 500")

    assert waits == list(RETRY_SCHEDULE)
    assert waits == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ]
    assert len(webhook_receiver.received) == 8
    assert {r.webhook_id for r in webhook_receiver.received} == {WebhookEvent.objects.get().webhook_id}
    assert len({r.headers["webhook-timestamp"] for r in webhook_receiver.received}) == 8  # signed per attempt
    assert all(r.verified_with for r in webhook_receiver.received)
    assert (
        list(WebhookAttempt.objects.filter(delivery=delivery).values_list("status", flat=True)) == [500] * 8
    )
    endpoint.refresh_from_db()
    assert endpoint.enabled  # failing for 1 day 3 hours: not 5 days yet


def test_a_success_after_failures_is_recorded_and_clears_the_failure_streak(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    answers = iter([503, 200])
    webhook_receiver.answer = lambda _request: next(answers)
    with at("2027-03-01T10:00:00") as clock:
        move(manager(), send_lead(partner), "contacted")
        assert dispatch() == "succeeded=0 retrying=1 failed=0"
        endpoint.refresh_from_db()
        assert endpoint.failing_since == timezone.now()
        clock.shift(timedelta(seconds=5))
        assert dispatch() == "succeeded=1 retrying=0 failed=0"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("succeeded", 2, 200)
    assert delivery.delivered_at == datetime.fromisoformat("2027-03-01T10:00:05+09:00")
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    attempts = list(WebhookAttempt.objects.values_list("status", "error"))
    assert attempts == [(503, "HTTP 503"), (200, "")]


def test_410_disables_the_endpoint_at_once_and_fails_its_pending_deliveries(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    webhook_receiver.answer = lambda _request: 410
    user = manager()
    with at("2027-03-01T10:00:00"):
        lead = send_lead(partner)
        move(user, lead, "contacted")
        dispatch(per_endpoint=1, threads=1)
        move(user, lead, "consultation_booked")  # the endpoint is disabled: no delivery for it
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "gone")
    assert len(webhook_receiver.received) == 1
    assert list(WebhookDelivery.objects.values_list("state", "last_status")) == [("failed", 410)]
    assert WebhookEvent.objects.count() == 1


def test_five_days_of_nothing_but_failures_disable_the_endpoint_and_tell_the_managers(
    partner, webhook_receiver
):
    boss = staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    endpoint = endpoint_for(partner, webhook_receiver)
    webhook_receiver.answer = lambda _request: 500
    user = manager()
    with at("2027-03-01T10:00:00") as clock:
        lead = send_lead(partner)
        move(user, lead, "contacted")
        dispatch()
        # A new event every day, each failing: no success in between.
        for stage in ("consultation_booked", "consulted", "applying", "interviewing"):
            clock.shift(timedelta(days=1))
            move(user, lead, stage)
            dispatch()
            endpoint.refresh_from_db()
            assert endpoint.enabled
        clock.shift(timedelta(days=1))  # five days after the first failure
        move(user, lead, "offered")  # still "applied": nothing new; a retry falls due
        WebhookDelivery.objects.filter(state="pending").update(due_at=timezone.now())
        dispatch()
        endpoint.refresh_from_db()
        assert (endpoint.enabled, endpoint.disabled_reason) == (False, "failing")
        assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}
        mail.outbox.clear()
        outbox_sweep()
    (message,) = [m for m in mail.outbox if endpoint.url in m.body]
    assert sorted(message.to) == sorted([boss.email, user.email])
    assert endpoint.url in message.body
    assert "2027-03-01 10:00" in message.body
    assert "/admin/leads/webhookdelivery/" in message.body


def test_the_ssrf_guard_holds_at_delivery_too(partner, webhook_receiver):
    endpoint_for(partner, webhook_receiver)  # registered while private addresses were allowed
    with at("2027-03-01T10:00:00"), override_settings(WEBHOOK_ALLOW_PRIVATE=False):
        move(manager(), send_lead(partner), "contacted")
        assert dispatch() == "succeeded=0 retrying=1 failed=0"
    assert webhook_receiver.received == []
    (attempt,) = WebhookAttempt.objects.all()
    assert attempt.status is None
    assert attempt.error == "The URL must start with https://."


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://93.184.216.34/hooks", "The URL must start with https://."),
        (
            "https://127.0.0.1/hooks",
            "The host 127.0.0.1 resolves to 127.0.0.1, which is not a public address.",
        ),
        ("https://localhost/hooks", "The host localhost resolves to"),
        ("https://[::1]/hooks", "The host ::1 resolves to ::1, which is not a public address."),
        ("https://[::ffff:127.0.0.1]/", "which is not a public address."),
        ("https://10.1.2.3/", "which is not a public address."),
        ("https://192.168.0.10/", "which is not a public address."),
        ("https://169.254.169.254/latest/meta-data/", "which is not a public address."),
        ("https://[fe80::1]/", "which is not a public address."),
        ("https://224.0.0.1/", "which is not a public address."),
        ("https://0.0.0.0/", "which is not a public address."),
        ("https://100.64.0.1/", "which is not a public address."),
        ("https://user:pw@93.184.216.34/", "The URL must not contain a user name or password."),
        ("https://no-such-host.invalid/", "The host no-such-host.invalid does not resolve."),
        ("ftp://93.184.216.34/", "The URL must start with https://."),
    ],
)
@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_the_guard_refuses_what_is_not_a_public_https_address(url, error):
    with translation.override("en"), pytest.raises(WebhookUrlRefused) as refused:
        webhook_url_resolve(url)
    assert error in str(refused.value)


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_the_guard_lets_a_public_address_through_and_pins_it():
    resolved = webhook_url_resolve("https://93.184.216.34:8443/hooks?partner=1")
    assert (resolved.scheme, resolved.host, resolved.port, resolved.target) == (
        "https",
        "93.184.216.34",
        8443,
        "/hooks?partner=1",
    )
    assert resolved.addresses == ("93.184.216.34",)
    assert resolved.host_header == "93.184.216.34:8443"


def test_a_redirect_is_not_followed(partner, webhook_receiver):
    endpoint_for(partner, webhook_receiver)
    webhook_receiver.answer = lambda _request: 307
    with at("2027-03-01T10:00:00"):
        move(manager(), send_lead(partner), "contacted")
        assert dispatch() == "succeeded=0 retrying=1 failed=0"
    assert len(webhook_receiver.received) == 1
    assert WebhookAttempt.objects.get().error == "HTTP 307"


@override_settings(WEBHOOK_TIMEOUT=0.5)
def test_no_answer_within_the_timeout_is_a_failed_attempt(partner, webhook_receiver):
    endpoint_for(partner, webhook_receiver)
    webhook_receiver.answer = lambda _request: (200, 2.0)
    with at("2027-03-01T10:00:00"):
        move(manager(), send_lead(partner), "contacted")
        assert dispatch() == "succeeded=0 retrying=1 failed=0"
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status, attempt.error) == (None, "No answer within 0.5 s.")
    assert 450 <= attempt.duration_ms < 2000


def test_a_receiver_that_is_down_is_a_failed_attempt_saying_so(partner):
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook_endpoint_create(partner_id=partner.partner.pk, url=f"http://127.0.0.1:{port}/hooks")
    with at("2027-03-01T10:00:00"):
        move(manager(), send_lead(partner), "contacted")
        assert dispatch() == "succeeded=0 retrying=1 failed=0"
    attempt = WebhookAttempt.objects.get()
    # Not "No answer within 15 s.": urllib3 2 makes a refused connection a timeout's subclass.
    assert (attempt.status, attempt.error) == (None, "Could not connect ([Errno 111] Connection refused).")
    assert WebhookDelivery.objects.get().due_at == datetime.fromisoformat("2027-03-01T10:00:05+09:00")


def test_a_slow_receiver_does_not_hold_back_another_partners_deliveries(make_partner, webhook_receiver):
    slow_partner, quick_partner = make_partner("slow"), make_partner("quick")
    endpoint_for(slow_partner, webhook_receiver, "/slow")
    endpoint_for(quick_partner, webhook_receiver, "/quick")
    webhook_receiver.answer = lambda request: (204, 1.5) if request.path == "/slow" else 204
    user = manager()
    with at("2027-03-01T10:00:00"):
        for _ in range(3):
            move(user, send_lead(slow_partner), "contacted")
        for _ in range(20):
            move(user, send_lead(quick_partner), "contacted")
        # One request at a time per endpoint, four threads: the slow one holds one thread.
        assert dispatch(per_endpoint=1, threads=4) == "succeeded=23 retrying=0 failed=0"
    slow = sorted(r.arrived for r in webhook_receiver.received if r.path == "/slow")
    quick = sorted(r.arrived for r in webhook_receiver.received if r.path == "/quick")
    assert len(slow) == 3
    assert len(quick) == 20
    assert quick[-1] < slow[1]  # every quick delivery arrived while the slow one was on its first


def test_an_issued_statement_is_told_with_its_number_month_and_total(partner, webhook_receiver):
    endpoint_for(partner, webhook_receiver, events=["statement.issued"])
    rule(partner.partner, PayoutEvent.LEAD_ACCEPTED, 3000)
    with at("2027-01-15T10:00:00"):
        send_lead(partner)
        send_lead(partner)
    with at("2027-02-01T09:00:00"):
        (statement,) = statements_issue(month=date(2027, 1, 1)).issued
        dispatch()
    (request,) = webhook_receiver.received
    assert request.json == {
        "type": "statement.issued",
        "timestamp": "2027-02-01T09:00:00+09:00",
        "data": {"number": statement.number, "month": "2027-01", "total_jpy": 6600},
    }
    assert request.verified_with == webhook_receiver.secrets


def test_a_merge_tells_the_moved_leads_partner_of_their_new_status(make_partner, webhook_receiver):
    first, second = make_partner("first"), make_partner("second")
    endpoint_for(second, webhook_receiver)
    user = manager()
    with at("2027-03-01T10:00:00"):
        kept = send_lead(first, email="a@example.com")
        duplicate = send_lead(second, email="b@example.com")
        move(user, kept, "contacted")
        candidate_merge(keep_id=kept.candidate_id, duplicate_id=duplicate.candidate_id, by=user)
        dispatch()
    (request,) = webhook_receiver.received
    assert request.json["data"] == {
        "id": str(duplicate.pk),
        "external_id": None,
        "status": "contacted",
        "status_changed_at": "2027-03-01T10:00:00+09:00",
    }


def test_writing_a_change_costs_the_same_queries_whatever_the_number_of_leads(
    make_partner, webhook_receiver, django_assert_num_queries
):
    from leads.partners.webhooks import lead_status_changed_emit

    partners = [make_partner(f"p{i}") for i in range(3)]
    for p in partners:
        endpoint_for(p, webhook_receiver)
    leads = [send_lead(p, email="same@example.com") for p in partners]
    with django_assert_num_queries(4):  # the leads, the endpoints, the events, the deliveries
        lead_status_changed_emit(candidate_id=leads[0].candidate_id, status="contacted", at=timezone.now())
    assert WebhookDelivery.objects.count() == 3


def test_the_task_runs_at_most_webhook_dispatchers_at_once(db, settings):
    from django.core.cache import cache

    settings.WEBHOOK_DISPATCHERS = 1
    cache.set("webhooks:dispatcher:0", 1, timeout=60)
    try:
        assert webhooks_dispatch_task() == "busy"
    finally:
        cache.delete("webhooks:dispatcher:0")
    assert webhooks_dispatch_task() == "succeeded=0 retrying=0 failed=0"


def test_events_are_kept_thirty_days_unless_a_delivery_is_pending(partner, webhook_receiver):
    from leads.tasks import webhook_history_purge_task

    endpoint_for(partner, webhook_receiver)
    user = manager()
    with at("2027-03-01T10:00:00"):
        lead = send_lead(partner)
        move(user, lead, "contacted")
        dispatch()
        webhook_receiver.answer = lambda _request: 500
        move(user, lead, "consultation_booked")
        dispatch()  # failed once, retrying: pending
    with at("2027-03-31T10:00:00"):
        assert webhook_history_purge_task() == 0  # thirty days to the second: kept
    with at("2027-03-31T10:00:01"):
        assert webhook_history_purge_task() == 1
    (kept,) = WebhookEvent.objects.all()
    assert json.loads(kept.body)["data"]["status"] == "consultation_booked"
    assert list(WebhookDelivery.objects.values_list("state", flat=True)) == ["pending"]
    assert WebhookAttempt.objects.count() == 1


def test_beat_asks_for_deliveries_and_the_daily_purge(settings):
    from config.celery import app

    schedule = app.conf.beat_schedule
    assert schedule["webhook-deliveries"]["task"] == "leads.tasks.webhooks_dispatch_task"
    assert schedule["webhook-deliveries"]["schedule"] == float(settings.REMINDER_SWEEP_SECONDS)
    assert schedule["webhook-history-purge"]["task"] == "leads.tasks.webhook_history_purge_task"
    assert {"leads.tasks.webhooks_dispatch_task", "leads.tasks.webhook_history_purge_task"} <= set(app.tasks)


def test_a_committed_change_asks_for_a_delivery_run_at_once(
    partner, webhook_receiver, django_capture_on_commit_callbacks, monkeypatch
):
    kicked = []
    monkeypatch.setattr(
        "core.tasks.task_kick", lambda task, countdown=0.0: kicked.append((task.name, countdown))
    )
    monkeypatch.setattr("leads.tasks._next_kick", 0.0)
    endpoint_for(partner, webhook_receiver)
    lead = send_lead(partner)
    user = manager()
    with django_capture_on_commit_callbacks(execute=True):
        move(user, lead, "contacted")
    with django_capture_on_commit_callbacks(execute=True):
        move(user, lead, "consultation_booked")  # within the second: covered by the same run
    assert kicked == [("leads.tasks.webhooks_dispatch_task", 1.0)]
