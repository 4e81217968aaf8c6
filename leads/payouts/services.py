"""Payable lines, recorded in the transaction of the change that earns them, and the
monthly statements that gather them.

- `payout_record`: a lead accepted (intake), a consultation held or a placement (the
  partner-safe status reaching it, leads.candidates.pipeline). The rule in force on the
  event's JST date gives the amount; no rule (or a zero one) records nothing. A lead earns
  each event once (a unique index), so a repeat or a status moved back and forward again
  adds nothing. Per-placement pay needs a licensed partner (職業安定法), checked here too.
- `payout_clawback`: a paid-for lead that turns out not to be a new person (merged into a
  candidate known before) or erased as invalid within 30 days. A line not on a statement
  yet is simply removed; an issued one gets a negative line on the next statement.
- `statements_issue`: a JST month's statement per partner with lines, numbered without
  gaps per year; issuing twice, or two issuers at once, issue nothing new.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from leads.models import InvoiceCounter, Partner, PartnerStatement, PayoutEvent, PayoutLine, PayoutRule

STATEMENT_SERIES = "PS"
TAX_RATE_PERCENT = 10
CLAWBACK_WINDOW = timedelta(days=30)  # an invalid lead is clawed back if erased within it


def statement_number(*, year: int, sequence: int) -> str:
    return f"{STATEMENT_SERIES}-{year}-{sequence:06d}"


def tax_for(subtotal_jpy: int) -> int:
    """10%, rounded down (towards zero, so a negative statement's tax mirrors a positive's)."""
    magnitude = abs(subtotal_jpy) * TAX_RATE_PERCENT // 100
    return magnitude if subtotal_jpy >= 0 else -magnitude


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The JST month's first instant and the next month's."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    zone = timezone.get_default_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(following, time.min, tzinfo=zone),
    )


def payout_record(*, lead_id: uuid.UUID, event: str, at: datetime) -> PayoutLine | None:
    """In the transaction of the change: the lead's partner earns `event` if a rule says so
    (one query when none does). The line, or None when nothing is payable or the lead
    already earned this event."""
    rules = PayoutRule.objects.filter(
        partner__leads__pk=lead_id, event=event, effective_from__lte=timezone.localdate(at)
    )
    if event == PayoutEvent.PLACEMENT:
        rules = rules.exclude(partner__placement_licence_number="")
    rule = rules.order_by("-effective_from").first()
    if rule is None or rule.amount_jpy == 0:
        return None
    # The callers hold the candidate's row lock (or made the lead just now): no race between
    # this check and the insert; the unique index would refuse a second line anyway.
    if PayoutLine.objects.filter(lead_id=lead_id, event=event, kind=PayoutLine.Kind.EVENT).exists():
        return None
    return PayoutLine.objects.create(
        partner_id=rule.partner_id,
        kind=PayoutLine.Kind.EVENT,
        event=event,
        lead_id=lead_id,
        occurred_at=at,
        amount_jpy=rule.amount_jpy,
        rule=rule,
    )


def payout_clawback(*, lead_id: uuid.UUID, reason: str, at: datetime) -> PayoutLine | None:
    """The lead's `lead_accepted` pay taken back (in the transaction of the merge or the
    erasure). The negative line, or None (nothing was payable, not issued yet and so just
    removed, or already clawed back)."""
    line = (
        PayoutLine.objects.select_for_update()
        .filter(lead_id=lead_id, event=PayoutEvent.LEAD_ACCEPTED, kind=PayoutLine.Kind.EVENT)
        .first()
    )
    if line is None:
        return None
    if line.statement_id is None:  # not paid: it never reaches a statement
        line.delete()
        return None
    if line.adjustments.filter(kind=PayoutLine.Kind.CLAWBACK).exists():  # the line is locked
        return None
    return PayoutLine.objects.create(
        partner_id=line.partner_id,
        kind=PayoutLine.Kind.CLAWBACK,
        event=line.event,
        lead_id=lead_id,
        occurred_at=at,
        amount_jpy=-line.amount_jpy,
        adjusts=line,
        reason=reason,
    )


def payout_correction(*, line_id: int, amount_jpy: int, at: datetime) -> PayoutLine:
    """A staff correction of an issued line, on the next statement."""
    line = PayoutLine.objects.get(pk=line_id)
    return PayoutLine.objects.create(
        partner_id=line.partner_id,
        kind=PayoutLine.Kind.CORRECTION,
        event=line.event,
        lead_id=line.lead_id,
        occurred_at=at,
        amount_jpy=amount_jpy,
        adjusts=line,
        reason=PayoutLine.Reason.MANUAL,
    )


@dataclass(frozen=True)
class IssueResult:
    issued: list[PartnerStatement]
    skipped: int  # partners whose statement of the month already existed


def _statement_issue(*, partner_id: int, month: date, now: datetime) -> PartnerStatement | None:
    """One partner's statement, in its own transaction; None when it exists already or
    there is nothing to put on it."""
    _start, end = month_bounds(month)
    with transaction.atomic():
        Partner.objects.select_for_update().filter(pk=partner_id).values_list("pk").get()  # issuers queue
        if PartnerStatement.objects.filter(partner_id=partner_id, month=month).exists():
            return None
        lines = PayoutLine.objects.filter(partner_id=partner_id, statement__isnull=True, occurred_at__lt=end)
        totals = lines.aggregate(subtotal=Sum("amount_jpy"), count=Count("pk"))
        if not totals["count"]:
            return None
        subtotal = int(totals["subtotal"])
        tax = tax_for(subtotal)
        (sequence,) = InvoiceCounter.take(series=STATEMENT_SERIES, year=month.year)
        statement = PartnerStatement.objects.create(
            partner_id=partner_id,
            month=month,
            number=statement_number(year=month.year, sequence=sequence),
            year=month.year,
            sequence=sequence,
            subtotal_jpy=subtotal,
            tax_rate_percent=TAX_RATE_PERCENT,
            tax_jpy=tax,
            total_jpy=subtotal + tax,
            line_count=totals["count"],
            issued_at=now,
        )
        # Lines are recorded at the time of their event, after the month's end by now; a
        # backdated one committed between the sum and here would make the total lie.
        if lines.update(statement=statement) != totals["count"]:
            raise RuntimeError("payout lines changed while the statement was issued")
        for hook in _ON_ISSUED:
            hook(statement)
    return statement


StatementHook = Callable[[PartnerStatement], None]
_ON_ISSUED: list[StatementHook] = []


def statement_issued_register(*, hook: StatementHook) -> None:
    """`hook` runs in the issuing transaction of every statement (the partner's webhook,
    registered by the app that sends them)."""
    if hook not in _ON_ISSUED:
        _ON_ISSUED.append(hook)


def previous_month(now: datetime) -> date:
    """The JST month before `now`'s, as its first day."""
    return (timezone.localdate(now).replace(day=1) - timedelta(days=1)).replace(day=1)


def statements_issue(
    *, month: date, now: datetime | None = None, progress: Callable[[PartnerStatement], None] | None = None
) -> IssueResult:
    """Issue the JST month's statements (every partner with unissued lines up to its end),
    each in its own transaction; `progress` hears of each one issued. Refuses a month that
    has not ended."""
    now = now or timezone.now()
    month = month.replace(day=1)
    _start, end = month_bounds(month)
    if now < end:
        raise ValueError(f"{month:%Y-%m} has not ended yet")
    partner_ids = list(
        PayoutLine.objects.filter(statement__isnull=True, occurred_at__lt=end)
        .values_list("partner_id", flat=True)
        .distinct()
        .order_by("partner_id")
    )
    issued: list[PartnerStatement] = []
    skipped = 0
    for partner_id in partner_ids:
        statement = _statement_issue(partner_id=partner_id, month=month, now=now)
        if statement is None:
            skipped += 1
        else:
            issued.append(statement)
            if progress is not None:
                progress(statement)
    return IssueResult(issued=issued, skipped=skipped)


def statement_mark_paid(*, statement_id: int, on: date) -> bool:
    """Records the paid date once; False when it was already recorded."""
    return bool(PartnerStatement.objects.filter(pk=statement_id, paid_on__isnull=True).update(paid_on=on))
