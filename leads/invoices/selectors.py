"""Reads of leads.invoices for the admin and the commands."""

from django.db.models import QuerySet

from leads.models import Invoice


def invoice_by_number(*, number: str) -> Invoice | None:
    return Invoice.objects.select_related("credited_invoice").filter(number=number.strip()).first()


def invoices_for_admin() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("employer", "credited_invoice")
