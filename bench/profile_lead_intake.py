"""Where the time of one POST /api/v1/leads/ goes: the WSGI application called in this
process (no HTTP, no gunicorn, one request at a time), so that only the server's own work
is measured.

    .venv/bin/python -m bench.profile_lead_intake [--requests 300] [--rounds 3] [--top 30]

It recreates the bench database (bench.lead_intake.prepare), then times each target in
alternating rounds and prints the wall time per request, the CPU time per request of this
process and of its PostgreSQL backend (read from /proc: unlike wall time it hardly depends
on what else runs on the machine), the SQL statements per request and the time spent in them
(measured around each statement with a connection execute_wrapper; a COMMIT is not a
statement there), then each piece of our request on its own, and finally a cProfile of our
endpoint by CPU time (waits on PostgreSQL do not count), sorted by cumulative and own time.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import process_cpu
from bench.lead_intake import (
    DEFAULT_BROKER_URL,
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    NAIVE_PATH,
    OURS_PATH,
    naive_body,
    ours_body,
    prepare,
)


class SqlClock:
    """A connection execute_wrapper: how many statements ran and how long they took."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


def backend_pid() -> int:
    """The PostgreSQL backend serving this process's connection (CONN_MAX_AGE keeps it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
    return pid


def environ(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def components(*, key: str, requests: int, first: int) -> list[tuple[str, float]]:
    """Median wall time (ms) of each piece of our request called on its own, `requests`
    times, so that their costs can be compared without the profiler's overhead."""

    from bench.views import NaiveLeadSerializer
    from core.tasks import outbox_sweep_task
    from leads.intake.apis import _lead_input  # how the view turns validated data into a LeadInput
    from leads.intake.quick_check import lead_create_input_quick
    from leads.intake.serializers import LeadCreateInputSerializer
    from leads.intake.services import lead_ingest
    from leads.intake.tokens import booking_token_for
    from leads.models import Partner
    from leads.partners.keys import api_key_mark_used
    from leads.partners.selectors import partner_for_api_key
    from roles.selectors import role_slugs_active

    partner = Partner.objects.get()
    api_key = partner_for_api_key(raw_key=key)
    assert api_key is not None
    numbers = iter(range(first, first + 10 * requests))

    def validated() -> Any:
        raw = json.loads(ours_body(next(numbers)))
        serializer = LeadCreateInputSerializer(data=raw)
        serializer.is_valid(raise_exception=True)
        return _lead_input(serializer.validated_data, raw)

    inputs = [validated() for _ in range(requests)]
    naive_raw = [json.loads(naive_body(next(numbers))) for _ in range(requests)]
    ours_raw = [json.loads(ours_body(next(numbers))) for _ in range(requests)]

    def ingest(i: int) -> None:  # as the view calls it without an Idempotency-Key: atomic on its own
        lead_ingest(partner=partner, data=inputs[i])

    def naive_create(i: int) -> None:
        serializer = NaiveLeadSerializer(data=naive_raw[i])
        serializer.is_valid(raise_exception=True)
        serializer.save(raw_payload=naive_raw[i])

    def quick(i: int) -> None:
        assert lead_create_input_quick(ours_raw[i]) is not None

    def validate(i: int) -> None:
        LeadCreateInputSerializer(data=ours_raw[i]).is_valid(raise_exception=True)

    pieces: list[tuple[str, Callable[[int], object]]] = [
        ("auth: API key lookup (1 prepared SELECT)", lambda _: partner_for_api_key(raw_key=key)),
        (
            "auth: last-use mark (Redis SET through Django's cache)",
            lambda _: api_key_mark_used(api_key_id=api_key.pk),
        ),
        ("validation as the view runs it: lead_create_input_quick", quick),
        ("validation by the serializer (bodies the quick check declines)", validate),
        ("  of which the role slugs (Redis GET through Django's cache)", lambda _: role_slugs_active()),
        ("intake: lead_ingest (one autocommitted statement), the Celery kick included", ingest),
        (
            "  of which the kick: outbox_sweep_task.apply_async (Redis)",
            lambda _: outbox_sweep_task.apply_async(retry=False),
        ),
        ("response: booking token (signing)", lambda _: booking_token_for(lead_id=uuid.uuid4())),
        ("naive: ModelSerializer is_valid + save + COMMIT", naive_create),
    ]
    results = []
    for label, piece in pieces:
        durations = []
        for i in range(requests):
            start = time.perf_counter()
            piece(i)
            durations.append(time.perf_counter() - start)
        results.append((label, statistics.median(durations) * 1000))
    return results


@dataclass
class Timing:
    requests: int = 0
    durations: list[float] = field(default_factory=list)
    cpu: float = 0.0
    backend_cpu: float = 0.0
    statements: int = 0
    sql_seconds: float = 0.0

    def add(self, other: "Timing") -> None:
        self.requests += other.requests
        self.durations += other.durations
        self.cpu += other.cpu
        self.backend_cpu += other.backend_cpu
        self.statements += other.statements
        self.sql_seconds += other.sql_seconds

    def __str__(self) -> str:
        n = self.requests
        return (
            f"{statistics.fmean(self.durations) * 1000:.2f} ms/request "
            f"(median {statistics.median(self.durations) * 1000:.2f}), "
            f"CPU {self.cpu / n * 1000:.2f} ms/request (this process and its PostgreSQL backend; "
            f"the backend {self.backend_cpu / n * 1000:.2f}), "
            f"{self.statements / n:.1f} SQL statements/request taking {self.sql_seconds / n * 1000:.2f} ms"
        )


def time_requests(
    call: Callable[[str, bytes, dict[str, str]], None],
    path: str,
    body: Callable[[int], bytes],
    headers: Callable[[int], dict[str, str]],
    numbers: range,
) -> Timing:
    """Wall time of each request, SQL statements, and the CPU of this process plus its
    PostgreSQL backend (which, unlike wall time, hardly depends on the neighbours)."""
    from django.db import connection

    clock = SqlClock()
    timing = Timing(requests=len(numbers))
    backend = backend_pid()
    own_start, backend_start = time.process_time(), process_cpu(backend)
    with connection.execute_wrapper(clock):
        for n in numbers:
            start = time.perf_counter()
            call(path, body(n), headers(n))
            timing.durations.append(time.perf_counter() - start)
    timing.backend_cpu = process_cpu(backend) - backend_start
    timing.cpu = time.process_time() - own_start + timing.backend_cpu
    timing.statements, timing.sql_seconds = clock.count, clock.seconds
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="requests per target (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--top", type=int, default=30, help="profile lines to print (default 30)")
    parser.add_argument(
        "--save", help="also write the raw cProfile stats to this file (for pstats, snakeviz)"
    )
    parser.add_argument(
        "--sql",
        action="append",
        default=[],
        help="a statement to run on the bench database before measuring, e.g. to weigh an index by "
        "dropping it (repeatable)",
    )
    args = parser.parse_args()
    setup = argparse.Namespace(
        database_url=DEFAULT_DATABASE_URL, redis_url=DEFAULT_REDIS_URL, broker_url=DEFAULT_BROKER_URL
    )
    key = prepare(setup)
    if args.sql:
        import psycopg

        with psycopg.connect(DEFAULT_DATABASE_URL, autocommit=True) as conn:
            for statement in args.sql:
                conn.execute(statement)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=DEFAULT_DATABASE_URL,
        REDIS_URL=DEFAULT_REDIS_URL,
        CELERY_BROKER_URL=DEFAULT_BROKER_URL,
        LOG_LEVEL="WARNING",
    )
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return None

    def call(path: str, body: bytes, headers: dict[str, str]) -> None:
        response = application(environ(path, body, headers), start_response)
        b"".join(response)
        response.close()  # request_finished: on_commit, connection upkeep

    ours_headers = {"Authorization": f"Bearer {key}"}
    targets = [
        ("ours", OURS_PATH, ours_body, lambda _: ours_headers),
        (
            "ours + Idempotency-Key",
            OURS_PATH,
            ours_body,
            lambda n: {**ours_headers, "Idempotency-Key": f"p-{n}"},
        ),
        ("naive", NAIVE_PATH, naive_body, lambda _: {}),
    ]
    base = 0
    for _name, path, body, headers in targets:  # warm-up: imports, caches, connections
        for n in range(base, base + 30):
            call(path, body(n), headers(n))
        base += 30
    # Rounds in alternating order (A B C, C B A, ...), as bench.lead_intake does, so that a
    # neighbour's burst of work does not land on one target only.
    totals = {name: Timing() for name, *_ in targets}
    per_round = max(1, args.requests // args.rounds)
    for index in range(args.rounds):
        for name, path, body, headers in targets if index % 2 == 0 else targets[::-1]:
            totals[name].add(time_requests(call, path, body, headers, range(base, base + per_round)))
            base += per_round
    for name, timing in totals.items():
        print(f"{name}: {timing}")
    print(f"statuses: {sorted(set(statuses))}")

    print("\nPieces of our request, each on its own (median ms):")
    for label, ms in components(key=key, requests=args.requests, first=base):
        print(f"  {ms:6.2f}  {label}")
    base += 10 * args.requests

    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: waits on PostgreSQL do not count
    profiler.enable()
    for n in range(base, base + args.requests):
        call(OURS_PATH, ours_body(n), ours_headers)
    profiler.disable()
    if args.save:
        profiler.dump_stats(args.save)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(args.top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
