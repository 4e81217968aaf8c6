"""Reads of applications (推薦), their events and the employer reveals."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet

from leads.models import Application, ApplicationEvent, EmployerReveal, InterviewRound


def application_list(
    *,
    stage: str | None = None,
    advisor_id: int | None = None,
    employer_id: int | None = None,
    candidate_id: uuid.UUID | None = None,
    posting_id: int | None = None,
) -> QuerySet[Application]:
    """Applications with what a list shows (candidate, posting, employer, role, advisor,
    placement) in the same query."""
    applications = Application.objects.select_related(
        "candidate", "posting__employer", "posting__role", "advisor", "placement"
    )
    if stage:
        applications = applications.filter(stage=stage)
    if advisor_id is not None:
        applications = applications.filter(advisor_id=advisor_id)
    if employer_id is not None:
        applications = applications.filter(posting__employer_id=employer_id)
    if candidate_id is not None:
        applications = applications.filter(candidate_id=candidate_id)
    if posting_id is not None:
        applications = applications.filter(posting_id=posting_id)
    return applications


def application_detail_list() -> QuerySet[Application]:
    """application_list plus the interview rounds and the events (two more queries)."""
    return application_list().prefetch_related(
        Prefetch("interview_rounds", queryset=InterviewRound.objects.order_by("number")),
        Prefetch(
            "events", queryset=ApplicationEvent.objects.select_related("actor").order_by("occurred_at", "pk")
        ),
    )


def application_stage_counts(*, applications: QuerySet[Application]) -> dict[str, int]:
    """How many of `applications` are in each stage (every stage present, 0 if none): one
    GROUP BY query."""
    counts = dict.fromkeys(Application.Stage.values, 0)
    rows = applications.order_by().values_list("stage").annotate(n=Count("pk"))
    for stage, n in rows:
        counts[stage] = n
    return counts


@dataclass(frozen=True)
class ApplicationTimelineRow:
    """One line of the candidate's timeline about an application."""

    occurred_at: datetime
    kind: str
    kind_label: str
    application_id: int
    posting_title: str
    from_stage: str
    to_stage: str
    to_stage_label: str
    actor_name: str
    note: str
    data: dict[str, object]


def application_events_for_candidate(*, candidate_id: uuid.UUID) -> list[ApplicationTimelineRow]:
    """The candidate's application events, newest first, ready to merge into the timeline
    (one query: posting and actor joined)."""
    events = (
        ApplicationEvent.objects.filter(candidate_id=candidate_id)
        .select_related("application__posting", "actor")
        .order_by("-occurred_at", "-pk")
    )
    return [
        ApplicationTimelineRow(
            occurred_at=event.occurred_at,
            kind=event.kind,
            kind_label=str(event.get_kind_display()),
            application_id=event.application_id,
            posting_title=event.application.posting.title,
            from_stage=event.from_stage,
            to_stage=event.to_stage,
            to_stage_label=str(event.get_to_stage_display()) if event.to_stage else "",
            actor_name=event.actor.display_name if event.actor else "",
            note=event.note,
            data=event.data,
        )
        for event in events
    ]


def employer_reveal_list(*, candidate_id: uuid.UUID) -> QuerySet[EmployerReveal]:
    """The employers revealed to the candidate, newest first (one query)."""
    return (
        EmployerReveal.objects.filter(candidate_id=candidate_id)
        .select_related("posting__employer", "posting__role", "advisor")
        .order_by("-revealed_at", "-pk")
    )
