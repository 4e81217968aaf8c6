from django.urls import path

from leads.apis import LeadCollectionApi, LeadDetailApi, PartnerStatsApi

urlpatterns = [
    path("leads/", LeadCollectionApi.as_view(), name="leads"),
    path("leads/<uuid:lead_id>/", LeadDetailApi.as_view(), name="lead-detail"),
    path("partner/stats/", PartnerStatsApi.as_view(), name="partner-stats"),
]
