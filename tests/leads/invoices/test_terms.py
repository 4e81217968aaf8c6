"""Fee terms: validation, the fee (rate and minimum), the refund bands' edges in days, and the
version in force at the start applying whatever changed later."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.invoices.terms import refund_for, terms_in_force, terms_of
from leads.models import Invoice, Placement
from leads.placements.fees import placement_record_leaving
from roles.models import EmployerFeeTerms
from tests.clock import clock_at
from tests.leads.invoices.helpers import employer_with_terms, place, terms
from tests.roles.factories import EmployerFactory

pytestmark = pytest.mark.django_db

_clock = clock_at("2027-03-01T10:00:00+09:00")


@pytest.fixture
def advisor():
    return staff_user_create(email="terms@urakata.example", display_name="Terms", group=Groups.ADVISORS)


@pytest.mark.parametrize(
    ("bands", "code"),
    [
        ([{"within_days": 90, "percent": 50}, {"within_days": 30, "percent": 80}], "bands_order"),
        ([{"within_days": 30, "percent": 80}, {"within_days": 30, "percent": 50}], "bands_order"),
        ([{"within_days": 0, "percent": 80}], "bands_order"),
        ([{"within_days": 30, "percent": 101}], "bands_percent"),
        ([{"within_days": 30, "percent": -1}], "bands_percent"),
        ([{"within_days": 30}], "invalid_bands"),
        ({"within_days": 30, "percent": 80}, "invalid_bands"),
    ],
)
def test_it_refuses_bands_out_of_order_or_range(bands, code):
    version = EmployerFeeTerms(
        employer=EmployerFactory.create(),
        effective_from=date(2027, 1, 1),
        rate_percent=Decimal("30"),
        refund_bands=bands,
    )

    with pytest.raises(ValidationError) as error:
        version.full_clean()

    assert error.value.error_dict["refund_bands"][0].code == code


@pytest.mark.parametrize("rate", ["0", "100.01"])
def test_it_refuses_a_rate_outside_0_to_100(rate):
    version = EmployerFeeTerms(
        employer=EmployerFactory.create(), effective_from=date(2027, 1, 1), rate_percent=Decimal(rate)
    )

    with translation.override("ja"), pytest.raises(ValidationError) as error:
        version.full_clean()

    assert error.value.messages == ["手数料率は0より大きく100以下にしてください。"]


@pytest.mark.parametrize(
    ("salary", "fee"),
    [
        (2_000_000, 800_000),  # 30% is 600,000: the minimum applies
        (2_666_666, 800_000),  # 799,999.8 rounds to 800,000: the minimum and the rate meet
        (3_600_000, 1_080_000),  # above the minimum: the rate
    ],
)
def test_the_fee_is_the_rate_of_the_annual_income_but_at_least_the_minimum(advisor, salary, fee):
    employer = employer_with_terms(minimum=800_000)

    placement = place(by=advisor, employer=employer, start_date=date(2027, 4, 1), annual_salary_jpy=salary)

    assert (placement.fee_jpy, placement.fee_rate_percent) == (fee, Decimal("30.00"))
    assert placement.fee_terms is not None


@pytest.mark.parametrize(
    ("left_on", "percent", "refund"),
    [
        (date(2027, 4, 1), 80, 864_000),  # day 1, the start date
        (date(2027, 4, 30), 80, 864_000),  # day 30: the last day of the first band
        (date(2027, 5, 1), 50, 540_000),  # day 31: the second band
        (date(2027, 6, 29), 50, 540_000),  # day 90
        (date(2027, 6, 30), 10, 108_000),  # day 91
        (date(2027, 9, 27), 10, 108_000),  # day 180: the last band's last day
        (date(2027, 9, 28), 0, 0),  # day 181: after the last band, no refund
    ],
)
def test_the_refund_follows_the_band_of_the_leaving_day(advisor, left_on, percent, refund):
    placement = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 4, 1))

    placement = placement_record_leaving(placement_id=placement.pk, left_on=left_on, by=advisor)

    assert placement.fee_jpy == 1_080_000
    assert placement.refund_jpy == refund
    credit_notes = Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE)
    if refund:
        note = credit_notes.get()
        assert (note.amount_jpy, note.tax_jpy, note.total_jpy) == (
            refund,
            refund // 10,
            refund + refund // 10,
        )
        assert note.credited_invoice == Invoice.objects.get(kind=Invoice.Kind.INVOICE, placement=placement)
    else:
        assert not credit_notes.exists()  # nothing to refund, no credit note
    assert percent * placement.fee_jpy // 100 == refund


def test_terms_changed_after_the_start_do_not_apply(advisor):
    employer = EmployerFactory.create()
    terms(employer, effective_from=date(2026, 1, 1), rate="30", bands=[{"within_days": 90, "percent": 50}])
    placement = place(by=advisor, employer=employer, start_date=date(2027, 4, 1))
    # New terms from the day after the start: a higher rate and a harsher band.
    terms(employer, effective_from=date(2027, 4, 2), rate="35", bands=[{"within_days": 90, "percent": 100}])

    placement = placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 5, 1), by=advisor)

    assert (placement.fee_rate_percent, placement.fee_jpy, placement.refund_jpy) == (
        Decimal("30.00"),
        1_080_000,
        540_000,
    )
    assert terms_in_force(employer=employer, on=date(2027, 4, 2)).rate_percent == Decimal("35.00")


def test_terms_taking_effect_on_the_start_date_apply(advisor):
    employer = EmployerFactory.create()
    terms(employer, effective_from=date(2026, 1, 1), rate="30")
    terms(employer, effective_from=date(2027, 4, 1), rate="35", bands=[])

    placement = place(by=advisor, employer=employer, start_date=date(2027, 4, 1))
    placement = placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 4, 10), by=advisor)

    assert (placement.fee_jpy, placement.refund_jpy) == (1_260_000, 0)


def test_without_terms_the_employers_rate_applies_and_nothing_is_refunded(advisor):
    placement = place(
        by=advisor,
        employer=EmployerFactory.create(fee_rate_percent=Decimal("25")),
        start_date=date(2027, 4, 1),
    )

    placement = placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 4, 10), by=advisor)

    assert (placement.fee_jpy, placement.refund_jpy, placement.fee_terms) == (900_000, 0, None)
    assert placement.guarantee_until == date(2027, 6, 30)  # the default 90 days


def test_the_guarantee_ends_on_the_last_bands_day(advisor):
    placement = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 4, 1))

    assert placement.guarantee_until == date(2027, 9, 27)  # day 180


def test_a_leaving_is_recorded_once(advisor):
    placement = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))
    placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 3, 10), by=advisor)

    again = placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 3, 10), by=advisor)
    with pytest.raises(ValidationError) as error:
        placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 3, 20), by=advisor)

    assert error.value.code == "already_left"
    assert again.refund_jpy == 864_000
    assert Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).count() == 1
    assert Placement.objects.get().left_on == date(2027, 3, 10)


def test_refund_rounds_down_to_the_yen():
    version = terms(EmployerFactory.create(), bands=[{"within_days": 30, "percent": 33}])

    refund = refund_for(
        terms=terms_of(version), fee_jpy=1_000_001, start_date=date(2027, 1, 1), left_on=date(2027, 1, 1)
    )

    assert refund == 330_000  # 330,000.33
