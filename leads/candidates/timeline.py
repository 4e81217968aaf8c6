"""A candidate's timeline: one chronological history merged, when it is shown, from a short
list of sources. Each source reads one table in ONE query, whatever the history's length, so
the candidate page costs one query per source and never one per entry.

The sources: timeline events and leads here; the parts above register theirs from their
AppConfig.ready() (placements: applications; consultations: bookings). Adding a kind of
history is one function `(candidate_id) -> entries` decorated with @timeline_source."""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from core.business_time import BUSINESS_TZ
from leads.models import Candidate, ContactChannel, Lead, TimelineEvent


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    actor: str
    detail: str


TimelineSource = Callable[[uuid.UUID], Iterable[TimelineEntry]]
TIMELINE_SOURCES: list[TimelineSource] = []


def timeline_source(source: TimelineSource) -> TimelineSource:
    """Register a source of timeline entries (used as a decorator)."""
    TIMELINE_SOURCES.append(source)
    return source


def candidate_timeline(*, candidate_id: uuid.UUID) -> list[TimelineEntry]:
    """One chronological history, newest first: one query per source. Of two entries at the
    same instant, the one a source lists later (it happened later) comes first."""
    entries = [entry for source in TIMELINE_SOURCES for entry in source(candidate_id)]
    ranked = sorted(enumerate(entries), key=lambda pair: (pair[1].at, pair[0]), reverse=True)
    return [entry for _, entry in ranked]


def local_minute(moment: datetime) -> str:
    """A moment as its JST date and minute, as the timeline shows it."""
    return timezone.localtime(moment, BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def _call_outcomes() -> dict[str, str]:
    return {"reached": _("Reached"), "no_answer": _("No answer"), "voicemail": _("Voicemail left")}


def _channel_reasons() -> dict[str, str]:
    return {
        "line_linked": _("LINE linked by the candidate"),
        "line_unfollowed": _("the candidate removed our LINE account"),
        "line_unlinked": _("the candidate chose to leave LINE"),
        "line_moved": _("their LINE account was linked to another candidate"),
    }


def _event_detail(event: TimelineEvent) -> str:
    data = dict(event.data)
    parts = []
    if event.kind == TimelineEvent.Kind.CALL and "outcome" in data:
        outcome = str(data.pop("outcome"))
        parts.append(_call_outcomes().get(outcome, outcome))
    if event.kind == TimelineEvent.Kind.STAGE_CHANGED and {"from", "to"} <= data.keys():
        stages = dict(Candidate.Stage.choices)
        previous, current = str(data.pop("from")), str(data.pop("to"))
        parts.append(f"{stages.get(previous, previous)} → {stages.get(current, current)}")
    if event.kind == TimelineEvent.Kind.CHANNEL_CHANGED and {"from", "to", "why"} <= data.keys():
        channels = dict(ContactChannel.choices)
        previous, current, why = str(data.pop("from")), str(data.pop("to")), str(data.pop("why"))
        parts.append(f"{channels.get(previous, previous)} → {channels.get(current, current)}")
        parts.append(str(_channel_reasons().get(why, why)))
    if event.kind == TimelineEvent.Kind.CLOSED and "reason" in data:
        reason = str(data.pop("reason"))
        parts.append(str(dict(Candidate.ClosedReason.choices).get(reason, reason)))
    parts.append(" ".join(f"{k}={v}" for k, v in sorted(data.items())))
    parts.append(event.note)
    return " ".join(filter(None, parts))


@timeline_source
def timeline_events(candidate_id: uuid.UUID) -> list[TimelineEntry]:
    """What the pipeline, the advisors and the reminders wrote (stage changes, calls, notes...)."""
    return [
        TimelineEntry(
            at=event.occurred_at,
            kind=event.kind,
            label=str(event.get_kind_display()),
            actor=str(event.actor) if event.actor else "",
            detail=_event_detail(event),
        )
        for event in TimelineEvent.objects.filter(candidate_id=candidate_id)
        .select_related("actor")
        .order_by("occurred_at", "pk")  # written in this order: ties keep it
    ]


@timeline_source
def timeline_leads(candidate_id: uuid.UUID) -> list[TimelineEntry]:
    """The sign-ups, read from their own table rather than copied."""
    return [
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
