"""The staff's notice that a partner's webhook endpoint was disabled after 5 days of
failures (CONTRACT section 7; written by leads.partners.webhook_delivery, registered in
LeadsConfig.ready). Here because staff messages belong to the workspace, above partners."""

from django.conf import settings
from django.urls import reverse

from accounts.models import Groups, User
from core.business_time import BUSINESS_TZ
from core.models import OutboxMessage
from core.outbox import Outcome, TransientError, outbox_handler
from leads.candidates.messages import staff_message_send
from leads.models import WebhookEndpoint
from leads.partners.webhooks import KIND_ENDPOINT_DISABLED


@outbox_handler(KIND_ENDPOINT_DISABLED)
def webhook_endpoint_disabled_notify(message: OutboxMessage) -> Outcome:
    """Email the managers; skipped if the endpoint was enabled again, or deleted, meanwhile."""
    endpoint = (
        WebhookEndpoint.objects.select_related("partner").filter(pk=message.payload["endpoint_id"]).first()
    )
    if endpoint is None or endpoint.enabled:
        return Outcome.SKIPPED
    managers = list(
        User.objects.filter(is_active=True, groups__name=Groups.MANAGERS).values_list("email", flat=True)
    )
    if not managers:
        raise TransientError("no manager to tell about a disabled webhook endpoint")
    since = endpoint.failing_since or endpoint.disabled_at
    staff_message_send(
        recipients=managers,
        template="leads/webhook_endpoint_disabled",
        context={
            "partner": endpoint.partner.name,
            "url": endpoint.url,
            "since": f"{since.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M}" if since else "",
            "admin_url": settings.SITE_URL
            + reverse("admin:leads_webhookdelivery_changelist")
            + f"?endpoint__id__exact={endpoint.pk}",
        },
    )
    return Outcome.SENT
