"""Fixtures for consultation booking: advisors with the default week (weekdays 10:00-19:00
JST), leads with booking tokens, and an API client speaking JSON.

Dates used throughout: 2026-11-20 is a Friday, 2026-11-23 a Monday public holiday
(勤労感謝の日), 2026-11-24 a plain Tuesday."""

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import Groups, User
from consultations.services import advisor_onboard
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.intake.tokens import booking_token_for
from leads.models import Lead
from leads.partners.keys import partner_create

FRIDAY_MORNING = "2026-11-20T09:00:00+09:00"
TUESDAY = "2026-11-24"

_numbers = itertools.count(1)


@pytest.fixture
def make_advisor(db: None) -> Callable[..., User]:
    # Transactional tests empty every table, the groups made by migrations included.
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)

    def make(name: str | None = None) -> User:
        n = next(_numbers)
        return advisor_onboard(email=f"advisor{n}@urakata.example", display_name=name or f"Advisor {n}")

    return make


@pytest.fixture
def advisors(make_advisor: Callable[..., User]) -> list[User]:
    return [make_advisor("佐藤 美咲"), make_advisor("田中 健太")]


def make_lead(**fields: Any) -> Lead:
    """A partner lead, through the real intake (a new person each call unless told)."""
    n = next(_numbers)
    partner = partner_create(slug=f"media-{n}", name=f"Media {n}")
    data = LeadInput(
        family_name=fields.pop("family_name", "山田"),
        given_name=fields.pop("given_name", "太郎"),
        email=fields.pop("email", f"candidate{n}@example.com"),
        phone=fields.pop("phone", None),
        consent_policy_version="2026-04",
        consent_agreed_at=datetime(2026, 1, 10, tzinfo=UTC),
        consent_third_party_provision=True,
        raw_payload={},
    )
    return lead_ingest(partner=partner, data=data).lead


@pytest.fixture
def lead(db: None) -> Lead:
    return make_lead()


def token_for(lead: Lead) -> str:
    return booking_token_for(lead_id=lead.id)


class Api:
    """The public booking API, as a candidate's browser calls it."""

    def __init__(self) -> None:
        self.client = Client()

    def slots(self, date_from: str, date_to: str | None = None, **params: str) -> Any:
        query = {"from": date_from, "to": date_to or date_from, **params}
        return self.client.get("/api/v1/consultations/slots/", query)

    def book(self, **body: Any) -> Any:
        body.setdefault("mode", "online")
        return self.client.post("/api/v1/consultations/bookings/", body, content_type="application/json")

    def book_lead(self, lead: Lead, start: str, **body: Any) -> Any:
        return self.book(booking_token=token_for(lead), start=start, **body)

    def manage(self, token: str, action: str = "", body: dict[str, Any] | None = None) -> Any:
        path = f"/api/v1/consultations/manage/{token}/{action}"
        if body is None:
            return self.client.get(path)
        return self.client.post(path, body, content_type="application/json")


@pytest.fixture
def api() -> Api:
    return Api()


def codes(response: Any) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def starts(response: Any) -> list[str]:
    return [s["start"] for s in response.json()["slots"]]


@pytest.fixture
def admin_client_jp(db: None) -> Client:
    """A superuser's admin session (the site's default language, Japanese)."""
    user = User.objects.create_superuser(email="boss@urakata.example", password="x", display_name="Boss")
    client = Client()
    client.force_login(user)
    return client
