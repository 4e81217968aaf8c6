"""Helpers of the admin and command tests (test_admin.py, test_commands.py): plain
functions, so that nothing here competes with the fixtures of tests/leads/conftest.py."""

import re
from typing import Any

from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import User
from leads.models import Partner
from leads.partners.keys import api_key_issue, partner_create

# urk_<8 hex: the prefix>_<43 characters: token_urlsafe(32)>
API_KEY_RE = re.compile(r"urk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")
CONSENT = {
    "privacy_policy_version": "2026-04",
    "agreed_at": "2026-11-20T10:00:00+09:00",
    "third_party_provision": True,
}


def person_body(n: int, **overrides: Any) -> dict[str, Any]:
    """A valid lead body for person number n: its own email and a valid mobile number
    (090 then 8 digits, the first 1-9)."""
    body: dict[str, Any] = {
        "family_name": "山田",
        "given_name": f"太郎{n}",
        "email": f"person{n}@example.com",
        "phone": f"090-1{n:03d}-{n:04d}",
        "consent": dict(CONSENT),
    }
    body.update(overrides)
    return body


def partner_with_key(*, slug: str = "career-media", name: str = "Career Media") -> tuple[Partner, str]:
    partner = partner_create(slug=slug, name=name)
    _, raw_key = api_key_issue(partner=partner)
    return partner, raw_key


def bearer(raw_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_key}"}


def post_lead(raw_key: str, body: dict[str, Any]) -> Any:
    return Client().post("/api/v1/leads/", body, content_type="application/json", headers=bearer(raw_key))


def list_leads(raw_key: str) -> Any:
    return Client().get("/api/v1/leads/", headers=bearer(raw_key))


def superuser_client() -> Client:
    """A logged-in superuser's browser, in English so that messages can be compared."""
    user = User.objects.create_superuser(email="boss@example.com", password="x", display_name="Boss")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def shown_keys(response: Any) -> list[str]:
    """The raw API keys shown in the messages of an admin response."""
    return [key for message in messages_of(response) for key in API_KEY_RE.findall(message)]
