"""Partner sites and their API keys."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel


class Partner(TimestampedModel):
    """A partner site (提携メディア) that sends leads through the API."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("rate limit (requests per minute)"), default=120, help_text=_("0 means unlimited.")
    )
    signing_secret = models.CharField(
        _("signing secret"),
        max_length=128,
        blank=True,
        help_text=_("When set, every request must carry a valid X-Signature header."),
    )
    placement_licence_number = models.CharField(
        _("placement business licence number"),
        max_length=30,
        blank=True,
        help_text=_(
            "有料職業紹介事業の許可番号 (e.g. 13-ユ-123456). "
            "Only a licensed partner may be paid per placement."
        ),
    )

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A partner's API key. Only a SHA-256 hash is stored (keys are 256-bit random, so a
    fast hash is enough); the prefix is kept in clear so people can tell keys apart."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("partner")
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}…"
