"""The candidates' booking API (CONTRACT section 5). Public: no login; a booking is
managed with the token from its link. Times are accepted with any offset and answered in
Asia/Tokyo (+09:00)."""

from typing import Any

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from consultations.calendar import booking_ics
from consultations.models import Booking, ConsultationKind
from consultations.selectors import booking_get_by_token, slots_for_range
from consultations.serializers import (
    BookingCancelInputSerializer,
    BookingCreatedOutputSerializer,
    BookingCreateInputSerializer,
    BookingHeldOutputSerializer,
    BookingOutputSerializer,
    BookingRescheduleInputSerializer,
    SlotListOutputSerializer,
    SlotQuerySerializer,
)
from consultations.services import (
    BookingError,
    HoldLimitReached,
    HoldReleased,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_hold,
    booking_reschedule,
)
from consultations.services.abuse import Refused, direct_attempt_admit, holds_refused, slot_query_admit
from consultations.tokens import manage_url_for
from core.apis import conflict
from core.business_time import BUSINESS_TZ
from core.exceptions import Conflict
from core.openapi import client_error_response
from core.ratelimit import client_address, client_key
from leads.intake.inputs import LeadInput
from leads.models import Lead

CONFLICT_MESSAGES = {
    "slot_unavailable": _("This time is no longer available. Please choose another slot."),
    "already_booked": _("You already have a booking of this kind. Change or cancel it instead."),
    "booking_closed": _("This booking can no longer be changed."),
}
HOLD_RELEASED = _("This time was released because it was not confirmed in time. Please pick another.")
THROTTLED = client_error_response(
    description="Too many attempts from this client or for this email or phone (see Retry-After).",
    codes=["throttled"],
)
TOKEN_INVALID = client_error_response(
    description="The link is wrong or has expired (after the consultation's end).",
    codes=["token_invalid", "not_found"],
)
LANGUAGES = ("ja", "en")
THROTTLED_MESSAGE = _("Too many attempts. Please try again later.")


def _conflict(error: BookingError) -> Conflict:
    if isinstance(error, HoldReleased):
        return conflict(code=error.code, message=HOLD_RELEASED)
    return conflict(code=error.code, message=CONFLICT_MESSAGES[error.code])


def _throttled(refused: Refused) -> exceptions.Throttled:
    return exceptions.Throttled(wait=refused.retry_after, detail=str(THROTTLED_MESSAGE))


class SlotQueryThrottle(BaseThrottle):
    """GET slots: at most SLOT_QUERIES per client address (services.abuse)."""

    def __init__(self) -> None:
        self.retry_after = 0

    def allow_request(self, request: Request, view: APIView) -> bool:
        refused = slot_query_admit(client=client_key(client_address(request)))
        self.retry_after = refused.retry_after if refused else 0
        return refused is None

    def wait(self) -> float:
        return float(self.retry_after)


class PublicApi(APIView):
    authentication_classes = ()  # public: no session lookup, no CSRF; tokens are the credential
    permission_classes = (AllowAny,)


class ManageApi(PublicApi):
    def booking(self, token: str) -> Booking:
        booking = booking_get_by_token(token=token, now=timezone.now())
        if booking is None:
            raise exceptions.NotFound(_("This link is invalid or has expired."), code="token_invalid")
        return booking


class SlotListApi(PublicApi):
    throttle_classes = (SlotQueryThrottle,)

    @extend_schema(
        operation_id="consultation_slots_list",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day (JST)."),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, required=True, description="Last day (JST); at most 31 days in all."
            ),
            OpenApiParameter("kind", str, enum=ConsultationKind.values, description="Default: career."),
        ],
        responses={200: SlotListOutputSerializer},
    )
    def get(self, request: Request) -> Response:
        query = SlotQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        slots = slots_for_range(
            date_from=query.validated_data["from"],
            date_to=query.validated_data["to"],
            kind=query.validated_data["kind"],
            now=timezone.now(),
        )
        body = {"time_zone": str(BUSINESS_TZ), "slots": slots}
        return Response(SlotListOutputSerializer(body).data)


def _contact(validated: dict[str, Any], raw: Any) -> LeadInput:
    consent = validated["consent"]
    return LeadInput(
        family_name=validated["family_name"],
        given_name=validated["given_name"],
        email=validated.get("email"),
        phone=validated.get("phone"),
        consent_policy_version=consent["privacy_policy_version"],
        consent_agreed_at=consent["agreed_at"],
        consent_third_party_provision=consent["third_party_provision"],
        raw_payload={k: v for k, v in raw.items() if k != "notes"},  # the lead as sent
    )


class BookingCreateApi(PublicApi):
    @extend_schema(
        operation_id="consultation_bookings_create",
        description=(
            "With a `booking_token` (a lead's link) the consultation is booked at once (201, "
            "status `booked`, with its manage link). Without one it is a direct booking: the "
            "seat is held (201, status `held`, `confirm_by`) until the person confirms it from "
            "the link sent to their email or phone; no manage link is answered here."
        ),
        request=BookingCreateInputSerializer,
        responses={
            201: PolymorphicProxySerializer(
                component_name="BookingCreateResult",
                serializers=[BookingCreatedOutputSerializer, BookingHeldOutputSerializer],
                resource_type_field_name=None,
            ),
            409: client_error_response(
                description="The slot is no longer free, or the candidate already has a booking "
                "of this kind.",
                codes=["slot_unavailable", "already_booked"],
            ),
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = BookingCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        language = translation.get_language()
        language = language if language in LANGUAGES else "ja"
        if "lead_id" in data:
            return self._book(data, language)
        return self._hold(request, data, language)

    def _book(self, data: dict[str, Any], language: str) -> Response:
        try:
            created = booking_create(
                start=data["start"],
                kind=data["kind"],
                mode=data["mode"],
                notes=data.get("notes", ""),
                lead_id=data["lead_id"],
                language=language,
            )
        except BookingError as error:
            raise _conflict(error) from error
        except Lead.DoesNotExist as exc:  # a valid token for a lead erased since
            raise exceptions.ValidationError(
                {"booking_token": [_("This booking link is invalid or has expired.")]}, code="invalid"
            ) from exc
        body = {  # the shape of BookingCreatedOutputSerializer
            **BookingOutputSerializer(created.booking).data,
            "manage_token": created.manage_token,
            "manage_url": manage_url_for(token=created.manage_token),
        }
        return Response(body, status=201)

    def _hold(self, request: Request, data: dict[str, Any], language: str) -> Response:
        client = client_key(client_address(request))
        refused = direct_attempt_admit(client=client, email=data.get("email"), phone=data.get("phone"))
        if refused is not None:
            raise _throttled(refused)
        try:
            created = booking_hold(
                start=data["start"],
                kind=data["kind"],
                mode=data["mode"],
                notes=data.get("notes", ""),
                contact=_contact(data, request.data),
                client=client,
                language=language,
            )
        except HoldLimitReached as error:
            raise _throttled(holds_refused(retry_at=error.retry_at)) from error
        except BookingError as error:
            raise _conflict(error) from error
        return Response(BookingHeldOutputSerializer(created.booking).data, status=201)


class BookingConfirmApi(ManageApi):
    @extend_schema(
        operation_id="consultation_confirm",
        request=None,
        responses={
            200: BookingOutputSerializer,
            404: TOKEN_INVALID,
            409: client_error_response(
                description="The hold was released (not confirmed in time: pick another time) or "
                "the booking was cancelled.",
                codes=["booking_closed"],
            ),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)
        try:
            booking = booking_confirm(booking_id=booking.pk)
        except BookingError as error:
            raise _conflict(error) from error
        return Response(BookingOutputSerializer(booking).data)


class BookingManageApi(ManageApi):
    @extend_schema(
        operation_id="consultation_manage_retrieve",
        responses={200: BookingOutputSerializer, 404: TOKEN_INVALID},
    )
    def get(self, request: Request, token: str) -> Response:
        return Response(BookingOutputSerializer(self.booking(token)).data)


class BookingCancelApi(ManageApi):
    @extend_schema(
        operation_id="consultation_manage_cancel",
        request=BookingCancelInputSerializer,
        responses={
            200: BookingOutputSerializer,
            404: TOKEN_INVALID,
            409: client_error_response(description="The consultation has started.", codes=["booking_closed"]),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)  # a wrong link is 404 whatever the body
        serializer = BookingCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            booking = booking_cancel(
                booking_id=booking.pk, reason=serializer.validated_data.get("reason", "")
            )
        except BookingError as error:
            raise _conflict(error) from error
        return Response(BookingOutputSerializer(booking).data)


class BookingRescheduleApi(ManageApi):
    @extend_schema(
        operation_id="consultation_manage_reschedule",
        request=BookingRescheduleInputSerializer,
        responses={
            200: BookingOutputSerializer,
            404: TOKEN_INVALID,
            409: client_error_response(
                description="The new time is not free (the booking is unchanged), or the booking "
                "has started or is cancelled.",
                codes=["slot_unavailable", "booking_closed"],
            ),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        booking = self.booking(token)  # a wrong link is 404 whatever the body
        serializer = BookingRescheduleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            booking = booking_reschedule(booking_id=booking.pk, start=serializer.validated_data["start"])
        except BookingError as error:
            raise _conflict(error) from error
        return Response(BookingOutputSerializer(booking).data)


class BookingCalendarApi(ManageApi):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The calendar is returned as a plain HttpResponse; what DRF renders here is an
        # error, and errors are JSON whatever the client accepts (no 406 for text/calendar).
        return (JSONRenderer(), JSONRenderer.media_type)

    @extend_schema(
        operation_id="consultation_manage_ics",
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR, description="One VEVENT; METHOD:CANCEL once the booking is cancelled."
            ),
            404: TOKEN_INVALID,
        },
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        booking = self.booking(token)
        content = booking_ics(booking=booking, manage_url=manage_url_for(token=token))
        response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="consultation.ics"'
        return response
