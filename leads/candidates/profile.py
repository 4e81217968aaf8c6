"""Who looks after a candidate. (Assignment lives here rather than in services.assignment,
which the intake owns; the two can be merged when that module is free to change.)"""

import uuid

from django.db import transaction

from accounts.models import User
from leads.candidates.pipeline import timeline_record
from leads.models import Candidate, TimelineEvent


@transaction.atomic
def candidate_assign(*, candidate_id: uuid.UUID, advisor: User, by: User | None) -> Candidate:
    """Give the candidate to `advisor`, recorded on the timeline. Assigning the current
    advisor again changes nothing."""
    candidate = (
        Candidate.objects.select_for_update(of=("self",)).select_related("advisor").get(pk=candidate_id)
    )
    if candidate.advisor_id == advisor.pk:
        return candidate
    previous = str(candidate.advisor) if candidate.advisor else ""
    candidate.advisor = advisor
    candidate.save(update_fields=["advisor", "updated_at"])
    timeline_record(
        candidate_id=candidate.pk,
        kind=TimelineEvent.Kind.ASSIGNED,
        by=by,
        data={"from": previous or "-", "to": str(advisor)},
    )
    return candidate


# What advisors edit on the candidate page; the pipeline fields are the pipeline's.
PROFILE_FIELDS = frozenset(
    {
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "email",
        "phone",
        "birth_date",
        "prefecture",
        "current_occupation",
        "desired_roles",
        "strengths",
        "motivation",
        "word_level",
        "excel_level",
        "has_desk_experience",
        "desired_prefectures",
        "min_annual_salary",
        "wants_weekends_off",
        "max_overtime_hours",
        "remote_wish",
        "contact_channel",
        "language",
        "line_user_id",
    }
)


def candidate_profile_save(*, candidate: Candidate, fields: list[str]) -> Candidate:
    """Write the named profile fields of an already validated candidate, and nothing else:
    a concurrent stage change or assignment is never overwritten with stale values."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    if fields:
        candidate.save(update_fields=[*fields, "updated_at"])
    return candidate
