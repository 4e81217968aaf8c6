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
    counts = models.JSONField(_("what was erased (row counts)"), default=dict)

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ("-erased_at",)

    def __str__(self) -> str:
        return f"{self.candidate_id} {self.erased_at:%Y-%m-%d %H:%M}"
