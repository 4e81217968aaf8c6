"""Input validation of the partner lead API (CONTRACT section 3): every rule here answers
400 in the contract's format, with `attr` naming the field (`consent.agreed_at`,
`desired_roles.1`)."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from rest_framework import serializers

from core.business_time import BUSINESS_TZ
from core.normalize import (
    NormalizationError,
    Occupation,
    normalize_email,
    normalize_kana,
    normalize_name,
    normalize_phone,
    normalize_prefecture,
)
from core.serializers import AwareDateTimeField, StrictSerializer
from leads.models import Candidate
from roles.selectors import certification_codes, role_slugs_active

CLOCK_SKEW = timedelta(minutes=5)
NAME_INVALID = _("Enter a name.")
KANA_INVALID = _("Use hiragana or katakana only.")
PHONE_INVALID = _("Enter a Japanese phone number.")
PREFECTURE_INVALID = _("Enter a prefecture name or its JIS code.")


def age_allowed(birth_date: date) -> bool:
    today = timezone.now().astimezone(BUSINESS_TZ).date()
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    return 15 <= age <= 80


def agreed_in_time(agreed_at: datetime) -> bool:
    return agreed_at <= timezone.now() + CLOCK_SKEW


class NormalizedCharField(serializers.CharField):
    """A string passed through a normaliser (core.normalize), then length-checked."""

    def __init__(self, *, normalizer: Callable[[str], str], invalid: StrOrPromise, **kwargs: Any) -> None:
        self.normalizer = normalizer
        super().__init__(**kwargs)
        self.error_messages["invalid"] = invalid

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = self.normalizer(data)
        except NormalizationError as exc:
            raise serializers.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return super().to_internal_value(value)


class SlugListField(serializers.ListField):
    """A list of known codes (role slugs, certification codes), de-duplicated in order."""

    def __init__(self, *, known: Callable[[], frozenset[str]], **kwargs: Any) -> None:
        self.known = known
        super().__init__(child=serializers.CharField(max_length=50), max_length=20, **kwargs)

    def run_child_validation(self, data: list[Any]) -> list[str]:
        values: list[str] = super().run_child_validation(data)
        known = self.known()
        errors = {
            index: [serializers.ErrorDetail(str(_("Unknown code: %(code)s.") % {"code": v}), code="invalid")]
            for index, v in enumerate(values)
            if v not in known
        }
        if errors:
            raise serializers.ValidationError(cast(Any, errors))  # keyed by list index
        return list(dict.fromkeys(values))


class ConsentInputSerializer(StrictSerializer):
    privacy_policy_version = serializers.CharField(max_length=50)
    agreed_at = AwareDateTimeField()
    third_party_provision = serializers.JSONField()

    def validate_third_party_provision(self, value: Any) -> bool:
        if value is not True:
            raise serializers.ValidationError(
                _("Consent to third-party provision must be true."), code="invalid"
            )
        return True

    def validate_agreed_at(self, value: Any) -> Any:
        if not agreed_in_time(value):
            raise serializers.ValidationError(_("Consent cannot be agreed in the future."), code="invalid")
        return value


class LeadCreateInputSerializer(StrictSerializer):
    family_name = NormalizedCharField(normalizer=normalize_name, invalid=NAME_INVALID, max_length=50)
    given_name = NormalizedCharField(normalizer=normalize_name, invalid=NAME_INVALID, max_length=50)
    family_name_kana = NormalizedCharField(
        normalizer=normalize_kana, invalid=KANA_INVALID, max_length=100, required=False, allow_null=True
    )
    given_name_kana = NormalizedCharField(
        normalizer=normalize_kana, invalid=KANA_INVALID, max_length=100, required=False, allow_null=True
    )
    email = serializers.EmailField(max_length=254, required=False, allow_null=True)
    phone = NormalizedCharField(
        normalizer=normalize_phone, invalid=PHONE_INVALID, required=False, allow_null=True
    )
    birth_date = serializers.DateField(input_formats=["%Y-%m-%d"], required=False, allow_null=True)
    prefecture = NormalizedCharField(
        normalizer=normalize_prefecture, invalid=PREFECTURE_INVALID, required=False, allow_null=True
    )
    current_occupation = serializers.ChoiceField(choices=Occupation.choices, required=False, allow_null=True)
    desired_roles = SlugListField(known=role_slugs_active, required=False, allow_null=True)
    certifications = SlugListField(known=certification_codes, required=False, allow_null=True)
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, allow_null=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    consent = ConsentInputSerializer()
    source_url = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)
    utm_source = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)
    utm_medium = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)
    utm_campaign = serializers.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)

    def validate_email(self, value: str | None) -> str | None:
        return normalize_email(value) if value else None

    def validate_birth_date(self, value: date | None) -> date | None:
        if value is None:
            return None
        if not age_allowed(value):
            raise serializers.ValidationError(_("Age must be between 15 and 80."), code="invalid")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError(
                {
                    "email": [
                        serializers.ErrorDetail(
                            str(_("Give an email address or a phone number.")), code="required"
                        )
                    ]
                }
            )
        return attrs


class LeadCreatedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Candidate.PartnerStatus.choices)
    external_id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    existing_candidate = serializers.BooleanField()
    booking_url = serializers.CharField()
    booking_token = serializers.CharField()
