"""What the advisors' application API reads and writes (leads.placements.apis)."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from core.serializers import ModelSerializer, QuerySerializer
from leads.models import Application, ApplicationEvent, Candidate, EmployerReveal, InterviewRound, Placement
from leads.placements.fees import left_early
from roles.models import JobPosting


class ApplicationCandidateOutputSerializer(ModelSerializer[Candidate]):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Candidate
        fields = ("id", "name", "stage")
        read_only_fields = fields

    def get_name(self, candidate: Candidate) -> str:
        return f"{candidate.family_name} {candidate.given_name}"


class ApplicationPostingOutputSerializer(ModelSerializer[JobPosting]):
    employer_name = serializers.CharField(source="employer.name", read_only=True)
    role = serializers.CharField(source="role.slug", read_only=True)

    class Meta:
        model = JobPosting
        fields = ("id", "title", "role", "employer_name", "employment_type")
        read_only_fields = fields


class ApplicationAdvisorOutputSerializer(ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", "display_name")
        read_only_fields = fields


class PlacementOutputSerializer(ModelSerializer[Placement]):
    is_permanent = serializers.BooleanField(read_only=True, help_text="A full-time employee (正社員).")
    left_within_6_months = serializers.SerializerMethodField()

    class Meta:
        model = Placement
        fields = (
            "id",
            "placed_on",
            "start_date",
            "annual_salary_jpy",
            "fee_rate_percent",
            "fee_jpy",
            "employment_type",
            "is_permanent",
            "guarantee_until",
            "left_on",
            "refund_jpy",
            "left_within_6_months",
        )
        read_only_fields = fields

    def get_left_within_6_months(self, placement: Placement) -> bool:
        return left_early(placement=placement)


class ApplicationOutputSerializer(ModelSerializer[Application]):
    candidate = ApplicationCandidateOutputSerializer(read_only=True)
    posting = ApplicationPostingOutputSerializer(read_only=True)
    advisor = ApplicationAdvisorOutputSerializer(read_only=True, allow_null=True)
    placement = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields: tuple[str, ...] = (
            "id",
            "candidate",
            "posting",
            "advisor",
            "stage",
            "stage_changed_at",
            "note",
            "placement",
            "created_at",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(PlacementOutputSerializer(allow_null=True))
    def get_placement(self, application: Application) -> dict[str, Any] | None:
        placement = getattr(application, "placement", None)  # select_related: no query
        return None if placement is None else PlacementOutputSerializer(placement).data


class InterviewRoundOutputSerializer(ModelSerializer[InterviewRound]):
    class Meta:
        model = InterviewRound
        fields = ("id", "number", "scheduled_at", "note")
        read_only_fields = fields


class ApplicationEventOutputSerializer(ModelSerializer[ApplicationEvent]):
    actor = ApplicationAdvisorOutputSerializer(read_only=True, allow_null=True)
    # A plain string, as the timeline's kinds: more kinds may come, and "kind" enums of
    # other components would collide in the schema.
    kind = serializers.CharField(
        read_only=True,
        help_text="created, stage_changed, interview_scheduled, placed, left_early, merged",
    )

    class Meta:
        model = ApplicationEvent
        fields = ("kind", "from_stage", "to_stage", "actor", "note", "occurred_at")
        read_only_fields = fields


class ApplicationDetailOutputSerializer(ApplicationOutputSerializer):
    interview_rounds = InterviewRoundOutputSerializer(many=True, read_only=True)
    events = ApplicationEventOutputSerializer(many=True, read_only=True)

    class Meta(ApplicationOutputSerializer.Meta):
        fields = (*ApplicationOutputSerializer.Meta.fields, "interview_rounds", "events")
        read_only_fields = fields


class EmployerRevealOutputSerializer(ModelSerializer[EmployerReveal]):
    posting = ApplicationPostingOutputSerializer(read_only=True)
    advisor = ApplicationAdvisorOutputSerializer(read_only=True, allow_null=True)

    class Meta:
        model = EmployerReveal
        fields = ("id", "posting", "advisor", "revealed_at")
        read_only_fields = fields


class ApplicationListFilterSerializer(QuerySerializer):
    stage = serializers.ChoiceField(choices=Application.Stage.choices, required=False)
    advisor = serializers.IntegerField(required=False, help_text="An advisor's user id.")
    employer = serializers.IntegerField(required=False, help_text="An employer's id.")
    candidate = serializers.UUIDField(required=False)
    posting = serializers.IntegerField(required=False)


class ApplicationCreateInputSerializer(serializers.Serializer[Any]):
    candidate = serializers.UUIDField()
    posting = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    own_request_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text=(
            "Two-year rule: a person placed less than two years ago goes to another employer only "
            "when a manager records here that the person asked for it (kept and audited)."
        ),
    )


class ApplicationTransitionInputSerializer(serializers.Serializer[Any]):
    to = serializers.ChoiceField(
        choices=[c for c in Application.Stage.choices if c[0] != Application.Stage.ACCEPTED],
        help_text="The next stage; `accepted` is reached by recording the placement.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


# An interview is recorded up to a year after it happened and planned up to two years ahead;
# anything else is a typo (and dates before 1888 would be shown in Tokyo's local mean time).
INTERVIEW_PAST = timedelta(days=365)
INTERVIEW_AHEAD = timedelta(days=730)


class InterviewRoundInputSerializer(serializers.Serializer[Any]):
    scheduled_at = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate_scheduled_at(self, value: datetime) -> datetime:
        now = timezone.now()
        if not now - INTERVIEW_PAST <= value <= now + INTERVIEW_AHEAD:
            raise serializers.ValidationError(
                _("Enter a time within a year before and two years after today."), code="invalid"
            )
        return value


class PlacementInputSerializer(serializers.Serializer[Any]):
    start_date = serializers.DateField()
    annual_salary_jpy = serializers.IntegerField(min_value=1, max_value=100_000_000)
    placed_on = serializers.DateField(required=False, help_text="Defaults to today (JST).")
    fee_jpy = serializers.IntegerField(
        required=False, min_value=0, max_value=100_000_000, help_text="Defaults to the employer's fee rate."
    )
    guarantee_until = serializers.DateField(required=False, help_text="Defaults to 90 days after the start.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class PlacementLeavingInputSerializer(serializers.Serializer[Any]):
    left_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class EmployerRevealInputSerializer(serializers.Serializer[Any]):
    posting = serializers.IntegerField()
