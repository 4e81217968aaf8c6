"""Applications (推薦) in the workspace: the pipeline list per stage, the application page
(stage moves, interview rounds, placement through the service), placements, and the
"matching candidates" page of a posting, from which an advisor recommends.

Every stage change goes through leads.placements.services; the stage is never a form field.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.staff import staff_user
from leads.admin.common import ReadOnlyInline
from leads.audit import Channel
from leads.models import Application, ApplicationEvent, InterviewRound, Placement
from leads.placements.errors import ApplicationError
from leads.placements.services import (
    TRANSITIONS,
    application_accept,
    application_create,
    application_transition,
    interview_round_schedule,
    posting_check_open,
)
from leads.placements.two_year_rule import two_year_rule_check
from roles.models import JobPosting

Stage = Application.Stage


class InterviewRoundInline(ReadOnlyInline):
    model = InterviewRound
    fields = readonly_fields = ("number", "scheduled_at", "note")


class ApplicationEventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = readonly_fields = ("occurred_at", "kind", "from_stage", "to_stage", "actor", "note")
    ordering = ("occurred_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApplicationEvent]:
        return super().get_queryset(request).select_related("actor")


class ApplicationCreateForm(forms.ModelForm[Application]):
    own_request_reason = forms.CharField(
        label=_("the person's own request (two-year rule)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Only for a person we placed less than two years ago who asked to be put forward to "
            "another employer: a manager records the reason here (it is kept and audited)."
        ),
    )

    user: User | None = None  # the admin's user, set by ApplicationAdmin.get_form

    class Meta:
        model = Application
        fields = ("candidate", "posting", "note")

    def clean_posting(self) -> JobPosting:
        posting: JobPosting = self.cleaned_data["posting"]
        posting_check_open(posting=posting)  # the service's rule and words (a ValidationError)
        return posting

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate, posting = data.get("candidate"), data.get("posting")
        if candidate is not None and posting is not None:
            # The service decides again when saving; here its refusal is shown on the form.
            two_year_rule_check(
                candidate=candidate,
                posting=posting,
                by=self.user,
                own_request_reason=data.get("own_request_reason", ""),
            )
        return data


def _transition_action(to: str) -> Callable[..., None]:
    def action(modeladmin: "ApplicationAdmin", request: HttpRequest, queryset: QuerySet[Application]) -> None:
        modeladmin.transition_selected(request, queryset, to=to)

    action.__name__ = f"move_to_{to}"
    description = _("Move to: %(stage)s") % {"stage": Stage(to).label}
    return admin.action(description=description, permissions=["change"])(action)


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin[Application]):
    list_display = ("candidate", "posting", "employer", "stage", "advisor", "interviews", "stage_changed_at")
    list_display_links = ("candidate",)
    # Facets: the stage filter shows how many applications are in each stage (the pipeline),
    # under the other filters chosen.
    list_filter = (
        "stage",
        ("advisor", admin.RelatedOnlyFieldListFilter),
        ("posting__employer", admin.RelatedOnlyFieldListFilter),
    )
    show_facets = admin.ShowFacets.ALWAYS
    list_select_related = ("candidate", "posting__employer", "advisor")
    search_fields = (
        "candidate__family_name",
        "candidate__given_name",
        "posting__title",
        "posting__employer__name",
    )
    autocomplete_fields = ("candidate", "posting")
    inlines = (InterviewRoundInline, ApplicationEventInline)
    actions = tuple(
        _transition_action(to)
        for to in (
            Stage.SUBMITTED,
            Stage.DOCUMENT_SCREENING,
            Stage.INTERVIEW,
            Stage.OFFER,
            Stage.DECLINED,
            Stage.REJECTED,
            Stage.WITHDRAWN,
        )
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        return super().get_queryset(request).annotate(interview_count=Count("interview_rounds"))

    # An existing application shows all of these; only its note is edited here (stages move
    # through the pipeline's actions).
    CHANGE_FIELDS = (
        *("candidate", "posting", "advisor", "stage", "stage_changed_at", "next_steps"),
        *("placement_summary", "note"),
    )

    def get_fields(self, request: HttpRequest, obj: Application | None = None) -> Any:
        return (
            ["candidate", "posting", "note", "own_request_reason"]
            if obj is None
            else list(self.CHANGE_FIELDS)
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Application | None = None) -> list[str]:
        return [] if obj is None else [name for name in self.CHANGE_FIELDS if name != "note"]

    def get_form(
        self, request: HttpRequest, obj: Application | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = type(
                "ApplicationCreateForm", (ApplicationCreateForm,), {"user": staff_user(request)}
            )
        return super().get_form(request, obj, change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Application | None) -> Any:
        return self.inlines if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history: a mistaken application is withdrawn

    def save_model(self, request: HttpRequest, obj: Application, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["note", "updated_at"])  # the only editable field
            return
        created = application_create(
            candidate=obj.candidate,
            posting=obj.posting,
            by=staff_user(request),
            note=obj.note,
            own_request_reason=form.cleaned_data.get("own_request_reason", ""),
            channel=Channel.ADMIN,
        )
        obj.pk, obj.stage, obj.stage_changed_at = created.pk, created.stage, created.stage_changed_at

    @admin.display(description=_("employer"), ordering="posting__employer__name")
    def employer(self, obj: Application) -> str:
        return obj.posting.employer.name

    @admin.display(description=_("interview rounds"), ordering="interview_count")
    def interviews(self, obj: Application) -> int:
        count: int = getattr(obj, "interview_count", 0)
        return count

    @admin.display(description=_("next steps"))
    def next_steps(self, obj: Application) -> str:
        links = []
        if Stage.INTERVIEW in TRANSITIONS[obj.stage] or obj.stage == Stage.INTERVIEW:
            url = reverse("admin:leads_application_interview", args=[obj.pk])
            links.append(format_html('<a href="{}">{}</a>', url, _("Schedule an interview round")))
        if obj.stage == Stage.OFFER:
            url = reverse("admin:leads_application_accept", args=[obj.pk])
            links.append(format_html('<a href="{}">{}</a>', url, _("Offer accepted: record the placement")))
        if not links:
            return "-"
        return format_html(" / ".join(["{}"] * len(links)), *links)

    @admin.display(description=_("placement"))
    def placement_summary(self, obj: Application) -> str:
        placement = Placement.objects.filter(application=obj).first()
        if placement is None:
            return "-"
        url = reverse("admin:leads_placement_change", args=[placement.pk])
        return format_html(
            '<a href="{}">{}</a>',
            url,
            _("Starts %(start)s, fee %(fee)s yen")
            % {"start": placement.start_date, "fee": f"{placement.fee_jpy:,}"},
        )

    def transition_selected(self, request: HttpRequest, queryset: QuerySet[Application], *, to: str) -> None:
        moved, refused = 0, []
        for application in queryset.select_related("candidate"):
            try:
                application_transition(application_id=application.pk, to=to, by=staff_user(request))
                moved += 1
            except ApplicationError as error:
                refused.append(f"{application.candidate}: {error.messages[0]}")
        if moved:
            self.message_user(
                request, _("%(count)d applications moved.") % {"count": moved}, messages.SUCCESS
            )
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    # --- interview rounds and placement: forms over the service -----------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/interview/", wrap(self.interview_view), name="leads_application_interview"),
            path("<int:pk>/accept/", wrap(self.accept_view), name="leads_application_accept"),
            *super().get_urls(),
        ]

    def _step(
        self,
        request: HttpRequest,
        pk: int,
        form_class: type[forms.Form],
        title: str,
        act: Callable[..., object],
    ) -> HttpResponse:
        application = get_object_or_404(Application.objects.select_related("candidate", "posting"), pk=pk)
        if not self.has_change_permission(request, application):
            raise PermissionDenied
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                act(application, form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, _("Saved."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:leads_application_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "subtitle": str(application),
            "application": application,
            "form": form,
        }
        return TemplateResponse(request, "leads/admin/application_step.html", context)

    def interview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def act(application: Application, data: dict[str, Any]) -> object:
            return interview_round_schedule(
                application_id=application.pk,
                scheduled_at=data["scheduled_at"],
                by=staff_user(request),
                note=data["note"],
            )

        return self._step(request, pk, InterviewRoundForm, str(_("Schedule an interview round")), act)

    def accept_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def act(application: Application, data: dict[str, Any]) -> object:
            return application_accept(
                application_id=application.pk,
                by=staff_user(request),
                start_date=data["start_date"],
                annual_salary_jpy=data["annual_salary_jpy"],
                fee_jpy=data["fee_jpy"],
                guarantee_until=data["guarantee_until"],
                note=data["note"],
            )

        return self._step(request, pk, PlacementForm, str(_("Offer accepted: record the placement")), act)


class InterviewRoundForm(forms.Form):
    scheduled_at = forms.SplitDateTimeField(label=_("date and time"), widget=widgets.AdminSplitDateTime)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class PlacementForm(forms.Form):
    start_date = forms.DateField(label=_("start date"), widget=widgets.AdminDateWidget)
    annual_salary_jpy = forms.IntegerField(label=_("first-year annual salary (JPY)"), min_value=1)
    fee_jpy = forms.IntegerField(
        label=_("fee (JPY)"), min_value=0, required=False, help_text=_("Empty: the employer's fee rate.")
    )
    guarantee_until = forms.DateField(
        label=_("guarantee period ends"),
        required=False,
        widget=widgets.AdminDateWidget,
        help_text=_("Empty: 90 days after the start."),
    )
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
