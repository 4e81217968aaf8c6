"""Issuing invoices: when (at recording time for a start today or past, else by the daily
task on the start date), the qualified invoice's fields, sequential numbers per year with
no gap (rollback) and no duplicate (concurrency), tax once per invoice with the rounding
setting, and immutability once issued (a database trigger)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import IntegrityError, InternalError, connection, transaction
from django.test import override_settings

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.invoices.services import invoices_issue, invoices_issue_due
from leads.invoices.tax import tax_by_rate, tax_for
from leads.models import Invoice, InvoiceCounter, Placement
from leads.tasks import invoices_daily_task
from tests.clock import clock_at
from tests.conftest import RACES
from tests.leads.invoices.helpers import employer_with_terms, place

pytestmark = pytest.mark.django_db

_clock = clock_at("2027-03-01T10:00:00+09:00")


@pytest.fixture
def advisor():
    return staff_user_create(email="issue@urakata.example", display_name="Issue", group=Groups.ADVISORS)


def test_a_start_today_is_invoiced_when_the_placement_is_recorded(advisor):
    employer = employer_with_terms(payment_term_days=45)

    placement = place(by=advisor, employer=employer, start_date=date(2027, 3, 1))

    invoice = Invoice.objects.get()
    assert (
        invoice.kind,
        invoice.number,
        invoice.placement,
        invoice.recipient_name,
        invoice.issuer_name,
        invoice.registration_number,
        invoice.issued_on,
        invoice.due_on,
        invoice.amount_jpy,
        invoice.tax_rate_percent,
        invoice.tax_jpy,
        invoice.total_jpy,
        invoice.tax_rounding,
        invoice.paid_on,
        invoice.created_by,
    ) == (
        "invoice",
        "INV-2027-000001",
        placement,
        "株式会社テスト商事",
        "株式会社ウラカタキャリア（デモ）",
        "T1234567890123",
        date(2027, 3, 1),
        date(2027, 4, 15),  # 45 days
        1_080_000,
        10,
        108_000,
        1_188_000,
        "down",
        None,
        advisor,
    )
    assert invoice.description == (
        f"人材紹介手数料（経理アシスタント・入社日 2027年03月01日・紹介番号 {placement.application_id}）"
    )


def test_a_future_start_is_invoiced_by_the_daily_task_on_the_start_date(advisor):
    placement = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 4, 1))
    assert not Invoice.objects.exists()

    with time_machine.travel("2027-03-31T23:59:00+09:00", tick=False):
        assert invoices_daily_task() == "issued=0 overdue=0"
    with time_machine.travel("2027-04-01T00:10:00+09:00", tick=False):
        assert invoices_daily_task() == "issued=1 overdue=0"
        assert invoices_daily_task() == "issued=0 overdue=0"  # idempotent

    invoice = Invoice.objects.get()
    assert (invoice.placement, invoice.issued_on, invoice.created_by) == (placement, date(2027, 4, 1), None)


def test_a_past_start_recorded_late_is_invoiced_at_once(advisor):
    placement = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))
    with time_machine.travel("2027-03-20T10:00:00+09:00", tick=False):
        late = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 20))

    assert list(Invoice.objects.order_by("number").values_list("number", "placement")) == [
        ("INV-2027-000001", placement.pk),
        ("INV-2027-000002", late.pk),
    ]


def test_numbers_restart_each_year_and_credit_notes_have_their_own_series(advisor):
    with time_machine.travel("2026-12-28T10:00:00+09:00", tick=False):
        place(by=advisor, employer=employer_with_terms(), start_date=date(2026, 12, 28))
    with time_machine.travel("2027-01-04T10:00:00+09:00", tick=False):
        placement = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 1, 4))
        from leads.placements.fees import placement_record_leaving

        placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 1, 4), by=advisor)

    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        "CN-2027-000001",
        "INV-2026-000001",
        "INV-2027-000001",
    ]


@transaction.atomic
def _issue_then_fail(placement_id: int) -> None:
    invoices_issue(placement_ids=[placement_id])
    raise RuntimeError("the transaction fails after numbering")


def test_a_rolled_back_issue_leaves_no_gap(advisor):
    first = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 2))
    second = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 2))

    with time_machine.travel("2027-03-02T10:00:00+09:00", tick=False):
        with pytest.raises(RuntimeError):
            _issue_then_fail(first.pk)
        invoices_issue(placement_ids=[second.pk])
        invoices_issue(placement_ids=[first.pk])

    assert list(Invoice.objects.order_by("number").values_list("number", "placement")) == [
        ("INV-2027-000001", second.pk),
        ("INV-2027-000002", first.pk),
    ]
    assert InvoiceCounter.objects.get(series="INV", year=2027).last == 2


def test_the_daily_run_issues_in_batches_of_consecutive_numbers(advisor, monkeypatch):
    monkeypatch.setattr("leads.invoices.services.ISSUE_BATCH", 2)
    placements = [
        place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 2)) for _ in range(5)
    ]

    with time_machine.travel("2027-03-02T00:10:00+09:00", tick=False):
        assert invoices_issue_due() == 5

    assert list(Invoice.objects.order_by("number").values_list("number", "placement")) == [
        (f"INV-2027-{n:06d}", placement.pk) for n, placement in enumerate(placements, start=1)
    ]


@pytest.mark.parametrize(
    ("rounding", "tax"),
    [("down", 100_000), ("half_up", 100_001), ("up", 100_001)],
)
def test_tax_is_rounded_once_as_the_setting_says(advisor, rounding, tax):
    # 1,000,005 x 10% = 100,000.5
    with override_settings(INVOICE_TAX_ROUNDING=rounding):
        place(
            by=advisor,
            employer=employer_with_terms(rate="100"),
            start_date=date(2027, 3, 1),
            annual_salary_jpy=1_000_005,
        )

    invoice = Invoice.objects.get()
    assert (invoice.amount_jpy, invoice.tax_jpy, invoice.total_jpy, invoice.tax_rounding) == (
        1_000_005,
        tax,
        1_000_005 + tax,
        rounding,
    )


def test_tax_is_computed_once_per_rate_not_per_line():
    # Three lines of 15 yen: per line 1.5 -> 1 each (3 in all); once on 45 -> 4.
    assert tax_by_rate(lines=[(15, 10), (15, 10), (15, 10)], rounding="down") == {10: (45, 4)}
    assert tax_for(amount_jpy=45, rate_percent=10, rounding="down") == 4


@pytest.mark.parametrize(
    "change",
    [
        {"amount_jpy": 1},
        {"total_jpy": 1_188_001, "tax_jpy": 108_001},
        {"number": "INV-2027-999999"},
        {"recipient_name": "別の会社"},
        {"registration_number": "T0000000000000"},
        {"issued_on": date(2027, 3, 2)},
    ],
)
def test_an_issued_invoice_cannot_be_changed_in_the_database(advisor, change):
    place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))

    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Invoice.objects.update(**change)

    assert Invoice.objects.get().amount_jpy == 1_080_000


def test_the_model_refuses_to_delete_an_invoice(advisor):
    place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))

    with pytest.raises(IntegrityError, match="an issued invoice cannot be changed"):
        Invoice.objects.get().delete()
    with pytest.raises(IntegrityError, match="an issued invoice cannot be changed"):
        Invoice.objects.all().delete()

    assert Invoice.objects.count() == 1


@pytest.mark.postgresql("a trigger refuses DELETE; SQLite's test flush deletes rows, so there it has none")
def test_the_database_refuses_to_delete_an_invoice(advisor):
    place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))

    with (
        pytest.raises((IntegrityError, InternalError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM leads_invoice")

    assert Invoice.objects.count() == 1


def test_only_the_paid_date_is_recorded_and_only_once(advisor):
    place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))

    Invoice.objects.update(paid_on=date(2027, 3, 20))
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Invoice.objects.update(paid_on=date(2027, 3, 21))

    assert Invoice.objects.get().paid_on == date(2027, 3, 20)


@pytest.mark.postgresql(RACES)
@pytest.mark.django_db(transaction=True)
def test_invoices_issued_at_once_get_consecutive_numbers_without_duplicates():
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    advisor = staff_user_create(email="race@urakata.example", display_name="Race", group=Groups.ADVISORS)
    with time_machine.travel("2027-03-01T10:00:00+09:00", tick=True):
        placements = [
            place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 4, 1)) for _ in range(6)
        ]
    count = 12  # two issuers per placement: each placement's invoice once, numbers shared
    barrier = threading.Barrier(count)

    def issue(index: int) -> int:
        try:
            with time_machine.travel("2027-04-01T09:00:00+09:00", tick=True):
                barrier.wait()
                return len(invoices_issue(placement_ids=[placements[index % 6].pk]))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        issued = sum(pool.map(issue, range(count)))

    numbers = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert issued == 6
    assert numbers == [1, 2, 3, 4, 5, 6]  # no gap, no duplicate
    assert sorted(Invoice.objects.values_list("placement", flat=True)) == sorted(p.pk for p in placements)
    assert Placement.objects.count() == 6
