from django.db import models
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """The last time a periodic process proved it is alive (beat -> broker -> worker -> DB)."""

    name = models.CharField(_("name"), max_length=50, primary_key=True)
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return self.name


class OutboxMessage(models.Model):
    """One effect that must happen after a transaction commits (a notice, a reminder, an
    assignment), written in that same transaction so that it can never be lost, and
    delivered by the sweep (core.outbox) at or after ``due_at``.

    ``key`` makes enqueueing idempotent: one row per subject, kind and version.
    ``payload`` holds ids only, never personal data.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("skipped (no longer needed)")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")
        FAILED = "failed", _("failed")

    # Unique and indexed through Meta, not `unique=True` / `db_index=True`: on PostgreSQL those
    # add a second (varchar_pattern_ops) index each, for LIKE queries nothing makes, and
    # every row (four per lead) would pay for them.
    key = models.CharField(_("key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=60)
    subject = models.CharField(_("subject"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    lease_token = models.UUIDField(_("lease token"), null=True, blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        constraints = [models.UniqueConstraint(fields=["key"], name="outbox_key_unique")]
        indexes = [
            # Cancelling a subject's rows (a booking moved or cancelled, a lead erased).
            models.Index(fields=["subject"], name="outbox_subject_idx"),
            # The sweep reads only live rows by due time; finished rows (the vast majority
            # over time) stay out of this index.
            models.Index(
                fields=["due_at"],
                name="outbox_live_due_idx",
                condition=models.Q(state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return self.key


class IdempotencyRecord(models.Model):
    """A client's Idempotency-Key and the response it got, kept 24 hours (CONTRACT section 3).

    The row is written in the same transaction as the work it guards, so a second request
    with the same key waits on the row lock until the first commits (then replays its
    response) or rolls back (then runs itself).
    """

    scope = models.CharField(_("scope"), max_length=64)
    key = models.CharField(_("key"), max_length=255)
    claim = models.UUIDField(_("claim"))
    request_hash = models.CharField(_("request hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class SmsDelivery(models.Model):
    """One SMS handed to a provider that takes no idempotency key (Twilio): the provider's
    message id per outbox row, written as soon as the provider accepted it, so that a row
    retried later is never sent again (core.channels.twilio_sms), and the delivery status
    the provider's callbacks report."""

    idempotency_key = models.UUIDField(_("idempotency key"), unique=True)  # from the outbox row
    provider = models.CharField(_("provider"), max_length=20)
    provider_id = models.CharField(_("provider message id"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=20)
    error_code = models.CharField(_("error code"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SMS delivery")
        verbose_name_plural = _("SMS deliveries")

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_id} ({self.status})"
