"""What happens after a lead is accepted: assignment, the advisor's notice, the contact-SLA
follow-up; and a dead broker that loses nothing."""

import os
import socket
import threading
import time

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from config.celery import app
from core.models import OutboxMessage
from core.outbox_sweep import outbox_sweep
from core.tasks import outbox_sweep_task
from leads.candidates.pipeline import candidate_call_log
from leads.models import Candidate, FollowUpTask, Lead
from tests.leads.conftest import lead_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisors():
    # Transactional tests empty every table, the groups made by migrations included.
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    return [
        staff_user_create(
            email=f"advisor{i}@urakata.example", display_name=f"Advisor {i}", group=Groups.ADVISORS
        )
        for i in range(2)
    ]


def test_a_new_lead_goes_to_the_least_loaded_advisor_who_is_told_in_japanese(partner, advisors):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        partner.post(lead_body(email="first@example.com"))
        outbox_sweep()
        partner.post(lead_body(email="second@example.com"))
        result = outbox_sweep()

    assert str(result) == "sent=1 skipped=0 failed=0"
    owners = dict(Candidate.objects.values_list("email", "advisor__email"))
    assert owners == {
        "first@example.com": "advisor0@urakata.example",
        "second@example.com": "advisor1@urakata.example",
    }
    assert [m.to for m in mail.outbox] == [["advisor0@urakata.example"], ["advisor1@urakata.example"]]
    message = mail.outbox[0]
    assert message.subject == "【新規リード】Career-Media から新しいリードが届きました"
    candidate = Candidate.objects.get(email="first@example.com")
    assert f"https://urakata.test/admin/leads/candidate/{candidate.pk}/change/" in message.body
    assert "2026-11-24 10:00 (JST)" in message.body
    # The notice carries a link, never the candidate's details.
    assert "山田" not in message.body
    assert "first@example.com" not in message.body


def test_a_known_candidate_keeps_their_advisor(partner, advisors):
    partner.post(lead_body(email="same@example.com"))
    outbox_sweep()
    owner = Candidate.objects.get().advisor

    staff_user_create(email="new@urakata.example", display_name="New", group=Groups.ADVISORS)
    partner.post(lead_body(email="same@example.com"))
    outbox_sweep()

    assert Candidate.objects.get().advisor == owner
    assert owner is not None
    assert [m.to for m in mail.outbox] == [[owner.email], [owner.email]]


def test_with_no_advisor_the_assignment_waits_and_retries(partner):
    partner.post(lead_body())
    outbox_sweep()

    row = OutboxMessage.objects.get(kind="lead.assign")
    assert (row.state, row.attempts, row.last_error) == (
        "pending",
        1,
        "TransientError: no active advisor to assign",
    )
    assert mail.outbox == []


def test_the_sla_follow_up_reaches_the_advisor_of_a_lead_still_uncontacted(partner, advisors):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        partner.post(lead_body())
        outbox_sweep()
    mail.outbox.clear()

    with time_machine.travel("2026-11-24T11:59:00+09:00", tick=False):
        assert str(outbox_sweep()) == "sent=0 skipped=0 failed=0"
    with time_machine.travel("2026-11-24T12:00:00+09:00", tick=False):
        assert str(outbox_sweep()) == "sent=1 skipped=0 failed=0"

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "【フォローアップ】まだ連絡していないリードがあります"
    assert mail.outbox[0].to == [Candidate.objects.select_related("advisor").get().advisor.email]  # type: ignore[union-attr]


def test_the_sla_follow_up_is_skipped_once_the_candidate_was_contacted(partner, advisors):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        partner.post(lead_body())
        outbox_sweep()
    mail.outbox.clear()
    with time_machine.travel("2026-11-24T11:00:00+09:00", tick=False):
        candidate_call_log(candidate_id=Candidate.objects.get().pk, outcome="reached", by=None)

    with time_machine.travel("2026-11-24T12:00:00+09:00", tick=False):
        assert str(outbox_sweep()) == "sent=0 skipped=1 failed=0"
    assert mail.outbox == []


def test_without_an_advisor_the_sla_follow_up_goes_to_the_managers(partner):
    staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        partner.post(lead_body())
    with time_machine.travel("2026-11-24T12:00:00+09:00", tick=False):
        outbox_sweep()

    assert [m.to for m in mail.outbox] == [["boss@urakata.example"]]


def _use_broker(url: str) -> None:
    # Celery reads CELERY_BROKER_URL from the environment before its own settings
    # (celery.app.utils.Settings.broker_url), and the test settings export it: both change.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.update(broker_url=url)
    # Drop the cached connection and producer pools so that they are rebuilt for the new URL.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]
    assert app.connection_for_write().as_uri(include_password=True) == url


class DeadBroker:
    """A broker that has died: every connection is accepted and closed at once, and
    counted, so a test can tell how hard a request tried to reach it."""

    def __init__(self) -> None:
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def broker_down():
    """Point Celery at a broker that has died, as if Redis had crashed."""
    real = app.conf.broker_url
    dead = DeadBroker()
    _use_broker(dead.url)
    yield real, dead
    _use_broker(real)
    dead.close()


@pytest.mark.django_db(transaction=True)
def test_a_dead_broker_neither_fails_nor_loses_a_lead(partner, advisors, broker_down):
    real_broker, dead = broker_down

    response = partner.post(lead_body())

    assert response.status_code == 201
    # A dead broker must not hold the request up: one try (the after-commit kick), no
    # reconnection loop.
    assert dead.connections == 1
    assert set(OutboxMessage.objects.values_list("kind", "state")) == {
        ("lead.assign", "pending"),
        ("lead.contact_sla", "pending"),
    }
    assert Candidate.objects.get().advisor is None

    # The broker comes back: beat's next sweep runs on a real worker and delivers.
    _use_broker(real_broker)

    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        outbox_sweep_task.delay()
        deadline = time.monotonic() + 20
        while (
            not OutboxMessage.objects.filter(kind="lead.assign", state="sent").exists()
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)

    assert OutboxMessage.objects.get(kind="lead.assign").state == "sent"
    assert Candidate.objects.get().advisor in advisors
    assert len(mail.outbox) == 1


def test_a_lead_still_uncontacted_a_day_later_reminds_the_advisor_then_the_managers(partner, advisors):
    staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        partner.post(lead_body())
        outbox_sweep()  # assignment
    with time_machine.travel("2026-11-24T12:00:00+09:00", tick=False):
        outbox_sweep()  # the contact SLA
    with time_machine.travel("2026-11-25T10:00:00+09:00", tick=False):
        outbox_sweep()  # 24 h
        outbox_sweep()
    with time_machine.travel("2026-11-25T12:00:00+09:00", tick=False):
        outbox_sweep()  # escalation

    advisor = Candidate.objects.get().advisor
    assert advisor is not None
    assert [m.to for m in mail.outbox] == [
        [advisor.email],
        [advisor.email],
        [advisor.email],
        ["boss@urakata.example"],
    ]
    assert mail.outbox[-1].subject == "【エスカレーション】1日経っても連絡できていないリードがあります"
    tasks = FollowUpTask.objects.order_by("created_at")
    assert [(t.advisor, t.source, t.title) for t in tasks] == [
        (advisor, "contact_sla", "新しいリードへの初回連絡が遅れています"),
        (advisor, "contact_sla", "新しいリードへの初回連絡が遅れています"),
    ]


def _due() -> dict[str, str]:
    return {m.kind: timezone.localtime(m.due_at).isoformat() for m in OutboxMessage.objects.all()}


def test_each_contact_follow_up_delivered_writes_the_next(partner, advisors):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):  # a Tuesday
        partner.post(lead_body())
        outbox_sweep()  # assignment
    with time_machine.travel("2026-11-24T12:00:00+09:00", tick=False):
        assert str(outbox_sweep()) == "sent=1 skipped=0 failed=0"  # the contact SLA

    assert _due()["lead.contact_24h"] == "2026-11-25T10:00:00+09:00"  # 24 h after the lead
    assert "lead.contact_escalation" not in _due()
    with time_machine.travel("2026-11-25T10:00:00+09:00", tick=False):
        assert str(outbox_sweep()) == "sent=1 skipped=0 failed=0"  # 24 h (to the advisor)

    # Then two business hours more, to the managers.
    assert _due()["lead.contact_escalation"] == "2026-11-25T12:00:00+09:00"
    assert OutboxMessage.objects.filter(subject=f"lead:{Lead.objects.get().pk}").count() == 4


def test_a_contacted_lead_is_neither_reminded_nor_escalated_later(partner, advisors):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        partner.post(lead_body())
        outbox_sweep()
        candidate_call_log(candidate_id=Candidate.objects.get().pk, outcome="reached", by=None)
    mail.outbox.clear()
    with time_machine.travel("2026-11-26T10:00:00+09:00", tick=False):
        # The contact SLA, the 24 h follow-up it writes, the escalation that one writes.
        assert [str(outbox_sweep()) for _ in range(4)] == [
            "sent=0 skipped=1 failed=0",
            "sent=0 skipped=1 failed=0",
            "sent=0 skipped=1 failed=0",
            "sent=0 skipped=0 failed=0",
        ]

    assert mail.outbox == []
    assert FollowUpTask.objects.count() == 0
