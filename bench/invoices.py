"""Issuing invoices and rendering their PDFs.

    .venv/bin/python -m bench.invoices [--database-url postgres://...] [--invoices 10000]
        [--baseline 1000] [--pdfs 200]

1. drops and recreates the PostgreSQL database (its name must start with urakata_bench),
   migrates it with bench.settings and fills it with ``bulk_create``: one employer with fee
   terms, and ``--invoices`` + ``--baseline`` placements starting today, not yet invoiced;
2. the baseline: ``--baseline`` of them issued one by one (``invoices_issue`` for one
   placement, its own transaction, as at recording time), invoices per second;
3. the daily run (``invoices_issue_due``: batches of ISSUE_BATCH, one counter lock and one
   INSERT each) over the other ``--invoices``; target: 10,000 in under 60 s. The numbers are
   checked: 1..N, no gap, no duplicate;
4. ``--pdfs`` invoice PDFs rendered (``invoice_pdf``), after one warm-up render that loads
   the font; median, p95 and max per PDF; target: under 300 ms each.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

from bench.common import ROOT, machine_line, percentile, recreate_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/urakata_bench_invoices"
BATCH = 5_000


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(count: int) -> list[int]:
    """`count` placements starting today (accepted applications), without invoices."""
    from django.utils import timezone

    from leads.models import Application, Candidate, Placement
    from roles.models import Employer, EmployerFeeTerms, JobPosting, Role

    now, today = timezone.now(), timezone.localdate()
    employer = Employer.objects.create(name="ベンチ商事株式会社", fee_rate_percent=Decimal(30))
    terms = EmployerFeeTerms.objects.create(
        employer=employer,
        effective_from=today - timedelta(days=365),
        rate_percent=Decimal(30),
        refund_bands=[{"within_days": 30, "percent": 80}, {"within_days": 90, "percent": 50}],
    )
    posting = JobPosting.objects.create(
        employer=employer,
        role=Role.objects.get(slug="accounting"),
        title="経理アシスタント",
        description="ベンチ",
        salary_min=3_000_000,
        salary_max=4_000_000,
        status=JobPosting.Status.OPEN,
    )
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                family_name="請求",
                given_name=f"太郎{n}",
                email=f"bench{n}@example.com",
                partner_status_changed_at=now,
            )
            for n in range(count)
        ],
        batch_size=BATCH,
    )
    applications = Application.objects.bulk_create(
        [
            Application(candidate=c, posting=posting, stage=Application.Stage.ACCEPTED, stage_changed_at=now)
            for c in candidates
        ],
        batch_size=BATCH,
    )
    placements = Placement.objects.bulk_create(
        [
            Placement(
                application=a,
                placed_on=today - timedelta(days=20),
                start_date=today,
                annual_salary_jpy=3_000_000 + n,
                fee_rate_percent=Decimal(30),
                fee_jpy=900_000 + n,
                fee_terms=terms,
                employment_type="full_time",
                guarantee_until=today + timedelta(days=89),
            )
            for n, a in enumerate(applications)
        ],
        batch_size=BATCH,
    )
    return [p.pk for p in placements]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--pdfs", type=int, default=200)
    args = parser.parse_args()

    recreate_database(args.database_url)
    setup_django(args.database_url)
    from leads.invoices.pdf import invoice_pdf
    from leads.invoices.services import ISSUE_BATCH, invoices_issue, invoices_issue_due
    from leads.models import Invoice

    started = time.perf_counter()
    ids = fill(args.invoices + args.baseline)
    print(f"# invoices ({machine_line(args.database_url)})")
    print(f"filled {len(ids):,} placements in {time.perf_counter() - started:.1f} s")

    # The baseline issues the first ones one by one; the daily run then takes the rest.
    started = time.perf_counter()
    for pk in ids[: args.baseline]:
        invoices_issue(placement_ids=[pk])
    one_by_one = time.perf_counter() - started
    rate_one = args.baseline / one_by_one
    print(f"baseline, one by one: {args.baseline:,} in {one_by_one:.2f} s ({rate_one:,.0f}/s)")

    started = time.perf_counter()
    issued = invoices_issue_due()
    batched = time.perf_counter() - started
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    gapless = sequences == list(range(1, len(ids) + 1))
    verdict = "met" if batched < 60 and gapless else "NOT met"
    print(
        f"daily run (batches of {ISSUE_BATCH}): {issued:,} in {batched:.2f} s ({issued / batched:,.0f}/s, "
        f"{issued / batched / rate_one:.1f}x the baseline); numbers 1..{len(sequences):,} "
        f"without gap or duplicate: {gapless}; target < 60 s: {verdict}"
    )

    invoices = list(Invoice.objects.order_by("pk")[: args.pdfs])
    started = time.perf_counter()
    size = len(invoice_pdf(invoice=invoices[0]))
    first = time.perf_counter() - started
    timings = []
    for invoice in invoices:
        started = time.perf_counter()
        invoice_pdf(invoice=invoice)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(
        f"PDF: first render (loads the font) {first * 1000:.1f} ms; then {len(timings)} PDFs: "
        f"median {statistics.median(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms, "
        f"max {timings[-1]:.1f} ms, {size:,} bytes; target < 300 ms: "
        f"{'met' if max(timings[-1], first * 1000) < 300 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
