"""Invoices and credit notes in the admin: read-only (issued by the system, immutable), the
PDF download, the payment date (managers' action), overdue marked, and the month's journal
CSV for the accounting software (leads.invoices.exports)."""

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.staff import staff_user
from core.admin_mixins import ReadOnlyAdminMixin
from leads.invoices.exports import invoices_journal_csv, invoices_of_month
from leads.invoices.pdf import invoice_pdf
from leads.invoices.selectors import invoices_for_admin
from leads.invoices.services import InvoiceError, invoice_mark_paid
from leads.models import Invoice


class PaidFilter(admin.SimpleListFilter):
    title = _("payment")
    parameter_name = "payment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("unpaid", _("Unpaid")), ("overdue", _("Overdue")), ("paid", _("Paid"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
        invoices = queryset.filter(kind=Invoice.Kind.INVOICE)
        if self.value() == "unpaid":
            return invoices.filter(paid_on__isnull=True)
        if self.value() == "overdue":
            return invoices.filter(paid_on__isnull=True, due_on__lt=timezone.localdate())
        if self.value() == "paid":
            return invoices.filter(paid_on__isnull=False)
        return queryset


class MonthForm(forms.Form):
    month = forms.DateField(
        label=_("month"), input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"})
    )


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Invoice]):
    list_display = (
        "number",
        "kind",
        "recipient_name",
        "issued_on",
        "due_on",
        "total",
        "payment",
        "pdf_link",
    )
    list_filter = ("kind", PaidFilter, "issued_on")
    date_hierarchy = "issued_on"
    search_fields = ("number", "recipient_name")
    fields = (
        "number",
        "kind",
        "credited_invoice",
        "recipient_name",
        "issuer_name",
        "registration_number",
        "description",
        "issued_on",
        "due_on",
        "amount",
        "tax_rate_percent",
        "tax",
        "total",
        "paid_on",
        "placement",
        "pdf_link",
    )
    readonly_fields = fields
    actions = ("mark_paid_today",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invoice]:
        return invoices_for_admin()

    def has_mark_paid_permission(self, request: HttpRequest) -> bool:
        return staff_user(request).has_perm("leads.mark_paid_invoice")

    def get_urls(self) -> list[URLPattern]:
        urls = [
            path("<int:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="leads_invoice_pdf"),
            path("journal/", self.admin_site.admin_view(self.journal_view), name="leads_invoice_journal"),
        ]
        return [*urls, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        link = format_html(
            '<a href="{}">{}</a>', reverse("admin:leads_invoice_journal"), _("Monthly journal CSV")
        )
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": link})

    @admin.display(description=_("amount before tax (JPY)"), ordering="amount_jpy")
    def amount(self, obj: Invoice) -> str:
        return f"{obj.amount_jpy:,}"

    @admin.display(description=_("consumption tax (JPY)"), ordering="tax_jpy")
    def tax(self, obj: Invoice) -> str:
        return f"{obj.tax_jpy:,}"

    @admin.display(description=_("total (JPY)"), ordering="total_jpy")
    def total(self, obj: Invoice) -> str:
        return obj.total_yen

    @admin.display(description=_("payment"))
    def payment(self, obj: Invoice) -> str:
        if obj.kind != Invoice.Kind.INVOICE:
            return "—"
        if obj.paid_on is not None:
            return str(_("Paid on %(day)s") % {"day": obj.paid_on.isoformat()})
        if obj.due_on is not None and obj.due_on < timezone.localdate():
            return format_html('<strong style="color:#ba2121">{}</strong>', _("Overdue"))
        return str(_("Unpaid"))

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj: Invoice) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:leads_invoice_pdf", args=[obj.pk]), _("Download PDF")
        )

    @admin.action(description=_("Record as paid today"), permissions=["mark_paid"])
    def mark_paid_today(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        today, recorded = timezone.localdate(), 0
        for invoice in queryset.order_by("pk"):
            try:
                recorded += invoice_mark_paid(invoice_id=invoice.pk, paid_on=today, by=staff_user(request))
            except InvoiceError as error:
                self.message_user(request, f"{invoice.number}: {error.messages[0]}", messages.WARNING)
        self.message_user(request, _("%(count)d invoices recorded as paid.") % {"count": recorded})

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(invoices_for_admin(), pk=pk)
        response = HttpResponse(invoice_pdf(invoice=invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response

    def journal_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        status = 200
        if "month" in request.GET:
            form = MonthForm(request.GET)
            if form.is_valid():
                month: date = form.cleaned_data["month"]
                rows = invoices_of_month(year=month.year, month=month.month)
                response = HttpResponse(
                    invoices_journal_csv(invoices=rows), content_type="text/csv; charset=shift_jis"
                )
                name = f"invoices-{month:%Y-%m}-yayoi.csv"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
                return response
            status = 400
        else:
            form = MonthForm(initial={"month": timezone.localdate().strftime("%Y-%m")})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Monthly journal CSV"),
            "opts": self.opts,
            "form": form,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/leads/invoice/journal.html", context, status=status)
