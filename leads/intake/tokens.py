"""Booking tokens: signed, expiring references to a lead, carried in the booking link that
every accepted lead gets (CONTRACT section 3). Stateless: nothing to store or clean up."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "urakata.leads.booking-token"


def booking_token_for(*, lead_id: uuid.UUID) -> str:
    return signing.dumps(lead_id.hex, salt=SALT, compress=False)


def booking_token_lead_id(*, token: str, max_age: timedelta | None = None) -> uuid.UUID | None:
    """The lead id a token stands for, or None if it is forged, malformed or expired."""
    try:
        value = signing.loads(token, salt=SALT, max_age=max_age or settings.BOOKING_TOKEN_TTL)
        return uuid.UUID(hex=value)
    except (signing.BadSignature, ValueError, TypeError):
        return None


def booking_url_for(*, token: str) -> str:
    return f"{settings.SITE_URL}/book/{token}"
