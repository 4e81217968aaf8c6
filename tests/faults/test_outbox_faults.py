"""Fault tests with real processes (CONTRACT section 6): a private redis-server, real
`celery worker` and `celery beat` processes, and a fake channel that records every delivery
(tests.faults.sink). The workers share this test's PostgreSQL database.

(a) kill -9 of a worker in the middle of a batch of 1,000 due reminders: every reminder is
    sent; a second copy only of a row whose re-take was logged (at most one per delivery
    thread of the victim: the instant between the provider accepting and the row being
    marked sent).
(b) the broker (redis-server) killed and restarted mid-run: the run completes, and
    reminders falling due afterwards go out through the new broker; nothing twice.
(c) two beats, two workers and two `send_due_reminders` at once: nothing twice.

Anything that cannot start fails the test loudly; nothing is skipped. The shared Redis on
6379 is never touched."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from accounts.models import Groups
from consultations.selectors import slots_for_range
from consultations.services import advisor_onboard, booking_create
from consultations.services.notices import KIND_REMINDER
from core.models import OutboxMessage
from core.outbox import OutboxItem, outbox_enqueue
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from tests.faults.sink import KIND

pytestmark = [
    pytest.mark.processes,
    pytest.mark.django_db(transaction=True),
    # The worker processes share the test's database (SQLite's lives in the test's memory)
    # and concurrent sweeps claim rows with SKIP LOCKED.
    pytest.mark.postgresql("worker processes share the test database; sweeps claim with SKIP LOCKED"),
]

ROOT = Path(__file__).resolve().parents[2]
REMINDERS = 1000
REAL_REMINDERS = 30  # consultation reminders through the real handler, among the sink's rows
# The kill test waits for the victim's leases to expire: short. Where no process dies a
# re-take can only come from a delivery outliving its lease, which a loaded machine (three
# suites on two CPUs) made happen with 4 s; those tests keep the lease well clear of that.
KILL_LEASE_SECONDS = 4
LEASE_SECONDS = 60
THREADS = 8  # delivery threads per sweep, as in production (tests.faults.settings)
RETAKEN = re.compile(r"outbox: \S+ \(id (\d+)\) re-taken after its lease expired")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(condition, *, timeout: float, what: str, interval: float = 0.1, cluster=None):
    """Polls `condition`; with a cluster, fails at once when one of its processes died, and
    a timeout shows the tails of the processes' logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cluster is not None:
            cluster.alive()
        value = condition()
        if value:
            return value
        time.sleep(interval)
    logs = cluster.tails() if cluster is not None else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{logs}")


class RedisServer:
    """Our own redis-server on a free port, without persistence (a restart loses the queue,
    the harder case)."""

    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: the fault tests need it on the PATH")
        self.binary, self.workdir, self.port = binary, workdir, _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        process = self.process

        def answers():
            if process.poll() is not None:
                pytest.fail(f"redis-server exited with {process.returncode} on port {self.port}")
            try:
                return client.ping()
            except redis.RedisError:
                return False

        _wait(answers, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()


class Cluster:
    """Worker, beat and command processes pointed at our Redis and the test database."""

    def __init__(self, tmp_path: Path, redis_server: RedisServer):
        db = connection.settings_dict
        self.tmp = tmp_path
        self.sink = tmp_path / "sink.log"
        self.sink.touch()
        self.mail_sink = tmp_path / "mail.log"
        self.mail_sink.touch()
        self.pause = tmp_path / "pause"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "CELERY_BROKER_URL": f"{redis_server.url}/0",
            "REDIS_URL": f"{redis_server.url}/1",
            # Beat's sweeps expire after one period: 2 s leaves room for a worker to receive
            # one. Under the moved clock (tests/clock.py) the Redis consumer takes about a
            # second to notice a message, and with 1 s every sweep expired on arrival.
            "REMINDER_SWEEP_SECONDS": "2",
            "REMINDER_LEASE_SECONDS": str(LEASE_SECONDS),
            "REMINDER_BATCH_SIZE": "50",
            "REMINDER_SWEEP_THREADS": str(THREADS),
            "HEARTBEAT_SECONDS": "3600",
            "CONN_MAX_AGE": "0",
            "LOG_LEVEL": "WARNING",
            "VAR_DIR": str(tmp_path),
            "FAULT_SINK": str(self.sink),
            "FAULT_DELAY": "0.003",
            "FAULT_PAUSE": str(self.pause),
            "FAULT_MAIL_SINK": str(self.mail_sink),
            # The consultation reminders must not wait for the morning when the suite runs
            # on the moved clock (a Saturday, 23:45 JST).
            "CANDIDATE_QUIET_HOURS": "",
            # Keeps the moved clock's folder when the suite runs moved (tests/clock.py).
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        if db["PASSWORD"]:
            self.env["DATABASE_URL"] = self.env["DATABASE_URL"].replace(
                f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@"
            )
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("w")
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return self._start(
            name,
            [
                sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                f"--hostname={name}@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
                "--without-heartbeat",
            ],
        )  # fmt: skip

    def beat(self, name: str) -> subprocess.Popen[bytes]:
        return self._start(
            name,
            [
                sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
                f"--schedule={self.tmp / name}-schedule", f"--pidfile={self.tmp / name}.pid",
            ],
        )  # fmt: skip

    def command(self, name: str) -> subprocess.Popen[bytes]:
        return self._start(name, [sys.executable, "manage.py", "send_due_reminders"])

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "".join(self.log(name) for name in self.processes)

    def tails(self, chars: int = 2000) -> str:
        return "".join(f"\n--- {name}.log:\n{self.log(name)[-chars:]}" for name in self.processes)

    def emails(self) -> Counter[str]:
        """How many emails each recipient got (the real reminders' candidates)."""
        return Counter(line.split()[0] for line in self.mail_sink.read_text().splitlines())

    def deliveries(self) -> list[tuple[int, int]]:
        lines = self.sink.read_text().splitlines()
        return [(int(pk), int(pid)) for pk, pid in (line.split() for line in lines)]

    def alive(self):
        for name, process in self.processes.items():
            if (
                process.poll() is not None
                and name.startswith(("worker", "beat"))
                and process.returncode != -9
            ):
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}")

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def cluster(transactional_db, tmp_path, redis_server):
    cluster = Cluster(tmp_path, redis_server)
    yield cluster
    cluster.stop()  # before the database is flushed


def _due_reminders(count: int = REMINDERS, *, wave: int = 1, due: datetime | None = None) -> set[int]:
    """`count` sink reminders, due a second ago (or from `due`), one microsecond apart
    (sweeps claim in due order: rows due in between are taken among them)."""
    due = due or timezone.now() - timedelta(seconds=1)
    outbox_enqueue(
        items=[
            OutboxItem(kind=KIND, subject=f"fault:{wave}:{i}", due_at=due + timedelta(microseconds=i))
            for i in range(count)
        ]
    )
    return set(OutboxMessage.objects.filter(kind=KIND).values_list("pk", flat=True))


def _real_consultation_reminders(count: int, *, due: datetime) -> dict[int, str]:
    """`count` booked consultations, each with one reminder for the real handler
    (consultations.outbox_handlers.booking_reminder_send), due among the sink's rows.
    Everything else the bookings wrote (confirmations, the other reminder, the leads'
    effects) is set aside. {reminder row id: the candidate's email}."""
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    for n in range(2):
        advisor_onboard(email=f"fault-advisor{n}@urakata.example", display_name=f"Advisor {n}")
    now = timezone.now()
    today = timezone.localdate(now)
    reminders: dict[int, str] = {}
    for i in range(count):
        email = f"fault-candidate{i}@example.com"
        person = LeadInput(
            family_name="山田",
            given_name="太郎",
            email=email,
            consent_policy_version="v1",
            consent_agreed_at=now,
            consent_third_party_provision=True,
            raw_payload={},
        )
        lead = lead_ingest(partner=None, data=person).lead
        # The first time still free (each booking takes one of its advisor's times).
        free = slots_for_range(date_from=today, date_to=today + timedelta(days=40), kind="career", now=now)
        assert free, "no free time left for the bookings"
        booking = booking_create(start=free[0].start, kind="career", mode="online", lead_id=lead.pk).booking
        mine = OutboxMessage.objects.filter(kind=KIND_REMINDER, subject=f"booking:{booking.pk}")
        reminders[mine.latest("due_at").pk] = email
    OutboxMessage.objects.exclude(kind=KIND).exclude(pk__in=reminders).update(state="cancelled")
    # Due among the sink's rows (_due_reminders from the same `due`): one every
    # REMINDERS / count of them, so that some are in flight when a worker is killed.
    for i, pk in enumerate(reminders):
        between = timedelta(microseconds=i * REMINDERS // count)
        OutboxMessage.objects.filter(pk=pk).update(due_at=due + between)
    return reminders


def _all_sent(cluster: Cluster, timeout: float = 60) -> None:
    def done():
        return not OutboxMessage.objects.exclude(state__in=("sent", "cancelled")).exists()

    _wait(done, timeout=timeout, what="every reminder to be sent", interval=0.25, cluster=cluster)


def test_kill_9_of_a_worker_mid_batch_loses_nothing_and_doubles_only_a_logged_row(cluster):
    due = timezone.now() - timedelta(seconds=1)
    real = _real_consultation_reminders(REAL_REMINDERS, due=due)
    ids = _due_reminders(due=due)
    cluster.env["REMINDER_LEASE_SECONDS"] = str(KILL_LEASE_SECONDS)
    cluster.worker("worker1")
    cluster.worker("worker2")
    cluster.beat("beat")
    _wait(
        lambda: len(cluster.deliveries()) >= 250,
        timeout=120,  # the processes start first: slow on a machine running other suites
        what="250 deliveries",
        interval=0.02,
        cluster=cluster,
    )

    # Freeze every delivery right after the provider accepted it, then kill -9 the worker
    # that delivered last: it dies in the middle of a batch, in the worst instant.
    cluster.pause.touch()
    time.sleep(0.5)
    victim_pid = cluster.deliveries()[-1][1]
    (victim,) = [p for p in cluster.processes.values() if p.pid == victim_pid]
    os.kill(victim_pid, signal.SIGKILL)
    victim.wait(timeout=10)
    cluster.pause.unlink()
    _all_sent(cluster)
    cluster.stop()

    delivered = Counter(pk for pk, _pid in cluster.deliveries())
    assert set(delivered) == ids  # every reminder sent
    retaken = {int(pk) for pk in RETAKEN.findall(cluster.logs())}
    assert retaken <= ids | set(real)
    doubled = {pk for pk, count in delivered.items() if count > 1}
    # The rows the victim had handed to the provider went out twice, and each was logged
    # when another sweep took it again after its lease; nothing else was doubled.
    assert doubled, cluster.logs()[-3000:]
    assert doubled <= retaken
    assert {pid for pk, pid in cluster.deliveries() if pk in doubled} >= {victim_pid}
    # At most one per delivery thread of the victim; never a third copy.
    assert len(doubled) <= THREADS
    assert max(delivered.values()) == 2
    assert OutboxMessage.objects.filter(kind=KIND, state="sent").count() == REMINDERS
    # The real consultation reminders went through the same deaths: each sent, each email
    # once, a second copy only of a row whose re-take was logged, never a third.
    assert set(OutboxMessage.objects.filter(pk__in=real).values_list("state", flat=True)) == {"sent"}
    emails = cluster.emails()
    assert set(emails) == set(real.values())
    assert {pk for pk, email in real.items() if emails[email] > 1} <= retaken
    assert max(emails.values()) <= 2


def test_a_broker_restart_mid_run_and_the_run_completes(cluster, redis_server):
    ids = _due_reminders()
    cluster.worker("worker1")
    cluster.worker("worker2")
    cluster.beat("beat")
    _wait(
        lambda: len(cluster.deliveries()) >= 250,
        timeout=120,  # the processes start first: slow on a machine running other suites
        what="250 deliveries",
        interval=0.02,
        cluster=cluster,
    )

    redis_server.stop()  # kill -9: the queue is lost with it
    time.sleep(1.0)
    redis_server.start()
    _all_sent(cluster, timeout=90)
    # Reminders falling due after the restart need beat -> the new Redis -> a worker: the
    # sweeps running through the outage have ended by now.
    ids = _due_reminders(200, wave=2)
    _all_sent(cluster, timeout=60)
    cluster.stop()

    delivered = Counter(pk for pk, _pid in cluster.deliveries())
    assert set(delivered) == ids
    assert set(delivered.values()) == {1}  # no process died: nothing twice
    assert RETAKEN.findall(cluster.logs()) == []


def test_two_beats_two_workers_and_two_commands_at_once_send_nothing_twice(cluster):
    ids = _due_reminders()
    cluster.worker("worker1")
    cluster.worker("worker2")
    cluster.beat("beat1")
    cluster.beat("beat2")
    cluster.command("command1")
    cluster.command("command2")
    _all_sent(cluster)
    for name in ("command1", "command2"):
        assert cluster.processes[name].wait(timeout=30) == 0, cluster.log(name)
    cluster.stop()

    delivered = Counter(pk for pk, _pid in cluster.deliveries())
    assert set(delivered) == ids
    assert set(delivered.values()) == {1}
    assert RETAKEN.findall(cluster.logs()) == []
    # The commands took part (each printed its own share).
    shares = [re.search(r"sent=(\d+)", cluster.log(name)) for name in ("command1", "command2")]
    assert all(shares), cluster.logs()[-2000:]
