"""Booking under contention: POST /api/v1/consultations/bookings/ from many parallel clients
racing for few slots, against gunicorn with 2 sync workers on a fresh database.

    .venv/bin/python -m bench.booking [--advisors 3] [--race-rounds 6] [--racers 50]

What it does, all on loopback and bounded (a fixed number of requests, a timeout on every
request, gunicorn stopped on every exit path):

1. recreates the PostgreSQL database ``urakata_bench_booking`` (the script refuses any name
   not starting with urakata_bench), migrates it, creates ``--advisors`` advisors with the
   default week and one direct lead per request to come (each request books for a
   candidate of its own, with the lead's booking token: nobody is refused as
   `already_booked`);
2. starts ``gunicorn config.wsgi --workers 2`` with bench.settings;
3. runs three phases, each request timed from connect to the last byte:
   - **race**: ``--race-rounds`` rounds of ``--racers`` clients released together by a
     barrier at one slot: exactly ``--advisors`` may win each round, the rest must get 409;
   - **few slots**: ``--few-requests`` requests from ``--few-clients`` threads spread at
     random over 4 slots of one day (capacity 4 x advisors);
   - **spread**: ``--spread-requests`` requests, each for a slot of its own (one hour
     apart, across weeks) from ``--spread-clients`` threads: the uncontended rate;
4. checks the database: no advisor has two overlapping active bookings, and every 201 is
   exactly one booking; prints a Markdown table and writes it to bench/out/.
"""

import argparse
import json
import os
import random
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
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
    postgres_version,
)
from bench.slots import (
    add_common_arguments,
    django_environment,
    django_start,
    write_output,
)

PATH = "/api/v1/consultations/bookings/"
REQUEST_TIMEOUT = 30.0  # seconds: a racer may queue behind the day's advisory lock
HOURLY = tuple(clock_time(hour) for hour in range(10, 19))  # career starts one hour apart


@dataclass
class Phase:
    name: str
    expected_wins: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, latency: float, status: int, detail: str = "") -> None:
        with self.lock:
            self.latencies.append(latency)
            self.statuses[status] += 1
            if detail and len(self.failures) < 5:
                self.failures.append(detail)


def _post(port: int, body: bytes) -> tuple[int, bytes]:
    conn = HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("POST", PATH, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _book(port: int, phase: Phase, token: str, start: datetime) -> None:
    body = json.dumps(
        {"booking_token": token, "start": start.isoformat(), "mode": "online", "kind": "career"}
    )
    began = time.perf_counter()
    try:
        status, content = _post(port, body.encode())
    except OSError as exc:
        phase.record(time.perf_counter() - began, 599, f"{type(exc).__name__}: {exc}")
        return
    detail = ""
    if status == 409:
        codes = [e["code"] for e in json.loads(content)["errors"]]
        if codes != ["slot_unavailable"]:
            detail = f"409 {codes}"
    elif status != 201:
        detail = f"{status}: {content[:300].decode(errors='replace')}"
    phase.record(time.perf_counter() - began, status, detail)


def run_race(port: int, phase: Phase, tokens: list[str], start: datetime) -> None:
    """All clients released at once by a barrier, each for the same slot."""
    barrier = threading.Barrier(len(tokens))

    def racer(token: str) -> None:
        barrier.wait(timeout=60)
        _book(port, phase, token, start)

    threads = [threading.Thread(target=racer, args=(t,), daemon=True) for t in tokens]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 60)
    phase.elapsed += time.perf_counter() - began


def run_pool(port: int, phase: Phase, work: list[tuple[str, datetime]], clients: int) -> None:
    """`clients` threads taking (token, start) pairs from a shared list until it is empty."""
    items = list(reversed(work))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not items:
                    return
                token, start = items.pop()
            _book(port, phase, token, start)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * len(work) + 60)
    phase.elapsed += time.perf_counter() - began


# --- setup -------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace, count: int) -> tuple[list[str], list[date]]:
    """Advisors, `count` direct leads with booking tokens, and the bookable weekdays ahead."""
    django_start(args)
    from django.db import connections
    from django.utils import timezone

    from consultations.selectors import day_closed_by_default
    from consultations.services import advisor_onboard
    from core.business_time import BUSINESS_TZ
    from leads.intake.inputs import LeadInput
    from leads.intake.services import lead_ingest
    from leads.intake.tokens import booking_token_for

    for n in range(args.advisors):
        advisor_onboard(email=f"bench-advisor-{n}@urakata.example", display_name=f"Advisor {n}")
    consent_at = datetime(2026, 1, 10, tzinfo=UTC)
    tokens = []
    for n in range(count):
        data = LeadInput(
            family_name="山田",
            given_name="太郎",
            email=f"bench-booker-{n}@example.com",
            consent_policy_version="2026-04",
            consent_agreed_at=consent_at,
            consent_third_party_provision=True,
            raw_payload={},
        )
        tokens.append(booking_token_for(lead_id=lead_ingest(partner=None, data=data).lead.pk))
    day = timezone.now().astimezone(BUSINESS_TZ).date() + timedelta(days=2)  # well past the notice
    days: list[date] = []
    while len(days) < 40:
        if day.weekday() < 5 and not day_closed_by_default(day):
            days.append(day)
        day += timedelta(days=1)
    connections.close_all()  # the server processes own the database from here
    return tokens, days


def at(day: date, clock: clock_time) -> datetime:
    from core.business_time import BUSINESS_TZ

    return datetime.combine(day, clock, tzinfo=BUSINESS_TZ)


def start_gunicorn(args: argparse.Namespace, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **django_environment(args)}
    return gunicorn_start(["--workers", str(args.workers), "--backlog", "2048"], port=port, env=env, log=log)


def integrity(url: str) -> tuple[int, int]:
    """(active bookings, pairs of one advisor's active bookings that overlap)."""
    with psycopg.connect(url, connect_timeout=5) as conn:
        active = conn.execute(
            "SELECT count(*) FROM consultations_booking WHERE status IN ('held', 'booked', 'attended')"
        ).fetchone()
        overlaps = conn.execute(
            "SELECT count(*) FROM consultations_booking a JOIN consultations_booking b "
            "ON a.advisor_id = b.advisor_id AND a.id < b.id "
            "AND a.status IN ('held', 'booked', 'attended') AND b.status IN ('held', 'booked', 'attended') "
            "AND tstzrange(a.start_at, a.blocked_until) && tstzrange(b.start_at, b.blocked_until)"
        ).fetchone()
    return int(active[0]) if active else -1, int(overlaps[0]) if overlaps else -1


# --- report ------------------------------------------------------------------------------------

HEADER = (
    "| phase | requests | 201 | expected 201 | 409 slot_unavailable | other 4xx | 5xx / errors | wall (s) "
    "| req/s | bookings/s | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def report_row(phase: Phase) -> str:
    latencies = sorted(phase.latencies)
    requests = len(latencies)
    won = phase.statuses[201]
    lost = phase.statuses[409]
    errors = sum(n for status, n in phase.statuses.items() if status >= 500)
    other = requests - won - lost - errors
    p50, p95, p99 = (percentile(latencies, f) * 1000 for f in (0.50, 0.95, 0.99))
    cells = [
        phase.name,
        str(requests),
        str(won),
        str(phase.expected_wins),
        str(lost),
        str(other),
        str(errors),
    ]
    cells += [f"{phase.elapsed:.2f}", f"{requests / phase.elapsed:.1f}", f"{won / phase.elapsed:.1f}"]
    cells += [f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}", f"{latencies[-1] * 1000:.1f}"]
    return "| " + " | ".join(cells) + " |"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--advisors", type=int, default=3)
    add("--race-rounds", type=int, default=6, help="one slot per round, at most 9 (default 6)")
    add("--racers", type=int, default=50, help="clients per race round (default 50)")
    add("--few-requests", type=int, default=200)
    add("--few-clients", type=int, default=20)
    add("--spread-requests", type=int, default=150, help="at most 9 a weekday over 36 weekdays")
    add("--spread-clients", type=int, default=8)
    add("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    add_common_arguments(parser)
    args = parser.parse_args()
    if not 1 <= args.race_rounds <= len(HOURLY) or args.spread_requests > 36 * len(HOURLY):
        parser.error("--race-rounds must be 1-9 and --spread-requests at most 324")
    return args


def main() -> None:
    args = parse_args()
    started = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    load_before = machine()["load"]
    total = args.race_rounds * args.racers + args.few_requests + args.spread_requests
    print(f"Recreating and migrating the bench database; {total} leads ...", flush=True)
    tokens, days = prepare(args, total)
    rng = random.Random(7)
    race_day, few_day, spread_days = days[0], days[1], days[4:]
    few_slots = [at(few_day, clock) for clock in HOURLY[:4]]
    spread_slots = [at(day, clock) for day in spread_days for clock in HOURLY][: args.spread_requests]
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / f"gunicorn-booking-{run_id}.log"
    port = free_port()
    print(f"Starting gunicorn ({args.workers} sync workers) on 127.0.0.1:{port} ...", flush=True)
    server = start_gunicorn(args, port, log)
    race = Phase(
        f"race: {args.racers} clients x 1 slot, {args.race_rounds} rounds", args.race_rounds * args.advisors
    )
    few = Phase(
        f"few slots: {args.few_requests} requests, 4 slots, {args.few_clients} clients", 4 * args.advisors
    )
    spread = Phase(f"spread: 1 request per slot, {args.spread_clients} clients", len(spread_slots))
    try:
        print("Measuring ...", flush=True)
        for round_index in range(args.race_rounds):
            batch, tokens = tokens[: args.racers], tokens[args.racers :]
            run_race(port, race, batch, at(race_day, HOURLY[round_index]))
        batch, tokens = tokens[: args.few_requests], tokens[args.few_requests :]
        run_pool(port, few, [(token, rng.choice(few_slots)) for token in batch], args.few_clients)
        batch, tokens = tokens[: len(spread_slots)], tokens[len(spread_slots) :]
        run_pool(port, spread, list(zip(batch, spread_slots, strict=True)), args.spread_clients)
    finally:
        gunicorn_stop(server)
        for url in (args.redis_url, args.broker_url):  # queued sweeps: nobody will run them
            redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5).flushdb()
    active, overlaps = integrity(args.database_url)
    wins = sum(phase.statuses[201] for phase in (race, few, spread))
    info = machine()
    text = "\n".join(
        [
            f"Run {started}: {args.advisors} advisors, gunicorn {args.workers} sync workers, career "
            f"consultations (45 min + 15 min buffer); every request books for a lead of its own.",
            f"Machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
            f"PostgreSQL {postgres_version(args.database_url)}; load average (1, 5, 15 min) before: "
            f"{load_before}, after: {info['load']}.",
            "",
            HEADER,
            *(report_row(phase) for phase in (race, few, spread)),
            "",
            f"Database after the run: {active} active bookings for {wins} answers 201; "
            f"overlapping pairs of one advisor's bookings: {overlaps}.",
        ]
    )
    for phase in (race, few, spread):
        if phase.failures:
            text += f"\n\nUnexpected answers in {phase.name}:\n" + "\n".join(f"- {f}" for f in phase.failures)
    print("\n" + text)
    output = write_output("booking", text)
    print(f"\nWritten to {output.relative_to(ROOT)}; gunicorn log: {log.relative_to(ROOT)}")
    if overlaps or active != wins:
        raise SystemExit("Integrity check failed: see above.")


if __name__ == "__main__":
    main()
