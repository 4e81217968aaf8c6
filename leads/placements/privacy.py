"""The applications' part of a person's disclosure and erasure (leads.privacy.records),
registered like the other apps' parts: applications with their history, interview rounds
and placement, and the employers revealed to the person."""

from typing import Any

from django.utils import timezone

from core.business_time import BUSINESS_TZ
from leads.models import Application, ApplicationEvent, Candidate, EmployerReveal, InterviewRound


def _at(value: Any) -> str | None:
    return timezone.localtime(value, BUSINESS_TZ).isoformat() if value is not None else None


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _name(user: Any) -> str | None:
    # Staff appear by the name they show to candidates; nothing else about them.
    return user.display_name if user is not None else None


def applications_export(candidate: Candidate) -> list[dict[str, Any]]:
    applications = (
        Application.objects.filter(candidate=candidate)
        .select_related("posting__employer", "advisor", "placement")
        .prefetch_related("events__actor", "interview_rounds")
        .order_by("created_at", "pk")
    )
    out = []
    for application in applications:
        placement = getattr(application, "placement", None)
        out.append(
            {
                "posting": {
                    "id": application.posting_id,
                    "title": application.posting.title,
                    "employer": application.posting.employer.name,
                },
                "stage": application.stage,
                "recommended_at": _at(application.created_at),
                "stage_changed_at": _at(application.stage_changed_at),
                "advisor": _name(application.advisor),
                "note": application.note,
                "history": [
                    {
                        "kind": event.kind,
                        "from": event.from_stage,
                        "to": event.to_stage,
                        "at": _at(event.occurred_at),
                        "by": _name(event.actor),
                        "note": event.note,
                    }
                    for event in sorted(application.events.all(), key=lambda e: (e.occurred_at, e.pk))
                ],
                "interview_rounds": [
                    {"number": r.number, "scheduled_at": _at(r.scheduled_at), "note": r.note}
                    for r in application.interview_rounds.all()
                ],
                "placement": None
                if placement is None
                else {
                    "placed_on": _day(placement.placed_on),
                    "start_date": _day(placement.start_date),
                    "annual_salary_jpy": placement.annual_salary_jpy,
                    "employment_type": placement.employment_type,
                    "left_on": _day(placement.left_on),
                },
            }
        )
    return out


def employer_reveals_export(candidate: Candidate) -> list[dict[str, Any]]:
    reveals = (
        EmployerReveal.objects.filter(candidate=candidate)
        .select_related("posting__employer", "advisor")
        .order_by("revealed_at", "pk")
    )
    return [
        {
            "posting": {"id": r.posting_id, "title": r.posting.title, "employer": r.posting.employer.name},
            "revealed_at": _at(r.revealed_at),
            "advisor": _name(r.advisor),
        }
        for r in reveals
    ]


def applications_erase(candidate: Candidate) -> int:
    """Blank the free text (advisors' notes about the person) on the applications, their
    history and interview rounds. The rows stay, anonymous through the erased candidate, so
    the pipeline, the ledgers' counts and the fees stay right."""
    erased = Application.objects.filter(candidate=candidate).update(note="")
    ApplicationEvent.objects.filter(candidate=candidate).update(note="")
    InterviewRound.objects.filter(application__candidate=candidate).update(note="")
    return erased
