from collections.abc import Iterable
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.exceptions import Conflict, UnprocessableEntity
from core.idempotency import (
    Claim,
    KeyInFlight,
    idempotency_begin,
    idempotency_complete,
    idempotency_release,
    request_fingerprint,
)
from core.openapi import client_error_response
from leads.authentication import PartnerKeyAuthentication, PartnerUser
from leads.filters import PartnerLeadFilter
from leads.models import Lead, Partner
from leads.permissions import IsActivePartner
from leads.selectors import (
    lead_get_by_external_id,
    lead_get_for_partner,
    lead_list_for_partner,
    partner_stats,
)
from leads.serializers import (
    LeadCreatedSerializer,
    LeadCreateInputSerializer,
    LeadStatusSerializer,
    PartnerStatsQuerySerializer,
    lead_create_input_quick,
)
from leads.services.intake import Answer, IntakeResult, LeadAlreadyReceived, LeadInput, lead_ingest
from leads.throttling import PartnerRateThrottle
from leads.tokens import booking_token_for, booking_url_for

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="1-255 printable ASCII characters. The same key and body within 24 h replay the answer.",
)


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


def _created_body(*, lead: Lead, status: str, existing_candidate: bool) -> dict[str, Any]:
    # Built by hand (it is the hot path); LeadCreatedSerializer documents the same shape.
    token = booking_token_for(lead_id=lead.id)
    return {
        "id": str(lead.id),
        "status": status,
        "external_id": lead.external_id,
        "created_at": timezone.localtime(lead.created_at).isoformat(),
        "existing_candidate": existing_candidate,
        "booking_url": booking_url_for(token=token),
        "booking_token": token,
    }


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not all(0x20 < ord(c) < 0x7F for c in key):
        raise exceptions.ValidationError(
            {"Idempotency-Key": [_("Use 1-255 printable ASCII characters without spaces.")]}, code="invalid"
        )
    return key


def _lead_input(validated: dict[str, Any], raw: dict[str, Any]) -> LeadInput:
    consent = validated["consent"]
    optional_text = (
        *("family_name_kana", "given_name_kana", "prefecture", "current_occupation", "message"),
        *("source_url", "utm_source", "utm_medium", "utm_campaign"),
    )
    return LeadInput(
        family_name=validated["family_name"],
        given_name=validated["given_name"],
        consent_policy_version=consent["privacy_policy_version"],
        consent_agreed_at=consent["agreed_at"],
        consent_third_party_provision=consent["third_party_provision"],
        raw_payload=raw,
        email=validated.get("email"),
        phone=validated.get("phone"),
        birth_date=validated.get("birth_date"),
        desired_roles=validated.get("desired_roles") or [],
        certifications=validated.get("certifications") or [],
        external_id=validated.get("external_id"),
        **{name: validated.get(name) or "" for name in optional_text},
    )


class LeadCollectionApi(PartnerApi):
    """POST a new lead; GET the partner's own leads. (One URL, two operations.)"""

    filterset_class = PartnerLeadFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no partner
            return Lead.objects.none()
        return lead_list_for_partner(partner=self.partner)

    @extend_schema(
        operation_id="leads_create",
        parameters=[IDEMPOTENCY_KEY],
        request=LeadCreateInputSerializer,
        responses={
            201: LeadCreatedSerializer,
            200: OpenApiResponse(LeadCreatedSerializer, description="This external_id was already received."),
            409: client_error_response(
                description="Same Idempotency-Key in flight.", codes=["idempotency_key_in_flight"]
            ),
            413: client_error_response(description="Body over 64 KiB.", codes=["request_too_large"]),
            422: client_error_response(
                description="Same Idempotency-Key, another body.", codes=["idempotency_key_reuse"]
            ),
        },
    )
    def post(self, request: Request) -> Response:
        key = _idempotency_key(request)
        validated = lead_create_input_quick(request.data)  # the common, valid body, cheaply
        if validated is None:  # anything else: the serializer decides and words the errors
            serializer = LeadCreateInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            validated = serializer.validated_data
        data = _lead_input(validated, cast(dict[str, Any], request.data))
        if key is None:
            return self._ingest(data)
        fingerprint = request_fingerprint(request.data)
        try:
            claim = idempotency_begin(scope=f"partner:{self.partner.pk}", key=key, request_hash=fingerprint)
        except KeyInFlight as exc:
            raise Conflict(
                _("A request with this Idempotency-Key is still being processed."),
                code="idempotency_key_in_flight",
            ) from exc
        if not claim.owned:
            if claim.request_hash != fingerprint:
                raise UnprocessableEntity(
                    _("This Idempotency-Key was used with another body."), code="idempotency_key_reuse"
                )
            return Response(
                claim.response_body, status=claim.response_status, headers={"Idempotent-Replayed": "true"}
            )
        try:
            return self._ingest(data, claim=claim)
        except BaseException:
            idempotency_release(claim=claim)
            raise

    def _ingest(self, data: LeadInput, claim: Claim | None = None) -> Response:
        partner = self.partner

        def body_for(result: IntakeResult) -> dict[str, Any]:
            return _created_body(
                lead=result.lead, status=result.status, existing_candidate=result.existing_candidate
            )

        try:
            # lead_ingest is atomic on its own (a new person is one statement); a claim's
            # response is stored with the lead, in that statement or transaction.
            if claim is None:
                return Response(body_for(lead_ingest(partner=partner, data=data)), status=201)
            result = lead_ingest(partner=partner, data=data, answer=Answer(claim=claim, body=body_for))
            return Response(result.answer, status=201)
        except LeadAlreadyReceived:
            existing = lead_get_by_external_id(partner=partner, external_id=data.external_id or "")
            if existing is None:  # pragma: no cover - the conflicting lead vanished meanwhile
                raise
            body = _created_body(lead=existing, status=existing.status, existing_candidate=True)  # type: ignore[attr-defined]
            if claim is not None:
                idempotency_complete(claim=claim, status=200, body=body)
            return Response(body, status=200)

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


class PartnerStatsCountsSerializer(serializers.Serializer[Any]):
    leads = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())


class PartnerStatsSerializer(serializers.Serializer[Any]):
    # `from` and `to` are declared in get_fields (Python keywords).
    leads = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    credited = PartnerStatsCountsSerializer()
    conversion = serializers.DictField(child=serializers.FloatField(allow_null=True))

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(allow_null=True)
        fields["to"] = serializers.DateField(allow_null=True)
        return fields


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
