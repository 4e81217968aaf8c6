"""Smoke test of a newcomer's first run: SQLite plus the serverless (filesystem) broker,
with real beat and worker processes executing a real task, exactly as Procfile.dev runs them.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))

pytestmark = pytest.mark.processes


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
        "HEARTBEAT_SECONDS": "1",
    }


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

    processes = [
        subprocess.Popen(
            [CELERY, "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
        subprocess.Popen(
            [CELERY, "-A", "config", "beat", "--loglevel", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),
    ]
    try:
        seen = None
        deadline = time.monotonic() + 90
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
        logs = [process.communicate(timeout=30)[0].decode(errors="replace") for process in processes]

    assert seen is not None, "no heartbeat recorded; worker and beat said:\n" + "\n---\n".join(logs)
    assert (tmp_path / "broker").is_dir()
    assert "core.tasks.heartbeat_task" in logs[0]
