"""The advisors' candidate API: the workspace's list, search and filters, a
candidate with their timeline, and the everyday changes (note, call, stage, assign).

Advisors and managers only (IsAdvisor, the admin's session): anonymous callers and partner
keys get 403 and nothing else. Everyone in the workspace reads every candidate; changes are
for the candidate's own advisor or a manager, as in the admin."""

import uuid
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.staff import staff_active_get, staff_is_manager
from core.apis import valid_input
from core.pagination import CreatedCursorPagination
from leads.audit import Action, Channel, audit_record
from leads.candidates.pipeline import candidate_call_log, candidate_note_add, candidate_stage_change
from leads.candidates.profile import candidate_assign
from leads.candidates.selectors import (
    candidate_detail_get,
    candidate_editable_by,
    candidate_list_filtered,
)
from leads.candidates.serializers import (
    CandidateAssignInputSerializer,
    CandidateCallInputSerializer,
    CandidateDetailOutputSerializer,
    CandidateListOutputSerializer,
    CandidateListQuerySerializer,
    CandidateNoteInputSerializer,
    CandidateStageInputSerializer,
    TimelineEntryOutputSerializer,
)
from leads.candidates.timeline import TimelineEntry, candidate_timeline
from leads.models import Candidate
from roles.permissions import IsAdvisor

TAGS = ["advisor candidates"]


class AdvisorCandidateApi(GenericAPIView[Candidate]):
    # The admin's session login. Anonymous callers and partner keys get 403, not 401:
    # SessionAuthentication offers no WWW-Authenticate challenge.
    permission_classes = (IsAdvisor,)
    filter_backends = ()

    @property
    def staff(self) -> User:
        return cast(User, self.request.user)

    def candidate_or_404(self, pk: uuid.UUID) -> Candidate:
        candidate = Candidate.objects.only("pk", "advisor_id").filter(pk=pk).first()
        if candidate is None:
            raise exceptions.NotFound()
        return candidate

    def editable_or_403(self, pk: uuid.UUID) -> Candidate:
        candidate = self.candidate_or_404(pk)
        manager = staff_is_manager(user=self.staff)
        if not candidate_editable_by(candidate=candidate, user=self.staff, is_manager=manager):
            raise exceptions.PermissionDenied(_("Only the candidate's advisor or a manager can change them."))
        return candidate

    def detail_response(self, pk: uuid.UUID, *, code: int = status.HTTP_200_OK) -> Response:
        candidate = candidate_detail_get(candidate_id=pk)
        if candidate is None:
            raise exceptions.NotFound()
        context = {"timeline": candidate_timeline(candidate_id=candidate.pk)}
        return Response(CandidateDetailOutputSerializer(candidate, context=context).data, status=code)


def _invalid(exc: DjangoValidationError, *, attr: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({attr: exc.messages}, code="invalid")


class CandidateListApi(AdvisorCandidateApi):
    pagination_class = CreatedCursorPagination

    @extend_schema(
        operation_id="candidates_list",
        tags=TAGS,
        parameters=[CandidateListQuerySerializer],
        responses={200: CandidateListOutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        """Candidates, newest first (cursor pages), with the admin list's search and filters."""
        query = CandidateListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        candidates = candidate_list_filtered(user=self.staff, now=timezone.now(), **query.validated_data)
        page = self.paginate_queryset(candidates)
        return self.get_paginated_response(CandidateListOutputSerializer(page, many=True).data)


class CandidateDetailApi(AdvisorCandidateApi):
    @extend_schema(
        operation_id="candidates_retrieve", tags=TAGS, responses={200: CandidateDetailOutputSerializer}
    )
    def get(self, request: Request, pk: uuid.UUID) -> Response:
        """One candidate's profile with their whole timeline, newest first."""
        response = self.detail_response(pk)  # 404 before anything is recorded
        audit_record(candidate_id=pk, action=Action.VIEW, by=self.staff, channel=Channel.API)
        return response


class CandidateNoteApi(AdvisorCandidateApi):
    @extend_schema(
        operation_id="candidates_notes_create",
        tags=TAGS,
        request=CandidateNoteInputSerializer,
        responses={201: TimelineEntryOutputSerializer},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        """Add a note to the candidate's timeline."""
        candidate = self.editable_or_403(pk)
        body = valid_input(CandidateNoteInputSerializer, request)
        try:
            event = candidate_note_add(candidate_id=candidate.pk, note=body["note"], by=self.staff)
        except DjangoValidationError as exc:
            raise _invalid(exc, attr="note") from exc
        entry = TimelineEntry(
            at=event.occurred_at,
            kind=event.kind,
            label=str(event.get_kind_display()),
            actor=str(self.staff),
            detail=event.note,
        )
        return Response(TimelineEntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)


class CandidateCallApi(AdvisorCandidateApi):
    @extend_schema(
        operation_id="candidates_calls_create",
        tags=TAGS,
        request=CandidateCallInputSerializer,
        responses={200: CandidateDetailOutputSerializer},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        """Log a call: reached, no answer or voicemail. A reached call moves a new candidate
        to contacted and stops the contact-SLA follow-ups; any attempt moves them to contacting."""
        candidate = self.editable_or_403(pk)
        body = valid_input(CandidateCallInputSerializer, request)
        candidate_call_log(candidate_id=candidate.pk, by=self.staff, **body)
        return self.detail_response(candidate.pk)


class CandidateStageApi(AdvisorCandidateApi):
    @extend_schema(
        operation_id="candidates_stage_update",
        tags=TAGS,
        request=CandidateStageInputSerializer,
        responses={200: CandidateDetailOutputSerializer},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        """Move the candidate to a stage: forward any number of stages, or back one to correct
        a mistake; `placed` is final and a closed candidate must be reopened first (400)."""
        candidate = self.editable_or_403(pk)
        body = valid_input(CandidateStageInputSerializer, request)
        try:
            candidate_stage_change(
                candidate_id=candidate.pk,
                to=body["stage"],
                by=self.staff,
                note=body["note"],
            )
        except DjangoValidationError as exc:
            raise _invalid(exc, attr="stage") from exc
        return self.detail_response(candidate.pk)


class CandidateAssignApi(AdvisorCandidateApi):
    @extend_schema(
        operation_id="candidates_assign",
        tags=TAGS,
        request=CandidateAssignInputSerializer,
        responses={200: CandidateDetailOutputSerializer},
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        """Give the candidate to an advisor (`me`, or an id). An advisor may take an
        unassigned candidate or pass on their own; managers assign anyone."""
        candidate = self.candidate_or_404(pk)
        body = valid_input(CandidateAssignInputSerializer, request)
        chosen: Any = body["advisor"]
        if not (chosen == "me" and candidate.advisor_id is None):  # taking new work is everyone's
            candidate = self.editable_or_403(pk)
        advisor = self.staff if chosen == "me" else staff_active_get(user_id=int(chosen))
        if advisor is None:
            raise exceptions.ValidationError({"advisor": [_("Choose an active advisor.")]}, code="invalid")
        candidate_assign(candidate_id=candidate.pk, advisor=advisor, by=self.staff)
        return self.detail_response(candidate.pk)
