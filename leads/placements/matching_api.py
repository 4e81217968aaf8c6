"""Advisors' matching API : postings for a candidate, candidates for a posting.

Advisors only (IsAdvisor, the admin's session): the posting side names the employer, which
no public or partner response may ever do.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.serializers import QuerySerializer
from leads.models import Candidate
from leads.placements.matching import candidates_for_posting, postings_for_candidate
from leads.placements.matching_rules import CRITERIA
from roles.models import JobPosting
from roles.permissions import IsAdvisor


class MatchingLimitInputSerializer(QuerySerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=100, default=20, help_text="How many of the best matches to return."
    )


class MatchReasonOutputSerializer(serializers.Serializer[Any]):
    criterion = serializers.ChoiceField(choices=[(c, c) for c in CRITERIA])
    met = serializers.BooleanField()
    detail = serializers.CharField(help_text="A sentence for people, in the request's language.")


class MatchedPostingOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    role = serializers.CharField(source="role.slug")
    salary_min = serializers.IntegerField()
    salary_max = serializers.IntegerField()
    employer_name = serializers.CharField(source="employer.name")


class MatchingPostingOutputSerializer(serializers.Serializer[Any]):
    rank = serializers.IntegerField(min_value=1)
    score = serializers.IntegerField()
    reasons = MatchReasonOutputSerializer(many=True)
    posting = MatchedPostingOutputSerializer()


class MatchedAdvisorOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class MatchedCandidateOutputSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.SerializerMethodField()
    stage = serializers.ChoiceField(choices=Candidate.Stage.choices)
    advisor = MatchedAdvisorOutputSerializer(allow_null=True)

    def get_name(self, candidate: Candidate) -> str:
        return f"{candidate.family_name} {candidate.given_name}"


class MatchingCandidateOutputSerializer(serializers.Serializer[Any]):
    rank = serializers.IntegerField(min_value=1)
    score = serializers.IntegerField()
    reasons = MatchReasonOutputSerializer(many=True)
    candidate = MatchedCandidateOutputSerializer()


def _limit(request: Request) -> int:
    params = MatchingLimitInputSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    limit: int = params.validated_data["limit"]
    return limit


class CandidateMatchingPostingsApi(APIView):
    # The admin's session login; anonymous callers and partner keys get 403.
    permission_classes = (IsAdvisor,)

    @extend_schema(
        operation_id="candidates_matching_postings",
        tags=["matching"],
        parameters=[MatchingLimitInputSerializer],
        responses={200: MatchingPostingOutputSerializer(many=True)},
    )
    def get(self, request: Request, pk: str) -> Response:
        """Open postings ranked by fit for the candidate, best first, with the reasons."""
        candidate = get_object_or_404(Candidate, pk=pk)
        matches = postings_for_candidate(candidate=candidate, limit=_limit(request))
        return Response(MatchingPostingOutputSerializer(matches, many=True).data)


class PostingMatchingCandidatesApi(APIView):
    # The admin's session login; anonymous callers and partner keys get 403.
    permission_classes = (IsAdvisor,)

    @extend_schema(
        operation_id="postings_matching_candidates",
        tags=["matching"],
        parameters=[MatchingLimitInputSerializer],
        responses={200: MatchingCandidateOutputSerializer(many=True)},
    )
    def get(self, request: Request, pk: int) -> Response:
        """Open candidates (not closed, not placed) ranked by fit for the posting, best first."""
        posting = get_object_or_404(JobPosting.objects.select_related("role"), pk=pk)
        matches = candidates_for_posting(posting=posting, limit=_limit(request))
        return Response(MatchingCandidateOutputSerializer(matches, many=True).data)
