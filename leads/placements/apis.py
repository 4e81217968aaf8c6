"""Advisors' application API : applications (推薦), their stages, interview rounds,
placements, and the employer reveals per candidate.

Advisors only (IsAdvisor, the admin's session): these responses name employers and
candidates. Every write is one service call of leads.placements.services; a change the
rules refuse is 409 with the rule's code.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.apis import conflict, get_or_400, valid_input
from core.exceptions import Conflict
from core.openapi import client_error_response
from leads.audit import Channel
from leads.models import Application, Candidate, Placement
from leads.placements.errors import ApplicationError
from leads.placements.fees import LeavingError, placement_record_leaving
from leads.placements.selectors import application_detail_list, application_list, employer_reveal_list
from leads.placements.serializers import (
    ApplicationCreateInputSerializer,
    ApplicationDetailOutputSerializer,
    ApplicationListFilterSerializer,
    ApplicationOutputSerializer,
    ApplicationTransitionInputSerializer,
    EmployerRevealInputSerializer,
    EmployerRevealOutputSerializer,
    InterviewRoundInputSerializer,
    InterviewRoundOutputSerializer,
    PlacementInputSerializer,
    PlacementLeavingInputSerializer,
    PlacementOutputSerializer,
)
from leads.placements.services import (
    application_accept,
    application_create,
    application_transition,
    employer_reveal,
    interview_round_schedule,
)
from roles.models import JobPosting
from roles.permissions import IsAdvisor


def _conflict(error: ApplicationError) -> Conflict:
    return conflict(code=error.code or "conflict", message=error.messages[0])


RULE_CONFLICT = client_error_response(
    description="The application rules refuse the change in the application's current state.",
    codes=["transition", "placement_required", "duplicate", "posting", "two_year_rule", "already_left"],
)


def _advisor(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAdvisor
    return user


def _application(pk: int) -> Application:
    return get_object_or_404(application_detail_list(), pk=pk)


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
        data = valid_input(ApplicationCreateInputSerializer, request)
        candidate = get_or_400(Candidate.objects.all(), data["candidate"], "candidate")
        posting = get_or_400(JobPosting.objects.all(), data["posting"], "posting")
        try:
            application = application_create(
                candidate=candidate,
                posting=posting,
                by=_advisor(request),
                note=data["note"],
                own_request_reason=data["own_request_reason"],
                channel=Channel.API,
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
        data = valid_input(ApplicationTransitionInputSerializer, request)
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
        data = valid_input(InterviewRoundInputSerializer, request)
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
        data = valid_input(PlacementInputSerializer, request)
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
        responses={200: PlacementOutputSerializer, 409: RULE_CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        """The hire left: record the day; the refund is computed from the employer's refund
        bands in force at the start, and its credit note issued."""
        data = valid_input(PlacementLeavingInputSerializer, request)
        placement = get_object_or_404(Placement.objects.only("pk"), application_id=pk)
        try:
            placement = placement_record_leaving(
                placement_id=placement.pk,
                left_on=data["left_on"],
                by=_advisor(request),
                note=data["note"],
            )
        except LeavingError as error:
            raise conflict(code=error.code or "conflict", message=error.messages[0]) from error
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
        data = valid_input(EmployerRevealInputSerializer, request)
        posting = get_or_400(
            JobPosting.objects.select_related("employer", "role"), data["posting"], "posting"
        )
        reveal, created = employer_reveal(candidate=candidate, posting=posting, by=_advisor(request))
        reveal = employer_reveal_list(candidate_id=candidate.pk).get(pk=reveal.pk)
        return Response(EmployerRevealOutputSerializer(reveal).data, status=201 if created else 200)
