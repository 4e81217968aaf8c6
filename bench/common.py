"""What the benchmark scripts share: a fresh bench database, a free port, gunicorn started
and stopped, CPU times from /proc, percentiles and a description of the machine."""

import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from http.client import HTTPConnection
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def recreate_database(url: str) -> None:
    """Drop and create the database of `url`, which must be a bench database."""
    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    if not name.startswith("urakata_bench"):  # never drop anything but a bench database
        raise SystemExit(f"Refusing to drop {name!r}: the bench database's name starts with urakata_bench.")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gunicorn_start(
    options: Sequence[str], *, port: int, env: Mapping[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """`gunicorn config.wsgi:application` on 127.0.0.1:`port` with `options`, errors to
    `log`; returns once /healthz answers 200 (stopped again if it does not within 30 s)."""
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi:application",
        *options,
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(log),
        "--no-control-socket",  # gunicorn 27 would otherwise open one shared in ~/.gunicorn
    ]
    with log.open("ab") as log_file:
        server = subprocess.Popen(command, cwd=ROOT, env=dict(env), stdout=log_file, stderr=log_file)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
            conn.close()
            if ok:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    gunicorn_stop(server)
    raise SystemExit(f"gunicorn did not answer /healthz within 30 s; see {log}")


def gunicorn_stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # graceful: the arbiter stops its workers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, str]:
    """CPUs, CPU model, Python and the load average now, for a report's header."""
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def postgres_version(url: str) -> str:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def machine_line(url: str) -> str:
    """One line: CPUs and model, Python, and the PostgreSQL server of `url`."""
    return (
        f"{os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
        f"PostgreSQL {postgres_version(url)}"
    )
