"""Partner payouts (CONTRACT section 8): lines recorded with their events, effective-dated
rules at a JST month boundary, per-placement pay for licensed partners only, statements
issued once (twice, at once, after a rollback: no duplicate, no gap), tax once per statement
rounded down, immutability, clawbacks on the next statement."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, transaction

from leads.candidates.merge import candidate_merge
from leads.models import Candidate, InvoiceCounter, PartnerStatement, PayoutLine
from leads.payouts.services import statements_issue, tax_for
from leads.tasks import partner_statements_issue_task
from tests.conftest import RACES
from tests.leads.payouts.helpers import manager, move, rule, send_lead

pytestmark = pytest.mark.django_db

JST = "+09:00"


def at(instant: str) -> time_machine.travel:
    return time_machine.travel(datetime.fromisoformat(instant + JST), tick=False)


def lines(**filters: object) -> list[tuple[str, str, int]]:
    return [
        (line.kind, line.event, line.amount_jpy)
        for line in PayoutLine.objects.filter(**filters).order_by("occurred_at", "pk")
    ]


def issue(month: str, now: str = "2027-06-01T09:00:00") -> list[PartnerStatement]:
    with at(now):
        return statements_issue(month=date.fromisoformat(month + "-01")).issued


def test_a_lead_of_a_person_not_known_before_is_payable_and_a_known_one_is_not(partner):
    rule(partner.partner, "lead_accepted", 3000)
    with at("2027-01-10T10:00:00"):
        first = send_lead(partner, email="new.person@example.com", phone="090-1111-2222")
        send_lead(partner, email="new.person@example.com", phone="090-1111-2222")  # known now
        send_lead(partner, email="another@example.com", phone="090-3333-4444")

    assert lines() == [("event", "lead_accepted", 3000), ("event", "lead_accepted", 3000)]
    line = PayoutLine.objects.order_by("occurred_at", "pk")[0]
    assert line.rule is not None
    assert (line.lead_id, line.partner_id, line.rule.amount_jpy) == (first.pk, partner.partner.pk, 3000)


def test_without_a_rule_nothing_is_payable(partner, make_partner):
    other = make_partner("other-site")
    rule(other.partner, "lead_accepted", 3000)
    send_lead(partner)
    assert lines() == []


def test_the_rule_in_force_on_the_leads_jst_day_applies_at_a_month_boundary(partner):
    rule(partner.partner, "lead_accepted", 500, date(2026, 1, 1))
    rule(partner.partner, "lead_accepted", 1000, date(2027, 2, 1))
    with at("2027-01-31T23:59:00"):
        january = send_lead(partner)
    with at("2027-02-01T00:00:00"):
        february = send_lead(partner)

    (jan,) = issue("2027-01", now="2027-02-01T09:00:00")
    (feb,) = issue("2027-02", now="2027-03-01T09:00:00")

    assert [(line.lead_id, line.amount_jpy) for line in jan.lines.all()] == [(january.pk, 500)]
    assert [(line.lead_id, line.amount_jpy) for line in feb.lines.all()] == [(february.pk, 1000)]
    assert (jan.month, feb.month) == (date(2027, 1, 1), date(2027, 2, 1))


def test_a_rule_of_zero_stops_the_pay(partner):
    rule(partner.partner, "lead_accepted", 800, date(2026, 1, 1))
    rule(partner.partner, "lead_accepted", 0, date(2027, 1, 1))
    with at("2027-01-05T12:00:00"):
        send_lead(partner)
    assert lines() == []


def test_a_consultation_held_is_payable_once_however_the_stage_moves(partner):
    rule(partner.partner, "consultation_held", 5000)
    user = manager()
    with at("2027-01-10T10:00:00"):
        lead = send_lead(partner)
        move(user, lead, "consulted")
        move(user, lead, "consultation_booked")  # a correction, back one stage
        move(user, lead, "consulted")
        move(user, lead, "documents")

    assert lines() == [("event", "consultation_held", 5000)]


def test_a_placement_is_payable_to_a_licensed_partner_only(make_partner):
    licensed = make_partner("licensed-site", placement_licence_number="13-ユ-123456")
    unlicensed = make_partner("plain-site")
    rule(licensed.partner, "placement", 50000)
    rule(unlicensed.partner, "placement", 50000)  # as if written around the admin's check
    user = manager()
    with at("2027-01-10T10:00:00"):
        for partner in (licensed, unlicensed):
            move(user, send_lead(partner), "placed")

    assert [(line.partner_id, line.event, line.amount_jpy) for line in PayoutLine.objects.all()] == [
        (licensed.partner.pk, "placement", 50000)
    ]


def test_a_statement_is_the_sum_of_its_lines_with_the_tax_once_rounded_down(partner):
    rule(partner.partner, "lead_accepted", 333, date(2026, 1, 1))
    rule(partner.partner, "lead_accepted", 334, date(2027, 1, 15))
    with at("2027-01-10T10:00:00"):
        send_lead(partner)
    with at("2027-01-20T10:00:00"):
        send_lead(partner)

    (statement,) = issue("2027-01")

    assert (
        statement.number,
        statement.subtotal_jpy,
        statement.tax_rate_percent,
        statement.tax_jpy,
        statement.total_jpy,
        statement.line_count,
    ) == ("PS-2027-000001", 667, 10, 66, 733, 2)
    assert statement.subtotal_jpy == sum(line.amount_jpy for line in statement.lines.all())
    assert [tax_for(n) for n in (0, 9, 10, 19, -19)] == [0, 0, 1, 1, -1]


def test_issuing_twice_issues_nothing_new_and_the_command_says_so(make_partner):
    partners = [make_partner(f"site-{n}") for n in range(3)]
    for partner in partners:
        rule(partner.partner, "lead_accepted", 1000)
    with at("2027-01-10T10:00:00"):
        for partner in partners[:2]:  # the third has nothing this month
            send_lead(partner)

    out = StringIO()
    with at("2027-02-01T09:00:00"):
        call_command("issue_partner_statements", "--month", "2027-01", stdout=out)
        again = StringIO()
        call_command("issue_partner_statements", "--month", "2027-01", stdout=again)

    assert out.getvalue().splitlines() == [
        f"PS-2027-000001  partner {partners[0].partner.pk}  1 lines  ¥1,100",
        f"PS-2027-000002  partner {partners[1].partner.pk}  1 lines  ¥1,100",
        "2027-01: 2 statements issued, 0 partners already issued or with nothing to pay.",
    ]
    assert again.getvalue().splitlines() == [
        "2027-01: 0 statements issued, 0 partners already issued or with nothing to pay."
    ]
    assert PartnerStatement.objects.count() == 2


def test_the_command_refuses_a_month_not_ended_and_a_bad_month():
    with at("2027-01-31T23:59:00"), pytest.raises(CommandError, match="2027-01 has not ended yet"):
        call_command("issue_partner_statements", "--month", "2027-01")
    with pytest.raises(CommandError, match="--month must be YYYY-MM, not '2027-13'"):
        call_command("issue_partner_statements", "--month", "2027-13")


def test_the_beat_task_issues_the_month_before(partner):
    rule(partner.partner, "lead_accepted", 1000)
    with at("2027-02-27T10:00:00"):
        send_lead(partner)
    with at("2027-03-01T09:00:00"):
        assert partner_statements_issue_task() == "2027-02: issued=1 skipped=0"
        assert partner_statements_issue_task() == "2027-02: issued=0 skipped=0"
    assert PartnerStatement.objects.get().month == date(2027, 2, 1)


@transaction.atomic
def _issue_then_fail() -> None:
    statements_issue(month=date(2027, 1, 1))
    raise RuntimeError("the issuing transaction fails")


def test_a_rolled_back_issue_leaves_no_gap_in_the_numbers(make_partner):
    first, second = make_partner("first-site"), make_partner("second-site")
    for partner in (first, second):
        rule(partner.partner, "lead_accepted", 1000)
    with at("2027-01-10T10:00:00"):
        send_lead(first)
    with at("2027-02-01T09:00:00"):
        with pytest.raises(RuntimeError, match="the issuing transaction fails"):
            _issue_then_fail()
        send_lead(second)  # February's
    (january,) = issue("2027-01", now="2027-02-01T10:00:00")
    (february,) = issue("2027-02", now="2027-03-01T10:00:00")
    assert (january.number, february.number) == ("PS-2027-000001", "PS-2027-000002")
    assert InvoiceCounter.objects.get(series="PS", year=2027).last == 2


def test_numbers_restart_each_year(partner):
    rule(partner.partner, "lead_accepted", 1000)
    with at("2026-12-10T10:00:00"):
        send_lead(partner)
    with at("2027-01-10T10:00:00"):
        send_lead(partner)
    issue("2026-12", now="2027-01-01T09:00:00")
    issue("2027-01", now="2027-02-01T09:00:00")
    assert list(PartnerStatement.objects.order_by("month").values_list("number", flat=True)) == [
        "PS-2026-000001",
        "PS-2027-000001",
    ]


def test_an_issued_statement_and_its_lines_never_change(partner):
    rule(partner.partner, "lead_accepted", 1000)
    with at("2027-01-10T10:00:00"):
        send_lead(partner)
    (statement,) = issue("2027-01")
    line = statement.lines.get()

    for change in (
        lambda: PartnerStatement.objects.filter(pk=statement.pk).update(total_jpy=1),
        lambda: PayoutLine.objects.filter(pk=line.pk).update(amount_jpy=1),
        lambda: PayoutLine.objects.filter(pk=line.pk).update(statement=None),
    ):
        with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
            change()
    for delete in (line.delete, statement.delete, PayoutLine.objects.all().delete):
        with pytest.raises(IntegrityError):
            delete()
    # The paid date is recorded once.
    assert PartnerStatement.objects.filter(pk=statement.pk).update(paid_on=date(2027, 6, 5)) == 1
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        PartnerStatement.objects.filter(pk=statement.pk).update(paid_on=date(2027, 6, 6))


def test_a_paid_lead_merged_into_a_candidate_known_before_is_clawed_back_next_month(partner):
    rule(partner.partner, "lead_accepted", 3000)
    staff = manager()
    with at("2027-01-05T10:00:00"):
        known = send_lead(partner, email="first.address@example.com", phone="090-5555-0001")
    with at("2027-01-20T10:00:00"):
        paid = send_lead(partner, email="second.address@example.com", phone="090-5555-0002")
    (january,) = issue("2027-01", now="2027-02-01T09:00:00")
    assert january.line_count == 2

    with at("2027-02-10T10:00:00"):
        candidate_merge(keep_id=known.candidate_id, duplicate_id=paid.candidate_id, by=staff)
    (february,) = issue("2027-02", now="2027-03-01T09:00:00")

    (clawback,) = february.lines.all()
    original = january.lines.get(lead=paid)
    assert (clawback.kind, clawback.event, clawback.lead_id, clawback.amount_jpy, clawback.adjusts_id) == (
        "clawback",
        "lead_accepted",
        paid.pk,
        -3000,
        original.pk,
    )
    assert (clawback.reason, february.subtotal_jpy, february.tax_jpy, february.total_jpy) == (
        "merged",
        -3000,
        -300,
        -3300,
    )
    assert Candidate.objects.get(pk=paid.candidate_id).merged_into_id == known.candidate_id


def test_a_lead_merged_before_its_month_is_issued_is_simply_not_paid(partner):
    rule(partner.partner, "lead_accepted", 3000)
    staff = manager()
    with at("2027-01-05T10:00:00"):
        known = send_lead(partner, email="first.address@example.com", phone="090-5555-0001")
        paid = send_lead(partner, email="second.address@example.com", phone="090-5555-0002")
        candidate_merge(keep_id=known.candidate_id, duplicate_id=paid.candidate_id, by=staff)
    (january,) = issue("2027-01", now="2027-02-01T09:00:00")
    assert [(line.lead_id, line.amount_jpy) for line in january.lines.all()] == [(known.pk, 3000)]


@pytest.mark.postgresql(RACES)
@pytest.mark.django_db(transaction=True)
def test_two_issuers_at_once_issue_each_statement_once_without_gaps(make_partner):
    partners = [make_partner(f"race-{n}") for n in range(6)]
    for partner in partners:
        rule(partner.partner, "lead_accepted", 1000)
    with at("2027-01-10T10:00:00"):
        for partner in partners:
            send_lead(partner)
    barrier = threading.Barrier(2)

    def issuer(_: int) -> int:
        barrier.wait()
        try:
            with at("2027-02-01T09:00:00"):
                return len(statements_issue(month=date(2027, 1, 1)).issued)
        finally:
            from django.db import connection

            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        issued = list(pool.map(issuer, range(2)))

    assert sum(issued) == 6
    assert sorted(PartnerStatement.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert PayoutLine.objects.filter(statement__isnull=True).count() == 0
