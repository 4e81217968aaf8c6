"""The partner API's reads: what became of a partner's leads (`GET /api/v1/leads/`, one
lead) and its funnel (`GET /api/v1/partner/stats/`), and the base every partner endpoint
shares (key authentication, active partner, per-partner rate limit). CONTRACT section 3."""

from collections.abc import Iterable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from leads.models import Lead, Partner
from leads.partners.authentication import PartnerKeyAuthentication, PartnerUser
from leads.partners.filters import PartnerLeadFilter
from leads.partners.permissions import IsActivePartner
from leads.partners.selectors import lead_get_for_partner, lead_list_for_partner, partner_stats
from leads.partners.serializers import (
    LeadStatusSerializer,
    PartnerStatsQuerySerializer,
    PartnerStatsSerializer,
)
from leads.partners.throttling import PartnerRateThrottle


class PartnerContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, with its most common case answered at once: no ?format= and an
    Accept header that is absent or */* get the first renderer and its media type, as the
    full negotiation would (partner systems rarely send anything else)."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        renderers = list(renderers)
        if (
            renderers
            and not format_suffix
            and request.META.get("HTTP_ACCEPT", "*/*") == "*/*"
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)


class PartnerApi(GenericAPIView[Lead]):
    content_negotiation_class = PartnerContentNegotiation
    authentication_classes = (PartnerKeyAuthentication,)
    permission_classes = (IsActivePartner,)
    throttle_classes = (PartnerRateThrottle,)

    @property
    def partner(self) -> Partner:
        user = self.request.user
        assert isinstance(user, PartnerUser)
        return user.partner


class LeadListApi(PartnerApi):
    """GET the partner's own leads (lead intake adds the POST on the same URL)."""

    filterset_class = PartnerLeadFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no partner
            return Lead.objects.none()
        return lead_list_for_partner(partner=self.partner)

    @extend_schema(
        operation_id="leads_list",
        responses={200: LeadStatusSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(LeadStatusSerializer(page, many=True).data)


class LeadDetailApi(PartnerApi):
    @extend_schema(operation_id="leads_retrieve", responses={200: LeadStatusSerializer})
    def get(self, request: Request, lead_id: Any) -> Response:
        lead = lead_get_for_partner(partner=self.partner, lead_id=lead_id)
        if lead is None:  # another partner's lead is as unknown as a missing one
            raise exceptions.NotFound()
        return Response(LeadStatusSerializer(lead).data)


class PartnerStatsApi(PartnerApi):
    @extend_schema(
        operation_id="partner_stats",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (JST), inclusive."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (JST), inclusive."),
        ],
        responses={200: PartnerStatsSerializer},
    )
    def get(self, request: Request) -> Response:
        query = PartnerStatsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        stats = partner_stats(
            partner=self.partner,
            date_from=query.validated_data.get("from"),
            date_to=query.validated_data.get("to"),
        )
        return Response(PartnerStatsSerializer(stats).data)
