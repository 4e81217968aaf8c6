import uuid
from dataclasses import dataclass
from datetime import datetime

from leads.models import Lead, TimelineEvent


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    actor: str
    detail: str


def candidate_timeline(*, candidate_id: uuid.UUID) -> list[TimelineEntry]:
    """One chronological history, newest first: the events table plus the leads (read from
    their own table rather than copied). Two queries whatever the length."""
    entries = [
        TimelineEntry(
            at=event.occurred_at,
            kind=event.kind,
            label=str(event.get_kind_display()),
            actor=str(event.actor) if event.actor else "",
            detail=" ".join(filter(None, [" ".join(f"{k}={v}" for k, v in event.data.items()), event.note])),
        )
        for event in TimelineEvent.objects.filter(candidate_id=candidate_id).select_related("actor")
    ]
    entries += [
        TimelineEntry(
            at=lead.created_at,
            kind="lead",
            label=str(Lead._meta.verbose_name),
            actor=lead.partner.name if lead.partner else "",
            detail=lead.external_id or "",
        )
        for lead in Lead.objects.filter(candidate_id=candidate_id)
        .select_related("partner")
        .only("created_at", "external_id", "partner__name")
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
