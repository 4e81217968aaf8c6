from django.urls import path

from leads.apis import LeadCollectionApi, LeadDetailApi, PartnerStatsApi
from leads.apis_matching import CandidateMatchingPostingsApi, PostingMatchingCandidatesApi

urlpatterns = [
    path("leads/", LeadCollectionApi.as_view(), name="leads"),
    path("leads/<uuid:lead_id>/", LeadDetailApi.as_view(), name="lead-detail"),
    path("partner/stats/", PartnerStatsApi.as_view(), name="partner-stats"),
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
]
