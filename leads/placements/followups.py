"""The six-month follow-up of a placement (CONTRACT section 9): six months after the start
the advisor is asked whether the hire is still employed and on an indefinite contract; the
answer feeds the yearly disclosure figures (leads.placements.yearly_report).

The outbox row is written with the placement (keyed by it: once), due at 09:00 JST on the
day six months after the start; at delivery (leads.placements.outbox_handlers) the advisor
gets a follow-up task and an email, unless the answer is recorded or the hire has left."""

from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.business_time import BUSINESS_TZ
from core.outbox import OutboxItem, outbox_enqueue
from leads.models import ApplicationEvent, Placement
from leads.placements.events import application_event_record
from leads.placements.fees import EARLY_LEAVING_MONTHS, add_months

KIND_SIX_MONTH_CHECK = "placement.six_month_check"
CHECK_AT = time(9, 0)  # JST, the start of the advisors' day


def six_month_check_due(*, start_date: date) -> datetime:
    return datetime.combine(add_months(start_date, EARLY_LEAVING_MONTHS), CHECK_AT, tzinfo=BUSINESS_TZ)


def six_month_check_enqueue(*, placement: Placement) -> None:
    outbox_enqueue(
        items=[
            OutboxItem(
                kind=KIND_SIX_MONTH_CHECK,
                subject=f"placement:{placement.pk}",
                due_at=six_month_check_due(start_date=placement.start_date),
                payload={"placement_id": placement.pk},
            )
        ]
    )


@transaction.atomic
def placement_record_six_month_check(
    *, placement_id: int, still_employed: bool, indefinite: bool, by: User | None
) -> Placement:
    """Record the answer (again: the latest answer counts, each one is on the history)."""
    placement = (
        Placement.objects.select_for_update(of=("self",)).select_related("application").get(pk=placement_id)
    )
    now = timezone.now()
    placement.six_month_checked_on = timezone.localdate(now)
    placement.six_month_still_employed, placement.six_month_indefinite = still_employed, indefinite
    placement.save(
        update_fields=[
            "six_month_checked_on",
            "six_month_still_employed",
            "six_month_indefinite",
            "updated_at",
        ]
    )
    application_event_record(
        application=placement.application,
        kind=ApplicationEvent.Kind.SIX_MONTH_CHECK,
        by=by,
        at=now,
        data={"still_employed": still_employed, "indefinite": indefinite},
    )
    return placement
