"""The outbox in the admin: advisors see failed messages with their error and resend them."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import Groups
from accounts.services import staff_user_create
from core.models import OutboxMessage

pytestmark = pytest.mark.django_db
LIST = "/admin/core/outboxmessage/"


@pytest.fixture
def advisor_client():
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    advisor = staff_user_create(email="a@urakata.example", display_name="A", group=Groups.ADVISORS)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)
    return client


def _row(key: str, state: str, error: str = "") -> OutboxMessage:
    return OutboxMessage.objects.create(
        key=key,
        kind="booking.reminder",
        subject=f"booking:{key}",
        due_at="2026-11-24T10:00:00+09:00",
        state=state,
        attempts=8,
        last_error=error,
    )


def test_an_advisor_sees_the_failed_messages_with_their_error(advisor_client):
    _row("f", "failed", "TransientError: LINE answered 503: Service Unavailable")
    _row("s", "sent")

    page = advisor_client.get(LIST, {"state__exact": "failed"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "TransientError: LINE answered 503: Service Unavailable" in html
    assert "booking:f" in html
    assert "booking:s" not in html


def test_an_advisor_resends_failed_and_expired_messages_only(advisor_client):
    failed, expired, sent = _row("f", "failed", "boom"), _row("e", "expired"), _row("s", "sent")

    response = advisor_client.post(
        LIST, {"action": "retry_now", "_selected_action": [failed.pk, expired.pk, sent.pk]}, follow=True
    )

    assert response.status_code == 200
    states = dict(OutboxMessage.objects.values_list("key", "state"))
    assert states == {"f": "pending", "e": "pending", "s": "sent"}
    assert OutboxMessage.objects.get(key="f").attempts == 0
    assert "2 message(s) will be retried by the next sweep." in response.content.decode()


def test_nobody_edits_or_deletes_outbox_rows(advisor_client):
    row = _row("f", "failed")

    assert advisor_client.post(f"{LIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert advisor_client.get(f"{LIST}add/").status_code == 403
    page = advisor_client.get(f"{LIST}{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_a_non_staff_user_sees_nothing():
    from accounts.models import User

    user = User.objects.create_user(email="x@example.com", password="pw-123456789")
    client = Client()
    client.force_login(user)

    assert client.get(LIST).status_code == 302  # to the admin login
