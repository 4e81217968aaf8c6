"""Manage tokens: the credential in a candidate's "manage your booking" link.

A token is an HMAC of the booking's id and a random per-booking salt under SECRET_KEY; the
database keeps only its SHA-256 hash (for lookup) and the salt. Why derived rather than
random: the emails (confirmation now, reminders later) are sent after commit by the outbox,
which holds ids only, and must put the link in the message. Deriving it lets them rebuild
the link without the raw token being stored anywhere, and a copy of the database alone
yields no usable link. Rotating SECRET_KEY keeps old links working (their hash is stored)
and, with the old key in SECRET_KEY_FALLBACKS, lets later emails rebuild them too.

Lookups go by the token's hash, so no comparison of secret bytes ever happens in Python,
and a wrong guess learns nothing from timing.
"""

import hashlib
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "urakata.consultations.manage-token"


def manage_token_hash(*, token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _derive(*, booking_id: object, salt: str, secret: str) -> str:
    return salted_hmac(SALT, f"{booking_id}:{salt}", secret=secret, algorithm="sha256").hexdigest()


def manage_token_new(*, booking_id: object) -> tuple[str, str, str]:
    """(token, its hash, the salt to store) for a new booking."""
    salt = secrets.token_hex(16)
    token = _derive(booking_id=booking_id, salt=salt, secret=settings.SECRET_KEY)
    return token, manage_token_hash(token=token), salt


def manage_token_rebuild(*, booking_id: object, salt: str, token_hash: str) -> str | None:
    """The booking's token again, or None if SECRET_KEY changed and the old key is gone."""
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        token = _derive(booking_id=booking_id, salt=salt, secret=secret)
        if secrets.compare_digest(manage_token_hash(token=token), token_hash):
            return token
    return None


def manage_url_for(*, token: str) -> str:
    return f"{settings.SITE_URL}/consultations/{token}"


def confirm_url_for(*, token: str) -> str:
    """The link that confirms a hold: the same token as the booking's manage link."""
    return f"{settings.SITE_URL}/consultations/confirm/{token}"
