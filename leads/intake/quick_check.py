"""The intake's hot path: a valid body checked without the serializer's machinery."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import serializers

from core.normalize import (
    OCCUPATIONS,
    NormalizationError,
    normalize_email,
    normalize_kana,
    normalize_name,
    normalize_phone,
    normalize_prefecture,
)
from core.serializers import AwareDateTimeField
from leads.intake.serializers import (
    ConsentInputSerializer,
    LeadCreateInputSerializer,
    age_allowed,
    agreed_in_time,
)
from roles.selectors import certification_codes, role_slugs_active

# --- the hot path ------------------------------------------------------------------------
# Nearly every lead a partner sends is valid. `lead_create_input_quick` checks such a body
# with plain code, several times cheaper than the serializer's field machinery, and returns
# exactly what LeadCreateInputSerializer(data=body).validated_data would hold. The moment
# it meets anything it does not vouch for (a wrong type, a blank, a length, an unknown code,
# any failed rule), it returns None and the caller runs the serializer, which then finds the
# error and words it: every error answer still comes from the serializer alone.
# tests/leads/intake/test_apis_intake.py checks that both agree on valid bodies.


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
    if not agreed_in_time(agreed_at):
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
    if not age_allowed(born):
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
