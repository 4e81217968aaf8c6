"""Partners, their API keys, and the leads they sent (records of what was received)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_mixins import ReadOnlyAdminMixin
from leads.admin.payouts import PayoutRuleInline, partner_licence_check
from leads.models import LEAD_SIGN_UP_FIELDS, ApiKey, Lead, Partner
from leads.partners.keys import (
    api_key_issue,
    api_key_revoke,
    api_key_rotate,
    signing_secret_generate,
    signing_secret_remove,
)
from leads.privacy.provision import provision_csv

SECRET_SHOWN_ONCE = _("Signing secret for {}: <code>{}</code> — copy it now, it will not be shown again.")


class ApiKeyInline(admin.TabularInline[ApiKey, Partner]):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are issued by the actions, which show the key once


class PartnerForm(forms.ModelForm[Partner]):
    class Meta:
        model = Partner
        fields = ("slug", "name", "is_active", "rate_limit_per_minute", "placement_licence_number")

    def clean_placement_licence_number(self) -> str:
        value = str(self.cleaned_data.get("placement_licence_number", "")).strip()
        partner_licence_check(partner=self.instance, licence_number=value)
        return value


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin[Partner]):
    list_display = (
        "name",
        "slug",
        "is_active",
        "rate_limit_per_minute",
        "signed",
        "active_keys",
        "lead_count",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    inlines = (ApiKeyInline, PayoutRuleInline)
    form = PartnerForm
    # The signing secret is never shown again after it is generated (advisors can view
    # partners); managers generate or remove it with the actions below.
    exclude = ("signing_secret",)
    readonly_fields = ("signed",)
    actions = ("issue_key", "rotate_keys", "generate_signing_secret", "remove_signing_secret")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Partner]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_key_count=Count(
                    "api_keys", filter=Q(api_keys__revoked_at__isnull=True), distinct=True
                ),
                lead_total=Count("leads", distinct=True),
            )
        )

    @admin.display(description=_("active keys"), ordering="active_key_count")
    def active_keys(self, partner: Any) -> int:
        return int(partner.active_key_count)

    @admin.display(description=_("leads"), ordering="lead_total")
    def lead_count(self, partner: Any) -> int:
        return int(partner.lead_total)

    @admin.display(description=_("signed requests"), boolean=True)
    def signed(self, partner: Partner) -> bool:
        return bool(partner.signing_secret)

    def _show_key(self, request: HttpRequest, partner: Partner, raw_key: str) -> None:
        self.message_user(
            request,
            format_html(
                str(_("New API key for {}: <code>{}</code> — copy it now, it will not be shown again.")),
                partner.name,
                raw_key,
            ),
            level=messages.WARNING,
        )

    @admin.action(description=_("Issue an additional API key"), permissions=["change"])
    def issue_key(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            _, raw_key = api_key_issue(partner=partner)
            self._show_key(request, partner, raw_key)

    @admin.action(
        description=_("Rotate API key (issue a new one, revoke the others)"), permissions=["change"]
    )
    def rotate_keys(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            _, raw_key = api_key_rotate(partner=partner)
            self._show_key(request, partner, raw_key)

    @admin.action(description=_("Generate a new signing secret (shown once)"), permissions=["change"])
    def generate_signing_secret(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            secret = signing_secret_generate(partner=partner)
            self.message_user(
                request,
                format_html(
                    str(
                        _("Signing secret for {}: <code>{}</code> — copy it now, it will not be shown again.")
                    ),
                    partner.name,
                    secret,
                ),
                level=messages.WARNING,
            )

    @admin.action(description=_("Stop requiring signed requests"), permissions=["change"])
    def remove_signing_secret(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            signing_secret_remove(partner=partner)
        message = _("Signed requests are no longer required for %(count)d partner(s).")
        self.message_user(request, message % {"count": len(queryset)})


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ("prefix", "partner", "created_at", "last_used_at", "revoked_at")
    list_filter = ("partner", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("partner",)
    readonly_fields = ("partner", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, _("Revoked %(count)d key(s).") % {"count": len(queryset)})


LEAD_FIELDS = (
    "id",
    "partner",
    "candidate",
    "external_id",
    "created_at",
    "existing_candidate",
    *LEAD_SIGN_UP_FIELDS,
    "consent_policy_version",
    "consent_agreed_at",
    "consent_third_party_provision",
    "source_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "raw_payload",
)


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Lead]):
    list_display = ("created_at", "partner", "candidate", "external_id", "existing_candidate", "credited")
    list_filter = ("partner", "created_at", "existing_candidate")
    list_select_related = ("partner", "candidate")
    search_fields = ("external_id", "email", "phone", "family_name", "given_name")
    date_hierarchy = "created_at"
    fields = LEAD_FIELDS
    readonly_fields = LEAD_FIELDS
    actions = ("export_provision_records",)

    @admin.display(description=_("credited"), boolean=True)
    def credited(self, lead: Lead) -> bool:
        return lead.candidate.credited_lead_id == lead.pk

    @admin.action(description=_("Export third-party provision records (CSV)"), permissions=["view"])
    def export_provision_records(
        self, request: HttpRequest, queryset: QuerySet[Lead]
    ) -> StreamingHttpResponse:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(provision_csv(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="provision-records-{stamp}.csv"'
        return response
