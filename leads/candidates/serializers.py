"""Serializers of the advisor candidate API (leads/apis_advisor.py). Staff only: these carry
personal data and must never be used by a partner or public endpoint."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.business_time import BUSINESS_TZ
from core.prefectures import PREFECTURE_CHOICES
from core.serializers import ModelSerializer, QuerySerializer
from leads.candidates.pipeline import CALL_OUTCOMES
from leads.candidates.selectors import age_on
from leads.models import Candidate, CandidateCertification, WorkHistoryEntry

ADVISOR_ME, ADVISOR_NONE = "me", "none"
# For drf-spectacular's ENUM_NAME_OVERRIDES, which needs a module-level path.
CANDIDATE_STAGE_CHOICES = Candidate.Stage.choices


class CandidateListQuerySerializer(QuerySerializer):
    """The list's filters; the same meaning as the admin list's."""

    q = serializers.CharField(
        required=False,
        max_length=100,
        help_text="Names (kanji), readings in hiragana or katakana, email, or a phone number in any form.",
    )
    stage = serializers.ChoiceField(choices=Candidate.Stage.choices, required=False)
    closed = serializers.BooleanField(required=False, allow_null=True, default=None)
    advisor = serializers.RegexField(
        r"^(me|none|[1-9][0-9]{0,9})$",
        required=False,
        help_text="`me`, `none` (unassigned) or an advisor's id.",
    )
    partner = serializers.IntegerField(
        required=False, min_value=1, help_text="A partner's id: candidates with any lead from it."
    )
    role = serializers.SlugField(required=False, help_text="A desired role's slug.")
    prefecture = serializers.ChoiceField(choices=PREFECTURE_CHOICES, required=False)
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: with an overdue follow-up."
    )
    consultation = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: with an upcoming consultation."
    )


class CandidateAdvisorOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class CandidateListOutputSerializer(ModelSerializer[Candidate]):
    advisor = CandidateAdvisorOutputSerializer(allow_null=True, read_only=True)
    source_partner = serializers.SerializerMethodField(
        help_text="The credited partner's slug; null for a direct or unknown source."
    )
    next_followup_at = serializers.DateTimeField(read_only=True, allow_null=True)
    possible_duplicate = serializers.BooleanField(read_only=True)
    age = serializers.SerializerMethodField()

    class Meta:
        model = Candidate
        fields: tuple[str, ...] = (
            "id",
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "email",
            "phone",
            "prefecture",
            "stage",
            "is_closed",
            "closed_reason",
            "advisor",
            "source_partner",
            "last_contacted_at",
            "next_followup_at",
            "age",
            "possible_duplicate",
            "created_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_source_partner(self, candidate: Candidate) -> str | None:
        lead = candidate.credited_lead
        return lead.partner.slug if lead is not None and lead.partner is not None else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_age(self, candidate: Candidate) -> int | None:
        if candidate.birth_date is None:
            return None
        return age_on(birth_date=candidate.birth_date, day=timezone.localdate(timezone=BUSINESS_TZ))


class WorkHistoryOutputSerializer(ModelSerializer[WorkHistoryEntry]):
    class Meta:
        model = WorkHistoryEntry
        fields = ("occupation", "employer_name", "job_title", "years", "months", "is_current", "description")
        read_only_fields = fields


class CandidateCertificationOutputSerializer(ModelSerializer[CandidateCertification]):
    code = serializers.CharField(source="certification.code", read_only=True)
    name = serializers.CharField(source="certification.name", read_only=True)

    class Meta:
        model = CandidateCertification
        fields = ("code", "name", "status", "exam_date")
        read_only_fields = fields


class TimelineEntryOutputSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="stage_changed, call, note, lead, booking_booked, ...")
    label = serializers.CharField(help_text="The kind for people, in the request's language.")  # type: ignore[assignment]  # a field named like Field.label
    actor = serializers.CharField(help_text="Who did it; empty when the system did.")
    detail = serializers.CharField()


class CandidateDetailOutputSerializer(CandidateListOutputSerializer):
    work_history = WorkHistoryOutputSerializer(many=True, read_only=True)
    certification_records = CandidateCertificationOutputSerializer(many=True, read_only=True)
    timeline = serializers.SerializerMethodField()

    class Meta(CandidateListOutputSerializer.Meta):
        fields = (
            *CandidateListOutputSerializer.Meta.fields,
            "birth_date",
            "current_occupation",
            "partner_status",
            "strengths",
            "motivation",
            "word_level",
            "excel_level",
            "has_desk_experience",
            "desired_roles",
            "desired_prefectures",
            "min_annual_salary",
            "wants_weekends_off",
            "max_overtime_hours",
            "remote_wish",
            "contact_channel",
            "language",
            "work_history",
            "certification_records",
            "timeline",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(TimelineEntryOutputSerializer(many=True))
    def get_timeline(self, candidate: Candidate) -> list[dict[str, Any]]:
        entries = self.context["timeline"]
        return list(TimelineEntryOutputSerializer(entries, many=True).data)


class CandidateNoteInputSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=2000)


class CandidateStageInputSerializer(serializers.Serializer[Any]):
    stage = serializers.ChoiceField(choices=Candidate.Stage.choices)
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class CandidateAssignInputSerializer(serializers.Serializer[Any]):
    advisor = serializers.RegexField(
        r"^(me|[1-9][0-9]{0,9})$", help_text="`me` or the id of an active advisor or manager."
    )


class CandidateCallInputSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=[(o, o) for o in CALL_OUTCOMES])
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
