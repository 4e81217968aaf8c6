"""The yearly figures the placement business reports (職業紹介事業報告: placements, fees,
refunds per fiscal year, April to March), read from the same records as the ledgers."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, Sum

from leads.models import Placement
from leads.placements.fees import left_early
from roles.models import JobPosting


@dataclass(frozen=True)
class YearlyFigures:
    """The figures an agency publishes for a fiscal year (April to March)."""

    fiscal_year: int
    placements: int
    permanent_placements: int
    permanent_left_within_six_months: int
    fees_jpy: int
    refunds_jpy: int

    @property
    def period(self) -> tuple[date, date]:
        return fiscal_year_range(self.fiscal_year)


def fiscal_year_range(fiscal_year: int) -> tuple[date, date]:
    """Japanese fiscal year N: 1 April N to 31 March N+1."""
    return date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)


def yearly_figures(*, fiscal_year: int) -> YearlyFigures:
    """Hires who started work in the fiscal year; of them, those into permanent employment
    (無期雇用: the six-month follow-up's answer, else 正社員 at the offer); of those, who left
    within six months of starting: a leaving recorded, or the follow-up's "no longer
    employed" (a figure that can still grow for people who started less than six months
    ago); fees and refunds of those placements. Two queries."""
    first, last = fiscal_year_range(fiscal_year)
    # The six-month follow-up's answer, once recorded, says whether the contract is
    # indefinite; until then the employment type at the offer does.
    permanent = Q(six_month_indefinite=True) | Q(
        six_month_indefinite__isnull=True, employment_type=JobPosting.EmploymentType.FULL_TIME
    )
    placements = Placement.objects.filter(start_date__gte=first, start_date__lte=last)
    leavers = (
        placements.filter(permanent)
        .filter(Q(left_on__isnull=False) | Q(six_month_still_employed=False))
        .only("start_date", "left_on", "six_month_still_employed")
    )
    # Left within six months: a leaving recorded in them, or the follow-up found them gone.
    early = [p for p in leavers if left_early(placement=p) or p.six_month_still_employed is False]
    totals = placements.aggregate(
        count=Count("pk"),
        permanent=Count("pk", filter=permanent),
        fees=Sum("fee_jpy", default=0),
        refunds=Sum("refund_jpy", default=0),
    )
    return YearlyFigures(
        fiscal_year=fiscal_year,
        placements=totals["count"],
        permanent_placements=totals["permanent"],
        permanent_left_within_six_months=len(early),
        fees_jpy=totals["fees"],
        refunds_jpy=totals["refunds"],
    )
