"""Free slots for 20 advisors over 31 days (targets: under 100 ms and at most 5 queries).

    .venv/bin/python -m bench.slots [--advisors 20] [--days 31] [--runs 50]

What it does, in this process and bounded (a fixed number of calls):

1. recreates the PostgreSQL database ``urakata_bench_booking`` (dropped and created again:
   every run starts empty; the script refuses any name not starting with urakata_bench),
   migrates it and fills it: ``--advisors`` advisors with the default week (weekdays
   10:00-19:00 JST) through ``advisor_onboard``, each with two days off and one evening of
   extra hours in the range, and about a third of their weekday time already booked (career,
   documents and interview consultations, with their buffers);
2. times ``slots_for_range`` (the selector behind the endpoint) for the ``--days`` days from
   tomorrow, ``--runs`` times after ``--warmup`` unmeasured calls, and counts its queries;
3. does the same through the HTTP endpoint ``GET /api/v1/consultations/slots/`` with
   Django's test client (the whole view stack: query parsing, serialisation, JSON; no
   network, no server process);
4. prints a Markdown table (median, p95, max, queries) and writes it to bench/out/.

Timing is `time.perf_counter()` around each call; queries are counted in a separate call
(recording them costs time of its own).
"""

import argparse
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from bench.common import ROOT, machine, percentile, postgres_version, recreate_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/urakata_bench_booking"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/14"
TARGET_MS = 100.0
TARGET_QUERIES = 5


# --- shared with bench/booking.py ------------------------------------------------------------


def django_environment(args: argparse.Namespace) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.broker_url,
        "LOG_LEVEL": "WARNING",
    }


def django_start(args: argparse.Namespace) -> None:
    """Recreate and migrate the bench database, then set Django up on it in this process."""
    recreate_database(args.database_url)
    os.environ.update(django_environment(args))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--broker-url", default=DEFAULT_BROKER_URL)


def write_output(name: str, text: str) -> Path:
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.md"
    output.write_text(text + "\n")
    return output


# --- data --------------------------------------------------------------------------------------


def populate(*, advisors: int, first: date, days: int, seed: int = 6) -> dict[str, int]:
    """Advisors with the default week, overrides and about a third of their time booked.
    Bookings are written with bulk_create on the advisors' grid (never overlapping, so the
    exclusion constraint accepts them), each for a candidate of its own."""
    from django.utils import timezone

    from consultations.models import KIND_SPECS, AvailabilityOverride, Booking
    from consultations.services import advisor_onboard
    from core.business_time import BUSINESS_TZ
    from leads.models import Candidate

    rng = random.Random(seed)
    now = timezone.now()
    staff = [
        advisor_onboard(email=f"bench-advisor-{n}@urakata.example", display_name=f"Advisor {n}")
        for n in range(advisors)
    ]
    overrides = []
    bookings = []
    # The longest consultation with its buffer is 1 h 15: these never overlap.
    day_starts = tuple(clock_time(h, m) for h, m in ((10, 0), (11, 15), (13, 0), (14, 15), (15, 30), (17, 0)))
    for advisor in staff:
        off = set(rng.sample(range(days), 2))
        overrides += [
            AvailabilityOverride(advisor=advisor, date=first + timedelta(days=offset), kind="day_off")
            for offset in off
        ]
        evening = first + timedelta(days=rng.randrange(days))
        if (evening - first).days not in off:
            overrides.append(
                AvailabilityOverride(
                    advisor=advisor,
                    date=evening,
                    kind="extra",
                    start_time=clock_time(19),
                    end_time=clock_time(21),
                )
            )
        for offset in range(days):
            day = first + timedelta(days=offset)
            if day.weekday() >= 5 or offset in off:
                continue
            for clock in rng.sample(day_starts, 2):  # two of six windows: about a third
                kind = rng.choice(list(KIND_SPECS))
                spec = KIND_SPECS[kind]
                start = datetime.combine(day, clock, tzinfo=BUSINESS_TZ)
                bookings.append((advisor, kind, start, spec))
    AvailabilityOverride.objects.bulk_create(overrides)
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                family_name="山田",
                given_name=f"{n}",
                email=f"bench-candidate-{n}@example.com",
                partner_status_changed_at=now,
            )
            for n in range(len(bookings))
        ]
    )
    Booking.objects.bulk_create(
        [
            Booking(
                candidate=candidate,
                advisor=advisor,
                kind=kind,
                mode="online",
                start_at=start,
                end_at=start + spec.length,
                blocked_until=start + spec.length + spec.buffer,
                manage_token_hash=uuid.uuid4().hex * 2,
                manage_token_salt=uuid.uuid4().hex,
            )
            for candidate, (advisor, kind, start, spec) in zip(candidates, bookings, strict=True)
        ]
    )
    return {"advisors": len(staff), "overrides": len(overrides), "bookings": len(bookings)}


# --- measuring ------------------------------------------------------------------------------------


def timed(call: Callable[[], Any], *, runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def queries_of(call: Callable[[], Any]) -> tuple[int, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = call()
    return len(captured), result


def row(name: str, times: list[float], queries: int, slots: int) -> str:
    median, p95 = statistics.median(times), percentile(times, 0.95)
    verdict = "yes" if p95 < TARGET_MS and queries <= TARGET_QUERIES else "no"
    cells = [
        name,
        str(len(times)),
        f"{median:.1f}",
        f"{p95:.1f}",
        f"{times[-1]:.1f}",
        str(queries),
        str(slots),
    ]
    return "| " + " | ".join([*cells, verdict]) + " |"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--advisors", type=int, default=20)
    parser.add_argument("--days", type=int, default=31, help="days per call (the API allows at most 31)")
    parser.add_argument("--runs", type=int, default=50, help="timed calls per target (default 50)")
    parser.add_argument("--warmup", type=int, default=5)
    add_common_arguments(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    started = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    load_before = machine()["load"]
    print("Recreating, migrating and filling the bench database ...", flush=True)
    django_start(args)
    from django.test import Client
    from django.utils import timezone

    from consultations.selectors import slots_for_range
    from core.business_time import BUSINESS_TZ

    now = timezone.now()
    first = now.astimezone(BUSINESS_TZ).date() + timedelta(days=1)
    last = first + timedelta(days=args.days - 1)
    facts = populate(advisors=args.advisors, first=first, days=args.days)

    def selector() -> Any:
        return slots_for_range(date_from=first, date_to=last, kind="career", now=timezone.now())

    client = Client()
    query = {"from": first.isoformat(), "to": last.isoformat(), "kind": "career"}

    def endpoint() -> Any:
        response = client.get("/api/v1/consultations/slots/", query)
        if response.status_code != 200:
            raise SystemExit(f"GET /api/v1/consultations/slots/ answered {response.status_code}")
        return response.json()["slots"]

    print("Measuring ...", flush=True)
    selector_queries, slots = queries_of(selector)
    endpoint_queries, listed = queries_of(endpoint)
    rows = [
        row(
            "slots_for_range (selector)",
            timed(selector, runs=args.runs, warmup=args.warmup),
            selector_queries,
            len(slots),
        ),
        row(
            "GET /api/v1/consultations/slots/ (test client)",
            timed(endpoint, runs=args.runs, warmup=args.warmup),
            endpoint_queries,
            len(listed),
        ),
    ]
    info = machine()
    text = "\n".join(
        [
            f"Run {started}: {facts['advisors']} advisors, {args.days} days ({first} to {last}, "
            "kind career), "
            f"{facts['bookings']} booked consultations and {facts['overrides']} overrides in the range; "
            f"{args.runs} timed calls per target after {args.warmup} warm-up calls.",
            f"Machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
            f"PostgreSQL {postgres_version(args.database_url)}; load average (1, 5, 15 min) before: "
            f"{load_before}, after: {info['load']}.",
            "",
            "| target | calls | median (ms) | p95 (ms) | max (ms) | queries | slots "
            f"| p95 < {TARGET_MS:.0f} ms and <= {TARGET_QUERIES} queries |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *rows,
        ]
    )
    print("\n" + text)
    output = write_output("slots", text)
    print(f"\nWritten to {output.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
