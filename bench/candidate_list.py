"""The advisors' candidate list with 100,000 candidates.

    .venv/bin/python -m bench.candidate_list [--database-url postgres://...] [--runs 20]

Target: the admin candidate list renders in under 300 ms of server time with at most 12
queries, for an advisor and a manager, on the default ordering, a filter and a kana search.

1. drops and recreates the PostgreSQL database (its name must start with urakata_bench;
   default urakata_bench_workspace), migrates it with bench.settings and fills it with
   ``bulk_create`` in batches: 20 advisors and 2 managers, 10 partners, 100,000 candidates
   (common surnames weighted by frequency, kana readings, birth dates, prefectures, desired
   roles, every stage, a quarter closed, 90 % assigned), about 1.2 leads per candidate (80 %
   from partners; the first one credited), and follow-up tasks for a third of the assigned
   candidates (done, overdue and upcoming);
2. renders ``/admin/leads/candidate/`` in process with Django's test client (the whole
   request: middleware, session, the admin's queries and the template), logged in as an
   advisor and as a manager, for each scenario below: warm-up, then ``--runs`` runs each;
   prints the median, p95, the number of queries and the rows found, as a Markdown table;
3. the same again without the indexes of migration leads 0013 (trigram indexes for the
   search, stage + closed, lead partner + candidate), dropped for the pass and recreated
   afterwards, to show what they are for (skip with ``--skip-baseline``).

Server time is the test client's request time (no network, no gunicorn). "CPU ms" is the
mean CPU time per request of this process and its PostgreSQL backend: unlike the wall
time, it barely moves when other work loads the machine. The data is kept after the run
(the next run drops it; ``--keep`` measures it again without refilling).
"""

import argparse
import os
import random
import statistics
import sys
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT, machine_line, recreate_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/urakata_bench_workspace"
BATCH = 5_000
SEED = 20261124
TARGET_MS, TARGET_QUERIES = 300.0, 12

# (kanji, katakana reading, weight): the most common surnames, roughly by frequency.
SURNAMES = [
    ("佐藤", "サトウ", 19),
    ("鈴木", "スズキ", 18),
    ("高橋", "タカハシ", 14),
    ("田中", "タナカ", 13),
    ("伊藤", "イトウ", 11),
    ("渡辺", "ワタナベ", 11),
    ("山本", "ヤマモト", 11),
    ("中村", "ナカムラ", 10),
    ("小林", "コバヤシ", 10),
    ("加藤", "カトウ", 9),
    ("吉田", "ヨシダ", 8),
    ("山田", "ヤマダ", 8),
    ("佐々木", "ササキ", 7),
    ("山口", "ヤマグチ", 6),
    ("松本", "マツモト", 6),
    ("井上", "イノウエ", 5),
    ("木村", "キムラ", 5),
    ("林", "ハヤシ", 5),
    ("斎藤", "サイトウ", 5),
    ("清水", "シミズ", 5),
]
GIVEN = [
    ("翔太", "ショウタ"),
    ("陽菜", "ヒナ"),
    ("大輝", "ダイキ"),
    ("美咲", "ミサキ"),
    ("蓮", "レン"),
    ("さくら", "サクラ"),
    ("健太", "ケンタ"),
    ("愛", "アイ"),
    ("拓海", "タクミ"),
    ("結衣", "ユイ"),
    ("悠斗", "ユウト"),
    ("七海", "ナナミ"),
]
# (stage, weight) of the candidates, a quarter of the unplaced ones closed.
STAGES = [
    ("new", 15),
    ("contacting", 15),
    ("contacted", 20),
    ("consultation_booked", 10),
    ("consulted", 14),
    ("documents", 7),
    ("applying", 7),
    ("interviewing", 5),
    ("offered", 3),
    ("placed", 4),
]
CLOSED_REASONS = ["unreachable", "not_interested", "declined", "placed_elsewhere"]
BUSY_PLACES = ["13", "14", "27", "23", "11", "12", "40"]
ROLES = ["accounting", "hr", "general_affairs", "legal", "sales_admin", "general_admin"]
OCCUPATIONS = ["factory", "retail", "restaurant", "logistics", "care"]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # The admin touches the cache little; keep clear of the other benchmarks' Redis numbers.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/8")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- data ------------------------------------------------------------------------------------


def fill(*, candidates: int) -> dict[str, Any]:
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Groups, User
    from leads.models import Candidate, FollowUpTask, Lead, Partner

    rnd = random.Random(SEED)
    now = timezone.now()
    advisors_group = Group.objects.get(name=Groups.ADVISORS)
    managers_group = Group.objects.get(name=Groups.MANAGERS)
    advisors = []
    for n in range(20):
        user = User.objects.create_user(
            email=f"advisor{n}@bench.example", password=None, display_name=f"アドバイザー{n}", is_staff=True
        )
        user.groups.add(advisors_group)
        advisors.append(user)
    managers = []
    for n in range(2):
        user = User.objects.create_user(
            email=f"manager{n}@bench.example", password=None, display_name=f"マネージャー{n}", is_staff=True
        )
        user.groups.add(managers_group)
        managers.append(user)
    Partner.objects.bulk_create([Partner(slug=f"partner-{n}", name=f"求人メディア{n}") for n in range(10)])
    partner_ids = list(Partner.objects.values_list("pk", flat=True))

    surnames, weights = [s[:2] for s in SURNAMES], [s[2] for s in SURNAMES]
    stages, stage_weights = [s[0] for s in STAGES], [s[1] for s in STAGES]
    # Fill in the creation times as generated, not "now" (auto_now_add would overwrite them).
    created_field = Candidate._meta.get_field("created_at")
    created_field.auto_now_add = False
    people = []
    for n in range(candidates):
        family, family_kana = rnd.choices(surnames, weights)[0]
        given, given_kana = rnd.choice(GIVEN)
        stage = rnd.choices(stages, stage_weights)[0]
        phone = f"+8190{10_000_000 + n:08d}" if n % 10 not in (7, 8) else None
        closed = stage != "placed" and rnd.random() < 0.25
        created = now - timedelta(minutes=rnd.randrange(0, 2 * 365 * 24 * 60))
        people.append(
            Candidate(
                family_name=family,
                given_name=given,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
                email=None if phone and rnd.random() < 0.1 else f"bench{n}@example.com",
                phone=phone,
                birth_date=date(1995, 1, 1) + timedelta(days=rnd.randrange(0, 12 * 365)),
                prefecture=rnd.choice(BUSY_PLACES) if rnd.random() < 0.6 else f"{rnd.randrange(1, 48):02d}",
                current_occupation=rnd.choice(OCCUPATIONS),
                desired_roles=rnd.sample(ROLES, rnd.randrange(1, 3)),
                advisor=rnd.choice(advisors) if rnd.random() < 0.9 else None,
                stage=stage,
                is_closed=closed,
                closed_reason=rnd.choice(CLOSED_REASONS) if closed else "",
                partner_status="received",
                partner_status_changed_at=created,
                last_contacted_at=created + timedelta(hours=3)
                if stage not in ("new", "contacting")
                else None,
                created_at=created,
                updated_at=created,
            )
        )
    Candidate.objects.bulk_create(people, batch_size=BATCH)
    created_field.auto_now_add = True

    leads = []
    for person in people:
        for extra in range(2 if rnd.random() < 0.2 else 1):
            partner_id = rnd.choice(partner_ids) if rnd.random() < 0.8 else None
            leads.append(
                Lead(
                    partner_id=partner_id,
                    candidate_id=person.pk,
                    family_name=person.family_name,
                    given_name=person.given_name,
                    family_name_kana=person.family_name_kana,
                    given_name_kana=person.given_name_kana,
                    email=person.email,
                    phone=person.phone,
                    birth_date=person.birth_date,
                    prefecture=person.prefecture,
                    desired_roles=person.desired_roles,
                    consent_policy_version="2026-04",
                    consent_agreed_at=person.created_at,
                    consent_third_party_provision=True,
                    raw_payload={"family_name": person.family_name},
                    created_at=min(now, person.created_at + timedelta(days=30 * extra)),
                )
            )
    Lead.objects.bulk_create(leads, batch_size=BATCH)
    with connection.cursor() as cursor:
        # The first lead is credited (attribution), in one statement.
        cursor.execute(
            "UPDATE leads_candidate c SET credited_lead_id = l.id FROM ("
            " SELECT DISTINCT ON (candidate_id) id, candidate_id FROM leads_lead"
            " ORDER BY candidate_id, created_at) l WHERE l.candidate_id = c.id"
        )

    tasks = []
    for person in people:
        if person.advisor is None or rnd.random() >= 0.35:
            continue
        due = now + timedelta(hours=rnd.randrange(-24 * 20, 24 * 10))
        done = rnd.random() < 0.4
        tasks.append(
            FollowUpTask(
                candidate_id=person.pk,
                advisor=person.advisor,
                title="折り返し電話",
                due_at=due,
                done_at=due if done else None,
                source=rnd.choice(["manual", "contact_sla", "post_consultation"]),
            )
        )
    FollowUpTask.objects.bulk_create(tasks, batch_size=BATCH)
    with connection.cursor() as cursor:
        # As autovacuum would have done by then: statistics, and the GIN indexes' pending
        # lists (filled by the bulk inserts) merged into the indexes.
        cursor.execute("VACUUM ANALYZE")
    return {
        "advisor": advisors[0],
        "manager": managers[0],
        "candidates": Candidate.objects.count(),
        "leads": Lead.objects.count(),
        "tasks": FollowUpTask.objects.count(),
    }


# --- timing ----------------------------------------------------------------------------------


def measure(client: Any, params: dict[str, str], *, runs: int, warmup: int = 3) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get() -> Any:
        response = client.get("/admin/leads/candidate/", params)
        assert response.status_code == 200, response.status_code
        return response

    for _ in range(warmup):
        get()
    times = []
    cpu_before = _cpu_seconds()
    for _ in range(runs):
        start = time.perf_counter()
        get()
        times.append((time.perf_counter() - start) * 1000)
    cpu = (_cpu_seconds() - cpu_before) * 1000 / runs
    with CaptureQueriesContext(connection) as ctx:
        response = get()
    ordered = sorted(times)
    return {
        "median": statistics.median(times),
        "p95": ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)],
        "queries": len(ctx.captured_queries),
        "rows": response.context_data["cl"].result_count,
        "cpu": cpu,
    }


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _cpu_seconds() -> float:
    """CPU time used so far by this process and its PostgreSQL backend (same machine):
    what a request costs, whatever else the machine is doing. Parallel query workers, when
    PostgreSQL starts them, are not counted."""
    stat = Path(f"/proc/{_backend_pid()}/stat").read_text().rsplit(")", 1)[1].split()
    backend = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return time.process_time() + backend


INDEX_MIGRATION = "leads.migrations.0013_candidate_list_indexes"


def drop_list_indexes() -> None:
    import importlib

    from django.db import connection

    migration = importlib.import_module(INDEX_MIGRATION)
    with connection.schema_editor() as editor:
        migration.drop(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_candidate")
        cursor.execute("ANALYZE leads_lead")


def create_list_indexes() -> None:
    import importlib

    from django.db import connection

    migration = importlib.import_module(INDEX_MIGRATION)
    with connection.schema_editor() as editor:
        migration.add(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE leads_candidate")
        cursor.execute("VACUUM ANALYZE leads_lead")


SCENARIOS = [
    ("advisor", "default: own candidates, newest first", {}),
    ("advisor", "filter: overdue follow-up", {"overdue": "yes"}),
    ("advisor", "kana search やまだ (everyone's)", {"q": "やまだ", "advisor": "all"}),
    ("advisor", "phone search 090 1000 0123 (everyone's)", {"q": "090 1000 0123", "advisor": "all"}),
    ("manager", "default: everyone, newest first", {}),
    ("manager", "filter: stage contacting, open", {"stage__exact": "contacting", "is_closed__exact": "0"}),
    ("manager", "filter: partner and prefecture", {"partner": "PARTNER", "prefecture": "13"}),
    ("manager", "kana search やまだ さくら (two words)", {"q": "やまだ さくら"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse the filled database of a previous run")
    parser.add_argument("--skip-baseline", action="store_true", help="no pass without the 0013 indexes")
    args = parser.parse_args()

    started = time.perf_counter()
    if not args.keep:
        recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.test import Client

    from accounts.models import User
    from leads.models import Partner

    if args.keep:
        counts: dict[str, Any] = {
            "advisor": User.objects.get(email="advisor0@bench.example"),
            "manager": User.objects.get(email="manager0@bench.example"),
        }
    else:
        counts = fill(candidates=args.candidates)
    filled = time.perf_counter() - started
    partner = str(Partner.objects.order_by("pk").values_list("pk", flat=True)[0])

    clients = {}
    for role in ("advisor", "manager"):
        client = Client()  # Japanese, as advisors use it
        client.force_login(counts[role])
        clients[role] = client

    def run_all() -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
        results = []
        for role, label, template in SCENARIOS:
            params = {k: (partner if v == "PARTNER" else v) for k, v in template.items()}
            results.append((role, label, params, measure(clients[role], params, runs=args.runs)))
        return results

    passes = [("with the indexes of migration leads 0013 (as migrated)", run_all())]
    if not args.skip_baseline:
        drop_list_indexes()
        try:
            passes.append(("baseline: without the indexes of migration leads 0013", run_all()))
        finally:
            create_list_indexes()

    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine_line(args.database_url)}")
    if "candidates" in counts:
        print(
            f"data: {counts['candidates']:,} candidates, {counts['leads']:,} leads, "
            f"{counts['tasks']:,} follow-up tasks; generated and migrated in {filled:.0f} s"
        )
    print(f"runs: {args.runs} per scenario after 3 warm-ups")
    for title, results in passes:
        print(f"\n{title}\n")
        print("| who | scenario | query string | rows | median ms | p95 ms | CPU ms | queries | target met |")
        print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for role, label, params, r in results:
            query = urllib.parse.unquote(urllib.parse.urlencode(params)) or "-"
            met = r["p95"] < TARGET_MS and r["queries"] <= TARGET_QUERIES
            print(
                f"| {role} | {label} | `{query}` | {r['rows']:,} | {r['median']:.1f} | {r['p95']:.1f} | "
                f"{r['cpu']:.0f} | {r['queries']} | {'yes' if met else 'NO'} |"
            )


if __name__ == "__main__":
    main()
