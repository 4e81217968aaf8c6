"""Managers' screen for the placement ledgers (求職管理簿, 求人管理簿, 手数料管理簿) as CSV for a
range of days, and the yearly figures an agency discloses. Mixed into the placement admin,
whose page links to it. Every download is recorded in the audit log, one entry per person it
shows."""

import uuid
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.staff import is_manager, staff_user
from core.business_time import BUSINESS_TZ
from leads.audit import Action, Channel, audit_record_many
from leads.placements.ledgers import TITLES, Ledger, ledger_candidate_ids, ledger_csv, ledger_rows
from leads.placements.yearly_report import fiscal_year_range, yearly_figures

FIGURE_YEARS = 3  # the current fiscal year and the two before it


def current_fiscal_year(today: date) -> int:
    return today.year if today.month >= 4 else today.year - 1


class LedgerForm(forms.Form):
    ledger = forms.ChoiceField(
        label=_("ledger"),
        choices=[(ledger.value, title) for ledger, title in TITLES.items()],
    )
    date_from = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("to"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The first day must not be after the last day."), code="invalid")
        return data


class LedgerAdminMixin:
    """For the placement admin: `ledgers/` (form, CSV download, yearly figures)."""

    admin_site: Any
    opts: Any

    def get_urls(self) -> list[URLPattern]:
        view = path("ledgers/", self.admin_site.admin_view(self.ledgers_view), name="leads_placement_ledgers")
        return [view, *super().get_urls()]  # type: ignore[misc]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if is_manager(request):
            url = reverse("admin:leads_placement_ledgers")
            link = format_html('<a href="{}">{}</a>', url, _("Ledgers and yearly figures"))
            extra_context = {**(extra_context or {}), "subtitle": link}
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def ledgers_view(self, request: HttpRequest) -> HttpResponse:
        if not is_manager(request):
            raise PermissionDenied
        today = timezone.localdate(timezone=BUSINESS_TZ)
        status = 200
        if "ledger" in request.GET:
            form = LedgerForm(request.GET)
            if form.is_valid():
                return self._download(request, form.cleaned_data)
            status = 400
        else:
            first, last = fiscal_year_range(current_fiscal_year(today))
            initial = {"ledger": Ledger.JOB_SEEKERS.value, "date_from": first, "date_to": last}
            form = LedgerForm(initial=initial)
        this_year = current_fiscal_year(today)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Ledgers and yearly figures"),
            "opts": self.opts,
            "form": form,
            "figures": [yearly_figures(fiscal_year=this_year - back) for back in range(FIGURE_YEARS)],
        }
        return TemplateResponse(request, "admin/leads/placement/ledgers.html", context, status=status)

    def _download(self, request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
        ledger = Ledger(data["ledger"])
        rows = ledger_rows(ledger=ledger, date_from=data["date_from"], date_to=data["date_to"])
        audit_record_many(
            candidate_ids=[uuid.UUID(pk) for pk in sorted(ledger_candidate_ids(ledger=ledger, rows=rows))],
            action=Action.EXPORT,
            by=staff_user(request),
            channel=Channel.LEDGER,
            fields=[ledger.value],
        )
        response = HttpResponse(ledger_csv(ledger=ledger, rows=rows), content_type="text/csv; charset=utf-8")
        name = f"{ledger.value}_{data['date_from']:%Y-%m-%d}_{data['date_to']:%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
