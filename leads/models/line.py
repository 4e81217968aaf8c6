"""LINE account linking: the one-time codes a candidate sends to our official account, and
the webhook events already handled (LINE redelivers them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from leads.models.candidates import Candidate


class LineLinkCode(models.Model):
    """A one-time code bound to one candidate, shown on their booking page; sent to our
    official account (or returned as the nonce of LINE's account-link flow) it links the
    LINE user who sent it. Only its hash is stored; it expires (LINE_LINK_CODE_TTL) and is
    used once (``used_at``)."""

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="line_link_codes", verbose_name=_("candidate")
    )
    code_hash = models.CharField(_("code hash"), max_length=64, unique=True)  # SHA-256 hex
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("LINE link code")
        verbose_name_plural = _("LINE link codes")

    def __str__(self) -> str:
        return f"LINE link code {self.pk}"


class LineWebhookEvent(models.Model):
    """A LINE webhook event handled once: LINE redelivers an event it is not sure we got,
    with the same ``webhookEventId``; the unique key makes the second delivery a no-op."""

    webhook_event_id = models.CharField(_("webhook event id"), max_length=64, unique=True)
    event_type = models.CharField(_("event type"), max_length=30)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("LINE webhook event")
        verbose_name_plural = _("LINE webhook events")

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_event_id}"
