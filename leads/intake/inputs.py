"""A lead as intake takes it in and answers it, and the rows it becomes: the same values on
both paths (services and, on PostgreSQL, fast_path)."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.idempotency import Claim
from leads.models import LEAD_SIGN_UP_FIELDS, Lead

EXTERNAL_ID_CONSTRAINT = "lead_external_id_unique_per_partner"


@dataclass(frozen=True)
class LeadInput:
    """A lead's fields, already validated and normalised by the caller."""

    family_name: str
    given_name: str
    consent_policy_version: str
    consent_agreed_at: datetime
    consent_third_party_provision: bool
    raw_payload: dict[str, object]
    family_name_kana: str = ""
    given_name_kana: str = ""
    email: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    prefecture: str = ""
    current_occupation: str = ""
    desired_roles: list[str] = field(default_factory=list)
    certifications: list[str] = field(default_factory=list)
    message: str = ""
    external_id: str | None = None
    source_url: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    existing_candidate: bool
    status: str
    answer: dict[str, Any] | None = None  # the response stored on the idempotency claim


@dataclass(frozen=True)
class Answer:
    """A response to store on an idempotency claim (core.idempotency) together with the lead,
    atomically: ``body`` builds it from the result, once; it is stored with status 201."""

    claim: Claim
    body: Callable[[IntakeResult], dict[str, Any]]


class LeadAlreadyReceived(Exception):
    """The partner already sent a lead with this external_id. Raised inside the intake
    transaction so that everything it wrote is rolled back."""


def sign_up_values(data: LeadInput) -> dict[str, Any]:
    """The person's items the sign-up carries (LEAD_SIGN_UP_FIELDS), lists copied."""
    values = {name: getattr(data, name) for name in LEAD_SIGN_UP_FIELDS}
    values["desired_roles"], values["certifications"] = list(data.desired_roles), list(data.certifications)
    return values


def candidate_values(*, data: LeadInput, lead_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """A new person's fields (by attname); the others take their defaults. A candidate has
    every sign-up item but the message (that stays on the lead)."""
    values = sign_up_values(data)
    del values["message"]
    return {
        "id": uuid.uuid4(),
        **values,
        "partner_status_changed_at": now,
        "credited_lead_id": lead_id,  # the FK is checked at commit, when the lead exists
    }


def lead_values(
    *, candidate_id: uuid.UUID, data: LeadInput, lead_id: uuid.UUID, existed: bool, now: datetime
) -> dict[str, Any]:
    """A lead's fields (by attname) but its partner."""
    return {
        "id": lead_id,
        "candidate_id": candidate_id,
        "external_id": data.external_id,
        "existing_candidate": existed,
        **sign_up_values(data),
        "consent_policy_version": data.consent_policy_version,
        "consent_agreed_at": data.consent_agreed_at,
        "consent_third_party_provision": data.consent_third_party_provision,
        "source_url": data.source_url,
        "utm_source": data.utm_source,
        "utm_medium": data.utm_medium,
        "utm_campaign": data.utm_campaign,
        "raw_payload": data.raw_payload,
        "created_at": now,
    }
