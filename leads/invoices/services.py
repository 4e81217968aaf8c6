"""Issuing invoices and credit notes, and recording payments: every write of leads.invoices.

- `invoices_issue` issues the invoice of each placement given that has started and has none
  (safe to repeat: the placements' rows are locked, then the existing invoices read again,
  and a unique constraint backs it up). Called at recording time (the start is today or
  past) and by the daily task (`invoices_issue_due`) for placements starting that day.
- `credit_note_issue` issues the credit note (返還インボイス) of a placement whose hire left
  inside a refund band, referencing its invoice.
- `invoice_mark_paid` records the day the employer paid.
"""

from collections.abc import Sequence
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from leads.invoices.numbering import CREDIT_NOTE_SERIES, INVOICE_SERIES, invoice_number, numbers_take
from leads.invoices.tax import STANDARD_RATE_PERCENT, tax_for
from leads.invoices.terms import DEFAULT_PAYMENT_TERM_DAYS, terms_of
from leads.models import Invoice, Placement

Kind = Invoice.Kind

# Placements issued per transaction by the daily run: one counter lock and one INSERT each.
ISSUE_BATCH = 500


def invoice_description(placement: Placement, *, credit: bool = False) -> str:
    """The line: what is billed, for which hire (the application's number, not the person's
    name: the document outlives the candidate's data)."""
    application = placement.application
    what = "人材紹介手数料の返還" if credit else "人材紹介手数料"
    return (
        f"{what}（{application.posting.title}・入社日 {placement.start_date:%Y年%m月%d日}"
        f"・紹介番号 {application.pk}）"
    )


def _payment_term_days(placement: Placement) -> int:
    if placement.fee_terms is None:
        return DEFAULT_PAYMENT_TERM_DAYS
    return terms_of(placement.fee_terms).payment_term_days


def _invoice_for(placement: Placement, *, sequence: int, issued_on: date, by: User | None) -> Invoice:
    amount = placement.fee_jpy
    tax = tax_for(amount_jpy=amount, rate_percent=STANDARD_RATE_PERCENT)
    employer = placement.application.posting.employer
    return Invoice(
        kind=Kind.INVOICE,
        number=invoice_number(series=INVOICE_SERIES, year=issued_on.year, sequence=sequence),
        series=INVOICE_SERIES,
        year=issued_on.year,
        sequence=sequence,
        placement=placement,
        employer=employer,
        recipient_name=employer.name,
        issuer_name=settings.INVOICE_ISSUER_NAME,
        registration_number=settings.INVOICE_REGISTRATION_NUMBER,
        description=invoice_description(placement),
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=_payment_term_days(placement)),
        amount_jpy=amount,
        tax_rate_percent=STANDARD_RATE_PERCENT,
        tax_jpy=tax,
        tax_rounding=settings.INVOICE_TAX_ROUNDING,
        total_jpy=amount + tax,
        created_by=by if by is not None and by.pk is not None else None,
    )


@transaction.atomic
def invoices_issue(
    *, placement_ids: Sequence[int], by: User | None = None, started_by: date | None = None
) -> list[Invoice]:
    """Issue, dated today (JST), the invoices of the placements given that have started
    (by `started_by`, default today) and have none yet; the others are left alone. Numbers
    follow the order of the placements' ids."""
    today = timezone.localdate()
    placements = list(
        Placement.objects.select_for_update(of=("self",))
        .filter(pk__in=list(placement_ids), start_date__lte=started_by or today)
        .select_related("application__posting__employer", "fee_terms")
        .order_by("pk")
    )
    # Read after the locks are held: an issuer that got there first has committed by now.
    invoiced = set(
        Invoice.objects.filter(kind=Kind.INVOICE, placement__in=placements).values_list(
            "placement_id", flat=True
        )
    )
    due = [placement for placement in placements if placement.pk not in invoiced]
    if not due:
        return []
    sequences = numbers_take(series=INVOICE_SERIES, year=today.year, count=len(due))
    invoices = [
        _invoice_for(placement, sequence=sequence, issued_on=today, by=by)
        for placement, sequence in zip(due, sequences, strict=True)
    ]
    return Invoice.objects.bulk_create(invoices)


def placements_to_invoice(*, as_of: date) -> list[int]:
    """Placements started on or before `as_of` without an invoice, oldest first."""
    has_invoice = Invoice.objects.filter(kind=Kind.INVOICE, placement=OuterRef("pk"))
    return list(
        Placement.objects.filter(start_date__lte=as_of)
        .exclude(Exists(has_invoice))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def invoices_issue_due() -> int:
    """The daily run: invoice every placement that has started and has none (those starting
    today, and any a failed run left). Batches of ISSUE_BATCH, each its own transaction, so a
    crash keeps what was issued and the next run finishes the rest. Returns how many."""
    pending = placements_to_invoice(as_of=timezone.localdate())
    issued = 0
    for first in range(0, len(pending), ISSUE_BATCH):
        issued += len(invoices_issue(placement_ids=pending[first : first + ISSUE_BATCH]))
    return issued


def credit_note_issue(*, placement: Placement, refund_jpy: int, by: User | None) -> Invoice | None:
    """The credit note of `refund_jpy` (before tax) for the placement's invoice, issued today
    (run in the transaction that records the leaving, with the placement locked). The
    invoice is issued first if it was not yet. None when there is nothing to refund; the
    existing one when there is already a credit note."""
    if refund_jpy <= 0:
        return None
    # A leaving recorded means the hire started, even if the day is still ahead (notice given).
    invoices_issue(placement_ids=[placement.pk], by=by, started_by=placement.start_date)
    invoice = Invoice.objects.select_related("credit_note").get(placement=placement, kind=Kind.INVOICE)
    existing: Invoice | None = getattr(invoice, "credit_note", None)
    if existing is not None:
        return existing
    today = timezone.localdate()
    (sequence,) = numbers_take(series=CREDIT_NOTE_SERIES, year=today.year)
    tax = tax_for(amount_jpy=refund_jpy, rate_percent=invoice.tax_rate_percent)
    return Invoice.objects.create(
        kind=Kind.CREDIT_NOTE,
        number=invoice_number(series=CREDIT_NOTE_SERIES, year=today.year, sequence=sequence),
        series=CREDIT_NOTE_SERIES,
        year=today.year,
        sequence=sequence,
        placement=placement,
        employer=invoice.employer,
        credited_invoice=invoice,
        recipient_name=invoice.recipient_name,
        issuer_name=settings.INVOICE_ISSUER_NAME,
        registration_number=settings.INVOICE_REGISTRATION_NUMBER,
        description=invoice_description(placement, credit=True),
        issued_on=today,
        due_on=None,
        amount_jpy=refund_jpy,
        tax_rate_percent=invoice.tax_rate_percent,
        tax_jpy=tax,
        tax_rounding=settings.INVOICE_TAX_ROUNDING,
        total_jpy=refund_jpy + tax,
        created_by=by if by is not None and by.pk is not None else None,
    )


class InvoiceError(ValidationError):
    """A change the invoicing rules do not allow."""


def invoice_mark_paid(*, invoice_id: int, paid_on: date, by: User | None) -> bool:
    """Record the payment of an invoice (not a credit note). Once: a second call changes
    nothing and returns False. The day may not be before the issue nor in the future."""
    invoice = Invoice.objects.get(pk=invoice_id)
    if invoice.kind != Kind.INVOICE:
        raise InvoiceError(_("Only an invoice is paid; a credit note is settled with it."), code="kind")
    if paid_on < invoice.issued_on or paid_on > timezone.localdate():
        raise InvoiceError(_("The payment date must be between the invoice date and today."), code="paid_on")
    updated = Invoice.objects.filter(pk=invoice_id, paid_on__isnull=True).update(paid_on=paid_on)
    return bool(updated)
