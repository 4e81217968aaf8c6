"""Webhooks in the admin (CONTRACT section 7): managers register an endpoint (the SSRF guard
on the form, the secret shown once and signing), change and disable it, send a test event,
rotate the secret, replay the failed deliveries since a time and send chosen ones again; the
delivery log shows every attempt; advisors only look."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.leads.payouts.helpers import manager, move, send_lead
from tests.leads.webhooks.helpers import at, dispatch, endpoint_for

pytestmark = pytest.mark.django_db

ENDPOINTS = "/admin/leads/webhookendpoint/"
DELIVERIES = "/admin/leads/webhookdelivery/"
# The session, the user and permissions, the filters' choices, the count and the page: the
# same for one row as for a page full.
LOG_QUERIES = 19
SECRET = re.compile(r"<code>(whsec_[A-Za-z0-9+/=]+)</code>")


class Staff(Client):
    """A member of the staff in the admin, logged in afresh for each request: the tests'
    clock moves by days, and a session would expire."""

    def __init__(self, group: str = Groups.MANAGERS, email: str = "boss@urakata.example") -> None:
        super().__init__(headers={"Accept-Language": "en"})
        self.user = staff_user_create(email=email, display_name=email.split("@", maxsplit=1)[0], group=group)

    def request(self, **request: Any) -> Any:
        self.force_login(self.user)
        return super().request(**request)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _act(client: Staff, url: str, action: str, *pks: object, **extra: str):
    return client.post(
        url, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}, follow=True
    )


def test_a_manager_registers_an_endpoint_and_sees_its_secret_once(partner, webhook_receiver):
    client = Staff()
    url = webhook_receiver.url("/hooks")

    response = client.post(
        f"{ENDPOINTS}add/",
        {"partner": partner.partner.pk, "url": url, "events": ["statement.issued"]},
        follow=True,
    )

    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.partner_id, endpoint.url, endpoint.events, endpoint.enabled) == (
        partner.partner.pk,
        url,
        ["statement.issued"],
        True,
    )
    (shown,) = SECRET.findall("\n".join(_messages(response)))
    assert shown == endpoint.secret
    page = client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page
    # The secret shown is the one that signs: the receiver verifies a test event with it.
    webhook_receiver.secrets.append(shown)
    with at("2027-03-01T10:00:00"):
        _act(client, ENDPOINTS, "send_test_event", endpoint.pk)
        assert dispatch() == "succeeded=1 retrying=0 failed=0"
    (received,) = webhook_receiver.received
    assert received.verified_with == [shown]
    assert received.json["type"] == "webhook.test"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://93.184.216.34/hooks", "The URL must start with https://."),
        ("https://localhost/hooks", "The host localhost resolves to"),
        ("https://[::1]/hooks", "The host ::1 resolves to ::1, which is not a public address."),
    ],
)
def test_the_form_refuses_what_the_ssrf_guard_refuses(partner, url, error):
    client = Staff()
    with override_settings(WEBHOOK_ALLOW_PRIVATE=False):
        response = client.post(f"{ENDPOINTS}add/", {"partner": partner.partner.pk, "url": url})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_the_form_refuses_an_eleventh_endpoint_of_a_partner(partner, webhook_receiver):
    for n in range(10):
        endpoint_for(partner, webhook_receiver, f"/hooks/{n}")
    client = Staff()

    response = client.post(
        f"{ENDPOINTS}add/", {"partner": partner.partner.pk, "url": webhook_receiver.url("/11")}
    )

    assert response.status_code == 200
    assert "A partner may have at most 10 webhook endpoints: delete one first." in response.content.decode()
    assert WebhookEndpoint.objects.count() == 10


def test_disabling_on_the_form_fails_what_was_pending_and_enabling_starts_afresh(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    client = Staff()
    with at("2027-03-01T10:00:00"):
        move(client.user, send_lead(partner), "contacted")  # pending, not yet sent
        form = {"url": endpoint.url, "events": ["lead.status_changed"]}
        response = client.post(f"{ENDPOINTS}{endpoint.pk}/change/", form)
        assert response.status_code == 302
        endpoint.refresh_from_db()
        assert (endpoint.enabled, endpoint.disabled_reason, endpoint.events) == (
            False,
            "staff",
            ["lead.status_changed"],
        )
        (delivery,) = WebhookDelivery.objects.all()
        assert (delivery.state, delivery.last_error) == ("failed", "The endpoint was disabled.")

        response = _act(client, ENDPOINTS, "enable", endpoint.pk)
        assert _messages(response)[-1] == "Enabled 1 endpoint(s)."
        endpoint.refresh_from_db()
        assert (endpoint.enabled, endpoint.disabled_reason, endpoint.failing_since) == (True, "", None)


def test_rotation_shows_the_new_secret_and_both_sign_for_a_day(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    old = endpoint.secret
    client = Staff()
    with at("2027-03-01T10:00:00") as clock:
        response = _act(client, ENDPOINTS, "rotate_secret", endpoint.pk)
        (new,) = SECRET.findall("\n".join(_messages(response)))
        assert new != old
        webhook_receiver.secrets[:] = [new]
        _act(client, ENDPOINTS, "send_test_event", endpoint.pk)
        dispatch()
        clock.shift(timedelta(hours=24, seconds=1))
        _act(client, ENDPOINTS, "send_test_event", endpoint.pk)
        dispatch()
    webhook_receiver.secrets[:] = [old]
    during, after = webhook_receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert after.verified_with == [new]


def test_replay_sends_the_failed_deliveries_since_a_time_again_with_their_ids(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    client = Staff()
    webhook_receiver.answer = lambda _request: 503
    with at("2027-03-01T10:00:00"):
        user = client.user
        old_lead, new_lead = send_lead(partner, external_id="old"), send_lead(partner, external_id="new")
        move(user, old_lead, "contacted")
        dispatch()
    with at("2027-03-02T10:00:00"):
        move(user, new_lead, "contacted")
        dispatch()
    WebhookDelivery.objects.update(state="failed")
    (newer,) = [d for d in WebhookDelivery.objects.select_related("event") if '"new"' in d.event.body]
    webhook_receiver.answer = lambda _request: 204
    received_before = list(webhook_receiver.received)
    webhook_receiver.received.clear()

    with at("2027-03-03T10:00:00"):
        page = _act(client, ENDPOINTS, "replay_failed", endpoint.pk)
        assert page.status_code == 200
        assert 'name="since"' in page.content.decode()
        response = _act(client, ENDPOINTS, "replay_failed", endpoint.pk, since="2027-03-02T00:00")
        assert _messages(response) == [f"{endpoint.url}: 1 failed deliveries will be sent again."]
        assert dispatch() == "succeeded=1 retrying=0 failed=0"

    (again,) = webhook_receiver.received
    assert again.json["data"]["external_id"] == "new"
    assert again.webhook_id == newer.event.webhook_id
    assert newer.event.webhook_id in {r.webhook_id for r in received_before}
    assert sorted(WebhookDelivery.objects.values_list("state", flat=True)) == ["failed", "succeeded"]


def test_the_log_shows_each_attempt_and_sends_chosen_failed_ones_again(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    client = Staff()
    answers = iter([500, 204])
    webhook_receiver.answer = lambda _request: next(answers)
    with at("2027-03-01T10:00:00") as clock:
        move(client.user, send_lead(partner), "contacted")
        dispatch()
        clock.shift(timedelta(seconds=6))
        dispatch()
    (delivery,) = WebhookDelivery.objects.all()
    webhook_id = webhook_receiver.received[0].webhook_id

    listing = client.get(f"{DELIVERIES}?endpoint__id__exact={endpoint.pk}")
    assert listing.status_code == 200
    assert [d.pk for d in listing.context["cl"].result_list] == [delivery.pk]
    assert webhook_id in listing.content.decode()
    found = client.get(f"{DELIVERIES}?q={webhook_id}")
    assert [d.pk for d in found.context["cl"].result_list] == [delivery.pk]
    assert list(client.get(f"{DELIVERIES}?q=msg_{'0' * 32}").context["cl"].result_list) == []

    page = client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    statuses = [a.status for a in WebhookAttempt.objects.order_by("at")]
    assert statuses == [500, 204]
    cells = [
        re.sub(r"\s+", " ", cell).strip()
        for cell in re.findall(
            r'<td class="field-(?:attempted_at|status|duration_ms|error)">(.*?)</td>', page, re.S
        )
    ]
    duration_500, duration_204 = WebhookAttempt.objects.order_by("at").values_list("duration_ms", flat=True)
    assert cells == [
        "<p>2027-03-01 10:00:00</p>", "<p>500</p>", f"<p>{duration_500}</p>", "<p>HTTP 500</p>",
        "<p>2027-03-01 10:00:06</p>", "<p>204</p>", f"<p>{duration_204}</p>", "<p>-</p>",
    ]  # fmt: skip
    assert "lead.status_changed" in page  # the body as signed

    # Send again: only a failed delivery of an enabled endpoint goes.
    response = _act(client, DELIVERIES, "send_again", delivery.pk)
    assert _messages(response) == [
        "0 of 1 deliveries will be sent again (only failed ones of enabled endpoints are)."
    ]
    WebhookDelivery.objects.update(state="failed")
    webhook_receiver.received.clear()
    webhook_receiver.answer = lambda _request: 204
    with at("2027-03-02T10:00:00"):
        response = _act(client, DELIVERIES, "send_again", delivery.pk)
        assert _messages(response) == [
            "1 of 1 deliveries will be sent again (only failed ones of enabled endpoints are)."
        ]
        assert dispatch() == "succeeded=1 retrying=0 failed=0"
    assert [r.webhook_id for r in webhook_receiver.received] == [webhook_id]


def test_the_log_costs_the_same_queries_for_ten_deliveries_as_for_one(
    partner, webhook_receiver, django_assert_num_queries
):
    endpoint_for(partner, webhook_receiver)
    client = Staff()
    user = client.user
    with at("2027-03-01T10:00:00"):
        move(user, send_lead(partner, external_id="one"), "contacted")
        dispatch()
    client.get(DELIVERIES)  # the session and the permissions, cached from here on
    with django_assert_num_queries(LOG_QUERIES):
        assert len(client.get(DELIVERIES).context["cl"].result_list) == 1
    with at("2027-03-01T11:00:00"):
        for n in range(9):
            move(user, send_lead(partner, external_id=f"more-{n}"), "contacted")
        dispatch()
    with django_assert_num_queries(LOG_QUERIES):
        assert len(client.get(DELIVERIES).context["cl"].result_list) == 10


def test_deleting_an_endpoint_confirms_with_counts_and_takes_its_log(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    client = Staff()
    with at("2027-03-01T10:00:00"):
        move(client.user, send_lead(partner), "contacted")
        dispatch()

    page = client.get(f"{ENDPOINTS}{endpoint.pk}/delete/")
    assert page.status_code == 200
    assert dict(page.context["model_count"]) == {
        "webhook endpoints": 1,
        "webhook deliveries": 1,
        "webhook attempts": 1,
    }
    assert client.post(f"{ENDPOINTS}{endpoint.pk}/delete/", {"post": "yes"}).status_code == 302
    assert (
        WebhookEndpoint.objects.count(),
        WebhookDelivery.objects.count(),
        WebhookAttempt.objects.count(),
    ) == (
        0,
        0,
        0,
    )


def test_advisors_see_endpoints_and_log_but_change_nothing(partner, webhook_receiver):
    endpoint = endpoint_for(partner, webhook_receiver)
    client = Staff(Groups.ADVISORS, "aoki@urakata.example")
    with at("2027-03-01T10:00:00"):
        move(manager(), send_lead(partner), "contacted")

    assert client.get(ENDPOINTS).status_code == 200
    assert client.get(DELIVERIES).status_code == 200
    assert client.get(f"{ENDPOINTS}add/").status_code == 403
    assert client.get(f"{ENDPOINTS}{endpoint.pk}/delete/").status_code == 403
    page = client.get(f"{ENDPOINTS}{endpoint.pk}/change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.get(ENDPOINTS).context["action_form"] is None
    assert client.get(DELIVERIES).context["action_form"] is None
    # Posting an action anyway does nothing.
    response = _act(client, ENDPOINTS, "send_test_event", endpoint.pk)
    assert (response.status_code, _messages(response)) == (200, [])
    assert WebhookDelivery.objects.count() == 1  # the lead's, no test event
