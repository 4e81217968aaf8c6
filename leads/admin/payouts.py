"""Partner payouts in the admin: the payout rules on the partner's page (effective-dated:
a change is a new rule; a per-placement rule only for a licensed partner), the payable
lines (those on no statement yet are the month's draft), and the issued statements, read
only, with their lines, the CSV and the payment date (managers' action)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.staff import staff_user
from core.admin_mixins import ReadOnlyAdminMixin
from leads.admin.common import action_form_page
from leads.models import Partner, PartnerStatement, PayoutEvent, PayoutLine, PayoutRule
from leads.payouts.exports import statement_csv, statement_csv_filename
from leads.payouts.selectors import statement_line_rows
from leads.payouts.services import payout_correction, statement_mark_paid

UNLICENSED = _(
    "Per-placement pay needs the partner's placement business licence number (有料職業紹介事業の"
    "許可番号): paying an unlicensed site per hire is not allowed under the Employment Security Act."
)


class PayoutRuleFormSet(forms.BaseInlineFormSet[PayoutRule, Partner, Any]):
    def clean(self) -> None:
        super().clean()
        partner = self.instance
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or not data.get("event"):
                continue
            if data["event"] == PayoutEvent.PLACEMENT and not partner.placement_licence_number.strip():
                form.add_error("event", ValidationError(UNLICENSED, code="unlicensed"))


class PayoutRuleInline(admin.TabularInline[PayoutRule, Partner]):
    """Rules are history: new ones are added, none is changed (the lines recorded under a
    rule keep pointing to it)."""

    model = PayoutRule
    formset = PayoutRuleFormSet
    extra = 0
    fields = ("event", "amount_jpy", "effective_from", "created_at")
    readonly_fields = ("created_at",)
    verbose_name_plural = _("payout rules (before tax; the rule in force on the event's JST day applies)")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def partner_licence_check(*, partner: Partner, licence_number: str) -> None:
    """The partner form's rule: the licence cannot be removed while a per-placement rule
    pays something."""
    if licence_number.strip() or partner.pk is None:
        return
    if PayoutRule.objects.filter(partner=partner, event=PayoutEvent.PLACEMENT, amount_jpy__gt=0).exists():
        raise ValidationError(
            _("This partner has a per-placement payout rule: add a rule of ¥0 for placements first."),
            code="unlicensed",
        )


class CorrectionForm(forms.Form):
    amount_jpy = forms.IntegerField(
        label=_("correction (JPY, before tax)"),
        help_text=_("Added to the partner's next statement: negative to take back, positive to add."),
    )

    def clean_amount_jpy(self) -> int:
        value = int(self.cleaned_data["amount_jpy"])
        if value == 0:
            raise ValidationError(_("A correction of ¥0 changes nothing."), code="zero")
        return value


class DraftFilter(admin.SimpleListFilter):
    title = _("statement")
    parameter_name = "issued"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("Not issued yet (draft)")), ("yes", _("On an issued statement"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[PayoutLine]) -> QuerySet[PayoutLine]:
        if self.value() == "no":
            return queryset.filter(statement__isnull=True)
        if self.value() == "yes":
            return queryset.filter(statement__isnull=False)
        return queryset


@admin.register(PayoutLine)
class PayoutLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[PayoutLine]):
    list_display = ("occurred_at", "partner", "kind", "event", "lead_external_id", "amount", "statement")
    list_filter = (DraftFilter, "partner", "event", "kind")
    list_select_related = ("partner", "lead", "statement")
    search_fields = ("lead__external_id", "statement__number")
    date_hierarchy = "occurred_at"
    fields = (
        "partner", "kind", "event", "lead", "occurred_at", "amount_jpy", "rule", "adjusts", "reason",
        "statement", "created_at",
    )  # fmt: skip
    readonly_fields = fields
    actions = ("correct",)

    def has_correct_permission(self, request: HttpRequest) -> bool:
        return staff_user(request).has_perm("leads.add_payoutline")

    @admin.action(description=_("Correct an issued line (on the next statement)"), permissions=["correct"])
    def correct(self, request: HttpRequest, queryset: QuerySet[PayoutLine]) -> TemplateResponse | None:
        lines = list(queryset[:2])
        if len(lines) != 1 or lines[0].statement_id is None:
            self.message_user(request, _("Choose exactly one line of an issued statement."), messages.ERROR)
            return None
        line = lines[0]
        form = CorrectionForm(request.POST if "amount_jpy" in request.POST else None)
        if form.is_valid():
            correction = payout_correction(
                line_id=line.pk, amount_jpy=form.cleaned_data["amount_jpy"], at=timezone.now()
            )
            self.message_user(
                request,
                _("Correction of ¥%(amount)s recorded: it goes on the partner's next statement.")
                % {"amount": f"{correction.amount_jpy:,}"},
            )
            return None
        return action_form_page(
            self,
            request,
            action="correct",
            selected=[line],
            form=form,
            title=_("Correct an issued line"),
            summary=f"{line.partner} · {line.statement} · {line.get_event_display()} · ¥{line.amount_jpy}",
            submit=_("Record the correction"),
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if isinstance(response, TemplateResponse) and response.context_data and changelist is not None:
            total = changelist.queryset.aggregate(total=Sum("amount_jpy"))["total"] or 0
            response.context_data["subtitle"] = _("Total of the lines shown: ¥%(total)s before tax") % {
                "total": f"{total:,}"
            }
        return response

    @admin.display(description=_("external id"), ordering="lead__external_id")
    def lead_external_id(self, line: PayoutLine) -> str:
        return line.lead.external_id or "—"

    @admin.display(description=_("amount before tax (JPY)"), ordering="amount_jpy")
    def amount(self, line: PayoutLine) -> str:
        return f"{line.amount_jpy:,}"


class StatementLineInline(admin.TabularInline[PayoutLine, PartnerStatement]):
    model = PayoutLine
    fk_name = "statement"
    extra = 0
    fields = ("occurred_at", "kind", "event", "lead", "lead_external_id", "amount", "adjusts", "reason")
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("external id"))
    def lead_external_id(self, line: PayoutLine) -> str:
        return line.lead.external_id or "—"

    @admin.display(description=_("amount before tax (JPY)"))
    def amount(self, line: PayoutLine) -> str:
        return f"{line.amount_jpy:,}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PayoutLine]:
        return super().get_queryset(request).select_related("lead")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PartnerStatement)
class PartnerStatementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[PartnerStatement]):
    list_display = (
        "number",
        "partner",
        "month_label",
        "line_count",
        "subtotal",
        "tax",
        "total",
        "payment",
        "csv",
    )
    list_filter = ("partner", ("paid_on", admin.EmptyFieldListFilter), "month")
    list_select_related = ("partner",)
    search_fields = ("number", "partner__name")
    fields = (
        "number", "partner", "month_label", "line_count", "subtotal", "tax_rate_percent", "tax", "total",
        "issued_at", "paid_on", "csv",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (StatementLineInline,)
    actions = ("mark_paid_today",)

    def has_mark_paid_permission(self, request: HttpRequest) -> bool:
        return staff_user(request).has_perm("leads.mark_paid_partnerstatement")

    def get_urls(self) -> list[URLPattern]:
        csv = path(
            "<int:pk>/csv/", self.admin_site.admin_view(self.csv_view), name="leads_partnerstatement_csv"
        )
        return [csv, *super().get_urls()]

    @admin.display(description=_("month"), ordering="month")
    def month_label(self, statement: PartnerStatement) -> str:
        return f"{statement.month:%Y-%m}"

    @admin.display(description=_("subtotal before tax (JPY)"), ordering="subtotal_jpy")
    def subtotal(self, statement: PartnerStatement) -> str:
        return f"{statement.subtotal_jpy:,}"

    @admin.display(description=_("consumption tax (JPY)"), ordering="tax_jpy")
    def tax(self, statement: PartnerStatement) -> str:
        return f"{statement.tax_jpy:,}"

    @admin.display(description=_("total (JPY)"), ordering="total_jpy")
    def total(self, statement: PartnerStatement) -> str:
        return f"{statement.total_jpy:,}"

    @admin.display(description=_("payment"), ordering="paid_on")
    def payment(self, statement: PartnerStatement) -> str:
        if statement.paid_on is not None:
            return str(_("Paid on %(day)s") % {"day": statement.paid_on.isoformat()})
        return str(_("Unpaid"))

    @admin.display(description=_("CSV"))
    def csv(self, statement: PartnerStatement) -> str:
        url = reverse("admin:leads_partnerstatement_csv", args=[statement.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download CSV"))

    @admin.action(description=_("Record as paid today"), permissions=["mark_paid"])
    def mark_paid_today(self, request: HttpRequest, queryset: QuerySet[PartnerStatement]) -> None:
        today = timezone.localdate()
        recorded = sum(
            statement_mark_paid(statement_id=pk, on=today) for pk in queryset.values_list("pk", flat=True)
        )
        level = messages.SUCCESS if recorded else messages.WARNING
        self.message_user(request, _("%(count)d statements recorded as paid.") % {"count": recorded}, level)

    def csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        statement = get_object_or_404(PartnerStatement, pk=pk)
        response = HttpResponse(
            statement_csv(statement=statement, lines=statement_line_rows(statement=statement)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{statement_csv_filename(statement)}"'
        return response
