"""What a new lead sets in motion, as outbox rows written with it: assignment to an advisor and
the contact follow-up chain (the SLA in business hours, 24 h, then the managers)."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings

from core.business_time import business_time_add
from core.outbox import OutboxItem
from leads.models import Lead

KIND_ASSIGN = "lead.assign"


KIND_CONTACT_SLA = "lead.contact_sla"


KIND_CONTACT_24H = "lead.contact_24h"


KIND_CONTACT_ESCALATION = "lead.contact_escalation"


DAY = timedelta(hours=24)


def lead_subject(lead_id: uuid.UUID) -> str:
    return f"lead:{lead_id}"


def _contact_follow_up(kind: str, *, lead_id: uuid.UUID, received_at: datetime) -> OutboxItem:
    """The contact follow-up ``kind`` of the lead received at ``received_at``: after
    LEAD_CONTACT_SLA of business time, again 24 h after the lead, then (escalation, to the
    managers) LEAD_CONTACT_SLA of business time after that (CONTRACT section 6)."""
    if kind == KIND_CONTACT_SLA:
        due = business_time_add(received_at, settings.LEAD_CONTACT_SLA)
    elif kind == KIND_CONTACT_24H:
        due = received_at + DAY
    elif kind == KIND_CONTACT_ESCALATION:
        due = business_time_add(received_at + DAY, settings.LEAD_CONTACT_SLA)
    else:
        raise ValueError(f"not a contact follow-up: {kind!r}")
    return OutboxItem(kind=kind, subject=lead_subject(lead_id), due_at=due, payload={"lead_id": str(lead_id)})


CONTACT_FOLLOW_UP_CHAIN = {KIND_CONTACT_SLA: KIND_CONTACT_24H, KIND_CONTACT_24H: KIND_CONTACT_ESCALATION}


def contact_follow_up_next(*, kind: str, lead: Lead) -> OutboxItem | None:
    """The follow-up that comes after ``kind`` for ``lead`` (None after the last), for the
    delivering handler to enqueue. Written whatever the lead's state: the next one checks
    again when it is due, as every follow-up does."""
    following = CONTACT_FOLLOW_UP_CHAIN.get(kind)
    if following is None:
        return None
    return _contact_follow_up(following, lead_id=lead.pk, received_at=lead.created_at)


def lead_effects(*, lead_id: uuid.UUID, now: datetime) -> list[OutboxItem]:
    """What must follow every lead: assignment, and the first contact follow-up (which
    brings the next ones, contact_follow_up_next)."""
    payload: dict[str, object] = {"lead_id": str(lead_id)}
    assign = OutboxItem(kind=KIND_ASSIGN, subject=lead_subject(lead_id), due_at=now, payload=payload)
    return [assign, _contact_follow_up(KIND_CONTACT_SLA, lead_id=lead_id, received_at=now)]
