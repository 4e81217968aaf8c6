"""The fee terms in force on a day, the fee they give and the refund their bands give.

A band `{"within_days": N, "percent": P}` covers leaving on day 1..N of employment, the
start date being day 1 (入社日から起算). Days are calendar days in Japan time: the dates
involved (start, leaving) are JST dates already. The first band whose N covers the day
applies; leaving after the last band refunds nothing.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from roles.models import Employer, EmployerFeeTerms

# Without any terms the employer's rate applies, with no minimum and no refunds, payable in:
DEFAULT_PAYMENT_TERM_DAYS = 30


@dataclass(frozen=True)
class Terms:
    """The terms that apply to one placement (a version of the employer's, or the default)."""

    version: EmployerFeeTerms | None
    rate_percent: Decimal
    minimum_fee_jpy: int
    payment_term_days: int
    refund_bands: tuple[tuple[int, int], ...]  # (within_days, percent), ascending


def terms_in_force(*, employer: Employer, on: date) -> Terms:
    """The version in force on `on` (the latest from that day or earlier); the employer's
    plain rate when there is none. One query."""
    version = (
        EmployerFeeTerms.objects.filter(employer=employer, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )
    if version is None:
        return Terms(None, employer.fee_rate_percent, 0, DEFAULT_PAYMENT_TERM_DAYS, ())
    return terms_of(version)


def terms_of(version: EmployerFeeTerms) -> Terms:
    bands = tuple((int(band["within_days"]), int(band["percent"])) for band in version.refund_bands)
    return Terms(version, version.rate_percent, version.minimum_fee_jpy, version.payment_term_days, bands)


def fee_for(*, terms: Terms, annual_salary_jpy: int) -> int:
    """The rate of the theoretical annual income, rounded half-up to the yen, and never below
    the minimum fee."""
    fee = (Decimal(annual_salary_jpy) * terms.rate_percent / Decimal(100)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return max(int(fee), terms.minimum_fee_jpy)


def employment_day(*, start_date: date, left_on: date) -> int:
    """Day N of employment on which the hire left (the start date is day 1)."""
    return (left_on - start_date).days + 1


def refund_percent(*, terms: Terms, start_date: date, left_on: date) -> int:
    day = employment_day(start_date=start_date, left_on=left_on)
    return next((percent for within, percent in terms.refund_bands if day <= within), 0)


def refund_for(*, terms: Terms, fee_jpy: int, start_date: date, left_on: date) -> int:
    """The band's percentage of the fee (before tax), rounded down to the yen."""
    percent = refund_percent(terms=terms, start_date=start_date, left_on=left_on)
    return int((Decimal(fee_jpy) * percent / Decimal(100)).quantize(Decimal(1), rounding=ROUND_DOWN))


def guarantee_until(*, terms: Terms, start_date: date) -> date | None:
    """The last day the bands cover, or None without bands."""
    if not terms.refund_bands:
        return None
    return start_date + timedelta(days=terms.refund_bands[-1][0] - 1)
