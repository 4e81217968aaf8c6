"""The outbox under Celery: deliberate settings, no long ETA or countdown anywhere, the
sweep task's fan-out, and a sweep that never delivers a row whose lease it may have lost."""

import ast
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from celery.app.task import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import Count

from config.celery import MAX_TASK_DELAY_SECONDS, SWEEP_EXPIRES_FLOOR, _beat_schedule, app
from core import tasks as core_tasks
from core.models import OutboxMessage
from core.outbox import OutboxItem, Outcome, outbox_enqueue, outbox_handler
from core.outbox_sweep import outbox_sweep
from leads import tasks as leads_tasks

ROOT = Path(__file__).resolve().parents[2]
TEN = "2026-11-24T10:00:00+09:00"

# --- Settings --------------------------------------------------------------------------------


def test_only_tasks_proven_idempotent_ack_late():
    late = sorted(
        name for name, task in app.tasks.items() if not name.startswith("celery.") and task.acks_late
    )
    # Both claim rows under a lease before sending, so a redelivered run only finds what the
    # dead one had not finished (tests/faults proves it for each by kill -9).
    assert late == ["core.tasks.outbox_sweep_task", "leads.tasks.webhooks_dispatch_task"]
    for name in late:
        assert app.tasks[name].reject_on_worker_lost is True
    assert app.conf.task_acks_late is False  # the default for everything else


def test_limits_and_timeouts_fit_together():
    conf = app.conf
    assert conf.worker_prefetch_multiplier == 1
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (240, 300)
    # A sweep stops claiming well inside its soft limit ...
    assert conf.task_soft_time_limit > core_tasks.SWEEP_TIME_BUDGET
    # ... and Redis redelivers an unacknowledged message only after the longest task is
    # long dead, and after any countdown we allow has passed.
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility > conf.task_time_limit
    assert visibility > MAX_TASK_DELAY_SECONDS
    assert MAX_TASK_DELAY_SECONDS <= 300


def test_beat_schedules_no_delayed_task_and_expires_each_one():
    for name, entry in app.conf.beat_schedule.items():
        options = entry.get("options", {})
        assert "countdown" not in options, name
        assert "eta" not in options, name
        assert "expires" in options, name


@pytest.mark.parametrize(("period", "expires"), [(60, 60.0), (15, 15.0), (2, SWEEP_EXPIRES_FLOOR)])
def test_a_sweep_expires_after_its_period_but_never_within_the_floor(settings, period, expires):
    settings.REMINDER_SWEEP_SECONDS = period
    sweep = _beat_schedule()["outbox-sweep"]
    assert sweep["schedule"] == float(period)
    assert sweep["options"] == {"expires": expires}


def _calls_with(keyword: str) -> list[str]:
    found: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "var/", "tests/", "bench/")) or "/migrations/" in relative:
            continue
        calls = [
            node
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
        ]
        found.extend(
            f"{relative}:{ast.unparse(kw.value)}"
            for call in calls
            for kw in call.keywords
            if kw.arg == keyword
        )
    return found


def test_no_code_schedules_an_eta_and_every_countdown_is_short():
    assert _calls_with("eta") == []
    # Every countdown in the code, each proved short below.
    assert sorted(_calls_with("countdown")) == [
        "core/tasks.py:KICK_DELAY",
        "core/tasks.py:countdown",
        "leads/tasks.py:KICK_DELAY",
    ]
    assert core_tasks.KICK_DELAY <= 5
    assert leads_tasks.KICK_DELAY <= 5
    assert _calls_with("default_retry_delay") == []


@pytest.fixture
def published(monkeypatch):
    calls = []
    monkeypatch.setattr(
        Task, "apply_async", lambda self, *_args, **options: calls.append((self.name, options))
    )
    return calls


def test_any_task_with_a_long_countdown_or_eta_is_refused(published):
    task = app.tasks["core.tasks.heartbeat_task"]

    with pytest.raises(ValueError, match="countdown=301 exceeds 300 s: use the outbox"):
        task.apply_async(countdown=301)
    with pytest.raises(ValueError, match="is more than 300 s ahead: use the outbox"):
        task.apply_async(eta=datetime.now(UTC) + timedelta(minutes=6))
    with pytest.raises(ValueError, match="is more than 300 s ahead"):
        task.apply_async(eta=(datetime.now(UTC) + timedelta(hours=20)).isoformat())  # type: ignore[arg-type]
    task.apply_async(countdown=60)
    task.apply_async(eta=datetime.now(UTC) + timedelta(minutes=4))

    assert [name for name, _ in published] == ["core.tasks.heartbeat_task"] * 2


# --- The sweep task: fan-out --------------------------------------------------------------------

delivered: list[str] = []


@outbox_handler("test.celery")
def outbox_deliver_one(message):
    delivered.append(message.subject)
    return Outcome.SENT


@pytest.fixture(autouse=True)
def _reset():
    delivered.clear()


def _enqueue(count: int, due: str = TEN) -> None:
    at = datetime.fromisoformat(due)
    outbox_enqueue(
        items=[OutboxItem(kind="test.celery", subject=f"s{i:04}", due_at=at) for i in range(count)]
    )


@pytest.mark.django_db
def test_a_sweep_that_finds_a_backlog_asks_for_one_helper_and_delivers_what_it_can(published, settings):
    settings.REMINDER_BATCH_SIZE = 10
    _enqueue(35)

    with time_machine.travel(TEN, tick=False):
        assert core_tasks.outbox_sweep_task() == "sent=35 skipped=0 failed=0"

    assert [(name, options["countdown"], options["retry"]) for name, options in published] == [
        ("core.tasks.outbox_sweep_task", 0.0, False)
    ]
    assert len(delivered) == 35


@pytest.mark.django_db
def test_a_sweep_with_less_than_a_batch_asks_for_nobody(published, settings):
    settings.REMINDER_BATCH_SIZE = 10
    _enqueue(9)

    with time_machine.travel(TEN, tick=False):
        core_tasks.outbox_sweep_task()

    assert published == []


@pytest.mark.django_db
def test_a_sweep_stops_claiming_after_its_time_budget(published, monkeypatch, settings):
    settings.REMINDER_BATCH_SIZE = 10
    monkeypatch.setattr(core_tasks, "SWEEP_TIME_BUDGET", 0.0)
    _enqueue(35)

    with time_machine.travel(TEN, tick=False):
        assert core_tasks.outbox_sweep_task() == "sent=0 skipped=0 failed=0"

    assert OutboxMessage.objects.filter(state="pending").count() == 35


# --- Leases -------------------------------------------------------------------------------------

clock: list[Any] = []


@outbox_handler("test.slow")
def _slow(message):
    delivered.append(message.subject)
    clock[0].shift(timedelta(seconds=280))  # this send took 280 s of the 300 s lease
    return Outcome.SENT


@outbox_handler("test.time_limit")
def _time_limit(message):
    delivered.append(message.subject)
    if len(delivered) == 2:
        raise SoftTimeLimitExceeded
    return Outcome.SENT


def _rows():
    return list(OutboxMessage.objects.order_by("subject").values_list("subject", "state", "attempts"))


@pytest.mark.django_db
def test_rows_whose_lease_is_nearly_over_are_handed_back_not_delivered(caplog):
    at = datetime.fromisoformat(TEN)
    outbox_enqueue(items=[OutboxItem(kind="test.slow", subject=f"s{i}", due_at=at) for i in range(3)])

    with time_machine.travel(TEN, tick=False) as traveller, caplog.at_level(logging.WARNING, "core.outbox"):
        clock[:] = [traveller]
        result = outbox_sweep()

    assert str(result) == "sent=1 skipped=0 failed=0"
    assert delivered == ["s0"]
    assert _rows() == [("s0", "sent", 1), ("s1", "pending", 0), ("s2", "pending", 0)]
    assert caplog.messages == ["outbox: lease nearly over; 2 row(s) handed back"]


@pytest.mark.django_db
def test_a_time_limit_hands_back_the_untouched_rows_and_leaves_the_one_in_flight_leased():
    at = datetime.fromisoformat(TEN)
    outbox_enqueue(items=[OutboxItem(kind="test.time_limit", subject=f"s{i}", due_at=at) for i in range(4)])

    with time_machine.travel(TEN, tick=False), pytest.raises(SoftTimeLimitExceeded):
        outbox_sweep()

    assert _rows() == [("s0", "sent", 1), ("s1", "sending", 1), ("s2", "pending", 0), ("s3", "pending", 0)]


@pytest.mark.django_db
def test_a_row_re_taken_after_its_lease_is_logged_by_id(caplog):
    _enqueue(1)
    row = OutboxMessage.objects.get()
    with time_machine.travel(TEN, tick=False):
        OutboxMessage.objects.update(state="sending", lease_until=datetime.fromisoformat(TEN), attempts=1)
    with time_machine.travel("2026-11-24T10:00:01+09:00", tick=False), caplog.at_level(logging.WARNING):
        outbox_sweep()

    assert caplog.messages == [
        f"outbox: test.celery (id {row.pk}) re-taken after its lease expired; a second delivery is possible"
    ]
    assert delivered == ["s0000"]


def test_the_lease_outlasts_a_batch_at_the_default_size():
    # 100 rows at the 2 s a slow SMTP server may take each would need 200 s: inside 300 s.
    assert settings.REMINDER_BATCH_SIZE * 2 < settings.REMINDER_LEASE_SECONDS


# --- Several delivery threads per sweep (REMINDER_SWEEP_THREADS) ---------------------------------


def _connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.mark.postgresql("concurrent sweeps claim rows with FOR UPDATE SKIP LOCKED, which SQLite has not")
@pytest.mark.django_db(transaction=True)
def test_threaded_sweeps_at_once_deliver_each_row_once_and_close_their_connections():
    import threading

    from django.db import connection

    _enqueue(300)
    before = _connections()
    barrier = threading.Barrier(3)
    results = []

    def sweep():
        barrier.wait()
        try:
            results.append(outbox_sweep(now=datetime.fromisoformat(TEN), batch_size=20, threads=4))
        finally:
            connection.close()

    sweeps = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in sweeps:
        thread.start()
    for thread in sweeps:
        thread.join()

    assert sorted(delivered) == sorted(f"s{i:04}" for i in range(300))  # each once
    assert sum(result.sent for result in results) == 300
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}
    # Every delivery thread closed its connection (a backend takes a moment to exit).
    deadline = time.monotonic() + 5
    while _connections() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _connections() == before


@pytest.mark.django_db(transaction=True)
def test_threaded_a_time_limit_hands_back_the_rows_not_started():
    at = datetime.fromisoformat(TEN)
    outbox_enqueue(items=[OutboxItem(kind="test.time_limit", subject=f"s{i}", due_at=at) for i in range(40)])

    with pytest.raises(SoftTimeLimitExceeded):
        outbox_sweep(now=at, batch_size=40, threads=2)

    states = dict(OutboxMessage.objects.values("state").annotate(n=Count("pk")).values_list("state", "n"))
    # The two threads had a row each in hand when the limit struck (one of them the row
    # that raised, left leased); nothing else was started.
    assert states["pending"] >= 36
    assert states.get("sending", 0) == 1
    assert OutboxMessage.objects.filter(state="pending").exclude(attempts=0).count() == 0
    assert len(delivered) == 40 - states["pending"]
