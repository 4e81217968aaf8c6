"""A person's data, all of it, for a disclosure request (APPI): the candidate, their leads,
timeline, tasks and what other apps registered (privacy_register), as one JSON document."""

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone

from accounts.models import User
from core.business_time import BUSINESS_TZ
from leads.models import (
    LEAD_SIGN_UP_FIELDS,
    Candidate,
    CandidateCertification,
    FollowUpTask,
    Lead,
    TimelineEvent,
    WorkHistoryEntry,
)
from leads.privacy.records import PRIVACY_EXPORTERS


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value, BUSINESS_TZ).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _fields(obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    return {name: _json(getattr(obj, name)) for name in names}


def _display_name(user: User | None) -> str | None:
    # Staff appear by the name they show to candidates; nothing else about them.
    return user.display_name if user is not None else None


# Every column of the candidate, so that a field added later is disclosed without anyone
# remembering to list it here; relations to staff and leads are shown their own way.
PROFILE_EXPORT = tuple(
    field.name
    for field in Candidate._meta.concrete_fields
    if field.name not in {"advisor", "credited_lead", "merged_into", "erased_at"}
)


LEAD_EXPORT = (
    "id",
    "external_id",
    "created_at",
    *LEAD_SIGN_UP_FIELDS,
    "source_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "raw_payload",
)


def person_export(*, candidate: Candidate) -> dict[str, Any]:
    """Everything held about the person, JSON-ready (times in +09:00). Other people appear
    only as an advisor's display name."""
    leads = Lead.objects.filter(candidate=candidate).select_related("partner").order_by("created_at")
    timeline = (
        TimelineEvent.objects.filter(candidate=candidate)
        .select_related("actor")
        .order_by("occurred_at", "id")
    )
    tasks = (
        FollowUpTask.objects.filter(candidate=candidate).select_related("advisor").order_by("due_at", "id")
    )
    certifications = CandidateCertification.objects.filter(candidate=candidate).select_related(
        "certification"
    )
    export: dict[str, Any] = {
        "exported_at": _json(timezone.now()),
        "profile": {**_fields(candidate, PROFILE_EXPORT), "advisor": _display_name(candidate.advisor)},
        "leads": [
            {
                **_fields(lead, LEAD_EXPORT),
                "partner": {"slug": lead.partner.slug, "name": lead.partner.name} if lead.partner else None,
                "consent": {
                    "privacy_policy_version": lead.consent_policy_version,
                    "agreed_at": _json(lead.consent_agreed_at),
                    "third_party_provision": lead.consent_third_party_provision,
                },
            }
            for lead in leads
        ],
        "timeline": [
            {
                **_fields(event, ("kind", "occurred_at", "data", "note")),
                "by": _display_name(event.actor),
            }
            for event in timeline
        ],
        "work_history": [
            _fields(
                job,
                ("occupation", "employer_name", "job_title", "years", "months", "is_current", "description"),
            )
            for job in WorkHistoryEntry.objects.filter(candidate=candidate)
        ],
        "certifications": [
            {
                "code": record.certification.code,
                "name": str(record.certification.name),
                **_fields(record, ("status", "exam_date")),
            }
            for record in certifications
        ],
        "followup_tasks": [
            {
                **_fields(task, ("title", "due_at", "done_at", "source")),
                "advisor": _display_name(task.advisor),
            }
            for task in tasks
        ],
    }
    for name, exporter in PRIVACY_EXPORTERS.items():
        export[name] = exporter(candidate)
    # Records of the same person merged into this one: their leads, history and the rest
    # were moved here; what stays on them is the profile they were created with.
    export["merged_records"] = [
        _fields(duplicate, PROFILE_EXPORT)
        for duplicate in Candidate.objects.filter(merged_into=candidate).order_by("created_at")
    ]
    return export
