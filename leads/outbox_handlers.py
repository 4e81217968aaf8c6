"""Delivery of the effects lead intake writes to the outbox (registered in LeadsConfig.ready).

Each handler is safe to run more than once: assignment happens only to an unassigned
candidate, and the checks are made again at delivery time, so a follow-up for a lead that
has been contacted meanwhile is skipped, not sent."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import Groups, User
from core.models import OutboxMessage
from core.outbox import Outcome, TransientError, outbox_handler
from leads.models import Candidate, Lead
from leads.services.assignment import candidate_assign_if_unassigned
from leads.services.intake import KIND_ASSIGN, KIND_CONTACT_SLA


def _send_to_staff(*, recipients: list[str], template: str, context: dict[str, object]) -> None:
    # Advisors work in Japanese; the message carries a link, never the candidate's details.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"leads/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"leads/email/{template}_body.txt", context)
    send_mail(subject, body, None, recipients)


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
    _send_to_staff(
        recipients=[candidate.advisor.email], template="new_lead", context=_context(lead, candidate)
    )
    return Outcome.SENT


def _still_uncontacted(lead: Lead, candidate: Candidate) -> bool:
    if candidate.is_closed or candidate.stage not in (Candidate.Stage.NEW, Candidate.Stage.CONTACTING):
        return False
    return candidate.last_contacted_at is None or candidate.last_contacted_at < lead.created_at


@outbox_handler(KIND_CONTACT_SLA)
def lead_contact_sla_follow_up(message: OutboxMessage) -> Outcome:
    lead = Lead.objects.select_related("partner", "candidate__advisor").get(pk=message.payload["lead_id"])
    candidate = lead.candidate
    if not _still_uncontacted(lead, candidate):
        return Outcome.SKIPPED
    if candidate.advisor is not None:
        recipients = [candidate.advisor.email]
    else:  # nobody to remind yet: the managers hear about it
        recipients = list(
            User.objects.filter(is_active=True, groups__name=Groups.MANAGERS).values_list("email", flat=True)
        )
        if not recipients:
            raise TransientError("no advisor and no manager to notify")
    _send_to_staff(recipients=recipients, template="contact_sla", context=_context(lead, candidate))
    return Outcome.SENT
