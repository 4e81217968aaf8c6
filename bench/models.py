import uuid

from django.db import models


class NaiveLead(models.Model):
    """The baseline of bench/lead_intake.py: Lead's columns without its relations (no
    partner, no candidate), written by a plain ModelViewSet. Not part of the product."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 - mirrors Lead
    family_name = models.CharField(max_length=50)
    given_name = models.CharField(max_length=50)
    family_name_kana = models.CharField(max_length=100, blank=True)
    given_name_kana = models.CharField(max_length=100, blank=True)
    email = models.EmailField(null=True, blank=True)  # noqa: DJ001 - mirrors Lead
    phone = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001 - mirrors Lead
    birth_date = models.DateField(null=True, blank=True)
    prefecture = models.CharField(max_length=2, blank=True)
    current_occupation = models.CharField(max_length=20, blank=True)
    desired_roles = models.JSONField(default=list, blank=True)
    certifications = models.JSONField(default=list, blank=True)
    message = models.TextField(max_length=2000, blank=True)
    consent_policy_version = models.CharField(max_length=50)
    consent_agreed_at = models.DateTimeField()
    consent_third_party_provision = models.BooleanField()
    source_url = models.CharField(max_length=500, blank=True)
    utm_source = models.CharField(max_length=500, blank=True)
    utm_medium = models.CharField(max_length=500, blank=True)
    utm_campaign = models.CharField(max_length=500, blank=True)
    raw_payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        app_label = "bench"

    def __str__(self) -> str:
        return str(self.id)
