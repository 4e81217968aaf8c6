"""Delivery of the overdue-invoice follow-up (leads.invoices.overdue; registered in
LeadsConfig.ready). Safe to run more than once: each manager's task is keyed by the outbox
row, and the invoice is checked again at delivery."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Groups, User
from core.models import OutboxMessage
from core.outbox import Outcome, TransientError, outbox_handler
from leads.candidates.followups import followup_task_create
from leads.candidates.messages import staff_message_send
from leads.invoices.overdue import KIND_OVERDUE
from leads.models import FollowUpTask, Invoice


@outbox_handler(KIND_OVERDUE)
def invoice_overdue_follow_up(message: OutboxMessage) -> Outcome:
    """Give every active manager a follow-up task and an email about the unpaid invoice."""
    invoice = Invoice.objects.select_related("employer", "placement__application").get(
        pk=message.payload["invoice_id"]
    )
    if invoice.paid_on is not None:
        return Outcome.SKIPPED
    managers = list(User.objects.filter(is_active=True, groups__name=Groups.MANAGERS).order_by("pk"))
    if not managers:
        raise TransientError("no manager to follow up an overdue invoice")
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Invoice %(number)s is overdue: follow up the payment") % {"number": invoice.number}
    for manager in managers:
        followup_task_create(
            candidate_id=invoice.placement.application.candidate_id,
            advisor_id=manager.pk,
            due_at=timezone.now(),
            title=title,
            source=FollowUpTask.Source.INVOICE_OVERDUE,
            key=f"{message.key}:{manager.pk}",
        )
    path = reverse("admin:leads_invoice_change", args=[invoice.pk])
    staff_message_send(
        recipients=[manager.email for manager in managers],
        template="leads/invoice_overdue",
        context={
            "number": invoice.number,
            "employer": invoice.recipient_name,
            "due_on": invoice.due_on,
            "total_jpy": invoice.total_jpy,
            "invoice_url": f"{settings.SITE_URL}{path}",
        },
    )
    return Outcome.SENT
