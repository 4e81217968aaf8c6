"""Input and output of the booking API (CONTRACT section 5). Names and contacts are checked
with the same rules as the partner lead API (section 3)."""

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from consultations.models import Booking, ConsultationKind, ConsultationMode
from core.business_time import BUSINESS_TZ
from core.normalize import normalize_email, normalize_name, normalize_phone
from core.serializers import AwareDateTimeField, QuerySerializer, StrictSerializer
from leads.intake.serializers import (
    NAME_INVALID,
    PHONE_INVALID,
    ConsentInputSerializer,
    NormalizedCharField,
)
from leads.intake.tokens import booking_token_lead_id

MAX_SLOT_DAYS = 31
CONTACT_FIELDS = ("family_name", "given_name", "email", "phone", "consent")


def _error(attr: str, message: Any, code: str = "invalid") -> serializers.ValidationError:
    return serializers.ValidationError({attr: [serializers.ErrorDetail(str(message), code=code)]})


class SlotQuerySerializer(QuerySerializer):
    def get_fields(self) -> dict[str, Any]:
        # `from` is a Python keyword, so the fields cannot be class attributes.
        return {
            "from": serializers.DateField(input_formats=["%Y-%m-%d"]),
            "to": serializers.DateField(input_formats=["%Y-%m-%d"]),
            "kind": serializers.ChoiceField(
                choices=ConsultationKind.choices, required=False, default=ConsultationKind.CAREER
            ),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["from"] > attrs["to"]:
            raise _error("from", _("`from` is after `to`."))
        if attrs["to"] - attrs["from"] >= timedelta(days=MAX_SLOT_DAYS):
            raise _error("to", _("Ask for at most %(days)d days at a time.") % {"days": MAX_SLOT_DAYS})
        return attrs


class BookingCreateInputSerializer(StrictSerializer):
    start = AwareDateTimeField()
    mode = serializers.ChoiceField(choices=ConsultationMode.choices)
    kind = serializers.ChoiceField(choices=ConsultationKind.choices, default=ConsultationKind.CAREER)
    notes = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    booking_token = serializers.CharField(
        max_length=500, required=False, help_text="From a lead's booking link; or give the contact fields."
    )
    family_name = NormalizedCharField(
        normalizer=normalize_name, invalid=NAME_INVALID, max_length=50, required=False
    )
    given_name = NormalizedCharField(
        normalizer=normalize_name, invalid=NAME_INVALID, max_length=50, required=False
    )
    email = serializers.EmailField(max_length=254, required=False, allow_null=True)
    phone = NormalizedCharField(
        normalizer=normalize_phone, invalid=PHONE_INVALID, required=False, allow_null=True
    )
    consent = ConsentInputSerializer(required=False)

    def validate_email(self, value: str | None) -> str | None:
        return normalize_email(value) if value else None

    def validate_booking_token(self, value: str) -> str:
        if booking_token_lead_id(token=value) is None:
            raise serializers.ValidationError(
                _("This booking link is invalid or has expired."), code="invalid"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "booking_token" in attrs:
            given = [name for name in CONTACT_FIELDS if attrs.get(name) is not None]
            if given:
                raise _error(given[0], _("Give either booking_token or your contact details, not both."))
            attrs["lead_id"] = booking_token_lead_id(token=attrs["booking_token"])
            return attrs
        for name in ("family_name", "given_name", "consent"):
            if not attrs.get(name):
                raise _error(name, _("This field is required without a booking_token."), code="required")
        if not attrs.get("email") and not attrs.get("phone"):
            raise _error("email", _("Give an email address or a phone number."), code="required")
        return attrs


class BookingCancelInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class BookingRescheduleInputSerializer(StrictSerializer):
    start = AwareDateTimeField()


class SlotOutputSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField(default_timezone=BUSINESS_TZ)
    end = serializers.DateTimeField(default_timezone=BUSINESS_TZ)
    available = serializers.IntegerField(min_value=1)
    modes = serializers.ListField(child=serializers.ChoiceField(choices=ConsultationMode.choices))

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # The fields above document the schema; this writes the same values directly. A
        # month of slots is about a thousand rows, and field-by-field serialisation cost
        # more than computing them.
        return {
            "start": instance.start.astimezone(BUSINESS_TZ).isoformat(),
            "end": instance.end.astimezone(BUSINESS_TZ).isoformat(),
            "available": instance.available,
            "modes": list(instance.modes),
        }


class SlotListOutputSerializer(serializers.Serializer[Any]):
    time_zone = serializers.CharField()
    slots = SlotOutputSerializer(many=True)


class BookingAdvisorOutputSerializer(serializers.Serializer[Any]):
    display_name = serializers.CharField()


class BookingOutputSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Booking.Status.choices)
    start = serializers.DateTimeField(source="start_at", default_timezone=BUSINESS_TZ)
    end = serializers.DateTimeField(source="end_at", default_timezone=BUSINESS_TZ)
    mode = serializers.ChoiceField(choices=ConsultationMode.choices)
    kind = serializers.ChoiceField(choices=ConsultationKind.choices)
    advisor = BookingAdvisorOutputSerializer()


class BookingCreatedOutputSerializer(BookingOutputSerializer):
    manage_token = serializers.CharField()
    manage_url = serializers.CharField()


class BookingHeldOutputSerializer(BookingOutputSerializer):
    """A direct booking's hold: confirmed from the link sent to the person, by `confirm_by`."""

    confirm_by = serializers.DateTimeField(default_timezone=BUSINESS_TZ)
