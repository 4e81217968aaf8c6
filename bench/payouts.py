"""Issuing partner statements, and a partner reading a large one.

    .venv/bin/python -m bench.payouts [--database-url postgres://...] [--partners 200]
        [--events 5000] [--baseline-partners 5] [--reads 50]

1. drops and recreates the PostgreSQL database (its name must start with urakata_bench),
   migrates it with bench.settings and fills it with ``bulk_create``: ``--partners`` +
   ``--baseline-partners`` partners, each with ``--events`` leads of a person not known before
   and their ``lead_accepted`` lines (recorded last month, JST), as intake records them;
2. the baseline: the ``--baseline-partners`` statements issued the naive way (each line read,
   summed in Python and attached with its own UPDATE), lines per second;
3. ``statements_issue`` for the month over the ``--partners`` others (one transaction per
   partner: its row lock, one SUM, one counter lock, one INSERT, one UPDATE of its lines);
   target: 200 partners x 5,000 events in under 30 s. Numbers checked: 1..N without gap;
4. ``GET /api/v1/partner/statements/{number}/`` of one statement of ``--events`` lines,
   ``--reads`` times through Django's test client with the partner's key: median, p95 and
   the queries of one request; target: under 300 ms and under 10 queries.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from typing import Any

from bench.common import ROOT, machine_line, percentile, recreate_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/urakata_bench_payouts"


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(partners: int, events: int) -> list[int]:
    """Partners with `events` new-person leads each and their lead_accepted lines, all in the
    previous JST month. Their ids."""
    from django.utils import timezone

    from leads.models import Candidate, Lead, PayoutLine, PayoutRule
    from leads.partners.keys import partner_create

    month_end = timezone.localdate().replace(day=1)
    during = timezone.make_aware(datetime.combine(month_end - timedelta(days=10), datetime.min.time()))
    ids = []
    for p in range(partners):
        partner = partner_create(slug=f"bench-{p}", name=f"Bench {p}")
        rule = PayoutRule.objects.create(
            partner=partner, event="lead_accepted", amount_jpy=1000 + p, effective_from=date(2020, 1, 1)
        )
        candidates = Candidate.objects.bulk_create(
            [
                Candidate(
                    family_name="明細",
                    given_name="太郎",
                    email=f"p{p}-{n}@example.com",
                    partner_status_changed_at=during,
                )
                for n in range(events)
            ]
        )
        leads = Lead.objects.bulk_create(
            [
                Lead(
                    partner=partner,
                    candidate=c,
                    family_name="明細",
                    given_name="太郎",
                    email=c.email,
                    external_id=f"ext-{n}",
                    consent_policy_version="v1",
                    consent_agreed_at=during,
                    consent_third_party_provision=True,
                    raw_payload={},
                    created_at=during,
                )
                for n, c in enumerate(candidates)
            ]
        )
        PayoutLine.objects.bulk_create(
            [
                PayoutLine(
                    partner=partner,
                    event="lead_accepted",
                    lead=lead,
                    occurred_at=during + timedelta(seconds=n),
                    amount_jpy=rule.amount_jpy,
                    rule=rule,
                )
                for n, lead in enumerate(leads)
            ]
        )
        ids.append(partner.pk)
    return ids


def naive_issue(partner_id: int, month: date, now: datetime) -> int:
    """The baseline: the same statement built line by line."""
    from django.db import transaction

    from leads.models import InvoiceCounter, PartnerStatement, PayoutLine
    from leads.payouts.services import month_bounds, statement_number, tax_for

    _start, end = month_bounds(month)
    with transaction.atomic():
        lines = list(
            PayoutLine.objects.filter(partner_id=partner_id, statement__isnull=True, occurred_at__lt=end)
        )
        subtotal = sum(line.amount_jpy for line in lines)
        (sequence,) = InvoiceCounter.take(series="PS", year=month.year)
        statement = PartnerStatement.objects.create(
            partner_id=partner_id, month=month, number=statement_number(year=month.year, sequence=sequence),
            year=month.year, sequence=sequence, subtotal_jpy=subtotal, tax_rate_percent=10,
            tax_jpy=tax_for(subtotal), total_jpy=subtotal + tax_for(subtotal), line_count=len(lines),
            issued_at=now,
        )  # fmt: skip
        for line in lines:
            line.statement = statement
            line.save(update_fields=["statement"])
    return len(lines)


def _detail(statement: Any, *, events: int, reads: int) -> None:
    """A partner reading the statement through the API: timings and queries."""
    from django.db import connection
    from django.test import Client

    from leads.partners.keys import api_key_issue

    _, key = api_key_issue(partner=statement.partner)
    client = Client(headers={"Authorization": f"Bearer {key}"})
    url = f"/api/v1/partner/statements/{statement.number}/"
    response = client.get(url)  # warm-up
    assert response.status_code == 200, response.status_code
    assert len(response.json()["lines"]) == events
    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    timings = []
    for _ in range(reads):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = percentile(timings, 0.95)
    verdict = "met" if p95 < 300 and len(queries) < 10 else "NOT met"
    print(
        f"statement detail, {events:,} lines: median {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms, {len(queries)} queries; "
        f"target < 300 ms and < 10 queries: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--baseline-partners", type=int, default=5)
    parser.add_argument("--reads", type=int, default=50)
    args = parser.parse_args()

    recreate_database(args.database_url)
    setup_django(args.database_url)
    from django.utils import timezone

    from leads.models import PartnerStatement
    from leads.payouts.services import previous_month, statements_issue

    started = time.perf_counter()
    ids = fill(args.partners + args.baseline_partners, args.events)
    print(f"# payouts ({machine_line(args.database_url)})")
    lines_total = len(ids) * args.events
    print(
        f"filled {len(ids):,} partners, {lines_total:,} leads and lines "
        f"in {time.perf_counter() - started:.1f} s"
    )

    now = timezone.now()
    month = previous_month(now)
    started = time.perf_counter()
    naive_lines = sum(naive_issue(pk, month, now) for pk in ids[: args.baseline_partners])
    naive = time.perf_counter() - started
    naive_rate = naive_lines / naive
    print(
        f"baseline, line by line: {args.baseline_partners} statements, {naive_lines:,} lines "
        f"in {naive:.2f} s ({naive_rate:,.0f} lines/s)"
    )

    started = time.perf_counter()
    result = statements_issue(month=month, now=now)
    took = time.perf_counter() - started
    issued_lines = sum(s.line_count for s in result.issued)
    sequences = sorted(PartnerStatement.objects.values_list("sequence", flat=True))
    gapless = sequences == list(range(1, len(ids) + 1))
    verdict = "met" if took < 30 and gapless and len(result.issued) == args.partners else "NOT met"
    print(
        f"statements_issue: {len(result.issued)} statements, {issued_lines:,} lines in {took:.2f} s "
        f"({issued_lines / took:,.0f} lines/s, {issued_lines / took / naive_rate:.1f}x the baseline); "
        f"numbers 1..{len(sequences)} without gap: {gapless}; target < 30 s: {verdict}"
    )

    _detail(result.issued[0], events=args.events, reads=args.reads)


if __name__ == "__main__":
    main()
