from django.urls import path

from leads.candidates.apis import (
    CandidateAssignApi,
    CandidateCallApi,
    CandidateDetailApi,
    CandidateListApi,
    CandidateNoteApi,
    CandidateStageApi,
)
from leads.intake.apis import LeadCollectionApi
from leads.partners.apis import LeadDetailApi, PartnerStatsApi
from leads.partners.statements import StatementDetailApi, StatementListApi
from leads.partners.webhook_apis import (
    WebhookDeliveryListApi,
    WebhookEndpointCollectionApi,
    WebhookEndpointDetailApi,
    WebhookReplayApi,
)
from leads.placements.apis import (
    ApplicationCollectionApi,
    ApplicationDetailApi,
    ApplicationTransitionApi,
    EmployerRevealCollectionApi,
    InterviewRoundCreateApi,
    PlacementCreateApi,
    PlacementLeavingApi,
)
from leads.placements.matching_api import CandidateMatchingPostingsApi, PostingMatchingCandidatesApi

urlpatterns = [
    path("leads/", LeadCollectionApi.as_view(), name="leads"),
    path("leads/<uuid:lead_id>/", LeadDetailApi.as_view(), name="lead-detail"),
    path("partner/stats/", PartnerStatsApi.as_view(), name="partner-stats"),
    path("partner/statements/", StatementListApi.as_view(), name="partner-statements"),
    path("partner/statements/<str:number>/", StatementDetailApi.as_view(), name="partner-statement-detail"),
    path(
        "partner/webhook-endpoints/", WebhookEndpointCollectionApi.as_view(), name="partner-webhook-endpoints"
    ),
    path(
        "partner/webhook-endpoints/<uuid:endpoint_id>/",
        WebhookEndpointDetailApi.as_view(),
        name="partner-webhook-endpoint-detail",
    ),
    path(
        "partner/webhook-endpoints/<uuid:endpoint_id>/deliveries/",
        WebhookDeliveryListApi.as_view(),
        name="partner-webhook-deliveries",
    ),
    path(
        "partner/webhook-endpoints/<uuid:endpoint_id>/replay/",
        WebhookReplayApi.as_view(),
        name="partner-webhook-replay",
    ),
    path(
        "candidates/<uuid:pk>/matching-postings/",
        CandidateMatchingPostingsApi.as_view(),
        name="candidate-matching-postings",
    ),
    path(
        "postings/<int:pk>/matching-candidates/",
        PostingMatchingCandidatesApi.as_view(),
        name="posting-matching-candidates",
    ),
    path("applications/", ApplicationCollectionApi.as_view(), name="applications"),
    path("applications/<int:pk>/", ApplicationDetailApi.as_view(), name="application-detail"),
    path(
        "applications/<int:pk>/transition/", ApplicationTransitionApi.as_view(), name="application-transition"
    ),
    path(
        "applications/<int:pk>/interview-rounds/",
        InterviewRoundCreateApi.as_view(),
        name="application-interviews",
    ),
    path("applications/<int:pk>/placement/", PlacementCreateApi.as_view(), name="application-placement"),
    path(
        "applications/<int:pk>/placement/leaving/", PlacementLeavingApi.as_view(), name="application-leaving"
    ),
    path(
        "candidates/<uuid:pk>/employer-reveals/",
        EmployerRevealCollectionApi.as_view(),
        name="candidate-reveals",
    ),
    # The advisors' candidate API (leads/apis_advisor.py).
    path("candidates/", CandidateListApi.as_view(), name="candidates"),
    path("candidates/<uuid:pk>/", CandidateDetailApi.as_view(), name="candidate-detail"),
    path("candidates/<uuid:pk>/notes/", CandidateNoteApi.as_view(), name="candidate-notes"),
    path("candidates/<uuid:pk>/calls/", CandidateCallApi.as_view(), name="candidate-calls"),
    path("candidates/<uuid:pk>/stage/", CandidateStageApi.as_view(), name="candidate-stage"),
    path("candidates/<uuid:pk>/assign/", CandidateAssignApi.as_view(), name="candidate-assign"),
]
