"""Matching in the database against matching in Python.

    .venv/bin/python -m bench.matching [--database-url postgres://...] [--runs 20]

1. drops and recreates the PostgreSQL database (its name must start with urakata_bench),
   migrates it with bench.settings and fills it with ``bulk_create`` in batches: 10,000
   open postings (plus 500 closed ones that must stay out) with required and preferred
   certifications, and 100,000 candidates (plus closed and placed ones) with desired roles,
   prefectures, intake certification codes and held / studying certification records;
2. times ``postings_for_candidate`` (one candidate over the open postings) and
   ``candidates_for_posting`` (one posting over the open candidates): warm-up, then
   ``--runs`` runs each, median and p95, and the number of queries;
3. times the naive baseline, the same ranking done in Python (load every row with its
   certifications, score each in a loop, sort), and checks that both rank the same scores;
4. times ``candidates_for_posting`` as it was before the pre-filter on the wanted role
   (every open candidate scored: ``_wants_role_if`` replaced by "everyone" for the run), the
   baseline the pre-filter is measured against in the same run;
5. times it for a posting of a role nobody wants, where the pre-filter cannot decide and
   every open candidate is scored (the worst case; its ranking is checked against the
   naive loop too).

The project's settings turn PostgreSQL's JIT off (config/settings/base.py), so every row
here runs without it.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import ROOT, machine_line, recreate_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/urakata_bench_matching"
BATCH = 5_000
SEED = 20260501


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- data ------------------------------------------------------------------------------------


def fill(*, postings: int, candidates: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from leads.models import Candidate, CandidateCertification
    from roles.models import Certification, Employer, JobPosting, Role

    rnd = random.Random(SEED)
    roles = list(Role.objects.all())
    certifications = list(Certification.objects.all())
    codes = [c.code for c in certifications]
    places = [f"{n:02d}" for n in range(1, 48)]
    busy_places = ["13", "14", "27", "23", "11", "12", "40"]  # where most desk jobs are
    Employer.objects.bulk_create(
        [Employer(name=f"ベンチ商事{n}株式会社", fee_rate_percent=30) for n in range(300)], batch_size=BATCH
    )
    employer_ids = list(Employer.objects.values_list("pk", flat=True))

    def posting(status: str) -> JobPosting:
        low = rnd.randrange(2_600_000, 5_000_000, 100_000)
        return JobPosting(
            employer_id=rnd.choice(employer_ids),
            role=rnd.choice(roles),
            title="事務スタッフ",
            description="受発注データの入力を担当します。",
            prefecture=rnd.choice(busy_places) if rnd.random() < 0.7 else rnd.choice(places),
            remote=rnd.choice(["none", "none", "partial", "full"]),
            salary_min=low,
            salary_max=low + rnd.randrange(0, 2_000_000, 100_000),
            inexperienced_welcome=rnd.random() < 0.5,
            experience_preferred=rnd.random() < 0.3,
            weekends_holidays_off=rnd.random() < 0.7,
            avg_monthly_overtime_hours=rnd.choice([None, 0, 5, 10, 20, 30, 45]),
            status=status,
        )

    rows = [posting("open") for _ in range(postings)] + [posting("closed") for _ in range(500)]
    JobPosting.objects.bulk_create(rows, batch_size=BATCH)
    required_through = JobPosting.required_certifications.through
    preferred_through = JobPosting.preferred_certifications.through
    required, preferred = [], []
    for p in JobPosting.objects.values_list("pk", flat=True):
        picked = rnd.sample(certifications, 3)
        if rnd.random() < 0.3:
            required.append(required_through(jobposting_id=p, certification_id=picked[0].pk))
        preferred += [
            preferred_through(jobposting_id=p, certification_id=c.pk)
            for c in picked[1 : 1 + rnd.randrange(3)]
        ]
    required_through.objects.bulk_create(required, batch_size=BATCH)
    preferred_through.objects.bulk_create(preferred, batch_size=BATCH)

    now = timezone.now()
    people = []
    for n in range(candidates + 2_000):
        closed = n >= candidates and n % 2 == 0
        people.append(
            Candidate(
                family_name="佐藤",
                given_name=f"花子{n}",
                email=f"bench{n}@example.com",
                partner_status_changed_at=now,
                prefecture=rnd.choice(places),
                desired_roles=rnd.sample([r.slug for r in roles], rnd.randrange(0, 3)),
                desired_prefectures=rnd.sample(busy_places, rnd.randrange(0, 3)),
                certifications=rnd.sample(codes, rnd.choice([0, 0, 0, 1, 2])),
                has_desk_experience=rnd.random() < 0.2,
                min_annual_salary=rnd.choice([None, 2_800_000, 3_200_000, 3_600_000, 4_000_000]),
                wants_weekends_off=rnd.random() < 0.6,
                max_overtime_hours=rnd.choice([None, 10, 20, 30]),
                remote_wish=rnd.choice(["none", "none", "partial", "full"]),
                stage="placed" if n >= candidates and not closed else "new",
                is_closed=closed,
                closed_reason="not_interested" if closed else "",
            )
        )
    Candidate.objects.bulk_create(people, batch_size=BATCH)
    records = []
    for pk in Candidate.objects.values_list("pk", flat=True):
        if rnd.random() < 0.25:
            records += [
                CandidateCertification(
                    candidate_id=pk, certification_id=c.pk, status=rnd.choice(["held", "held", "studying"])
                )
                for c in rnd.sample(certifications, rnd.randrange(1, 3))
            ]
    CandidateCertification.objects.bulk_create(records, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- the naive baseline: the same ranking, in Python --------------------------------------


def naive_postings_for_candidate(*, candidate: Any, limit: int = 20) -> list[tuple[int, int]]:
    from leads.models import CandidateCertification
    from leads.placements.matching_rules import (
        EXPERIENCE_PREFERRED_PENALTY,
        PREFERRED_CERTIFICATION_WEIGHT,
        WEIGHTS,
        wished_places,
    )
    from roles.models import Certification, JobPosting

    held = {c.pk for c in Certification.objects.filter(code__in=candidate.certifications)}
    held |= set(
        CandidateCertification.objects.filter(candidate=candidate, status="held").values_list(
            "certification_id", flat=True
        )
    )
    places = set(wished_places(candidate))
    scored = []
    postings = JobPosting.objects.filter(status="open").select_related("role", "employer")
    for p in postings.prefetch_related("required_certifications", "preferred_certifications"):
        met = {
            "role": p.role.slug in candidate.desired_roles,
            "location": p.prefecture in places or (candidate.remote_wish != "none" and p.remote == "full"),
            "required_certifications": all(c.pk in held for c in p.required_certifications.all()),
            "experience": candidate.has_desk_experience or p.inexperienced_welcome,
            "salary": candidate.min_annual_salary is None or p.salary_max >= candidate.min_annual_salary,
            "weekends": not candidate.wants_weekends_off or p.weekends_holidays_off,
            "overtime": candidate.max_overtime_hours is None
            or (
                p.avg_monthly_overtime_hours is not None
                and p.avg_monthly_overtime_hours <= candidate.max_overtime_hours
            ),
        }
        score = sum(w for k, w in WEIGHTS.items() if met[k])
        score += PREFERRED_CERTIFICATION_WEIGHT * sum(c.pk in held for c in p.preferred_certifications.all())
        if p.experience_preferred and not candidate.has_desk_experience:
            score += EXPERIENCE_PREFERRED_PENALTY
        scored.append((score, p.created_at, p.pk))
    scored.sort(reverse=True)
    return [(s, pk) for s, _, pk in scored[:limit]]


def _holds(held: set[Any], certification: Any) -> bool:
    return certification.code in held or certification.pk in held


def naive_candidates_for_posting(*, posting: Any, limit: int = 20) -> list[tuple[int, Any]]:
    from leads.models import Candidate
    from leads.placements.matching_rules import (
        EXPERIENCE_PREFERRED_PENALTY,
        PREFERRED_CERTIFICATION_WEIGHT,
        WEIGHTS,
        wished_places,
    )

    required = list(posting.required_certifications.all())
    preferred = list(posting.preferred_certifications.all())
    scored = []
    candidates = Candidate.objects.filter(is_closed=False).exclude(stage="placed").select_related("advisor")
    for c in candidates.prefetch_related("certification_records"):
        held = set(c.certifications) | {
            r.certification_id for r in c.certification_records.all() if r.status == "held"
        }
        overtime = posting.avg_monthly_overtime_hours
        met = {
            "role": posting.role.slug in c.desired_roles,
            "location": posting.prefecture in wished_places(c)
            or (posting.remote == "full" and c.remote_wish != "none"),
            "required_certifications": all(_holds(held, cert) for cert in required),
            "experience": c.has_desk_experience or posting.inexperienced_welcome,
            "salary": c.min_annual_salary is None or posting.salary_max >= c.min_annual_salary,
            "weekends": not c.wants_weekends_off or posting.weekends_holidays_off,
            "overtime": c.max_overtime_hours is None
            or (overtime is not None and overtime <= c.max_overtime_hours),
        }
        score = sum(w for k, w in WEIGHTS.items() if met[k])
        score += PREFERRED_CERTIFICATION_WEIGHT * sum(_holds(held, cert) for cert in preferred)
        if posting.experience_preferred and not c.has_desk_experience:
            score += EXPERIENCE_PREFERRED_PENALTY
        scored.append((score, c.created_at, c.pk))
    scored.sort(key=lambda row: (-row[0], -row[1].timestamp(), str(row[2])))
    return [(s, pk) for s, _, pk in scored[:limit]]


# --- timing ----------------------------------------------------------------------------------


def measure(fn: Callable[[], Any], *, runs: int, warmup: int = 2) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return {
        "median": statistics.median(times),
        "p95": p95,
        "queries": len(ctx.captured_queries),
        "result": result,
    }


def baseline_and_worst_case(*, posting: Any, ours: dict[str, Any], runs: int) -> tuple[dict[str, Any], ...]:
    """candidates_for_posting without the pre-filter on the wanted role (the baseline, which
    must rank the same scores), and for a posting of a role nobody wants (the worst case,
    checked against the naive loop)."""
    from django.db.models import Q

    from leads.placements import matching
    from leads.placements.matching import candidates_for_posting
    from roles.models import JobPosting, Role

    prefilter = matching._wants_role_if
    matching._wants_role_if = lambda condition, *, slug: Q()  # noqa: ARG005
    try:
        everyone = measure(lambda: candidates_for_posting(posting=posting), runs=runs)
    finally:
        matching._wants_role_if = prefilter
    assert [m.score for m in everyone["result"]] == [m.score for m in ours["result"]]

    nobody = Role.objects.create(
        slug="bench_nobody",
        name_ja="誰も希望しない職種",
        name_en="Nobody's role",
        summary="-",
        annual_salary_min=3_000_000,
        annual_salary_max=4_000_000,
    )
    unwanted = JobPosting.objects.get(pk=posting.pk)
    unwanted.pk, unwanted.role = None, nobody
    unwanted.save()
    unwanted.required_certifications.set(posting.required_certifications.all())
    unwanted.preferred_certifications.set(posting.preferred_certifications.all())
    unwanted = JobPosting.objects.select_related("role").get(pk=unwanted.pk)
    worst = measure(lambda: candidates_for_posting(posting=unwanted), runs=runs)
    naive_worst = measure(lambda: naive_candidates_for_posting(posting=unwanted), runs=1, warmup=0)
    assert [m.score for m in worst["result"]] == [score for score, _ in naive_worst["result"]], (
        "rankings differ"
    )
    return everyone, worst


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--postings", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--naive-runs", type=int, default=5)
    args = parser.parse_args()

    recreate_database(args.database_url)
    setup_django(args.database_url)
    started = time.perf_counter()
    fill(postings=args.postings, candidates=args.candidates)
    print(f"filled in {time.perf_counter() - started:.1f} s", flush=True)

    from leads.models import Candidate
    from leads.placements.matching import candidates_for_posting, postings_for_candidate
    from roles.models import JobPosting

    # A typical candidate and posting: a wish for a role, a place, certifications.
    candidate = (
        Candidate.objects.filter(is_closed=False, has_desk_experience=False)
        .exclude(desired_roles=[])
        .exclude(certifications=[])
        .exclude(desired_prefectures=[])
        .order_by("email")
        .first()
    )
    posting = (
        JobPosting.objects.select_related("role")
        .filter(status="open", required_certifications__isnull=False, preferred_certifications__isnull=False)
        .order_by("pk")
        .first()
    )
    assert candidate is not None
    assert posting is not None

    def ours() -> tuple[dict[str, Any], dict[str, Any]]:
        a = measure(lambda: postings_for_candidate(candidate=candidate), runs=args.runs)
        b = measure(lambda: candidates_for_posting(posting=posting), runs=args.runs)
        return a, b

    ours_postings, ours_candidates = ours()
    assert ours_postings["queries"] <= 5
    assert ours_candidates["queries"] <= 5
    naive_postings = measure(
        lambda: naive_postings_for_candidate(candidate=candidate), runs=args.naive_runs, warmup=1
    )
    naive_candidates = measure(
        lambda: naive_candidates_for_posting(posting=posting), runs=args.naive_runs, warmup=1
    )
    assert [m.score for m in ours_postings["result"]] == [s for s, _ in naive_postings["result"]], (
        "rankings differ"
    )
    assert [m.score for m in ours_candidates["result"]] == [s for s, _ in naive_candidates["result"]], (
        "rankings differ"
    )
    everyone, worst = baseline_and_worst_case(posting=posting, ours=ours_candidates, runs=args.runs)

    rows = [
        (f"postings_for_candidate, {args.postings:,} open postings (ours, {args.runs} runs)", ours_postings),
        (f"same, naive Python loop ({args.naive_runs} runs)", naive_postings),
        (
            f"candidates_for_posting, {args.candidates:,} open candidates (ours, {args.runs} runs)",
            ours_candidates,
        ),
        (f"same, naive Python loop ({args.naive_runs} runs)", naive_candidates),
        ("candidates_for_posting, baseline: every open candidate scored (no pre-filter)", everyone),
        ("candidates_for_posting, a role nobody wants: everyone scored (worst case)", worst),
    ]
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine_line(os.environ['DATABASE_URL'])}\n")
    print("| what | median ms | p95 ms | queries |\n| --- | ---: | ---: | ---: |")
    for label, r in rows:
        print(f"| {label} | {r['median']:.1f} | {r['p95']:.1f} | {r['queries']} |")
    print(
        f"\ngain: postings x{naive_postings['median'] / ours_postings['median']:.0f}, "
        f"candidates x{naive_candidates['median'] / ours_candidates['median']:.0f} (median); "
        f"pre-filter x{everyone['median'] / ours_candidates['median']:.1f} over scoring everyone"
    )


if __name__ == "__main__":
    main()
