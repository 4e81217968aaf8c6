"""Advisors' application API (issue 5): applications (推薦), their stages, interview rounds,
placements, and the employer reveals per candidate.

Advisors only (IsAdvisor, the admin's session): these responses name employers and
candidates. Every write is one service call of leads.placements.services; a change the
rules refuse is 409 with the rule's code.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.exceptions import Conflict
from core.openapi import client_error_response
from leads.models import Application, ApplicationEvent, Candidate, EmployerReveal, InterviewRound, Placement
from leads.placements.selectors import application_detail_list, application_list, employer_reveal_list
from leads.placements.services import (
    ApplicationError,
    application_accept,
    application_create,
    application_transition,
    employer_reveal,
    interview_round_schedule,
    left_early,
    placement_record_leaving,
)
from roles.models import JobPosting
from roles.permissions import IsAdvisor

# --- output ------------------------------------------------------------------------------


class ApplicationCandidateOutputSerializer(serializers.ModelSerializer[Candidate]):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Candidate
        fields = ("id", "name", "stage")
        read_only_fields = fields

    def get_name(self, candidate: Candidate) -> str:
        return f"{candidate.family_name} {candidate.given_name}"


class ApplicationPostingOutputSerializer(serializers.ModelSerializer[JobPosting]):
    employer_name = serializers.CharField(source="employer.name", read_only=True)
    role = serializers.CharField(source="role.slug", read_only=True)

    class Meta:
        model = JobPosting
        fields = ("id", "title", "role", "employer_name", "employment_type")
        read_only_fields = fields


class ApplicationAdvisorOutputSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", "display_name")
        read_only_fields = fields


class PlacementOutputSerializer(serializers.ModelSerializer[Placement]):
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


class ApplicationOutputSerializer(serializers.ModelSerializer[Application]):
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


class InterviewRoundOutputSerializer(serializers.ModelSerializer[InterviewRound]):
    class Meta:
        model = InterviewRound
        fields = ("id", "number", "scheduled_at", "note")
        read_only_fields = fields


class ApplicationEventOutputSerializer(serializers.ModelSerializer[ApplicationEvent]):
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


class EmployerRevealOutputSerializer(serializers.ModelSerializer[EmployerReveal]):
    posting = ApplicationPostingOutputSerializer(read_only=True)
    advisor = ApplicationAdvisorOutputSerializer(read_only=True, allow_null=True)

    class Meta:
        model = EmployerReveal
        fields = ("id", "posting", "advisor", "revealed_at")
        read_only_fields = fields


# --- input -------------------------------------------------------------------------------


class ApplicationListFilterSerializer(serializers.Serializer[Any]):
    stage = serializers.ChoiceField(choices=Application.Stage.choices, required=False)
    advisor = serializers.IntegerField(required=False, help_text="An advisor's user id.")
    employer = serializers.IntegerField(required=False, help_text="An employer's id.")
    candidate = serializers.UUIDField(required=False)
    posting = serializers.IntegerField(required=False)


class ApplicationCreateInputSerializer(serializers.Serializer[Any]):
    candidate = serializers.UUIDField()
    posting = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ApplicationTransitionInputSerializer(serializers.Serializer[Any]):
    to = serializers.ChoiceField(
        choices=[c for c in Application.Stage.choices if c[0] != Application.Stage.ACCEPTED],
        help_text="The next stage; `accepted` is reached by recording the placement.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class InterviewRoundInputSerializer(serializers.Serializer[Any]):
    scheduled_at = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


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
    refund_jpy = serializers.IntegerField(required=False, allow_null=True, min_value=0, default=None)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class EmployerRevealInputSerializer(serializers.Serializer[Any]):
    posting = serializers.IntegerField()


def _conflict(error: ApplicationError) -> Conflict:
    return Conflict(error.messages[0], code=error.code or "conflict")


RULE_CONFLICT = client_error_response(
    description="The application rules refuse the change in the application's current state.",
    codes=["transition", "placement_required", "duplicate", "posting"],
)


def _advisor(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAdvisor
    return user


def _application(pk: int) -> Application:
    return get_object_or_404(application_detail_list(), pk=pk)


# --- views -------------------------------------------------------------------------------


class ApplicationCollectionApi(generics.ListAPIView[Application]):
    # The admin's session login; anonymous callers and partner keys get 403.
    permission_classes = (IsAdvisor,)
    serializer_class = ApplicationOutputSerializer
    filter_backends = ()

    def get_queryset(self) -> Any:
        params = ApplicationListFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return application_list(
            stage=data.get("stage"),
            advisor_id=data.get("advisor"),
            employer_id=data.get("employer"),
            candidate_id=data.get("candidate"),
            posting_id=data.get("posting"),
        )

    @extend_schema(
        operation_id="applications_list",
        tags=["applications"],
        parameters=[ApplicationListFilterSerializer],
        responses={200: ApplicationOutputSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Applications, newest first, filtered by stage, advisor, employer, candidate, posting."""
        return self.list(request, *args, **kwargs)

    @extend_schema(
        operation_id="applications_create",
        tags=["applications"],
        request=ApplicationCreateInputSerializer,
        responses={201: ApplicationDetailOutputSerializer, 409: RULE_CONFLICT},
    )
    def post(self, request: Request) -> Response:
        """Recommend a candidate for an open posting (one application per candidate and posting)."""
        data = _valid(ApplicationCreateInputSerializer, request)
        candidate = _get_or_400(Candidate.objects.all(), data["candidate"], "candidate")
        posting = _get_or_400(JobPosting.objects.all(), data["posting"], "posting")
        try:
            application = application_create(
                candidate=candidate, posting=posting, by=_advisor(request), note=data["note"]
            )
        except ApplicationError as error:
            raise _conflict(error) from error
        return Response(ApplicationDetailOutputSerializer(_application(application.pk)).data, status=201)


class ApplicationDetailApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        operation_id="applications_retrieve",
        tags=["applications"],
        responses={200: ApplicationDetailOutputSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        """One application with its interview rounds, placement and history."""
        return Response(ApplicationDetailOutputSerializer(_application(pk)).data)


class ApplicationTransitionApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        operation_id="applications_transition",
        tags=["applications"],
        request=ApplicationTransitionInputSerializer,
        responses={200: ApplicationDetailOutputSerializer, 409: RULE_CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Move the application to its next stage, or close it (declined, rejected, withdrawn)."""
        data = _valid(ApplicationTransitionInputSerializer, request)
        application = get_object_or_404(Application.objects.only("pk"), pk=pk)
        try:
            application_transition(
                application_id=application.pk, to=data["to"], by=_advisor(request), note=data["note"]
            )
        except ApplicationError as error:
            raise _conflict(error) from error
        return Response(ApplicationDetailOutputSerializer(_application(pk)).data)


class InterviewRoundCreateApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        operation_id="applications_interview_rounds_create",
        tags=["applications"],
        request=InterviewRoundInputSerializer,
        responses={201: InterviewRoundOutputSerializer, 409: RULE_CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Schedule the next interview round (numbered from 1); moves the application to `interview`."""
        data = _valid(InterviewRoundInputSerializer, request)
        application = get_object_or_404(Application.objects.only("pk"), pk=pk)
        try:
            interview = interview_round_schedule(
                application_id=application.pk,
                scheduled_at=data["scheduled_at"],
                by=_advisor(request),
                note=data["note"],
            )
        except ApplicationError as error:
            raise _conflict(error) from error
        return Response(InterviewRoundOutputSerializer(interview).data, status=status.HTTP_201_CREATED)


class PlacementCreateApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        operation_id="applications_placement_create",
        tags=["applications"],
        request=PlacementInputSerializer,
        responses={201: PlacementOutputSerializer, 409: RULE_CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        """The offer was accepted: record the placement; the candidate becomes `placed`."""
        data = _valid(PlacementInputSerializer, request)
        application = get_object_or_404(Application.objects.only("pk"), pk=pk)
        try:
            placement = application_accept(
                application_id=application.pk,
                by=_advisor(request),
                start_date=data["start_date"],
                annual_salary_jpy=data["annual_salary_jpy"],
                placed_on=data.get("placed_on"),
                fee_jpy=data.get("fee_jpy"),
                guarantee_until=data.get("guarantee_until"),
                note=data["note"],
            )
        except ApplicationError as error:
            raise _conflict(error) from error
        return Response(PlacementOutputSerializer(placement).data, status=status.HTTP_201_CREATED)


class PlacementLeavingApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        operation_id="applications_placement_leaving",
        tags=["applications"],
        request=PlacementLeavingInputSerializer,
        responses={200: PlacementOutputSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        """The hire left: record the day and any refund under the guarantee."""
        data = _valid(PlacementLeavingInputSerializer, request)
        placement = get_object_or_404(Placement.objects.only("pk"), application_id=pk)
        placement = placement_record_leaving(
            placement_id=placement.pk,
            left_on=data["left_on"],
            refund_jpy=data["refund_jpy"],
            by=_advisor(request),
            note=data["note"],
        )
        return Response(PlacementOutputSerializer(placement).data)


class EmployerRevealCollectionApi(APIView):
    permission_classes = (IsAdvisor,)

    @extend_schema(
        operation_id="candidates_employer_reveals_list",
        tags=["applications"],
        responses={200: EmployerRevealOutputSerializer(many=True)},
    )
    def get(self, request: Request, pk: str) -> Response:
        """The employers revealed to the candidate, newest first, with who revealed them and when."""
        candidate = get_object_or_404(Candidate.objects.only("pk"), pk=pk)
        reveals = employer_reveal_list(candidate_id=candidate.pk)
        return Response(EmployerRevealOutputSerializer(reveals, many=True).data)

    @extend_schema(
        operation_id="candidates_employer_reveals_create",
        tags=["applications"],
        request=EmployerRevealInputSerializer,
        responses={201: EmployerRevealOutputSerializer, 200: EmployerRevealOutputSerializer},
    )
    def post(self, request: Request, pk: str) -> Response:
        """Record that the employer behind a posting was revealed to the candidate (after the
        teaser). 201 the first time, 200 with the first record afterwards."""
        candidate = get_object_or_404(Candidate.objects.only("pk"), pk=pk)
        data = _valid(EmployerRevealInputSerializer, request)
        posting = _get_or_400(
            JobPosting.objects.select_related("employer", "role"), data["posting"], "posting"
        )
        reveal, created = employer_reveal(candidate=candidate, posting=posting, by=_advisor(request))
        reveal = employer_reveal_list(candidate_id=candidate.pk).get(pk=reveal.pk)
        return Response(EmployerRevealOutputSerializer(reveal).data, status=201 if created else 200)


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    data: dict[str, Any] = serializer.validated_data
    return data


def _get_or_400(queryset: Any, pk: Any, attr: str) -> Any:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise serializers.ValidationError({attr: ["Unknown id."]}, code="invalid")
    return found
