"""Delivery of the effects lead intake writes to the outbox (registered in LeadsConfig.ready).

Each handler is safe to run more than once: assignment happens only to an unassigned
candidate, and the checks are made again at delivery time, so a follow-up for a lead that
has been contacted meanwhile is skipped, not sent."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Groups, User
from core.models import OutboxMessage
from core.outbox import Outcome, TransientError, outbox_enqueue, outbox_handler
from leads.candidates.assignment import candidate_assign_if_unassigned
from leads.candidates.messages import advisor_follow_up, staff_message_send
from leads.intake.effects import (
    KIND_ASSIGN,
    KIND_CONTACT_24H,
    KIND_CONTACT_ESCALATION,
    KIND_CONTACT_SLA,
    contact_follow_up_next,
)
from leads.models import Candidate, FollowUpTask, Lead


def _context(lead: Lead, candidate: Candidate) -> dict[str, object]:
    path = reverse("admin:leads_candidate_change", args=[candidate.pk])
    return {
        "lead": lead,
        "partner_name": lead.partner.name if lead.partner else None,
        "candidate_url": f"{settings.SITE_URL}{path}",
    }


@outbox_handler(KIND_ASSIGN)
def lead_assign_and_notify(message: OutboxMessage) -> Outcome:
    lead = Lead.objects.select_related("partner").get(pk=message.payload["lead_id"])
    candidate = candidate_assign_if_unassigned(candidate_id=lead.candidate_id)
    if candidate is None:
        raise TransientError("no active advisor to assign")
    assert candidate.advisor is not None
    staff_message_send(
        recipients=[candidate.advisor.email], template="leads/new_lead", context=_context(lead, candidate)
    )
    return Outcome.SENT


def _still_uncontacted(lead: Lead, candidate: Candidate) -> bool:
    if candidate.is_closed or candidate.stage not in (Candidate.Stage.NEW, Candidate.Stage.CONTACTING):
        return False
    return candidate.last_contacted_at is None or candidate.last_contacted_at < lead.created_at


def _managers() -> list[str]:
    return list(
        User.objects.filter(is_active=True, groups__name=Groups.MANAGERS).values_list("email", flat=True)
    )


def _contact_follow_up(message: OutboxMessage, *, escalate: bool) -> Outcome:
    """Remind the advisor of a lead still uncontacted (and give them a follow-up task), or,
    when escalating or when nobody is assigned, tell the managers. First the next follow-up
    of the chain is written (intake writes only the first): before anything is sent, so
    that neither a failure here nor a crash can lose it; writing it twice keeps one."""
    lead = Lead.objects.select_related("partner", "candidate__advisor").get(pk=message.payload["lead_id"])
    following = contact_follow_up_next(kind=message.kind, lead=lead)
    if following is not None:
        outbox_enqueue(items=[following])
    candidate = lead.candidate
    if not _still_uncontacted(lead, candidate):
        return Outcome.SKIPPED
    advisor = candidate.advisor
    if advisor is not None and not escalate:
        advisor_follow_up(
            key=message.key,  # a repeated delivery does not make a second task
            candidate_id=candidate.pk,
            advisor=advisor,
            title=_("First contact with a new lead is overdue"),
            source=FollowUpTask.Source.CONTACT_SLA,
            template="leads/contact_sla",
            context=_context(lead, candidate),
        )
        return Outcome.SENT
    managers = _managers()
    if not managers:
        raise TransientError("nobody to notify about an uncontacted lead")
    template = "contact_escalation" if escalate else "contact_sla"
    staff_message_send(recipients=managers, template=f"leads/{template}", context=_context(lead, candidate))
    return Outcome.SENT


@outbox_handler(KIND_CONTACT_SLA)
def lead_contact_sla_follow_up(message: OutboxMessage) -> Outcome:
    return _contact_follow_up(message, escalate=False)


@outbox_handler(KIND_CONTACT_24H)
def lead_contact_24h_follow_up(message: OutboxMessage) -> Outcome:
    return _contact_follow_up(message, escalate=False)


@outbox_handler(KIND_CONTACT_ESCALATION)
def lead_contact_escalation(message: OutboxMessage) -> Outcome:
    return _contact_follow_up(message, escalate=True)
