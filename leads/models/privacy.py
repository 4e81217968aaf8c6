"""Records of what was done under the privacy law (APPI), never the personal data itself."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ErasureRecord(models.Model):
    """One erasure of a person's data (a deletion request under APPI): when, by whom, on
    whose request, and how many rows of each kind were erased. It holds no personal data,
    so it is kept for good."""

    # An id, not a foreign key: the record must outlive the candidate row if a manager
    # ever deletes it, and it must not cascade with it.
    candidate_id = models.UUIDField(_("candidate id"), db_index=True)
    erased_at = models.DateTimeField(_("erased at"))
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erased by"),
        help_text=_("Empty when an operator ran the privacy_erase command."),
    )
    requested_by = models.CharField(
        _("requested by"),
        max_length=500,
        help_text=_("Whose request, how and when, e.g. a request from the person on 2026-11-20."),
    )

    class Kind(models.TextChoices):
        REQUEST = "request", _("On request")
        RETENTION = "retention", _("Retention period over")
        INVALID = "invalid", _("Invalid lead (fake or test data)")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REQUEST)
    counts = models.JSONField(_("what was erased (row counts)"), default=dict)

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ("-erased_at",)

    def __str__(self) -> str:
        return f"{self.candidate_id} {self.erased_at:%Y-%m-%d %H:%M}"


class AuditEntry(models.Model):
    """Who viewed, exported or changed a candidate's personal data, and when (APPI
    accountability). Append-only: on PostgreSQL a trigger (migration 0010) refuses UPDATE and
    DELETE, so not even the ORM or a manager in the admin can rewrite history. It holds ids
    and field names, never the personal values themselves, so it survives an erasure."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")
        CHANGE = "change", _("Changed")
        ERASE = "erase", _("Erased")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")

    # An id, not a foreign key, for the same reason as ErasureRecord.candidate_id.
    candidate_id = models.UUIDField(_("candidate id"))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # How the access happened when there is no user (a command, the system) or in addition
    # to it (admin page, API, CSV export).
    channel = models.CharField(_("through"), max_length=40)
    fields = models.JSONField(_("fields"), default=list, blank=True, help_text=_("Names only, never values."))
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ("-at", "-id")
        indexes = [
            # Managers read one candidate's history, newest first.
            models.Index(fields=["candidate_id", "-at"], name="audit_candidate_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"
