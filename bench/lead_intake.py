"""Throughput and latency of POST /api/v1/leads/ against a naive DRF baseline.

    .venv/bin/python -m bench.lead_intake [--requests 2000] [--concurrency 8]

What it does, all on loopback and bounded (a fixed number of requests, a timeout on every
request and every subprocess, gunicorn stopped on every exit path):

1. recreates the PostgreSQL database of bench.settings (default ``urakata_bench``, dropped
   and created again so that every run starts empty), migrates it, creates a partner with
   an unlimited rate limit through ``create_partner`` and checks the role catalogue;
2. starts ``gunicorn config.wsgi --workers 2`` (sync workers; with ``--threads N``, gthread
   workers of N threads) with bench.settings, the same server for every target;
3. warms every target up, then sends ``--requests`` requests to each target from
   ``--concurrency`` client threads, every body distinct, in rounds whose order alternates
   (A B C, C B A, ...) so that no target always runs on a warmer or colder machine;
4. prints a Markdown table (and writes it to bench/out/) with errors, throughput, latency
   percentiles, the ratio of each of our variants to the naive baseline, and the server's
   CPU time per request (which, unlike throughput, does not depend on the neighbours).

The HTTP client is the standard library only (psycopg and redis serve the setup and the
CPU accounting, outside the timed requests). gunicorn's sync worker closes every connection
after its response (no keep-alive), so each request opens a new TCP connection; that is
the same for every target, and the measured latency includes the connect.
"""

import argparse
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path

import psycopg
import redis

from bench.common import (
    ROOT,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    machine,
    percentile,
    process_cpu,
    recreate_database,
)

PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/urakata_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/10"
OURS_PATH = "/api/v1/leads/"
NAIVE_PATH = "/bench/naive-leads/"
NAIVE = "naive ModelViewSet (baseline)"
SUBPROCESS_TIMEOUT = 300  # seconds; migrate on an empty database takes a few
REQUEST_TIMEOUT = 10.0  # seconds, per request (connect + send + response)
CONSENT = {
    "privacy_policy_version": "2026-04",
    "agreed_at": "2026-11-20T10:00:00+09:00",
    "third_party_provision": True,
}


# --- request bodies ------------------------------------------------------------------------


def _person(n: int) -> dict[str, object]:
    """The fields of person number n: distinct email and a distinct, valid mobile number
    (090 followed by 8 digits whose first is 1-9; 0900... numbers do not exist)."""
    return {
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "やまだ",  # hiragana in, katakana stored: the normaliser works
        "given_name_kana": "タロウ",
        "email": f"Bench.Person{n}@Example.com",
        "phone": f"090-{1000 + n // 10_000:04d}-{n % 10_000:04d}",
        "birth_date": "1990-04-01",
        "prefecture": "東京都",
        "current_occupation": "factory",
        "desired_roles": ["accounting"],
        "message": "経理の仕事に興味があります。未経験でも応募できますか。",
        "source_url": "https://partner.example/lp/accounting",
        "utm_source": "partner",
        "utm_medium": "cpc",
        "utm_campaign": "bench",
    }


def ours_body(n: int) -> bytes:
    return json.dumps({**_person(n), "consent": CONSENT}, ensure_ascii=False).encode()


def naive_body(n: int) -> bytes:
    # The same data, flattened onto the model's columns, as a ModelSerializer wants it.
    person = _person(n)
    person["prefecture"] = "13"  # the column holds the JIS code; nothing here normalises a name
    person["consent_policy_version"] = CONSENT["privacy_policy_version"]
    person["consent_agreed_at"] = CONSENT["agreed_at"]
    person["consent_third_party_provision"] = True
    return json.dumps(person, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    body: Callable[[int], bytes]
    headers: Callable[[int], dict[str, str]]


# --- CPU accounting ------------------------------------------------------------------------
# The machine is shared (2 CPUs for client, server, PostgreSQL, and whatever else runs), so
# throughput alone mixes our cost with the neighbours'. CPU seconds per request of the
# server (gunicorn workers and their PostgreSQL backends) do not depend on the neighbours.

CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


@dataclass(frozen=True)
class Cpu:
    server: float = 0.0  # gunicorn workers + their PostgreSQL backends, seconds
    client: float = 0.0  # this process (all client threads)
    machine: float = 0.0  # every CPU of the machine, busy time

    def __add__(self, other: "Cpu") -> "Cpu":
        return Cpu(self.server + other.server, self.client + other.client, self.machine + other.machine)


def _machine_busy() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class CpuMeter:
    """Snapshots of the CPU time of the server's processes, this process and the machine."""

    def __init__(self, *, server_pid: int, database_url: str) -> None:
        self.server_pid = server_pid
        self.conn = psycopg.connect(database_url, autocommit=True, connect_timeout=5)

    def _server_pids(self) -> list[int]:
        workers = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]
                except OSError:
                    continue
                if parent == str(self.server_pid):
                    workers.append(int(entry.name))
        backends = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
        return [self.server_pid, *workers, *(row[0] for row in backends)]

    def snapshot(self) -> tuple[dict[int, float], float, float]:
        per_pid = {pid: process_cpu(pid) for pid in self._server_pids()}
        return per_pid, time.process_time(), _machine_busy()

    def since(self, start: tuple[dict[int, float], float, float]) -> Cpu:
        (before, client_before, machine_before), (after, client_after, machine_after) = start, self.snapshot()
        server = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
        return Cpu(server, client_after - client_before, machine_after - machine_before)

    def close(self) -> None:
        self.conn.close()


# --- HTTP client ---------------------------------------------------------------------------


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)  # seconds, every completed request
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # exceptions and first non-2xx bodies
    elapsed: float = 0.0  # wall time of the phases, seconds
    cpu: Cpu = field(default_factory=Cpu)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    def merge(self, other: "Sample") -> None:
        self.latencies += other.latencies
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.failures += other.failures[: max(0, 5 - len(self.failures))]
        self.elapsed += other.elapsed
        self.cpu = self.cpu + other.cpu


def _send(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run_phase(
    *, port: int, target: Target, numbers: range, concurrency: int, meter: CpuMeter | None = None
) -> Sample:
    """Send one request per number from `concurrency` threads; return what was measured."""
    work: queue.SimpleQueue[tuple[bytes, dict[str, str]] | None] = queue.SimpleQueue()
    for n in numbers:  # built before the clock starts: the client does no JSON work then
        work.put((target.body(n), target.headers(n)))
    for _ in range(concurrency):
        work.put(None)
    results = [Sample() for _ in range(concurrency)]

    def client(sample: Sample) -> None:
        while (item := work.get()) is not None:
            body, headers = item
            start = time.perf_counter()
            try:
                status, content = _send(port, target.path, body, headers)
            except OSError as exc:  # refused, reset, timed out: an error, and a latency
                sample.latencies.append(time.perf_counter() - start)
                sample.statuses[599] = sample.statuses.get(599, 0) + 1
                sample.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            sample.latencies.append(time.perf_counter() - start)
            sample.statuses[status] = sample.statuses.get(status, 0) + 1
            if not 200 <= status < 300 and len(sample.failures) < 5:
                sample.failures.append(f"{status}: {content[:300].decode(errors='replace')}")

    threads = [threading.Thread(target=client, args=(s,), daemon=True) for s in results]
    cpu_start = meter.snapshot() if meter else None
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * len(numbers) + 60)
    total = Sample(elapsed=time.perf_counter() - started)
    if meter and cpu_start:
        total.cpu = meter.since(cpu_start)
    for sample in results:
        total.merge(sample)
    return total


# --- setup and the server ------------------------------------------------------------------


def _env(args: argparse.Namespace) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.broker_url,
        "LOG_LEVEL": "WARNING",
    }


def _manage(args: argparse.Namespace, *command: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *command],
        cwd=ROOT,
        env=_env(args),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def flush_redis(*urls: str) -> None:
    for url in urls:  # the bench's own numbers (bench.settings): queued sweeps, cache entries
        redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5).flushdb()


def start_gunicorn(args: argparse.Namespace, port: int, log: Path) -> subprocess.Popen[bytes]:
    threads = ["--worker-class", "gthread", "--threads", str(args.threads)] if args.threads > 1 else []
    return gunicorn_start(["--workers", str(args.workers), *threads], port=port, env=_env(args), log=log)


def check_catalogue(port: int) -> None:
    conn = HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    conn.request("GET", "/api/v1/roles/accounting/")
    status = conn.getresponse().status
    conn.close()
    if status != 200:
        raise SystemExit(
            f"The role catalogue has no 'accounting' (GET /api/v1/roles/accounting/ = {status})."
        )


def database_facts(url: str) -> tuple[dict[str, int], str]:
    """Rows per table after the run (what was really persisted) and the server's version."""
    tables = (
        "leads_lead",
        "leads_candidate",
        "core_outboxmessage",
        "core_idempotencyrecord",
        "bench_naivelead",
    )
    with psycopg.connect(url, connect_timeout=5) as conn:
        # Table names are constants of this file, not input.
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]  # noqa: S608
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    return rows, str(version)


# --- report --------------------------------------------------------------------------------


def gunicorn_version() -> str:
    done = subprocess.run(
        [str(Path(PYTHON).with_name("gunicorn")), "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout.strip().rsplit(" ", 1)[-1].rstrip(")") or "?"


HEADER = (
    "| target | requests | errors (non-2xx) | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) "
    "| throughput vs naive | server CPU (ms/req) | client CPU (ms/req) | others' CPU (% of machine) "
    "| machine busy (%) |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def report(results: dict[str, Sample], baseline: str) -> str:
    base = results[baseline]
    base_rate = base.requests / base.elapsed
    lines = [HEADER]
    for name, sample in results.items():
        latencies = sorted(sample.latencies)
        rate = sample.requests / sample.elapsed
        p50, p95, p99 = (percentile(latencies, f) * 1000 for f in (0.50, 0.95, 0.99))
        cells = [name, str(sample.requests), str(sample.errors), f"{rate:.1f}", f"{p50:.1f}", f"{p95:.1f}"]
        cells += [f"{p99:.1f}", f"{latencies[-1] * 1000:.1f}", f"{rate / base_rate:.2f}x"]
        # Everything the machine did besides our server and client: PostgreSQL's background
        # processes, Redis, and other people's work on a shared box.
        others = (sample.cpu.machine - sample.cpu.server - sample.cpu.client) / (sample.elapsed * NCPU)
        cells += [
            f"{sample.cpu.server / sample.requests * 1000:.2f}",
            f"{sample.cpu.client / sample.requests * 1000:.2f}",
        ]
        cells += [
            f"{max(others, 0.0) * 100:.0f}",
            f"{sample.cpu.machine / (sample.elapsed * NCPU) * 100:.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rounds(total: int, count: int, start: int) -> Iterator[range]:
    size, extra = divmod(total, count)
    for index in range(count):
        length = size + (1 if index < extra else 0)
        yield range(start, start + length)
        start += length


def server_kind(args: argparse.Namespace) -> str:
    if args.threads > 1:
        return f"{args.workers} gthread workers of {args.threads} threads"
    return f"{args.workers} sync workers"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--requests", type=int, default=2000, help="measured requests per target (default 2000)")
    add("--concurrency", type=int, default=8, help="client threads (default 8)")
    add("--warmup", type=int, default=200, help="unmeasured requests per target first (default 200)")
    add("--rounds", type=int, default=4, help="phases per target, order alternating (default 4)")
    add("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    add(
        "--threads",
        type=int,
        default=1,
        help="threads per worker; above 1, gthread workers (default 1: sync)",
    )
    add("--database-url", default=DEFAULT_DATABASE_URL)
    add("--redis-url", default=DEFAULT_REDIS_URL)
    add("--broker-url", default=DEFAULT_BROKER_URL)
    add("--no-idempotency-variant", action="store_true", help="skip the Idempotency-Key variant")
    args = parser.parse_args()
    if args.requests < args.rounds or args.concurrency < 1 or args.rounds < 1:
        parser.error("--requests must be at least --rounds; --concurrency and --rounds at least 1")
    return args


def prepare(args: argparse.Namespace) -> str:
    """An empty, migrated database with one unlimited partner; returns its API key."""
    recreate_database(args.database_url)
    flush_redis(args.redis_url, args.broker_url)
    _manage(args, "migrate", "--noinput")
    output = _manage(args, "create_partner", "bench-partner", "--name", "Bench partner", "--rate-limit", "0")
    return output.strip().splitlines()[-1]  # the contract: the key alone on the last line


def targets_for(args: argparse.Namespace, key: str, run_id: str) -> list[Target]:
    def bearer(n: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def bearer_and_key(n: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "Idempotency-Key": f"bench-{run_id}-{n}"}

    def anonymous(n: int) -> dict[str, str]:
        return {}

    targets = [Target("ours: POST /api/v1/leads/", OURS_PATH, ours_body, bearer)]
    if not args.no_idempotency_variant:
        targets.append(Target("ours + Idempotency-Key", OURS_PATH, ours_body, bearer_and_key))
    targets.append(Target(NAIVE, NAIVE_PATH, naive_body, anonymous))
    return targets


def measure(args: argparse.Namespace, port: int, targets: list[Target], meter: CpuMeter) -> dict[str, Sample]:
    # Every request gets a person number of its own, so no request meets a known candidate.
    blocks = itertools.count(0, args.warmup + args.requests)
    bases = {t.name: next(blocks) for t in targets}
    for target in targets:
        warmup = range(bases[target.name], bases[target.name] + args.warmup)
        run_phase(port=port, target=target, numbers=warmup, concurrency=args.concurrency)
    plans = {t.name: rounds(args.requests, args.rounds, bases[t.name] + args.warmup) for t in targets}
    results = {t.name: Sample() for t in targets}
    for index in range(args.rounds):
        for target in targets if index % 2 == 0 else targets[::-1]:
            numbers = next(plans[target.name])
            results[target.name].merge(
                run_phase(
                    port=port, target=target, numbers=numbers, concurrency=args.concurrency, meter=meter
                )
            )
    return results


def main() -> None:
    args = parse_args()
    started = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    load_before = machine()["load"]
    print("Recreating and migrating the bench database ...", flush=True)
    targets = targets_for(args, prepare(args), run_id)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / f"gunicorn-{run_id}.log"
    port = free_port()
    print(f"Starting gunicorn ({server_kind(args)}) on 127.0.0.1:{port} ...", flush=True)
    server = start_gunicorn(args, port, log)
    try:
        check_catalogue(port)
        print("Measuring ...", flush=True)
        meter = CpuMeter(server_pid=server.pid, database_url=args.database_url)
        try:
            results = measure(args, port, targets, meter)
        finally:
            meter.close()
        rows, server_version = database_facts(args.database_url)
    finally:
        gunicorn_stop(server)
        flush_redis(args.redis_url, args.broker_url)

    info = machine()
    text = "\n".join(
        [
            f"Run {started}: {args.requests} requests per target, {args.concurrency} client threads, "
            f"{args.rounds} alternating rounds, {args.warmup} warm-up requests per target, "
            f"gunicorn {server_kind(args)}.",
            f"Machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
            f"PostgreSQL {server_version}, gunicorn {gunicorn_version()}; "
            f"load average (1, 5, 15 min) before: {load_before}, after: {info['load']}.",
            "",
            report(results, NAIVE),
            "",
            "Rows after the run: " + ", ".join(f"{name} {count}" for name, count in rows.items()) + ".",
        ]
    )
    for name, sample in results.items():
        if sample.failures:
            text += f"\n\nFirst failures of {name}:\n" + "\n".join(f"- {f}" for f in sample.failures)
    print("\n" + text)
    output = out_dir / f"lead_intake-{run_id}.md"
    output.write_text(text + "\n")
    print(f"\nWritten to {output.relative_to(ROOT)}; gunicorn log: {log.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
