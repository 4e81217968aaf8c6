"""Input validation of the partner lead API (CONTRACT section 3): every rule here answers
400 in the contract's format, with `attr` naming the field (`consent.agreed_at`,
`desired_roles.1`)."""

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from core.business_time import BUSINESS_TZ
from leads.models import Candidate
from leads.normalize import (
    OCCUPATIONS,
    NormalizationError,
    Occupation,
    normalize_email,
    normalize_kana,
    normalize_name,
    normalize_phone,
    normalize_prefecture,
)
from roles.selectors import certification_codes, role_slugs_active

CLOCK_SKEW = timedelta(minutes=5)
NAME_INVALID = _("Enter a name.")
KANA_INVALID = _("Use hiragana or katakana only.")
PHONE_INVALID = _("Enter a Japanese phone number.")
PREFECTURE_INVALID = _("Enter a prefecture name or its JIS code.")


_prototype_fields = threading.local()  # per thread: serializer class -> its bound fields


def _age_allowed(birth_date: date) -> bool:
    today = timezone.now().astimezone(BUSINESS_TZ).date()
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    return 15 <= age <= 80


def _agreed_in_time(agreed_at: datetime) -> bool:
    return agreed_at <= timezone.now() + CLOCK_SKEW


class StrictSerializer(serializers.Serializer[Any]):
    """Unknown fields are an error, not silently dropped: a typo'd field name would
    otherwise lose data without anyone noticing.

    Input only, and on the intake's hot path: DRF deep-copies every declared field for each
    new serializer, which cost more than validating the lead itself. Field objects keep no
    state between validations, so each thread builds them once per class (bound to a blank
    instance of it, never to one holding a request's data) and every serializer of that class
    reuses them. A serializer given a context or `partial` gets its own copies, as usual."""

    @cached_property
    def fields(self) -> BindingDict:
        if self.partial or self._context:
            return super().fields
        cache: dict[Any, BindingDict] = _prototype_fields.__dict__
        fields = cache.get(type(self))
        if fields is None:
            prototype = type(self)()
            fields = BindingDict(prototype)
            for name, field in prototype.get_fields().items():
                fields[name] = field
            cache[type(self)] = fields
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail(str(_("Unknown field.")), code="invalid")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class NormalizedCharField(serializers.CharField):
    """A string passed through a normaliser (leads.normalize), then length-checked."""

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


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset; a time without one is ambiguous and refused."""

    def to_internal_value(self, value: Any) -> Any:
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well-formed but impossible, e.g. 12:99
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]]+HH:MM")
        if parsed is not None and parsed.tzinfo is None:
            raise serializers.ValidationError(_("Give the time zone offset, e.g. +09:00."), code="invalid")
        return super().to_internal_value(value)


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
        if not _agreed_in_time(value):
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
        if not _age_allowed(value):
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


class LeadStatusSerializer(serializers.Serializer[Any]):
    """What a partner sees of a lead: no personal data."""

    id = serializers.UUIDField()
    external_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Candidate.PartnerStatus.choices)
    status_changed_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class PartnerStatsQuerySerializer(serializers.Serializer[Any]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # `from` is a Python keyword, so the fields cannot be class attributes.
        return {
            "from": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]),
            "to": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError(
                {"from": [serializers.ErrorDetail(str(_("`from` is after `to`.")), code="invalid")]}
            )
        return attrs


# --- the hot path ------------------------------------------------------------------------
# Nearly every lead a partner sends is valid. `lead_create_input_quick` checks such a body
# with plain code, several times cheaper than the serializer's field machinery, and returns
# exactly what LeadCreateInputSerializer(data=body).validated_data would hold. The moment
# it meets anything it does not vouch for (a wrong type, a blank, a length, an unknown code,
# any failed rule), it returns None and the caller runs the serializer, which then finds the
# error and words it: every error answer still comes from the serializer alone.
# tests/leads/test_apis_intake.py checks that both agree on valid bodies.


class _Decline(Exception):
    """Not certainly valid: leave it to the serializer."""


_LEAD_FIELDS = frozenset(LeadCreateInputSerializer._declared_fields)
_CONSENT_FIELDS = frozenset(ConsentInputSerializer._declared_fields)
_AGREED_AT = AwareDateTimeField()


def _text(value: Any, *, max_length: int | None = None, allow_blank: bool = False) -> str:
    """DRF CharField (trimmed) and its validators: length, no NUL, no lone surrogate."""
    if type(value) is not str:  # DRF also takes numbers; the serializer handles those
        raise _Decline
    text = value.strip()
    if not text:
        if allow_blank:
            return ""
        raise _Decline
    if (max_length is not None and len(text) > max_length) or "\x00" in text:
        raise _Decline
    try:
        text.encode()  # a lone surrogate cannot be encoded
    except UnicodeEncodeError as exc:
        raise _Decline from exc
    return text


def _normalized(value: Any, normalizer: Callable[[str], str], *, max_length: int | None = None) -> str:
    """NormalizedCharField: the raw text must not be blank; the normalised one is checked."""
    if type(value) is not str or not value.strip():
        raise _Decline
    try:
        return _text(normalizer(value), max_length=max_length)
    except NormalizationError as exc:
        raise _Decline from exc


def _codes(value: Any, known: Callable[[], frozenset[str]]) -> list[str]:
    """SlugListField: a list of known codes, de-duplicated in order, at most 20."""
    if type(value) is not list:
        raise _Decline
    codes = [_text(item, max_length=50) for item in value]
    allowed = known()
    if any(code not in allowed for code in codes):
        raise _Decline
    unique = list(dict.fromkeys(codes))
    if len(unique) > 20:
        raise _Decline
    return unique


def _consent(value: Any) -> dict[str, Any]:
    if type(value) is not dict or value.keys() != _CONSENT_FIELDS:  # all three, nothing else
        raise _Decline
    if value["third_party_provision"] is not True:
        raise _Decline
    if type(value["agreed_at"]) is not str:
        raise _Decline
    try:
        agreed_at = _AGREED_AT.to_internal_value(value["agreed_at"])
    except serializers.ValidationError as exc:
        raise _Decline from exc
    if not _agreed_in_time(agreed_at):
        raise _Decline
    return {
        "privacy_policy_version": _text(value["privacy_policy_version"], max_length=50),
        "agreed_at": agreed_at,
        "third_party_provision": True,
    }


def _birth_date(value: Any) -> date:
    if type(value) is not str:
        raise _Decline
    try:
        born = datetime.strptime(value, "%Y-%m-%d").date()  # noqa: DTZ007 - a date, as DRF's DateField parses it
    except ValueError as exc:
        raise _Decline from exc
    if not _age_allowed(born):
        raise _Decline
    return born


def _email(value: Any) -> str:
    text = _text(value, max_length=254)
    try:
        validate_email(text)  # the validator DRF's EmailField runs
    except DjangoValidationError as exc:
        raise _Decline from exc
    try:
        return normalize_email(text)
    except NormalizationError as exc:
        raise _Decline from exc


# Each optional field: how a non-null value is read. None stays None, as allow_null does.
_OPTIONAL: dict[str, Callable[[Any], Any]] = {
    "family_name_kana": lambda v: _normalized(v, normalize_kana, max_length=100),
    "given_name_kana": lambda v: _normalized(v, normalize_kana, max_length=100),
    "email": _email,
    "phone": lambda v: _normalized(v, normalize_phone),
    "birth_date": _birth_date,
    "prefecture": lambda v: _normalized(v, normalize_prefecture),
    "current_occupation": lambda v: v if type(v) is str and v in OCCUPATIONS else _decline(),
    "desired_roles": lambda v: _codes(v, role_slugs_active),
    "certifications": lambda v: _codes(v, certification_codes),
    "message": lambda v: _text(v, max_length=2000, allow_blank=True),
    "external_id": lambda v: _text(v, max_length=100),
    "source_url": lambda v: _text(v, max_length=500, allow_blank=True),
    "utm_source": lambda v: _text(v, max_length=500, allow_blank=True),
    "utm_medium": lambda v: _text(v, max_length=500, allow_blank=True),
    "utm_campaign": lambda v: _text(v, max_length=500, allow_blank=True),
}


def _decline() -> Any:
    raise _Decline


def lead_create_input_quick(data: Any) -> dict[str, Any] | None:
    """LeadCreateInputSerializer's validated_data for a body it certainly accepts, or None:
    then run the serializer (it decides, and words any error)."""
    if type(data) is not dict or not data.keys() <= _LEAD_FIELDS:
        return None
    try:
        validated: dict[str, Any] = {
            "family_name": _normalized(data.get("family_name"), normalize_name, max_length=50),
            "given_name": _normalized(data.get("given_name"), normalize_name, max_length=50),
            "consent": _consent(data.get("consent")),
        }
        for name, read in _OPTIONAL.items():
            if name in data:
                validated[name] = None if data[name] is None else read(data[name])
    except _Decline:
        return None
    if not validated.get("email") and not validated.get("phone"):
        return None
    return validated
