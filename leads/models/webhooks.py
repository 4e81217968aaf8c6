"""Webhooks to partners (CONTRACT section 7): a partner's endpoints, the events written in
the transaction of the change they tell of, and one delivery per event and endpoint, with
the attempts made.

Deliveries are the webhooks' outbox: a row written with its event, claimed by the delivery
loop (leads.partners.webhook_delivery) with a lease, as core.outbox's rows are, but queued
per endpoint so that one slow or dead receiver never holds back another's. Written by
leads.partners only. No row here holds personal data: events carry lead ids, statuses and
statement totals, attempts carry no bodies.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from leads.models.partners import Partner


class WebhookEventType(models.TextChoices):
    LEAD_STATUS_CHANGED = "lead.status_changed", _("Lead status changed")
    STATEMENT_ISSUED = "statement.issued", _("Statement issued")
    # Sent only by the staff's "send a test event" action, whatever the endpoint's types.
    TEST = "webhook.test", _("Test event")


class WebhookEndpoint(models.Model):
    """A partner's receiver. ``events`` empty: every type. The signing secret is kept in
    clear (it must sign), shown once; after a rotation the previous one signs too until
    ``previous_secret_expires_at``."""

    class DisabledReason(models.TextChoices):
        NONE = "", _("(enabled)")
        PARTNER = "partner", _("disabled by the partner")
        STAFF = "staff", _("disabled by the staff")
        GONE = "gone", _("the receiver answered 410 Gone")
        FAILING = "failing", _("nothing but failures for 5 days")
        REFUSED = "refused", _("the address is no longer public")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("partner")
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("event types"), default=list, blank=True, help_text=_("Empty: every type."))
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(
        _("why disabled"), max_length=10, choices=DisabledReason.choices, default="", blank=True
    )
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    previous_secret = models.CharField(
        _("previous signing secret"), max_length=100, blank=True, editable=False
    )
    previous_secret_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    # The first failed attempt since the last success: five days of it disables the endpoint.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ("partner", "created_at")

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return event_type == WebhookEventType.TEST or not self.events or event_type in self.events


class WebhookEvent(models.Model):
    """One thing that happened, told to the partner's endpoints. ``body`` is the JSON sent,
    kept as text so that every attempt signs the very same bytes; ``id`` (as ``msg_<hex>``)
    is the ``webhook-id`` of every delivery and retry of it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="webhook_events", verbose_name=_("partner")
    )
    type = models.CharField(_("type"), max_length=40, choices=WebhookEventType.choices)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.type} {self.webhook_id}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: due now, then at each retry of the contract's schedule,
    until a 2xx (succeeded) or the last retry (failed). Replay makes a failed one pending
    again, with the same event and so the same ``webhook-id``."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(_("due at"))
    # Attempts in the current round (a replay starts a new round); every attempt is kept.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    lease_token = models.UUIDField(_("lease token"), null=True, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
        ]
        indexes = [
            # The delivery loop reads only live rows, per endpoint by due time (finished
            # ones, the vast majority over time, stay out).
            models.Index(
                fields=["endpoint", "due_at"],
                name="webhook_delivery_live_idx",
                condition=models.Q(state__in=["pending", "sending"]),
            ),
            # An endpoint's log, newest first, and its replay (failed since a time).
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: when, how long, the status or the error. Never the
    response body."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    at = models.DateTimeField(_("at"))
    status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ("delivery", "at", "id")

    def __str__(self) -> str:
        return f"#{self.pk}"  # its time, status and error are shown beside it

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300
