"""Fixtures for the partner lead API: a partner with a key, and valid request bodies.
Loaded for every test by tests/conftest.py."""

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leads.models import Partner
from leads.partners.keys import api_key_issue, partner_create

_numbers = itertools.count(1)


def lead_body(**overrides: Any) -> dict[str, Any]:
    """A valid body; each call gets a distinct email and phone unless given."""
    n = next(_numbers)
    body: dict[str, Any] = {
        "family_name": "山田",
        "given_name": "太郎",
        "email": f"taro{n}@example.com",
        "phone": f"090{10_000_000 + n:08d}",
        "consent": {
            "privacy_policy_version": "2026-04",
            "agreed_at": "2026-01-10T10:00:00+09:00",
            "third_party_provision": True,
        },
    }
    body.update(overrides)
    return body


class PartnerClient:
    """A test client speaking as one partner."""

    def __init__(self, client: Client, partner: Partner, key: str) -> None:
        self.client, self.partner, self.key = client, partner, key

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **extra}

    def post(self, body: Any, **headers: str) -> Any:
        return self.client.post(
            "/api/v1/leads/", body, content_type="application/json", headers=self.headers(**headers)
        )

    def get(self, path: str, data: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(path, data or {}, headers=self.headers(**headers))


@pytest.fixture
def make_partner(db: None, client: Client) -> Callable[..., PartnerClient]:
    def make(slug: str = "career-media", **fields: Any) -> PartnerClient:
        partner = partner_create(slug=slug, name=fields.pop("name", slug.title()))
        for name, value in fields.items():
            setattr(partner, name, value)
        if fields:
            partner.save()
        _, key = api_key_issue(partner=partner)
        return PartnerClient(Client(), partner, key)

    return make


@pytest.fixture
def partner(make_partner: Callable[..., PartnerClient]) -> PartnerClient:
    return make_partner()
