"""Partners with payout rules, and leads sent and moved along through the public surface."""

from datetime import date
from typing import Any

from django.test import Client

from accounts.models import Groups, User
from accounts.services import staff_user_create
from leads.models import Lead, Partner, PayoutRule
from tests.partners import PartnerClient, lead_body


def rule(partner: Partner, event: str, amount: int, effective_from: date = date(2026, 1, 1)) -> PayoutRule:
    return PayoutRule.objects.create(
        partner=partner, event=event, amount_jpy=amount, effective_from=effective_from
    )


def send_lead(partner: PartnerClient, **fields: Any) -> Lead:
    response = partner.post(lead_body(**fields))
    assert response.status_code == 201, response.json()
    return Lead.objects.get(pk=response.json()["id"])


def manager() -> User:
    return staff_user_create(
        email=f"payouts-manager{User.objects.count()}@urakata.example",
        display_name="Manager",
        group=Groups.MANAGERS,
    )


def move(user: User, lead: Lead, stage: str) -> None:
    """The stage change through the advisors' API (logged in at the test's time)."""
    client = Client()
    client.force_login(user)
    response = client.post(
        f"/api/v1/candidates/{lead.candidate_id}/stage/", {"stage": stage}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
