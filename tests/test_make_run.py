"""The README's first command, end to end: what `make run` runs, in a fresh copy of the
repository (the files a clone has, uncommitted work included, no var/), with a newcomer's
environment (SQLite and the filesystem broker under <copy>/var). An advisor logs in to the
admin and opens the candidates; a demo lead books a consultation from its link; the worker
delivers the confirmation.

What differs from `make run`: no `mkdir -p var` (the local settings make var/, and the
first test proves a bare `manage.py migrate` needs nothing more); the test starts
Procfile.dev's commands itself, each in its own process group as honcho does, so that it can
stop them; and the web process listens on a free port, not Procfile.dev's 127.0.0.1:8000,
which another run on this machine may hold."""

import contextlib
import http.cookiejar
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from honcho.environ import parse_procfile

pytestmark = [
    pytest.mark.processes,
    # Its own processes on SQLite whatever the pass's database: the SQLite pass would run the
    # very same thing again.
    pytest.mark.redundant_in(("sqlite",), "runs on SQLite in every pass"),
]

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parents[1]
PROCFILE_PORT = "127.0.0.1:8000"
# Set by config.settings.test or pytest-django in this process, or by whoever runs the suite
# against PostgreSQL and Redis: a newcomer has none of them.
NOT_A_NEWCOMERS = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
    "VAR_DIR",
    "SITE_URL",
}
COMMAND_TIMEOUT = 180  # seconds; a migrate on a slow machine takes a few
START_TIMEOUT = 90
DELIVERY_TIMEOUT = 90
# honcho gives a Ctrl-C'd process 5 s before SIGKILL; an idle worker's warm shutdown on the
# filesystem broker takes about that long, and one whose pool children got the SIGTERM too
# (the whole group, as honcho sends it) may never finish.
STOP_TIMEOUT = 10

# A demo candidate with no consultation booked yet (seed_demo books some of them), one of
# their leads and its booking link's token: what the lead's SMS or email would carry.
DEMO_LEAD = """
import json
from consultations.models import Booking
from leads.models import Candidate, Lead
from leads.intake.tokens import booking_token_for
booked = Booking.objects.filter(status=Booking.Status.BOOKED).values("candidate_id")
candidate = (
    Candidate.objects.filter(email__endswith="@demo.urakata.example")
    .exclude(pk__in=booked)
    .order_by("created_at", "email")
    .first()
)
lead = Lead.objects.filter(candidate=candidate).order_by("created_at").first()
print("RESULT", json.dumps({
    "candidate": str(candidate.pk),
    "name": str(candidate),
    "token": booking_token_for(lead_id=lead.pk),
}))
"""


def _clone(destination: Path) -> None:
    """The files a clone of the working tree would have: tracked and new ones (uncommitted
    work included), none of the ignored ones (var/, .venv/, caches)."""
    git = shutil.which("git")
    assert git, "git is needed to list the files of a clone"
    listed = subprocess.run(
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():  # tracked but deleted in the working tree
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    # Procfile.dev calls .venv/bin/...: the venv this test runs in, as `make run` made it.
    (destination / ".venv").symlink_to(VENV, target_is_directory=True)


def _newcomers_env() -> dict[str, str]:
    # os.environ keeps PYTHONPATH and URAKATA_TEST_CLOCK_OFFSET: the moved clock (tests/clock.py).
    return {name: value for name, value in os.environ.items() if name not in NOT_A_NEWCOMERS}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Running:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stopped: bool = False

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _start(name: str, command: str, *, cwd: Path, env: dict[str, str], logs: Path) -> Running:
    """One Procfile process in its own process group (the runserver autoreloader and the
    celery pool are its children). Its output goes to a file, which nothing has to drain."""
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            shlex.split(command),  # a relative program (.venv/bin/...) is found from cwd
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Running(name, process, log)


def _stop(processes: list[Running]) -> None:
    """SIGTERM to every group (warm shutdowns), then SIGKILL to whatever is left."""
    live = [running for running in processes if not running.stopped]
    for running in live:
        if running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for running in live:
        with contextlib.suppress(subprocess.TimeoutExpired):
            running.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        # The whole group: a child (the reloaded server, a pool process) may outlive its parent.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running.process.pid, signal.SIGKILL)
        running.process.wait()
        running.stopped = True


def _logs(commands: dict[str, str], processes: list[Running]) -> str:
    parts = [f"=== {name} ===\n{output}" for name, output in commands.items()]
    parts += [f"=== {p.name} (exit {p.process.poll()}) ===\n{p.output()}" for p in processes]
    return "\n".join(parts)


class Browser:
    """A cookie jar and urllib: what a browser keeps between pages, no more."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, final path after redirects, body); a POST when ``form`` is given."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data)
        try:
            with self.opener.open(request, timeout=30) as response:
                final = urllib.parse.urlsplit(response.geturl())
                return response.status, final.path, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, path, error.read().decode(errors="replace")

    def csrf(self, body: str) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert found, body[:2000]
        return found.group(1)


def _wait_for(what: str, check: Callable[[], object], *, timeout: float, alive: Callable[[], None]) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive()
        if result := check():
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _confirmation_state(database: Path, candidate: uuid.UUID) -> str | None:
    """The state of the confirmation of the candidate's booked consultation, straight from
    SQLite (UUIDs are stored as 32 hex digits there)."""
    with sqlite3.connect(database, timeout=5) as db:
        booking = db.execute(
            "SELECT id FROM consultations_booking WHERE candidate_id = ? AND status = 'booked'",
            (candidate.hex,),
        ).fetchone()
        if booking is None:
            return None
        row = db.execute(
            "SELECT state FROM core_outboxmessage WHERE kind = 'booking.confirmation' AND subject = ?",
            (f"booking:{uuid.UUID(hex=booking[0])}",),
        ).fetchone()
    return None if row is None else str(row[0])


@pytest.fixture
def processes() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    _stop(started)


def _book_the_first_free_time(browser: Browser, token: str) -> tuple[datetime, str, str]:
    """Open the lead's booking page, take the first time it offers (whatever day that is:
    around the new year the first free one is days away), book it. The chosen start, the
    page it lands on and its body."""
    status, _, page = browser.open(f"/book/{token}")
    assert status == 200, page[:2000]
    starts = re.findall(r'name="start" value="([^"]+)"', page)
    assert starts, "the booking page offers no time:\n" + page[:3000]
    kind = re.search(r'type="hidden" name="kind" value="([^"]+)"', page)
    mode = re.search(r'name="mode" value="([^"]+)" checked', page)
    assert kind, page[:3000]
    assert mode, page[:3000]
    form = {
        "csrfmiddlewaretoken": browser.csrf(page),
        "kind": kind.group(1),
        "start": unescape(starts[0]),
        "mode": mode.group(1),
        "notes": "make run のテスト",
    }
    status, landed, body = browser.open(f"/book/{token}", form)
    assert status == 200, f"{status} {landed}\n{body[:3000]}"
    return datetime.fromisoformat(form["start"]), landed, body


def test_it_migrates_a_fresh_clone_before_anything_made_var(tmp_path):
    """`manage.py migrate` is a newcomer's first command as often as `make run` (which makes
    var/ itself): the default SQLite database under the missing var/ must not stop it."""
    clone = tmp_path / "urakata"
    _clone(clone)
    assert not (clone / "var").exists()

    result = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), "manage.py", "migrate", "--noinput"],
        cwd=clone,
        env=_newcomers_env(),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert (clone / "var" / "urakata.sqlite3").is_file()


def test_it_runs_what_make_run_runs_in_a_fresh_clone(tmp_path, processes):
    clone = tmp_path / "urakata"
    logs = tmp_path / "logs"
    logs.mkdir()
    _clone(clone)
    assert not (clone / "var").exists()
    env = _newcomers_env()
    python = str(clone / ".venv" / "bin" / "python")
    done: dict[str, str] = {}

    def manage(*args: str) -> str:
        result = subprocess.run(
            [python, "manage.py", *args],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        done[" ".join(arg for arg in args if "\n" not in arg)] = result.stdout + result.stderr  # no script
        assert result.returncode == 0, _logs(done, processes)
        return result.stdout

    # The Makefile's `run` target, after its venv: migrate, seed_demo, bootstrap_admin, honcho.
    manage("migrate", "--noinput")
    manage("seed_demo")
    admin = manage("bootstrap_admin")
    email = re.search(r"email:\s+(\S+)", admin)
    password = re.search(r"password:\s+(\S+)", admin)
    assert email, admin
    assert password, admin
    demo = json.loads(
        next(line[7:] for line in manage("shell", "-c", DEMO_LEAD).splitlines() if line.startswith("RESULT "))
    )
    database = clone / "var" / "urakata.sqlite3"
    assert database.is_file()

    port = _free_port()
    procfile = parse_procfile((clone / "Procfile.dev").read_text()).processes
    assert set(procfile) == {"web", "worker", "beat"}, procfile
    assert PROCFILE_PORT in procfile["web"], procfile["web"]  # this test moves it, nothing else
    for name, command in procfile.items():
        moved = command.replace(PROCFILE_PORT, f"127.0.0.1:{port}")
        processes.append(_start(name, moved, cwd=clone, env=env, logs=logs))

    def alive() -> None:
        stopped = [p.name for p in processes if p.process.poll() is not None]
        assert not stopped, f"{stopped} stopped"  # their logs: below

    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for("/healthz", lambda: _healthy(base), timeout=START_TIMEOUT, alive=alive)

        # An advisor's morning: log in, the candidates, one candidate's page.
        advisor = Browser(base)
        status, _, page = advisor.open("/admin/login/?next=/admin/")
        assert status == 200, page[:2000]
        login = {
            "csrfmiddlewaretoken": advisor.csrf(page),
            "username": email.group(1),
            "password": password.group(1),
            "next": "/admin/",
        }
        status, landed, page = advisor.open("/admin/login/?next=/admin/", login)
        assert (status, landed) == (200, "/admin/"), page[:3000]
        status, _, page = advisor.open("/admin/leads/candidate/")
        assert status == 200, page[:3000]
        assert demo["name"] in page
        status, _, page = advisor.open(f"/admin/leads/candidate/{demo['candidate']}/change/")
        assert status == 200, page[:3000]
        assert demo["name"] in page

        # The candidate books from the link in their lead's message.
        start, landed, page = _book_the_first_free_time(Browser(base), demo["token"])
        assert landed.startswith("/consultations/"), landed
        assert f"{start.year}/{start.month}/{start.day}" in page, page[:3000]
        assert f"{start:%H:%M}" in page, page[:3000]

        # The worker sends the confirmation, with the page's link in it, within moments (the
        # booking kicks a sweep a second after its commit).
        worker = next(p for p in processes if p.name == "worker")
        candidate = uuid.UUID(demo["candidate"])
        _wait_for(
            "the confirmation to be sent",
            lambda: _confirmation_state(database, candidate) == "sent" and landed in worker.output(),
            timeout=DELIVERY_TIMEOUT,
            alive=alive,
        )
    except Exception as failure:
        _stop(processes)
        raise AssertionError(f"{failure!r}\n{_logs(done, processes)}") from failure
