"""Delivery of the quiet-candidate follow-up (leads.candidates.quiet; registered in
LeadsConfig.ready). Safe to run more than once: the checks are made again at delivery, and
the task is keyed by the outbox row."""

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import OutboxMessage
from core.outbox import Outcome, outbox_handler
from leads.candidates.messages import advisor_follow_up
from leads.candidates.quiet import KIND_QUIET, candidate_still_quiet
from leads.models import FollowUpTask


@outbox_handler(KIND_QUIET)
def candidate_quiet_follow_up(message: OutboxMessage) -> Outcome:
    """Tell the advisor about a candidate quiet since ``since`` and give them a task, if the
    candidate is still active and nothing has happened since (else a newer period counts)."""
    since = datetime.fromisoformat(str(message.payload["since"]))
    candidate = candidate_still_quiet(candidate_id=str(message.payload["candidate_id"]), since=since)
    if candidate is None:
        return Outcome.SKIPPED
    assert candidate.advisor is not None  # active candidates have one
    path = reverse("admin:leads_candidate_change", args=[candidate.pk])
    advisor_follow_up(
        key=message.key,  # a repeated delivery does not make a second task
        candidate_id=candidate.pk,
        advisor=candidate.advisor,
        title=_("Candidate has been quiet: get in touch"),
        source=FollowUpTask.Source.QUIET_CANDIDATE,
        template="leads/quiet_candidate",
        context={
            "since": since,
            "days": settings.QUIET_CANDIDATE_AFTER.days,
            "candidate_url": f"{settings.SITE_URL}{path}",
        },
    )
    return Outcome.SENT
