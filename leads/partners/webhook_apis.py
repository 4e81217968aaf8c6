"""A partner's webhook endpoints through its API key (CONTRACT section 7):
`GET/POST /api/v1/partner/webhook-endpoints/`, `GET/DELETE .../{id}/`, the endpoint's
deliveries with their attempts (`.../{id}/deliveries/`) and the replay of the failed ones
(`.../{id}/replay/`). Only its own: another partner's endpoint is as unknown as a missing
one. The signing secret is in the answer to the POST only; rotating it and the test event
are the staff's (admin)."""

from typing import Any, cast

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.apis import conflict, valid_input
from core.openapi import client_error_response
from core.pagination import CreatedCursorPagination
from core.serializers import AwareDateTimeField, BlankAsNullChoiceField, QuerySerializer, StrictSerializer
from leads.models import WebhookDelivery, WebhookEndpoint
from leads.partners.apis import PartnerApi
from leads.partners.selectors import (
    webhook_deliveries_for_endpoint,
    webhook_endpoint_for_partner,
    webhook_endpoints_for_partner,
)
from leads.partners.webhooks import (
    MAX_ENDPOINTS_PER_PARTNER,
    SUBSCRIBABLE,
    WebhookEndpointDisabled,
    WebhookEndpointLimitReached,
    WebhookEventTypeUnknown,
    WebhookUrlRefused,
    webhook_deliveries_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
)

EVENT_TYPES = [(t.value, t.label) for t in SUBSCRIBABLE]


class WebhookEndpointCreateInputSerializer(StrictSerializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.CharField(max_length=50),
        max_length=10,
        required=False,
        help_text="Event types to send: "
        + ", ".join(f"`{t}`" for t, _label in EVENT_TYPES)
        + ". Left out: all.",
    )

    def validate_events(self, value: list[str]) -> list[str]:
        if not value:
            raise serializers.ValidationError(
                _("Choose at least one event type, or leave `events` out for all of them."), code="invalid"
            )
        known = {t for t, _label in EVENT_TYPES}
        unknown = {
            index: [serializers.ErrorDetail(_("Unknown event type: %(type)s.") % {"type": v}, code="invalid")]
            for index, v in enumerate(value)
            if v not in known
        }
        if unknown:
            raise serializers.ValidationError(cast(Any, unknown))  # keyed by list index
        return value


class WebhookEndpointSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    url = serializers.URLField()
    events = serializers.SerializerMethodField()
    enabled = serializers.BooleanField()
    disabled_reason = BlankAsNullChoiceField(
        choices=WebhookEndpoint.DisabledReason.choices[1:],
        allow_null=True,
        help_text="Why it is disabled; null while enabled.",
    )
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES)))
    def get_events(self, endpoint: WebhookEndpoint) -> list[str]:
        # Stored empty for "every type": answered as the types that means.
        return list(endpoint.events) or [t for t, _label in EVENT_TYPES]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="The signing secret (`whsec_...`): shown this once.")


class WebhookAttemptSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    status = serializers.IntegerField(allow_null=True, help_text="The HTTP status; null if none came.")
    duration_ms = serializers.IntegerField()
    error = serializers.CharField(help_text="Empty on success.")


class WebhookDeliverySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    webhook_id = serializers.SerializerMethodField(help_text="The `webhook-id` header of every attempt.")
    event_type = serializers.CharField()
    state = serializers.ChoiceField(choices=WebhookDelivery.State.choices)
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    attempt_count = serializers.SerializerMethodField()
    next_attempt_at = serializers.DateTimeField(allow_null=True, help_text="Null unless pending.")
    last_error = serializers.CharField()
    attempts = WebhookAttemptSerializer(source="attempt_log", many=True)

    def get_webhook_id(self, delivery: WebhookDelivery) -> str:
        return f"msg_{delivery.event_id.hex}"

    def get_attempt_count(self, delivery: WebhookDelivery) -> int:
        return len(delivery.attempt_log.all())  # prefetched


class WebhookDeliveryQuerySerializer(QuerySerializer):
    state = serializers.ChoiceField(choices=WebhookDelivery.State.choices, required=False)


class WebhookReplayInputSerializer(StrictSerializer):
    since = AwareDateTimeField(help_text="The failed deliveries created since then are sent again.")


class WebhookReplayedSerializer(serializers.Serializer[Any]):
    replayed = serializers.IntegerField(help_text="How many deliveries are sent again.")


class WebhookEndpointPagination(CreatedCursorPagination):
    pass  # newest first


class WebhookDeliveryPagination(CreatedCursorPagination):
    ordering = ("-created_at", "-id")  # the deliveries' log index


def _invalid(field: str, error: WebhookUrlRefused) -> serializers.ValidationError:
    return serializers.ValidationError({field: [serializers.ErrorDetail(str(error), code="invalid")]})


class _EndpointApi(PartnerApi):
    def get_queryset(self) -> Any:
        # For the schema only (the views read through the selectors, per partner).
        return WebhookEndpoint.objects.none()

    def endpoint(self, endpoint_id: Any) -> WebhookEndpoint:
        endpoint = webhook_endpoint_for_partner(partner=self.partner, endpoint_id=endpoint_id)
        if endpoint is None:  # another partner's endpoint is as unknown as a missing one
            raise exceptions.NotFound()
        return endpoint


class WebhookEndpointCollectionApi(PartnerApi):
    pagination_class = WebhookEndpointPagination

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no partner
            return WebhookEndpoint.objects.none()
        return webhook_endpoints_for_partner(partner=self.partner)

    @extend_schema(
        operation_id="partner_webhook_endpoints_list", responses={200: WebhookEndpointSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        operation_id="partner_webhook_endpoints_create",
        request=WebhookEndpointCreateInputSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
        description="Register an endpoint: an `https` URL whose host resolves to public addresses only. "
        f"At most {MAX_ENDPOINTS_PER_PARTNER} per partner.",
    )
    def post(self, request: Request) -> Response:
        data = valid_input(WebhookEndpointCreateInputSerializer, request)
        try:
            endpoint, secret = webhook_endpoint_create(
                partner_id=self.partner.pk, url=data["url"], events=data.get("events")
            )
        except WebhookEndpointLimitReached as exc:
            raise serializers.ValidationError([serializers.ErrorDetail(str(exc), code="invalid")]) from exc
        except WebhookEventTypeUnknown as exc:  # the input serializer checked them already
            raise _invalid("events", exc) from exc
        except WebhookUrlRefused as exc:
            raise _invalid("url", exc) from exc
        # As WebhookEndpointCreatedSerializer documents it: the endpoint, and its secret this once.
        body = {**WebhookEndpointSerializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(_EndpointApi):
    @extend_schema(
        operation_id="partner_webhook_endpoints_retrieve", responses={200: WebhookEndpointSerializer}
    )
    def get(self, request: Request, endpoint_id: Any) -> Response:
        return Response(WebhookEndpointSerializer(self.endpoint(endpoint_id)).data)

    @extend_schema(
        operation_id="partner_webhook_endpoints_destroy",
        responses={204: OpenApiResponse(description="Deleted, with its deliveries and their attempts.")},
    )
    def delete(self, request: Request, endpoint_id: Any) -> Response:
        if not webhook_endpoint_delete(partner_id=self.partner.pk, endpoint_id=endpoint_id):
            raise exceptions.NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(_EndpointApi):
    pagination_class = WebhookDeliveryPagination

    @extend_schema(
        operation_id="partner_webhook_deliveries_list",
        parameters=[
            OpenApiParameter("state", str, enum=WebhookDelivery.State.values, description="Only this state.")
        ],
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    def get(self, request: Request, endpoint_id: Any) -> Response:
        query = WebhookDeliveryQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        deliveries = webhook_deliveries_for_endpoint(
            endpoint=self.endpoint(endpoint_id), state=query.validated_data.get("state")
        )
        page = self.paginate_queryset(cast(Any, deliveries))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookReplayApi(_EndpointApi):
    @extend_schema(
        operation_id="partner_webhook_deliveries_replay",
        request=WebhookReplayInputSerializer,
        responses={
            202: WebhookReplayedSerializer,
            409: client_error_response(
                description="The endpoint is disabled: nothing can be sent to it.",
                codes=["endpoint_disabled"],
            ),
        },
        description="Send the endpoint's failed deliveries created since `since` again, "
        "with their original `webhook-id`.",
    )
    def post(self, request: Request, endpoint_id: Any) -> Response:
        data = valid_input(WebhookReplayInputSerializer, request)
        endpoint = self.endpoint(endpoint_id)
        try:
            count = webhook_deliveries_replay(endpoint, since=data["since"])
        except WebhookEndpointDisabled as exc:
            raise conflict(code="endpoint_disabled", message=str(exc)) from exc
        return Response(WebhookReplayedSerializer({"replayed": count}).data, status=status.HTTP_202_ACCEPTED)
