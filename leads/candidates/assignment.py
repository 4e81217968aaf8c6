import uuid

from django.db import transaction
from django.db.models import Count, Q

from accounts.models import Groups, User
from leads.models import Candidate

_OPEN = Q(candidates__is_closed=False) & ~Q(candidates__stage=Candidate.Stage.PLACED)


def advisor_least_loaded() -> User | None:
    """The active advisor with the fewest open candidates (ties: the longest-serving)."""
    return (
        User.objects.filter(is_active=True, groups__name=Groups.ADVISORS)
        .annotate(open_candidates=Count("candidates", filter=_OPEN))
        .order_by("open_candidates", "pk")
        .first()
    )


def candidate_assign_if_unassigned(*, candidate_id: uuid.UUID) -> Candidate | None:
    """Give the candidate an advisor unless they have one. Returns the candidate with its
    advisor, or None when there is no active advisor to give."""
    with transaction.atomic():
        candidate = (
            Candidate.objects.select_for_update(of=("self",)).select_related("advisor").get(pk=candidate_id)
        )
        if candidate.advisor_id is not None:
            return candidate
        advisor = advisor_least_loaded()
        if advisor is None:
            return None
        candidate.advisor = advisor
        candidate.save(update_fields=["advisor", "updated_at"])
        return candidate
