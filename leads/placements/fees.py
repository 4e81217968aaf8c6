"""A placement's money and its guarantee: the default fee (a rate of the annual salary),
early leaving (within EARLY_LEAVING_MONTHS of the start) and the refund recorded with it."""

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from leads.models import ApplicationEvent, Placement
from leads.placements.events import application_event_record

# The refund guarantee when the employer's terms say nothing else: 3 months from the start.
DEFAULT_GUARANTEE_DAYS = 90


# The placement statistics (職業安定法) count hires who left within 6 months of starting.
EARLY_LEAVING_MONTHS = 6


def placement_default_fee(*, annual_salary_jpy: int, fee_rate_percent: Decimal) -> int:
    """The employer's rate of the first-year annual salary, rounded half-up to the yen."""
    fee = Decimal(annual_salary_jpy) * fee_rate_percent / Decimal(100)
    return int(fee.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (31 Aug + 6 months = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def left_early(*, placement: Placement) -> bool:
    """Left within 6 months of starting (the placement statistics' definition)."""
    if placement.left_on is None:
        return False
    return placement.left_on < add_months(placement.start_date, EARLY_LEAVING_MONTHS)


@transaction.atomic
def placement_record_leaving(
    *, placement_id: int, left_on: date, by: User | None, refund_jpy: int | None = None, note: str = ""
) -> Placement:
    """The hire left: record the day and, if the guarantee applies, the refund."""
    placement = (
        Placement.objects.select_for_update(of=("self",)).select_related("application").get(pk=placement_id)
    )
    placement.left_on, placement.refund_jpy = left_on, refund_jpy
    placement.full_clean(exclude=["application"])
    placement.save(update_fields=["left_on", "refund_jpy", "updated_at"])
    application_event_record(
        application=placement.application,
        kind=ApplicationEvent.Kind.LEFT_EARLY,
        by=by,
        at=timezone.now(),
        note=note,
        data={
            "left_on": left_on.isoformat(),
            "refund_jpy": refund_jpy,
            "within_6_months": left_early(placement=placement),
        },
    )
    return placement
