"""The advisors' dashboard (/admin/leads/candidate/dashboard/): today's consultations,
overdue follow-ups, new leads with their contact-SLA clock, and the funnel as a chart; for
managers, overdue invoices and what each partner cost per outcome next to its funnel.

Advisors see their own work by default, managers everyone's; `?scope=mine` / `?scope=all`
switch. A constant number of queries whatever the data's size (one per block)."""

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.staff import is_manager, staff_user
from leads.candidates.dashboard import (
    DASHBOARD_ROWS,
    dashboard_alerts,
    dashboard_consultations_today,
    dashboard_funnel,
    dashboard_new_leads,
    dashboard_overdue_followups,
)
from leads.invoices.overdue import invoices_overdue
from leads.models import Candidate
from leads.payouts.selectors import PartnerRoi, partner_roi

MINE, EVERYONE = "mine", "all"
BAR_WIDTH = 360  # px of the funnel chart's longest bar
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH = 22, 8, 150


def business_clock(left: timedelta) -> str:
    """Business time left, or overdue, as hours and minutes ("1 h 05 min left")."""
    minutes = int(abs(left).total_seconds()) // 60
    values = {"hours": minutes // 60, "minutes": minutes % 60}
    if left < timedelta(0):
        return _("%(hours)d h %(minutes)02d min overdue") % values
    return _("%(hours)d h %(minutes)02d min left") % values


def _funnel_chart(advisor: Any) -> dict[str, Any]:
    steps = dashboard_funnel(advisor=advisor)
    rows = []
    for index, step in enumerate(steps):
        rows.append(
            {
                "step": step,
                "y": index * (BAR_HEIGHT + BAR_GAP),
                "text_y": index * (BAR_HEIGHT + BAR_GAP) + BAR_HEIGHT - 6,
                "width": round(step.share * BAR_WIDTH) if step.reached else 0,
                "value_x": LABEL_WIDTH + (round(step.share * BAR_WIDTH) if step.reached else 0) + 6,
                "percent": round(step.share * 100),
            }
        )
    return {
        "rows": rows,
        "label_width": LABEL_WIDTH,
        "width": LABEL_WIDTH + BAR_WIDTH + 90,
        "height": len(steps) * (BAR_HEIGHT + BAR_GAP),
        "bar_height": BAR_HEIGHT,
    }


ROI_BAR_WIDTH = 240  # px of the longest funnel bar of the partners' chart


def _yen(amount: int | None) -> str:
    return "—" if amount is None else f"¥{amount:,}"


def _roi_chart(rows: list[PartnerRoi]) -> dict[str, Any]:
    """Each partner's funnel (credited leads, consultations held, placements) as bars on one
    scale, with what each outcome cost next to it."""
    longest = max((row.credited for row in rows), default=0) or 1
    partners = []
    for row in rows:
        steps = [
            (_("Credited leads"), row.credited, row.per_credited_lead, _("per lead")),
            (_("Consultations held"), row.held, row.per_consultation_held, _("per consultation")),
            (_("Placements"), row.placed, row.per_placement, _("per placement")),
        ]
        bars = []
        for index, (label, count, cost, unit) in enumerate(steps):
            width = round(count / longest * ROI_BAR_WIDTH)
            y = index * (BAR_HEIGHT + BAR_GAP)
            bars.append(
                {
                    "label": label,
                    "count": count,
                    "cost": _yen(cost),
                    "unit": unit,
                    "y": y,
                    "text_y": y + BAR_HEIGHT - 6,
                    "width": width,
                    "value_x": LABEL_WIDTH + width + 6,
                }
            )
        partners.append({"roi": row, "paid": _yen(row.paid_jpy), "bars": bars})
    return {
        "partners": partners,
        "label_width": LABEL_WIDTH,
        "width": LABEL_WIDTH + ROI_BAR_WIDTH + 200,
        "height": 3 * (BAR_HEIGHT + BAR_GAP),
        "bar_height": BAR_HEIGHT,
    }


class DashboardMixin(admin.ModelAdmin[Candidate]):
    """Adds the dashboard page to the candidate admin (its URL and permission: whoever may
    view candidates). Not registered: CandidateAdmin builds on it."""

    def get_urls(self) -> list[URLPattern]:
        dashboard = path(
            "dashboard/", self.admin_site.admin_view(self.dashboard_view), name="leads_candidate_dashboard"
        )
        return [dashboard, *super().get_urls()]  # before "<path:object_id>/", which would take it

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        manager = is_manager(request)
        scope = request.GET.get("scope") or (EVERYONE if manager else MINE)
        if scope not in (MINE, EVERYONE):
            scope = MINE
        advisor = staff_user(request) if scope == MINE else None
        now = timezone.now()
        consultations = dashboard_consultations_today(now=now, advisor=advisor)
        overdue = dashboard_overdue_followups(now=now, advisor=advisor)
        leads = dashboard_new_leads(now=now, advisor=advisor)
        # Receivables are the managers' (they get the overdue follow-ups): one query, for them.
        invoices = (
            list(invoices_overdue(today=timezone.localdate(now))[: DASHBOARD_ROWS + 1]) if manager else []
        )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext_lazy("Dashboard"),
            "opts": self.opts,
            "scope": scope,
            "scopes": [(MINE, _("My work")), (EVERYONE, _("Everyone"))],
            "now": now,
            "alerts": dashboard_alerts(now=now),
            "consultations": consultations[:DASHBOARD_ROWS],
            "consultations_more": len(consultations) > DASHBOARD_ROWS,
            "overdue": overdue[:DASHBOARD_ROWS],
            "overdue_more": len(overdue) > DASHBOARD_ROWS,
            "new_leads": [
                {"clock": clock, "text": business_clock(clock.left)} for clock in leads[:DASHBOARD_ROWS]
            ],
            "new_leads_more": len(leads) > DASHBOARD_ROWS,
            "funnel": _funnel_chart(advisor),
            "show_invoices": manager,
            "overdue_invoices": invoices[:DASHBOARD_ROWS],
            "overdue_invoices_more": len(invoices) > DASHBOARD_ROWS,
            # What partners cost against their funnels: the managers' (two queries).
            "roi": _roi_chart(partner_roi(limit=DASHBOARD_ROWS)) if manager else None,
            "today": timezone.localdate(now),
            "rows_shown": DASHBOARD_ROWS,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/leads/candidate/dashboard.html", context)
