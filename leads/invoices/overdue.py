"""Receivables: overdue invoices (unpaid after their due date) for the dashboard, and the
managers' follow-up when one goes overdue.

The daily scan (`invoices_overdue_scan`, beat's leads.tasks.invoices_daily_task) writes one
outbox row per overdue invoice, keyed by it, so scanning again adds nothing; at delivery
(leads.invoices.outbox_handlers) each active manager gets a follow-up task (keyed by the row
and the manager) and an email, unless the invoice has been paid meanwhile."""

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from core.outbox import OutboxItem, outbox_enqueue
from leads.models import Invoice

KIND_OVERDUE = "invoice.overdue"


def invoices_overdue(*, today: date) -> QuerySet[Invoice]:
    """Unpaid invoices past their due date, the longest overdue first (uses the partial
    index on unpaid invoices' due dates)."""
    return (
        Invoice.objects.filter(kind=Invoice.Kind.INVOICE, paid_on__isnull=True, due_on__lt=today)
        .select_related("employer")
        .order_by("due_on", "number")
    )


def invoices_overdue_scan(*, today: date | None = None) -> int:
    """Write the follow-up row of every overdue invoice (once per invoice). Returns how many
    invoices are overdue."""
    today = today or timezone.localdate()
    ids = list(invoices_overdue(today=today).values_list("pk", flat=True))
    now = timezone.now()
    outbox_enqueue(
        items=[
            OutboxItem(kind=KIND_OVERDUE, subject=f"invoice:{pk}", due_at=now, payload={"invoice_id": pk})
            for pk in ids
        ]
    )
    return len(ids)
