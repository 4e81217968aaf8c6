"""Leads: one sign-up from one source at one time, as received."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leads.models.candidates import Candidate
from leads.models.partners import Partner


class Lead(models.Model):
    """One sign-up from one source (a partner, or direct when partner is null) at one time,
    with its consent record and the payload as received."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("partner"),
        db_index=False,  # lead_partner_created_idx starts with the partner
    )
    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="leads", verbose_name=_("candidate")
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)  # noqa: DJ001
    existing_candidate = models.BooleanField(_("existing candidate"), default=False)
    family_name = models.CharField(_("family name"), max_length=50)
    given_name = models.CharField(_("given name"), max_length=50)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=100, blank=True)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=100, blank=True)
    email = models.EmailField(_("email"), null=True, blank=True)  # noqa: DJ001 - as sent: absent is NULL
    phone = models.CharField(_("phone (E.164)"), max_length=16, null=True, blank=True)  # noqa: DJ001
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=2, blank=True)
    current_occupation = models.CharField(_("current occupation"), max_length=20, blank=True)
    desired_roles = models.JSONField(_("desired roles"), default=list, blank=True)
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    message = models.TextField(_("message"), max_length=2000, blank=True)
    consent_policy_version = models.CharField(_("privacy policy version"), max_length=50)
    consent_agreed_at = models.DateTimeField(_("consent agreed at"))
    consent_third_party_provision = models.BooleanField(_("third-party provision consented"))
    source_url = models.CharField(_("source URL"), max_length=500, blank=True)
    utm_source = models.CharField("utm_source", max_length=500, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=500, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=500, blank=True)
    raw_payload = models.JSONField(_("payload as received"), default=dict)
    created_at = models.DateTimeField(_("received at"), db_index=True)
    awaiting_confirmation = models.BooleanField(
        _("awaiting confirmation"),
        default=False,
        db_default=False,
        help_text=_(
            "A direct booking not confirmed yet by the person: nobody is notified of the lead "
            "and its contact clock has not started."
        ),
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"],
                condition=Q(external_id__isnull=False),
                name="lead_external_id_unique_per_partner",
            ),
            # A partner may only pass on data with the person's consent to third-party provision.
            models.CheckConstraint(
                condition=Q(partner__isnull=True) | Q(consent_third_party_provision=True),
                name="lead_partner_requires_provision_consent",
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False), name="lead_has_a_contact"
            ),
        ]
        indexes = [
            # The partner read API lists a partner's leads newest first.
            models.Index(fields=["partner", "-created_at"], name="lead_partner_created_idx"),
        ]

    def __str__(self) -> str:
        return str(self.id)


# The person's items a sign-up carries (what a partner provides about them): the third-party
# provision record lists them, the privacy export shows them, the admin displays them.
LEAD_SIGN_UP_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "email",
    "phone",
    "birth_date",
    "prefecture",
    "current_occupation",
    "desired_roles",
    "certifications",
    "message",
)
