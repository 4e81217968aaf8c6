"""A candidate's timeline: one chronological history merged, when it is shown, from a short
list of sources. Each source reads one table in ONE query, whatever the history's length, so
the candidate page costs one query per source and never one per entry.

The sources: timeline events, leads, consultations (bookings), applications. Adding a kind
of history is one function `(candidate_id) -> entries` decorated with @timeline_source (or
appended to TIMELINE_SOURCES)."""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.business_time import BUSINESS_TZ
from leads.models import Candidate, Lead, TimelineEvent
from leads.selectors_applications import application_events_for_candidate
from leads.selectors_workspace import booking_model


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


def _local(moment: datetime) -> str:
    return timezone.localtime(moment, BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def _call_outcomes() -> dict[str, str]:
    return {"reached": _("Reached"), "no_answer": _("No answer"), "voicemail": _("Voicemail left")}


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


def _booking_entries(booking: Any) -> list[TimelineEntry]:
    """A booking's history as far as its row tells it. Bookings keep no history table: the
    row has its creation, its revision count (`sequence` grows with every move), its
    cancellation time and its outcome. A move is dated at the row's last change while the
    booking is still booked; once cancelled, held or no-show that change is the outcome's,
    so the move is shown right after the booking itself."""
    what = f"{booking.get_kind_display()} {_local(booking.start_at)}"
    advisor = str(booking.advisor) if booking.advisor_id else ""
    entries = [
        TimelineEntry(
            at=booking.created_at,
            kind="booking_booked",
            label=_("Consultation booked"),
            actor="",
            detail=what,
        )
    ]
    status = booking.status
    if booking.sequence:
        entries.append(
            TimelineEntry(
                at=booking.updated_at if status == "booked" else booking.created_at,
                kind="booking_rescheduled",
                label=_("Consultation rescheduled"),
                actor="",
                detail=_("moved %(count)d time(s), now %(when)s") % {"count": booking.sequence, "when": what},
            )
        )
    if status == "cancelled":
        entries.append(
            TimelineEntry(
                at=booking.cancelled_at or booking.updated_at,
                kind="booking_cancelled",
                label=_("Consultation cancelled"),
                actor="",
                detail=" ".join(filter(None, [what, booking.cancel_reason])),
            )
        )
    elif status == "held":
        entries.append(
            TimelineEntry(
                at=booking.start_at,
                kind="booking_held",
                label=_("Consultation held"),
                actor=advisor,
                # The outcome the advisor recorded, where consultations keeps one.
                detail=" ".join(filter(None, [what, getattr(booking, "outcome_note", "")])),
            )
        )
    elif status == "no_show":
        entries.append(
            TimelineEntry(
                at=booking.start_at,
                kind="booking_no_show",
                label=_("Consultation no-show"),
                actor=advisor,
                detail=what,
            )
        )
    return entries


@timeline_source
def timeline_bookings(candidate_id: uuid.UUID) -> list[TimelineEntry]:
    """The consultations: booked, rescheduled, cancelled, held, no-show."""
    booking = booking_model()
    if booking is None:
        return []
    rows = booking._default_manager.filter(candidate_id=candidate_id).select_related("advisor")
    return [entry for row in rows for entry in _booking_entries(row)]


@timeline_source
def timeline_applications(candidate_id: uuid.UUID) -> list[TimelineEntry]:
    """The applications' history (recommended, submitted, interviews, offer...)."""
    return [
        TimelineEntry(
            at=row.occurred_at,
            kind=f"application_{row.kind}",
            label=row.kind_label,
            actor=row.actor_name,
            detail=" ".join(filter(None, [row.posting_title, row.to_stage_label, row.note])),
        )
        # The selector lists newest first; sources list oldest first (ties keep their order).
        for row in reversed(application_events_for_candidate(candidate_id=candidate_id))
    ]
