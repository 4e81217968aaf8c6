"""Delivering webhooks with a dead receiver among them: 10,000 events to 10 endpoints on
loopback, one of which never answers, 2 worker processes.

    flock -x /tmp/urakata-heavy.lock .venv/bin/python -m bench.webhooks \\
        [--events 10000] [--endpoints 10] [--workers 2] [--naive-seconds 30]

Target: the nine healthy endpoints get all their events at >= 500 deliveries/s, with a p99
lateness (arrival at the receiver minus the event's creation) under 30 s, despite the dead
one. WEBHOOK_TIMEOUT stays at its 15 s, WEBHOOK_THREADS and WEBHOOK_ENDPOINT_CONCURRENCY at
their defaults (16 and 4).

What it does, self-contained and bounded (every subprocess is stopped on every exit path):

1. recreates the PostgreSQL database ``urakata_bench16`` and migrates it (bench.settings:
   the test settings, DEBUG off, loopback receivers allowed over http);
2. starts its own ``redis-server`` on a free port (never the shared 6379) and the receivers
   (bench.webhook_receivers, a process of their own: one asyncio server per endpoint,
   verifying every signature with ``standardwebhooks``);
3. per scenario, "one dead" (one endpoint reads each request and never answers) and
   "all healthy" (the baseline): 10 partners with one endpoint each and ``--events`` events
   written by the real service (``webhook_events_emit``), partners in turn, 1,000 each, not
   due yet; ``--workers`` ``celery worker --pool=solo`` processes; at t0 every event is
   created and due now (one UPDATE) and one ``webhooks_dispatch_task`` is published, as
   beat's tick does; waits until the healthy endpoints' deliveries have all succeeded,
   then reads the receivers' arrival times: throughput = healthy deliveries / (last
   arrival - t0), lateness = arrival - t0;
4. a naive serial sender as a second baseline, on the "one dead" data again for
   ``--naive-seconds``: one request at a time in creation order, each with the 15 s
   timeout, its row marked after each answer. What it sends in that time is reported.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.common import ROOT, free_port, machine_line, percentile, process_cpu, recreate_database
from bench.reminders import start_redis, wait_for

PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/urakata_bench16"
SUBPROCESS_TIMEOUT = 300  # seconds
DRAIN_TIMEOUT = 300  # seconds


def seed(*, events: int, ports: list[int], dead: int | None) -> dict[int, dict[str, object]]:
    """Partners, their endpoints and the events (due tomorrow); {port: secret, dead}."""
    from django.utils import timezone

    from leads.models import Partner, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
    from leads.partners.keys import partner_create
    from leads.partners.webhooks import EventSpec, webhook_endpoint_create, webhook_events_emit

    WebhookAttempt.objects.all().delete()
    WebhookDelivery.objects.all().delete()
    WebhookEvent.objects.all().delete()
    WebhookEndpoint.objects.all().delete()
    Partner.objects.filter(slug__startswith="bench-hooks-").delete()
    receivers: dict[int, dict[str, object]] = {}
    partner_ids = []
    for n, port in enumerate(ports):
        partner = partner_create(slug=f"bench-hooks-{n}", name=f"Bench hooks {n}")
        _endpoint, secret = webhook_endpoint_create(
            partner_id=partner.pk, url=f"http://127.0.0.1:{port}/hooks"
        )
        receivers[port] = {"secret": secret, "dead": n == dead}
        partner_ids.append(partner.pk)
    later = timezone.now() + timedelta(days=1)  # nothing due before t0
    chunk = 1000
    for offset in range(0, events, chunk):
        webhook_events_emit(
            (
                EventSpec(
                    partner_id=partner_ids[i % len(partner_ids)],  # partners in turn
                    type="lead.status_changed",
                    data={
                        "id": f"00000000-0000-4000-8000-{i:012d}",
                        "external_id": f"bench-{i}",
                        "status": "contacted",
                        "status_changed_at": later.isoformat(),
                    },
                )
                for i in range(offset, min(offset + chunk, events))
            ),
            at=later,
        )
    return receivers


def make_due(conn: psycopg.Connection[Any]) -> datetime:
    """t0: every event created now, every delivery due now, in one transaction."""
    with conn.transaction():
        row = conn.execute("SELECT now()").fetchone()
        assert row is not None
        conn.execute("UPDATE leads_webhookevent SET created_at = now()")
        conn.execute("UPDATE leads_webhookdelivery SET created_at = now(), due_at = now()")
    t0: datetime = row[0]
    return t0


def start_receivers(
    tmp: Path, receivers: dict[int, dict[str, object]], name: str
) -> tuple[subprocess.Popen[bytes], Path]:
    secrets = tmp / f"{name}-secrets.json"
    secrets.write_text(json.dumps({str(port): spec for port, spec in receivers.items()}))
    log = tmp / f"{name}-receipts.log"
    out = tmp / f"{name}-receivers.out"
    process = subprocess.Popen(
        [PYTHON, "-m", "bench.webhook_receivers", "--secrets", str(secrets), "--log", str(log)],
        cwd=ROOT,
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: "listening" in out.read_text(), timeout=30, what="the receivers")
    return process, log


def stop_receivers(process: subprocess.Popen[bytes], log: Path) -> list[tuple[int, str, float, int]]:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    rows = []
    for line in log.read_text().splitlines():
        port, webhook_id, at, verified = line.split()
        rows.append((int(port), webhook_id, float(at), int(verified)))
    return rows


def start_workers(tmp: Path, env: dict[str, str], count: int, name: str) -> list[subprocess.Popen[bytes]]:
    logs, workers = [], []
    for i in range(count):
        log = tmp / f"{name}-worker{i}.log"
        logs.append(log)
        workers.append(
            subprocess.Popen(
                [
                    PYTHON, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                    f"--hostname=w{i}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    wait_for(
        lambda: all(" ready." in log.read_text(errors="replace") for log in logs),
        timeout=120,
        what="the workers",
    )
    return workers


def healthy_count(conn: psycopg.Connection[Any], ports: set[int], state: str | None = None) -> int:
    """The deliveries to the healthy endpoints (in ``state``)."""
    row = conn.execute(
        "SELECT count(*) FROM leads_webhookdelivery d JOIN leads_webhookendpoint e ON e.id = d.endpoint_id"
        " WHERE e.url = ANY(%s) AND (%s::text IS NULL OR d.state = %s)",
        ([f"http://127.0.0.1:{port}/hooks" for port in ports], state, state),
    ).fetchone()
    assert row is not None
    return int(row[0])


def kill(processes: list[subprocess.Popen[bytes]]) -> None:
    """The measurement is over: the runs still waiting on the dead receiver are not."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)


def scenario(
    name: str, *, args: argparse.Namespace, env: dict[str, str], tmp: Path, redis_port: int, dead: int | None
) -> dict[str, Any]:
    import redis

    from leads.tasks import webhooks_dispatch_task

    redis.Redis(port=redis_port).flushall()  # no dispatcher slot left from a previous scenario
    ports = [free_port() for _ in range(args.endpoints)]
    started = time.monotonic()
    receivers = seed(events=args.events, ports=ports, dead=dead)
    print(f"   {name}: seeded {args.events:,} events in {time.monotonic() - started:.1f} s", flush=True)
    healthy_ports = {port for port, spec in receivers.items() if not spec["dead"]}
    receiver_process, receipts_log = start_receivers(tmp, receivers, name)
    workers = start_workers(tmp, env, args.workers, name)
    try:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            healthy_total = healthy_count(conn, healthy_ports)
            cpu_before = [process_cpu(w.pid) for w in workers]
            load_before = os.getloadavg()[0]
            t0 = make_due(conn)
            webhooks_dispatch_task.apply_async()  # beat's tick
            while True:
                done = healthy_count(conn, healthy_ports, state="succeeded")
                elapsed = (datetime.now(UTC) - t0).total_seconds()
                print(
                    f"   {elapsed:6.1f} s: {done:,} of {healthy_total:,} healthy deliveries succeeded",
                    flush=True,
                )
                if done == healthy_total:
                    break
                if elapsed > DRAIN_TIMEOUT:
                    raise SystemExit(f"Not delivered after {DRAIN_TIMEOUT} s.")
                time.sleep(1)
            cpu = [process_cpu(w.pid) - before for w, before in zip(workers, cpu_before, strict=True)]
            load_after = os.getloadavg()[0]
    finally:
        kill(workers)
        receipts = stop_receivers(receiver_process, receipts_log)
    healthy = [r for r in receipts if r[0] in healthy_ports]
    copies = Counter(webhook_id for _port, webhook_id, _at, _v in healthy)
    first: dict[str, float] = {}
    for _port, webhook_id, at, _verified in healthy:
        first[webhook_id] = min(at, first.get(webhook_id, at))
    lateness = sorted(at - t0.timestamp() for at in first.values())
    drain = lateness[-1]
    return {
        "name": name,
        "healthy": len(first),
        "expected": healthy_total,
        "duplicates": sum(copies.values()) - len(copies),
        "unverified": sum(1 for r in receipts if not r[3]),
        "dead_requests": len(receipts) - len(healthy),
        "drain": drain,
        "rate": len(first) / drain,
        "p50": percentile(lateness, 0.50),
        "p95": percentile(lateness, 0.95),
        "p99": percentile(lateness, 0.99),
        "max": lateness[-1],
        "cpu": cpu,
        "load": (load_before, load_after),
    }


def naive(*, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One request at a time, in creation order, 15 s timeout, the row marked after each."""
    import urllib3
    from django.conf import settings
    from django.utils import timezone

    from leads.models import WebhookDelivery
    from leads.partners.webhooks import webhook_signature

    ports = [free_port() for _ in range(args.endpoints)]
    receivers = seed(events=args.events, ports=ports, dead=0)
    receiver_process, receipts_log = start_receivers(tmp, receivers, "naive")
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT))
    sent = healthy = timeouts = 0
    try:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            t0 = make_due(conn)
        deadline = time.monotonic() + args.naive_seconds
        deliveries = WebhookDelivery.objects.select_related("event", "endpoint").order_by("created_at", "id")
        for delivery in deliveries.iterator(chunk_size=500):
            if time.monotonic() >= deadline:
                break
            now = timezone.now()
            event, endpoint = delivery.event, delivery.endpoint
            headers = {
                "Content-Type": "application/json",
                "webhook-id": event.webhook_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": webhook_signature(
                    endpoint, webhook_id=event.webhook_id, at=now, body=event.body
                ),
            }
            sent += 1
            try:
                response = http.request("POST", endpoint.url, body=event.body.encode(), headers=headers)
            except urllib3.exceptions.TimeoutError:
                timeouts += 1
                continue
            if 200 <= response.status < 300:
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    state="succeeded", delivered_at=timezone.now()
                )
                healthy += 1
        elapsed = (datetime.now(UTC) - t0).total_seconds()
    finally:
        stop_receivers(receiver_process, receipts_log)
    return {"sent": sent, "healthy": healthy, "timeouts": timeouts, "elapsed": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--naive-seconds", type=float, default=30.0)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--skip-baselines", action="store_true", help="only the scenario with the dead endpoint"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        redis_process, redis_port = start_redis(tmp)
        processes.append(redis_process)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/1",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "LOG_LEVEL": "WARNING",
            "VAR_DIR": str(tmp),
            "PYTHONPATH": str(ROOT),
        }
        os.environ.update(env)
        name = urllib.parse.urlparse(args.database_url).path.lstrip("/")
        print(f"1. recreating {name} and migrating", flush=True)
        recreate_database(args.database_url)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True,
            timeout=SUBPROCESS_TIMEOUT,
        )  # fmt: skip
        import django

        django.setup()
        from django.conf import settings

        from leads.partners import webhooks

        webhooks._kick[:] = []  # the bench publishes the run itself, at t0

        results = []
        print("2. one endpoint dead", flush=True)
        results.append(scenario("one dead", args=args, env=env, tmp=tmp, redis_port=redis_port, dead=0))
        naive_result = None
        if not args.skip_baselines:
            print("3. baseline: all ten healthy", flush=True)
            results.append(
                scenario("all healthy", args=args, env=env, tmp=tmp, redis_port=redis_port, dead=None)
            )
            print(f"4. baseline: a naive serial sender for {args.naive_seconds:g} s, one dead", flush=True)
            naive_result = naive(args=args, tmp=tmp)

        lines = [
            f"Webhooks delivered, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine_line(args.database_url)}",
            f"{args.events:,} events to {args.endpoints} endpoints (one each), "
            f"{args.workers} worker processes, "
            f"WEBHOOK_TIMEOUT {settings.WEBHOOK_TIMEOUT:g} s, WEBHOOK_THREADS {settings.WEBHOOK_THREADS}, "
            f"WEBHOOK_ENDPOINT_CONCURRENCY {settings.WEBHOOK_ENDPOINT_CONCURRENCY}",
            "",
            "| scenario | healthy delivered | deliveries/s | lateness p50 (s) | p95 (s) | p99 (s) | max (s) "
            "| second copies | unverified | requests to the dead one | worker CPU (s) | load at t0, end |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        lines.extend(
            f"| {r['name']} | {r['healthy']:,} of {r['expected']:,} | {r['rate']:,.0f} | {r['p50']:.1f} "
            f"| {r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['duplicates']} | {r['unverified']} "
            f"| {r['dead_requests']} | {' + '.join(f'{c:.1f}' for c in r['cpu'])} "
            f"| {r['load'][0]:.1f}, {r['load'][1]:.1f} |"
            for r in results
        )
        if naive_result:
            n = naive_result
            lines += [
                "",
                f"Naive serial sender, one dead: {n['sent']:,} requests in {n['elapsed']:.1f} s, "
                f"{n['healthy']:,} healthy delivered ({n['healthy'] / n['elapsed']:.1f}/s), "
                f"{n['timeouts']} timed out.",
            ]
        target = results[0]
        met_rate = target["rate"] >= 500 and target["healthy"] == target["expected"]
        lines += [
            "",
            f"Target >= 500 deliveries/s to the nine healthy: {'met' if met_rate else 'NOT met'}; "
            f"p99 lateness < 30 s: {'met' if target['p99'] < 30 else 'NOT met'}.",
        ]
        report = "\n".join(lines)
        print("\n" + report)
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / f"webhooks-{datetime.now(UTC):%Y%m%d-%H%M%S}.md").write_text(report + "\n")
    finally:
        kill(processes)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
