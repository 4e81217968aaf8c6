"""The candidate list and page: the advisors' main screen."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import ShowFacets
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.staff import is_manager, staff_user
from core.business_time import BUSINESS_TZ
from leads.admin.audit import AuditedCandidateAdmin
from leads.admin.candidate_actions import CandidateActions
from leads.admin.candidate_forms import (
    CandidateActionForm,
    CandidateForm,
    CertificationInline,
    FollowUpTaskInline,
    LeadInline,
    WorkHistoryInline,
)
from leads.admin.common import CANDIDATE_PAGE_INLINES, CachedForeignKeyChoicesMixin, choice_lists, may_edit
from leads.admin.dashboard import DashboardMixin
from leads.admin.filters import (
    AdvisorFilter,
    DesiredRoleFilter,
    OverdueFollowupFilter,
    PartnerFilter,
    PossibleDuplicateFilter,
    PrefectureFilter,
    UpcomingConsultationFilter,
)
from leads.admin.privacy import PRIVACY_ACTIONS
from leads.candidates.followups import followup_task_create
from leads.candidates.profile import PROFILE_FIELDS, candidate_profile_save
from leads.candidates.selectors import (
    age_on,
    candidate_list_annotate,
    candidate_possible_duplicates,
    candidate_search,
)
from leads.candidates.timeline import candidate_timeline
from leads.models import Candidate, FollowUpTask, Lead

PIPELINE_FIELDS = (
    "advisor",
    "stage",
    "is_closed",
    "closed_reason",
    "partner_status",
    "partner_status_changed_at",
    "credited_lead",
    "merged_into",
    "last_contacted_at",
)


@admin.register(Candidate)
class CandidateAdmin(AuditedCandidateAdmin, CachedForeignKeyChoicesMixin, DashboardMixin, CandidateActions):
    form = CandidateForm
    change_form_template = "leads/admin/candidate_change_form.html"
    list_display = (
        "__str__",
        "reading",
        "stage",
        "is_closed",
        "advisor",
        "credited_partner",
        "last_contacted_at",
        "next_followup",
        "age",
        "duplicate",
        "created_at",
    )
    list_filter = (
        AdvisorFilter,
        "stage",
        "is_closed",
        "partner_status",
        PartnerFilter,
        DesiredRoleFilter,
        PrefectureFilter,
        OverdueFollowupFilter,
        UpcomingConsultationFilter,
        PossibleDuplicateFilter,
    )
    # Facet counts would add a COUNT per filter choice over the whole table.
    show_facets = ShowFacets.NEVER
    # With 100,000 candidates (bench/candidate_list.py) a second COUNT over the whole table
    # and 100 rendered rows each cost tens of milliseconds; a page of 50 is a screenful.
    show_full_result_count = False
    list_per_page = 50
    list_select_related = ("advisor", "credited_lead__partner")
    ordering = ("-created_at",)
    # Shows the search box; the search itself is candidate_search (get_search_results).
    search_fields = ("family_name", "given_name", "family_name_kana", "given_name_kana", "email", "phone")
    inlines = (
        FollowUpTaskInline,
        WorkHistoryInline,
        CertificationInline,
        LeadInline,
    )  # then those other parts register (CANDIDATE_PAGE_INLINES: applications, reveals)
    action_form = CandidateActionForm
    actions = (
        "assign_to_me",
        "assign_to_advisor",
        "log_call_reached",
        "log_call_no_answer",
        "log_call_voicemail",
        "move_to_stage",
        "close_with_reason",
        "reopen",
        "export_csv",
        "merge_duplicates",
        *PRIVACY_ACTIONS,
    )
    fieldsets = (
        (
            _("Name and contact"),
            {
                "fields": (
                    ("family_name", "given_name"),
                    ("family_name_kana", "given_name_kana"),
                    "email",
                    "phone",
                    ("contact_channel", "language"),
                    "line_user_id",
                )
            },
        ),
        (_("Profile"), {"fields": (("birth_date", "age"), "prefecture", "current_occupation")}),
        (
            _("Experience and strengths"),
            {"fields": ("has_desk_experience", "strengths", "motivation", ("word_level", "excel_level"))},
        ),
        (
            _("Wishes"),
            {
                "fields": (
                    "desired_roles",
                    "desired_prefectures",
                    "min_annual_salary",
                    "wants_weekends_off",
                    "max_overtime_hours",
                    "remote_wish",
                )
            },
        ),
        (_("Pipeline"), {"fields": PIPELINE_FIELDS}),
        (_("Certifications as received"), {"fields": ("certifications", "possible_duplicates")}),
        (_("Timeline"), {"fields": ("timeline",)}),
        (_("Record"), {"classes": ("collapse",), "fields": ("id", "created_at", "updated_at")}),
    )
    # The pipeline fields change only through the actions (and their services), which
    # record who did it and keep the partner-safe status in step. `certifications` is the
    # raw list as partners sent it; the structured records are the inline.
    readonly_fields = (
        "id",
        *PIPELINE_FIELDS,
        "age",
        "certifications",
        "possible_duplicates",
        "timeline",
        "created_at",
        "updated_at",
    )

    # --- who may do what ------------------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Candidates come from leads (intake deduplicates them and records the consent).
        return False

    def has_change_permission(self, request: HttpRequest, obj: Candidate | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_edit(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Candidate | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or is_manager(request))

    # --- the list -------------------------------------------------------------------------

    def get_inlines(self, request: HttpRequest, obj: Candidate | None) -> Any:
        return (*self.inlines, *CANDIDATE_PAGE_INLINES)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Candidate]:
        return candidate_list_annotate(super().get_queryset(request))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if request.method == "POST" and request.POST.get("select_across") == "1":
            # Actions apply to the rows an advisor ticked, never to "all N" across pages.
            self.message_user(request, _("Select the candidates on this page."), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data:
            action_form = response.context_data.get("action_form")
            if action_form is not None:
                action_form.fields["advisor"].widget.choices = [
                    ("", "---------"),
                    *choice_lists(request).staff,
                ]
        return response

    @admin.display(description=_("reading"), ordering="family_name_kana")
    def reading(self, candidate: Candidate) -> str:
        return f"{candidate.family_name_kana} {candidate.given_name_kana}".strip() or "-"

    @admin.display(description=_("source partner"))
    def credited_partner(self, candidate: Candidate) -> str:
        lead = candidate.credited_lead
        if lead is None:
            return "-"
        return lead.partner.name if lead.partner else str(_("direct"))

    @admin.display(description=_("next follow-up"), ordering="next_followup_at")
    def next_followup(self, candidate: Any) -> str:
        due = candidate.next_followup_at
        if due is None:
            return "-"
        shown = timezone.localtime(due, BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")
        if due < timezone.now():
            return format_html('<span class="followup-overdue">{}</span>', shown)
        return shown

    @admin.display(description=_("age"), ordering="-birth_date")
    def age(self, candidate: Candidate) -> str:
        if candidate.birth_date is None:
            return "-"
        return str(age_on(birth_date=candidate.birth_date, day=timezone.localdate(timezone=BUSINESS_TZ)))

    @admin.display(description=_("possible duplicate"), boolean=True)
    def duplicate(self, candidate: Any) -> bool:
        return bool(candidate.possible_duplicate)

    # --- the page -------------------------------------------------------------------------

    @admin.display(description=_("possible duplicates"))
    def possible_duplicates(self, candidate: Candidate) -> str:
        if candidate.pk is None:
            return "-"
        others = list(
            candidate_possible_duplicates(candidate=candidate).only("pk", "family_name", "given_name")
        )
        if not others:
            return "-"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:leads_candidate_change", args=[other.pk]), str(other)) for other in others),
        )

    @admin.display(description=_("timeline"))
    def timeline(self, candidate: Candidate) -> str:
        if candidate.pk is None:
            return "-"
        return render_to_string(
            "leads/admin/timeline.html", {"entries": candidate_timeline(candidate_id=candidate.pk)}
        )

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        # The profile's parts are rendered by their own block of the template; the leads
        # stay the page's `inline_admin_formsets`, as before they were joined by the others.
        formsets = context.get("inline_admin_formsets", [])
        context["profile_inline_formsets"] = [f for f in formsets if f.opts.model is not Lead]
        context["inline_admin_formsets"] = [f for f in formsets if f.opts.model is Lead]
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: Candidate, form: Any, change: bool) -> None:
        # Only what the advisor changed is written: a stage moved meanwhile by a booking
        # must not be overwritten with the value loaded when the form was opened.
        candidate_profile_save(candidate=obj, fields=[f for f in form.changed_data if f in PROFILE_FIELDS])

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        if formset.model is not FollowUpTask:
            super().save_formset(request, form, formset, change)
            return
        for task in formset.save(commit=False):
            if task.pk is None:
                followup_task_create(
                    candidate_id=form.instance.pk,
                    advisor_id=task.advisor_id,
                    due_at=task.due_at,
                    title=task.title,
                    created_by=staff_user(request),
                )
            else:
                task.save(update_fields=["title", "due_at", "advisor"])

    # --- search ---------------------------------------------------------------------------

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Candidate], search_term: str
    ) -> tuple[QuerySet[Candidate], bool]:
        """Kana in either script, a phone in any usual form, names, email: one selector,
        shared with the advisor API. One row per candidate, so no duplicates to remove."""
        return candidate_search(queryset=queryset, term=search_term), False
