"""The public booking pages under load: `GET /book/` and `GET slots` for 31 days with 20
advisors (target: p95 under 150 ms with 2 gunicorn workers).

    .venv/bin/python -m bench.public_booking [--advisors 20] [--requests 600] [--clients 4]

What it does, bounded (a fixed number of requests):

1. recreates the PostgreSQL database ``urakata_bench_booking`` and fills it as
   bench/slots.py does: ``--advisors`` advisors with the default week, two days off and an
   evening of extra hours each, about a third of their weekday time booked over 31 days;
2. starts ``gunicorn config.wsgi --workers 2`` (sync) with bench.settings and
   TRUSTED_PROXY_COUNT=1, and sends every request with an ``X-Forwarded-For`` address of its
   own: the traffic of many phones, each under the per-client limits (the abuse checks run
   on every request, as in production; none of them refuses here);
3. measures, in this order, with ``--clients`` concurrent clients each:
   - the **baseline**: ``GET /healthz`` (one database round trip through the same stack:
     what any request costs on this machine);
   - ``GET /api/v1/consultations/slots/?from=<tomorrow>&to=<+30 days>`` (31 days);
   - ``GET /book/`` (the direct booking page: two weeks of days, the first day's times, the
     form with the role catalogue);
4. prints a Markdown table (p50, p95, p99, max, req/s, non-200 answers) and writes it to
   bench/out/.
"""

import argparse
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from http.client import HTTPConnection
from pathlib import Path

import redis

from bench.common import ROOT, free_port, gunicorn_start, gunicorn_stop, machine, percentile, postgres_version
from bench.slots import add_common_arguments, django_environment, django_start, populate, write_output

TARGET_P95_MS = 150.0


@dataclass
class Phase:
    name: str
    path: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _run(port: int, phase: Phase, requests: int, clients: int) -> None:
    addresses = iter(range(requests))
    take = threading.Lock()

    def client() -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with take:
                n = next(addresses, None)
            if n is None:
                break
            headers = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
            started = time.perf_counter()
            conn.request("GET", phase.path, headers=headers)
            response = conn.getresponse()
            response.read()
            latency = time.perf_counter() - started
            with phase.lock:
                phase.latencies.append(latency)
                phase.statuses[response.status] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.elapsed = time.perf_counter() - started


def _row(phase: Phase) -> str:
    latencies = sorted(phase.latencies)
    p50, p95, p99 = (percentile(latencies, f) * 1000 for f in (0.50, 0.95, 0.99))
    not_ok = sum(n for status, n in phase.statuses.items() if status != 200)
    met = "yes" if p95 < TARGET_P95_MS else "no"
    return (
        f"| {phase.name} | {len(latencies)} | {not_ok} | {len(latencies) / phase.elapsed:.1f} "
        f"| {p50:.1f} | {p95:.1f} | {p99:.1f} | {latencies[-1] * 1000:.1f} | {met} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--advisors", type=int, default=20)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--requests", type=int, default=600, help="per phase (default 600)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    add_common_arguments(parser)
    args = parser.parse_args()
    load_before = machine()["load"]
    print("Recreating, migrating and filling the bench database ...", flush=True)
    django_start(args)
    from django.db import connections
    from django.utils import timezone

    from core.business_time import BUSINESS_TZ

    random.seed(6)
    first = timezone.now().astimezone(BUSINESS_TZ).date() + timedelta(days=1)
    counts = populate(advisors=args.advisors, first=first, days=args.days)
    connections.close_all()  # the server processes own the database from here
    last = first + timedelta(days=args.days - 1)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / f"gunicorn-public-booking-{time.strftime('%Y%m%dT%H%M%S')}.log"
    env = {**os.environ, **django_environment(args), "TRUSTED_PROXY_COUNT": "1"}
    port = free_port()
    print(f"Starting gunicorn ({args.workers} sync workers) on 127.0.0.1:{port} ...", flush=True)
    server = gunicorn_start(
        ["--workers", str(args.workers), "--backlog", "2048"], port=port, env=env, log=log
    )
    phases = [
        Phase("baseline: GET /healthz", "/healthz"),
        Phase(f"GET slots, {args.days} days", f"/api/v1/consultations/slots/?from={first}&to={last}"),
        Phase("GET /book/", "/book/"),
    ]
    try:
        for phase in phases:
            _run(port, phase, min(20, args.requests), args.clients)  # warm-up, not counted
            phase.latencies.clear()
            phase.statuses.clear()
            print(f"Measuring {phase.name} ...", flush=True)
            _run(port, phase, args.requests, args.clients)
    finally:
        gunicorn_stop(server)
        for url in (args.redis_url, args.broker_url):  # counters and kicks of this run
            redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5).flushdb()
    info = machine()
    text = "\n".join(
        [
            f"{args.advisors} advisors over {args.days} days ({counts['bookings']} bookings), gunicorn "
            f"{args.workers} sync workers, {args.clients} concurrent clients, {args.requests} requests "
            "per phase, each from an address of its own (X-Forwarded-For behind TRUSTED_PROXY_COUNT=1).",
            f"Machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
            f"PostgreSQL {postgres_version(args.database_url)}; load average before: {load_before}, "
            f"after: {info['load']}.",
            "",
            f"| phase | requests | not 200 | req/s | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) "
            f"| p95 < {TARGET_P95_MS:.0f} ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *(_row(phase) for phase in phases),
        ]
    )
    print("\n" + text)
    output = write_output("public_booking", text)
    print(f"\nWritten to {Path(output).relative_to(ROOT)}; gunicorn log: {log.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
