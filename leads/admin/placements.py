"""Placements in the admin (their fee, guarantee and early leaving), and the candidate page's
applications and employer reveals (registered with candidate_page_inline_register)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.staff import staff_user
from leads.admin.common import ReadOnlyInline, candidate_page_inline_register
from leads.admin.ledgers import LedgerAdminMixin
from leads.models import Application, EmployerReveal, Invoice, Placement
from leads.placements.fees import left_early, placement_record_leaving
from leads.placements.followups import placement_record_six_month_check


class PlacementForm(forms.ModelForm[Placement]):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        answers = ("six_month_still_employed", "six_month_indefinite")
        if any(name in self.changed_data for name in answers) and any(data.get(n) is None for n in answers):
            raise ValidationError(_("Answer both six-month questions."), code="required")
        return data


class PlacementInvoiceInline(ReadOnlyInline):
    """The placement's invoice and credit note, each linking to its page and PDF."""

    model = Invoice
    fk_name = "placement"
    fields = readonly_fields = ("invoice_link", "kind", "issued_on", "due_on", "total_jpy", "paid_on")

    @admin.display(description=_("number"))
    def invoice_link(self, obj: Invoice) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:leads_invoice_change", args=[obj.pk]), obj.number
        )


@admin.register(Placement)
class PlacementAdmin(LedgerAdminMixin, admin.ModelAdmin[Placement]):
    """Placements are recorded from the application; here only the leaving (and refund) is
    entered, through the service. The managers' ledgers hang off this list (LedgerAdminMixin)."""

    list_display = (
        "application",
        "placed_on",
        "start_date",
        "fee_jpy",
        "employment_type",
        "left_on",
        "left_within_6_months",
    )
    list_filter = ("employment_type", "placed_on")
    list_select_related = ("application__candidate", "application__posting")
    date_hierarchy = "placed_on"
    fields = (
        "application",
        "placed_on",
        "start_date",
        "annual_salary_jpy",
        "fee_rate_percent",
        "fee_jpy",
        "employment_type",
        "guarantee_until",
        "fee_terms",
        "left_on",
        "refund_jpy",
        "six_month_still_employed",
        "six_month_indefinite",
        "six_month_checked_on",
    )
    # The refund is computed from the bands; the leaving and the six-month answers are entered.
    readonly_fields = (*fields[:9], "refund_jpy", "six_month_checked_on")
    inlines = (PlacementInvoiceInline,)
    form = PlacementForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Placement, form: Any, change: bool) -> None:
        if obj.left_on is not None and "left_on" in form.changed_data:
            placement_record_leaving(placement_id=obj.pk, left_on=obj.left_on, by=staff_user(request))
        answers = ("six_month_still_employed", "six_month_indefinite")
        if any(name in form.changed_data for name in answers):
            placement_record_six_month_check(
                placement_id=obj.pk,
                still_employed=bool(obj.six_month_still_employed),
                indefinite=bool(obj.six_month_indefinite),
                by=staff_user(request),
            )

    @admin.display(description=_("left within 6 months"), boolean=True)
    def left_within_6_months(self, obj: Placement) -> bool:
        return left_early(placement=obj)


@candidate_page_inline_register
class CandidateApplicationInline(ReadOnlyInline):
    """The candidate's applications, read-only; each links to its page for the next steps."""

    model = Application
    fields = readonly_fields = ("application_link", "employer", "stage", "stage_changed_at", "advisor")
    verbose_name_plural = _("applications")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        # The candidate too: the inline shows each row's str(), which names it.
        return super().get_queryset(request).select_related("candidate", "posting__employer", "advisor")

    @admin.display(description=_("job posting"))
    def application_link(self, obj: Application) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:leads_application_change", args=[obj.pk]), obj.posting.title
        )

    @admin.display(description=_("employer"))
    def employer(self, obj: Application) -> str:
        return obj.posting.employer.name


@candidate_page_inline_register
class CandidateEmployerRevealInline(ReadOnlyInline):
    """Which employers were revealed to the candidate, by whom and when."""

    model = EmployerReveal
    fields = readonly_fields = ("posting", "employer", "advisor", "revealed_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[EmployerReveal]:
        return super().get_queryset(request).select_related("candidate", "posting__employer", "advisor")

    @admin.display(description=_("employer"))
    def employer(self, obj: EmployerReveal) -> str:
        return obj.posting.employer.name
