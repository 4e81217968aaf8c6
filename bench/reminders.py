"""Draining due reminders: 100,000 consultation reminders, 2 worker processes.

    .venv/bin/python -m bench.reminders [--reminders 100000] [--workers 2]

Target: at least 1,000 reminders a second and a p99 lateness under 90 s.

What it does, self-contained and bounded (every subprocess has a timeout and is stopped on
every exit path):

1. recreates the PostgreSQL database ``urakata_bench_reminders`` (dropped and created again,
   so every run starts empty) and migrates it, with the production settings;
2. writes ``--reminders`` real consultation reminders (``booking.reminder`` rows of the
   outbox, each for its own booked consultation two days ahead, of its own candidate, who
   prefers email), due in the future so nothing is sent yet;
3. starts its own ``redis-server`` on a free port (never the shared 6379) and ``--workers``
   ``celery worker --pool=solo`` processes (one process each), and waits until they are ready;
4. at t0 makes every reminder due (one UPDATE) and publishes one sweep task, exactly what
   beat does on its tick; the sweep's fan-out (core.tasks) brings in the other workers;
5. waits until every row is sent, then reports throughput (rows / (last sent - t0)) and the
   lateness (sent_at - due_at) percentiles, computed by PostgreSQL from the rows.

The reminders go through the real handler (the booking re-read and re-checked, the manage
link rebuilt, subject and body rendered in Japanese, the candidate's channel chosen) and the
real email channel with Django's dummy backend: the "fast backend" the issue allows, so
that what is measured is the outbox, not an SMTP server.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench.common import ROOT, free_port, process_cpu, recreate_database

PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/urakata_bench_reminders"
SUBPROCESS_TIMEOUT = 300  # seconds
DRAIN_TIMEOUT = 900  # seconds
ADVISORS = 100
SECRET_KEY = "bench-reminders-not-secret-0123456789abcdefghijklmnopqrstuvwxyzABCD"  # noqa: S105


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise SystemExit(f"Timed out after {timeout:.0f} s waiting for {what}.")


def seed(count: int) -> None:
    """The reminders, written in bulk (the booking service would take hours for 100,000)."""
    import django

    django.setup()
    from accounts.models import Groups
    from accounts.services import staff_user_create
    from consultations.models import Booking
    from consultations.services.notices import KIND_REMINDER, booking_subject
    from consultations.tokens import manage_token_new
    from core.models import OutboxMessage
    from core.outbox import OutboxItem
    from leads.models import Candidate

    advisors = [
        staff_user_create(
            email=f"advisor{i}@bench.example", display_name=f"Advisor {i}", group=Groups.ADVISORS
        )
        for i in range(ADVISORS)
    ]
    now = datetime.now(UTC)
    first = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    far = now + timedelta(days=365)  # not due until t0
    chunk = 5000
    for offset in range(0, count, chunk):
        candidates, bookings, rows = [], [], []
        for n in range(offset, min(offset + chunk, count)):
            candidate = Candidate(
                id=uuid.uuid4(),
                family_name="山田",
                given_name="太郎",
                email=f"person{n}@bench.example",
                advisor=advisors[n % ADVISORS],
                stage=Candidate.Stage.CONSULTATION_BOOKED,
                partner_status=Candidate.PartnerStatus.CONSULTATION_BOOKED,
                partner_status_changed_at=now,
                contact_channel="email",
            )
            candidates.append(candidate)
            booking_id = uuid.uuid4()
            _token, token_hash, salt = manage_token_new(booking_id=booking_id)
            start = first + timedelta(hours=n // ADVISORS)  # one an hour per advisor: no overlap
            bookings.append(
                Booking(
                    id=booking_id,
                    candidate=candidate,
                    advisor=advisors[n % ADVISORS],
                    kind="career",
                    mode="online",
                    start_at=start,
                    end_at=start + timedelta(minutes=45),
                    blocked_until=start + timedelta(minutes=55),
                    manage_token_hash=token_hash,
                    manage_token_salt=salt,
                )
            )
            item = OutboxItem(
                kind=KIND_REMINDER,
                subject=booking_subject(booking_id),
                due_at=far,
                payload={"booking_id": str(booking_id), "start": start.isoformat(), "offset": 3600},
                variant="3600s",
            )
            rows.append(
                OutboxMessage(
                    key=item.key, kind=item.kind, subject=item.subject, payload=item.payload, due_at=far
                )
            )
        Candidate.objects.bulk_create(candidates)
        Booking.objects.bulk_create(bookings)
        OutboxMessage.objects.bulk_create(rows)
        print(f"  seeded {offset + len(rows):,} reminders", flush=True)


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not on the PATH.")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.5)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    wait_for(answers, timeout=10, what="redis-server")
    return process, port


def _one(conn: psycopg.Connection[Any], query: str) -> tuple[Any, ...]:
    row = conn.execute(query).fetchone()
    assert row is not None
    return tuple(row)


def main() -> None:  # noqa: PLR0915 - one script, top to bottom
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        redis_process, port = start_redis(tmp)
        processes.append(redis_process)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "bench.example",
            "SITE_URL": "https://bench.example",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{port}/1",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "EMAIL_URL": "",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "VAR_DIR": str(tmp),
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(env)

        print(
            f"1. recreating {urllib.parse.urlparse(args.database_url).path.lstrip('/')} and migrating",
            flush=True,
        )
        recreate_database(args.database_url)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True,
            timeout=SUBPROCESS_TIMEOUT,
        )  # fmt: skip
        print(f"2. writing {args.reminders:,} reminders", flush=True)
        started = time.monotonic()
        seed(args.reminders)
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)

        print(f"3. starting {args.workers} worker processes", flush=True)
        logs = []
        workers: list[subprocess.Popen[bytes]] = []
        for i in range(args.workers):
            log = tmp / f"worker{i}.log"
            logs.append(log)
            workers.append(
                subprocess.Popen(
                    [
                        PYTHON,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "--pool=solo",
                        f"--hostname=w{i}@%h",
                        "--loglevel=INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        processes.extend(workers)
        wait_for(
            lambda: all(" ready." in log.read_text(errors="replace") for log in logs),
            timeout=120,
            what="the workers",
        )

        from core.tasks import outbox_sweep_task

        with psycopg.connect(args.database_url, autocommit=True) as conn:
            print("4. t0: every reminder due now; one sweep published (beat's tick)", flush=True)
            cpu_before = sum(process_cpu(w.pid) for w in workers)
            load_before = os.getloadavg()[0]
            t0 = _one(conn, "UPDATE core_outboxmessage SET due_at = now() RETURNING now()")[0]
            outbox_sweep_task.apply_async()
            while True:
                left = _one(conn, "SELECT count(*) FROM core_outboxmessage WHERE state <> 'sent'")[0]
                elapsed = (datetime.now(UTC) - t0).total_seconds()
                print(f"   {elapsed:6.1f} s: {args.reminders - left:,} sent", flush=True)
                if left == 0:
                    cpu = sum(process_cpu(w.pid) for w in workers) - cpu_before
                    load_after = os.getloadavg()[0]
                    break
                if elapsed > DRAIN_TIMEOUT:
                    raise SystemExit(f"Not drained after {DRAIN_TIMEOUT} s.")
                time.sleep(2)
            sent, last, p50, p95, p99, worst, failed = _one(
                conn,
                """
                SELECT count(*), max(sent_at),
                       percentile_cont(0.50) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - due_at)),
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - due_at)),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - due_at)),
                       max(extract(epoch FROM sent_at - due_at)),
                       count(*) FILTER (WHERE attempts <> 1)
                FROM core_outboxmessage WHERE state = 'sent'
                """,
            )
        drain = (last - t0).total_seconds()
        rate = sent / drain
        report = "\n".join(
            [
                f"Reminders drained, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
                f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
                "",
                "| reminders | workers | drain (s) | reminders/s | lateness p50 (s) | p95 (s) | p99 (s) "
                "| max (s) | rows needing >1 attempt | worker CPU per reminder (ms) |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
                f"| {sent:,} | {args.workers} | {drain:.1f} | {rate:,.0f} | {p50:.1f} | {p95:.1f} "
                f"| {p99:.1f} | {worst:.1f} | {failed} | {cpu * 1000 / sent:.2f} |",
                "",
                f"Load average (1 min) at t0 {load_before:.1f}, at the end {load_after:.1f}, "
                f"on {os.cpu_count()} CPUs (other processes share the machine when it is above ~0).",
                f"Target >= 1,000 reminders/s: {'met' if rate >= 1000 else 'NOT met'}; "
                f"p99 lateness < 90 s: {'met' if p99 < 90 else 'NOT met'}.",
            ]
        )
        print("\n" + report)
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / f"reminders-{datetime.now(UTC):%Y%m%d-%H%M%S}.md").write_text(report + "\n")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
