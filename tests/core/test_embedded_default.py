"""Smoke test of a newcomer's first run: SQLite plus the serverless (filesystem) broker,
with real beat and worker processes executing a real task, exactly as Procfile.dev runs them.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))

pytestmark = [
    pytest.mark.processes,
    # Its own processes on SQLite whatever the pass's database: the SQLite pass would run the
    # very same thing again.
    pytest.mark.redundant_in(("sqlite",), "runs on SQLite in every pass"),
]


def _embedded_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "VAR_DIR": str(var_dir),
        # A heartbeat expires after one period. Under the moved clock (tests/clock.py) the
        # worker takes about a second to notice a message: with 1 s, every one expired on
        # arrival when the machine was loaded.
        "HEARTBEAT_SECONDS": "3",
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Wait for a warm shutdown (it finishes the task in hand, which on a loaded machine can
    take a while), then SIGKILL."""
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_worker_and_beat_run_a_real_task_on_sqlite_and_the_filesystem_broker(tmp_path):
    env = _embedded_env(tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )
    database = tmp_path / "urakata.sqlite3"
    assert database.exists()

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        return subprocess.Popen(
            [CELERY, "-A", "config", name, "--loglevel", "INFO", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(name: str) -> str:
        return str((tmp_path / f"{name}.log").read_text(errors="replace"))

    # The worker first, beat once it is ready: the filesystem transport takes one message a
    # poll, so a worker that starts behind a beat sending every second never catches up
    # with heartbeats that expire after a second.
    processes = [start("worker", "--concurrency", "1")]
    try:
        seen = None
        deadline = time.monotonic() + 90
        while " ready." not in log("worker") and time.monotonic() < deadline:
            if processes[0].poll() is not None:
                break
            time.sleep(0.2)
        processes.append(start("beat"))
        while seen is None and time.monotonic() < deadline:
            with sqlite3.connect(database) as db:
                seen = db.execute("SELECT last_seen FROM core_heartbeat WHERE name = 'scheduler'").fetchone()
            if any(p.poll() is not None for p in processes):
                break
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            _stop(process)
    logs = [log(name) for name in ("worker", "beat")[: len(processes)]]

    assert seen is not None, "no heartbeat recorded; worker and beat said:\n" + "\n---\n".join(logs)
    assert (tmp_path / "broker").is_dir()
    assert "core.tasks.heartbeat_task" in logs[0]


SQLITE_INTAKE = """
import json
from django.test import Client
from leads.models import Candidate, Lead
key = open({key_file!r}).read().split()[-1]
consent = {{"privacy_policy_version": "v1", "agreed_at": "2026-01-01T00:00:00+09:00",
           "third_party_provision": True}}
body = {{"family_name": "山田", "given_name": "太郎", "phone": "090-1234-5678", "email": "T@Example.com",
        "consent": consent}}
client = Client()
headers = {{"Authorization": "Bearer " + key, "Idempotency-Key": "sqlite-1"}}
first = client.post("/api/v1/leads/", body, content_type="application/json", headers=headers)
replay = client.post("/api/v1/leads/", body, content_type="application/json", headers=headers)
again = client.post("/api/v1/leads/", {{**body, "email": "t@example.com"}}, content_type="application/json",
                    headers={{"Authorization": "Bearer " + key}})
print("RESULT", json.dumps([first.status_code, replay.status_code, replay.json() == first.json(),
                  again.json()["existing_candidate"], Candidate.objects.count(), Lead.objects.count()]))
# The leads' effects delivered by the sweep, as the worker does (the follow-ups a year on).
from datetime import timedelta
from django.utils import timezone
from core.models import OutboxMessage
from core.outbox_sweep import outbox_sweep
totals = [0, 0, 0]
for _ in range(3):  # the contact follow-ups: each one delivered writes the next
    result = outbox_sweep(now=timezone.now() + timedelta(days=365))
    totals = [totals[0] + result.sent, totals[1] + result.skipped, totals[2] + result.failed]
errors = list(OutboxMessage.objects.exclude(last_error="").values_list("last_error", flat=True))
print("RESULT", json.dumps([*totals, errors]))
"""


def test_the_lead_intake_works_on_sqlite_too(tmp_path):
    env = {**_embedded_env(tmp_path), "ALLOWED_HOSTS": "testserver"}
    run: dict[str, Any] = {
        "cwd": ROOT,
        "env": env,
        "check": True,
        "capture_output": True,
        "timeout": 180,
        "text": True,
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
    subprocess.run([sys.executable, "manage.py", "create_advisor", "a@example.com", "--name", "A"], **run)
    created = subprocess.run([sys.executable, "manage.py", "create_partner", "demo", "--name", "Demo"], **run)
    key_file = tmp_path / "key.txt"
    key_file.write_text(created.stdout)

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SQLITE_INTAKE.format(key_file=str(key_file))],
        **{**run, "check": False},
    )

    assert result.returncode == 0, result.stderr[-3000:]
    # The console email backend prints the advisors' emails among the results.
    intake, sweep = [line[7:] for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert intake == "[201, 201, true, true, 1, 2]"
    # Two leads: assignment, contact SLA and 24 h follow-up sent for each; the escalations wait
    # for a manager (none here) and are retried.
    no_manager = "TransientError: nobody to notify about an uncontacted lead"
    assert json.loads(sweep) == [6, 0, 0, [no_manager, no_manager]], result.stderr[-3000:]
