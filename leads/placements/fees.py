"""A placement's money and its guarantee: the default fee (a rate of the annual salary),
early leaving (within EARLY_LEAVING_MONTHS of the start) and the refund it gives: computed
from the refund bands in force at the start (leads.invoices.terms), never typed, and
issued as a credit note referencing the invoice."""

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from leads.invoices.services import credit_note_issue
from leads.invoices.terms import refund_for, terms_in_force, terms_of
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


class LeavingError(ValidationError):
    """A leaving the rules do not allow."""


@transaction.atomic
def placement_record_leaving(
    *, placement_id: int, left_on: date, by: User | None, note: str = ""
) -> Placement:
    """The hire left on `left_on`: record the day and the refund the bands in force at the
    start give (0 outside them), and issue the credit note for it. Recorded once: the same
    day again changes nothing; another day is refused (the credit note is issued)."""
    placement = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("application__posting__employer", "fee_terms")
        .get(pk=placement_id)
    )
    if placement.left_on is not None:
        if placement.left_on == left_on:
            return placement
        raise LeavingError(
            _("The leaving is already recorded (%(day)s); a correction needs a manager.")
            % {"day": placement.left_on.isoformat()},
            code="already_left",
        )
    terms = (
        terms_of(placement.fee_terms)
        if placement.fee_terms is not None
        else terms_in_force(employer=placement.application.posting.employer, on=placement.start_date)
    )
    placement.left_on = left_on
    placement.refund_jpy = (
        refund_for(terms=terms, fee_jpy=placement.fee_jpy, start_date=placement.start_date, left_on=left_on)
        if left_on >= placement.start_date
        else None
    )
    placement.full_clean(exclude=["application", "fee_terms"])
    placement.save(update_fields=["left_on", "refund_jpy", "updated_at"])
    credit_note = credit_note_issue(placement=placement, refund_jpy=placement.refund_jpy or 0, by=by)
    application_event_record(
        application=placement.application,
        kind=ApplicationEvent.Kind.LEFT_EARLY,
        by=by,
        at=timezone.now(),
        note=note,
        data={
            "left_on": left_on.isoformat(),
            "refund_jpy": placement.refund_jpy,
            "credit_note": credit_note.number if credit_note is not None else None,
            "within_6_months": left_early(placement=placement),
        },
    )
    return placement
