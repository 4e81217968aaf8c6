"""The candidate page's form, its inlines, and the list's action form."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.staff import staff_user
from core.normalize import NormalizationError, Occupation, normalize_email, normalize_kana, normalize_phone
from core.prefectures import PREFECTURE_CHOICES
from leads.admin.common import CandidatePartInline
from leads.candidates.profile import PROFILE_FIELDS
from leads.models import (
    Candidate,
    CandidateCertification,
    FollowUpTask,
    Lead,
    SkillLevel,
    Strength,
    WorkHistoryEntry,
)
from roles.models import Role


class LeadInline(admin.TabularInline[Lead, Candidate]):
    model = Lead
    fk_name = "candidate"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("created_at", "partner", "external_id", "consent_policy_version", "consent_agreed_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        return super().get_queryset(request).select_related("partner").order_by("created_at")


class WorkHistoryInline(CandidatePartInline):
    model = WorkHistoryEntry
    fields = ("occupation", "employer_name", "job_title", "years", "months", "is_current", "description")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "description":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 40})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class CertificationInline(CandidatePartInline):
    model = CandidateCertification
    fields = ("certification", "status", "exam_date")
    cached_choice_fields = ("certification",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CandidateCertification]:
        return super().get_queryset(request).select_related("certification")


class FollowUpTaskInline(CandidatePartInline):
    """Open tasks first. New ones are created through the service (see save_formset)."""

    model = FollowUpTask
    fields = ("title", "due_at", "advisor", "snoozed_until", "done_at", "source")
    readonly_fields = ("snoozed_until", "done_at", "source")
    cached_choice_fields = ("advisor",)
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[FollowUpTask]:
        return super().get_queryset(request).select_related("advisor").order_by("-done_at", "due_at")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "advisor":
            kwargs["queryset"] = User.objects.filter(is_staff=True, is_active=True).order_by("display_name")
            kwargs["initial"] = staff_user(request).pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _role_choices() -> list[tuple[str, str]]:
    return list(Role.objects.filter(is_active=True).values_list("slug", "name_ja"))


class CandidateForm(forms.ModelForm[Candidate]):
    """Lists stored as JSON are edited as choices, never as raw JSON."""

    current_occupation = forms.ChoiceField(
        label=_("current occupation"), choices=[("", "---------"), *Occupation.choices], required=False
    )
    prefecture = forms.ChoiceField(
        label=_("prefecture"), choices=[("", "---------"), *PREFECTURE_CHOICES], required=False
    )
    strengths = forms.MultipleChoiceField(
        label=_("transferable strengths"),
        choices=Strength.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    desired_roles = forms.MultipleChoiceField(
        label=_("desired roles"), choices=_role_choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    desired_prefectures = forms.MultipleChoiceField(
        label=_("desired prefectures"),
        choices=PREFECTURE_CHOICES,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        required=False,
    )
    word_level = forms.ChoiceField(
        label=_("Word"), choices=[("", "---------"), *SkillLevel.choices], required=False
    )
    excel_level = forms.ChoiceField(
        label=_("Excel"), choices=[("", "---------"), *SkillLevel.choices], required=False
    )

    class Meta:
        model = Candidate
        fields = sorted(PROFILE_FIELDS)

    # Stored in the same normal forms as lead intake writes them: the same person must
    # stay findable and deduplicated whoever typed the value.
    def clean_email(self) -> str | None:
        return self._normalized("email", normalize_email)

    def clean_phone(self) -> str | None:
        return self._normalized("phone", normalize_phone)

    def clean_family_name_kana(self) -> str:
        return self._normalized("family_name_kana", normalize_kana) or ""

    def clean_given_name_kana(self) -> str:
        return self._normalized("given_name_kana", normalize_kana) or ""

    def _normalized(self, name: str, normalize: Callable[[str], str]) -> str | None:
        value = self.cleaned_data.get(name)
        if not value:
            return None if name in {"email", "phone"} else ""
        try:
            return normalize(value)
        except NormalizationError as exc:
            raise ValidationError(_(str(exc)), code="invalid") from exc


class CandidateActionForm(helpers.ActionForm):
    """Extra choices next to the action menu: the stage to move to, the reason to close,
    the advisor to assign to (its options are filled per request, see changelist_view)."""

    stage = forms.ChoiceField(
        label=_("stage"), choices=[("", "---------"), *Candidate.Stage.choices], required=False
    )
    reason = forms.ChoiceField(
        label=_("closed reason"), choices=[("", "---------"), *Candidate.ClosedReason.choices], required=False
    )
    # A CharField: the posted id is checked by the action, so the form needs no query to
    # validate it.
    advisor = forms.CharField(label=_("advisor"), required=False, widget=forms.Select)
