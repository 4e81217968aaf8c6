"""Lead intake over the partner API: `POST /api/v1/leads/` (CONTRACT section 3)."""

from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
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
from leads.intake.inputs import Answer, IntakeResult, LeadAlreadyReceived, LeadInput
from leads.intake.quick_check import lead_create_input_quick
from leads.intake.serializers import LeadCreatedSerializer, LeadCreateInputSerializer
from leads.intake.services import lead_ingest
from leads.intake.tokens import booking_token_for, booking_url_for
from leads.models import Lead
from leads.partners.apis import LeadListApi
from leads.partners.selectors import (
    lead_get_by_external_id,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="1-255 printable ASCII characters. The same key and body within 24 h replay the answer.",
)


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


class LeadCollectionApi(LeadListApi):
    """POST a new lead; GET (leads.partners.apis) the partner's own leads: one URL."""

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
