"""The outbox sweep: claims, leases, retries and concurrent sweeps, on PostgreSQL."""

import threading
from collections import Counter
from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from core.models import OutboxMessage
from core.outbox import OutboxItem, Outcome, TransientError, outbox_cancel, outbox_enqueue, outbox_handler
from core.outbox_delivery import MAX_ATTEMPTS
from core.outbox_sweep import outbox_sweep

delivered: Counter[str] = Counter()
behaviour: dict[str, object] = {}


@outbox_handler("test.ok")
def _ok(message):
    delivered[message.subject] += 1
    return Outcome.SENT


@outbox_handler("test.skip")
def _skip(message):
    return Outcome.SKIPPED


@outbox_handler("test.flaky")
def _flaky(message):
    raise TransientError("provider timed out")


@outbox_handler("test.busy")
def _busy(message):
    raise TransientError("LINE answered 429", retry_after=timedelta(minutes=5))


@outbox_handler("test.broken")
def _broken(message):
    raise KeyError("bug")


@pytest.fixture(autouse=True)
def _reset():
    delivered.clear()


def _enqueue(kind: str, subject: str, due: str, version: int = 1):
    outbox_enqueue(
        items=[OutboxItem(kind=kind, subject=subject, due_at=datetime.fromisoformat(due), version=version)]
    )


pytestmark = pytest.mark.django_db


def test_it_sends_what_is_due_and_leaves_the_rest():
    _enqueue("test.ok", "a", "2026-11-24T10:00:00+09:00")
    _enqueue("test.ok", "b", "2026-11-24T10:00:01+09:00")

    result = outbox_sweep(now=datetime.fromisoformat("2026-11-24T10:00:00+09:00"))

    assert str(result) == "sent=1 skipped=0 failed=0"
    assert dict(delivered) == {"a": 1}
    states = dict(OutboxMessage.objects.values_list("subject", "state"))
    assert states == {"a": "sent", "b": "pending"}
    assert OutboxMessage.objects.get(subject="a").sent_at is not None


def test_enqueueing_the_same_key_twice_keeps_one_row():
    _enqueue("test.ok", "a", "2026-11-24T10:00:00+09:00")
    _enqueue("test.ok", "a", "2026-11-25T10:00:00+09:00")

    assert OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().key == "test.ok:a:1"


def test_a_second_sweep_sends_nothing_twice():
    _enqueue("test.ok", "a", "2026-11-24T10:00:00+09:00")
    now = datetime.fromisoformat("2026-11-24T11:00:00+09:00")

    outbox_sweep(now=now)
    result = outbox_sweep(now=now)

    assert str(result) == "sent=0 skipped=0 failed=0"
    assert delivered["a"] == 1


def test_a_handler_can_decide_the_effect_is_no_longer_needed():
    _enqueue("test.skip", "a", "2026-11-24T10:00:00+09:00")

    assert (
        str(outbox_sweep(now=datetime.fromisoformat("2026-11-24T10:00:00+09:00")))
        == "sent=0 skipped=1 failed=0"
    )
    assert OutboxMessage.objects.get().state == "skipped"


def test_cancelled_rows_are_never_sent():
    _enqueue("test.ok", "a", "2026-11-24T10:00:00+09:00")

    assert outbox_cancel(subject="a") == 1
    outbox_sweep(now=datetime.fromisoformat("2026-11-24T12:00:00+09:00"))

    assert delivered["a"] == 0
    assert OutboxMessage.objects.get().state == "cancelled"


def test_transient_failures_back_off_then_fail_visibly():
    _enqueue("test.flaky", "a", "2026-11-24T10:00:00+09:00")
    now = datetime.fromisoformat("2026-11-24T10:00:00+09:00")
    due_times = []
    for _ in range(MAX_ATTEMPTS):
        result = outbox_sweep(now=now)
        row = OutboxMessage.objects.get()
        due_times.append(row.due_at - now)
        now = row.due_at

    assert row.state == "failed"
    assert row.attempts == MAX_ATTEMPTS
    assert row.last_error == "TransientError: provider timed out"
    assert str(result) == "sent=0 skipped=0 failed=1"
    backoffs = [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert due_times[:4] == backoffs


def test_a_providers_retry_after_is_waited_for_when_longer_than_the_backoff():
    _enqueue("test.busy", "a", "2026-11-24T10:00:00+09:00")
    now = datetime.fromisoformat("2026-11-24T10:00:00+09:00")
    outbox_sweep(now=now)
    row = OutboxMessage.objects.get()
    assert (row.state, row.due_at - now) == ("pending", timedelta(minutes=5))  # not the 30 s backoff


def test_a_bug_fails_at_once_without_retrying():
    _enqueue("test.broken", "a", "2026-11-24T10:00:00+09:00")

    result = outbox_sweep(now=datetime.fromisoformat("2026-11-24T10:00:00+09:00"))

    assert str(result) == "sent=0 skipped=0 failed=1"
    row = OutboxMessage.objects.get()
    assert (row.state, row.attempts, row.last_error) == ("failed", 1, "KeyError: 'bug'")


def test_an_unknown_kind_fails_visibly():
    _enqueue("test.nobody", "a", "2026-11-24T10:00:00+09:00")

    outbox_sweep(now=datetime.fromisoformat("2026-11-24T10:00:00+09:00"))

    assert OutboxMessage.objects.get().state == "failed"


def test_a_row_whose_worker_died_is_taken_again_after_its_lease():
    _enqueue("test.ok", "a", "2026-11-24T10:00:00+09:00")
    # A sweep claimed it at 10:00 and died before finishing.
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        OutboxMessage.objects.update(
            state="sending", lease_until=timezone.now() + timedelta(seconds=300), attempts=1
        )
    with time_machine.travel("2026-11-24T10:04:59+09:00", tick=False):
        assert str(outbox_sweep()) == "sent=0 skipped=0 failed=0"
    with time_machine.travel("2026-11-24T10:05:01+09:00", tick=False):
        assert str(outbox_sweep()) == "sent=1 skipped=0 failed=0"

    assert OutboxMessage.objects.get().attempts == 2


def test_send_due_reminders_prints_one_line():
    _enqueue("test.ok", "a", "2026-11-24T10:00:00+09:00")
    _enqueue("test.skip", "b", "2026-11-24T10:00:00+09:00")
    _enqueue("test.broken", "c", "2026-11-24T10:00:00+09:00")
    _enqueue("test.ok", "d", "2026-11-25T10:00:00+09:00")
    out = StringIO()

    call_command("send_due_reminders", "--as-of", "2026-11-24T10:30:00+09:00", stdout=out)

    assert out.getvalue() == "sent=1 skipped=1 failed=1\n"


@pytest.mark.parametrize("value", ["tomorrow", "2026-11-24T10:00:00"])
def test_send_due_reminders_rejects_a_bad_instant(value):
    with pytest.raises(CommandError):
        call_command("send_due_reminders", "--as-of", value, stdout=StringIO())


@pytest.mark.postgresql("concurrent sweeps claim rows with FOR UPDATE SKIP LOCKED, which SQLite has not")
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_never_deliver_a_row_twice():
    due = datetime.fromisoformat("2026-11-24T10:00:00+09:00")
    outbox_enqueue(items=[OutboxItem(kind="test.ok", subject=f"s{i}", due_at=due) for i in range(300)])
    barrier = threading.Barrier(4)

    def sweep():
        barrier.wait()
        try:
            outbox_sweep(now=due, batch_size=25)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(delivered) == 300
    assert set(delivered.values()) == {1}
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}
