"""Partner authentication: `Authorization: Bearer <api key>`, plus an HMAC signature for
partners that have a signing secret (CONTRACT section 3)."""

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from leads.models import ApiKey, Partner
from leads.partners.keys import api_key_mark_used
from leads.partners.selectors import partner_for_api_key


@dataclass(frozen=True)
class PartnerUser:
    """The request.user of a partner request: a partner, never a staff account."""

    partner: Partner
    api_key_id: int
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True


def signature_valid(*, secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, at most 300 s old.
    Several v1 values are accepted so that a partner can roll its secret."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(name, []).append(value)
    stamps, signatures = parts.get("t", []), parts.get("v1", [])
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - int(stamps[0])) > settings.PARTNER_SIGNATURE_MAX_AGE:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    # compare_digest for every candidate, so timing tells nothing about which one is close.
    return any(hmac.compare_digest(expected, candidate.lower()) for candidate in signatures)


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[PartnerUser, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # -> 401 not_authenticated with WWW-Authenticate
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from exc
        api_key = partner_for_api_key(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        partner = api_key.partner
        if partner.signing_secret:
            signature = request.headers.get("X-Signature", "")
            if not signature_valid(secret=partner.signing_secret, header=signature, body=request.body):
                raise exceptions.AuthenticationFailed(_("Missing, stale or invalid X-Signature."))
        api_key_mark_used(api_key_id=api_key.pk)
        return PartnerUser(partner=partner, api_key_id=api_key.pk), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class PartnerKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = PartnerKeyAuthentication
    name = "partnerApiKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A partner API key. Partners with a signing secret also send X-Signature.",
        }
