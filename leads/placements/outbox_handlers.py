"""Delivery of the six-month placement follow-up (leads.placements.followups; registered in
LeadsConfig.ready). Safe to run more than once: the task is keyed by the outbox row, and the
checks are made again at delivery."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import OutboxMessage
from core.outbox import Outcome, TransientError, outbox_handler
from leads.candidates.messages import advisor_follow_up
from leads.models import FollowUpTask, Placement
from leads.placements.followups import KIND_SIX_MONTH_CHECK


@outbox_handler(KIND_SIX_MONTH_CHECK)
def placement_six_month_follow_up(message: OutboxMessage) -> Outcome:
    """Ask the advisor for the six-month answer, unless it is recorded or the hire left."""
    placement = (
        Placement.objects.select_related("application__advisor", "application__candidate__advisor")
        .filter(pk=message.payload["placement_id"])
        .first()
    )
    if placement is None or placement.six_month_checked_on is not None or placement.left_on is not None:
        return Outcome.SKIPPED
    application = placement.application
    advisor = application.advisor or application.candidate.advisor
    if advisor is None:
        raise TransientError("no advisor to ask for the six-month follow-up")
    path = reverse("admin:leads_placement_change", args=[placement.pk])
    advisor_follow_up(
        key=message.key,  # a repeated delivery does not make a second task
        candidate_id=application.candidate_id,
        advisor=advisor,
        title=_("Six months since the start: still employed? indefinite contract?"),
        source=FollowUpTask.Source.PLACEMENT_CHECK,
        template="leads/placement_check",
        context={"start_date": placement.start_date, "placement_url": f"{settings.SITE_URL}{path}"},
    )
    return Outcome.SENT
