"""Disclosure and erasure requests (APPI) from the candidate list, for managers only; consent
withdrawal (advisors on their own candidates, managers on all); the read-only list of
erasure records with the retention dry run. The candidate admin adds PRIVACY_ACTIONS to its
actions; the work is done by leads.privacy (records, consent, retention), as with the
privacy_* commands."""

import json
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.staff import is_manager, staff_user
from core.business_time import BUSINESS_TZ
from leads.admin.audit import AuditEntryAdmin  # noqa: F401 - registers the audit log's list
from leads.admin.common import may_edit
from leads.audit import Action, Channel, audit_record
from leads.models import Candidate, ErasureRecord
from leads.privacy.consent import candidate_withdraw_consent
from leads.privacy.disclosure import person_export
from leads.privacy.records import person_erase
from leads.privacy.retention import retention_cutoff, retention_report

# A page of its own would be one more template file; this one is small and only used here.
CONFIRM_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}{% load i18n %}
{% block content %}
<p class="errornote">{% blocktranslate trimmed %}
The personal data of {{ name }} will be erased for good: names, contacts, birth date,
messages, payloads as received, timeline notes, work history, follow-up titles and the
other apps' records. The anonymous rows stay so that partners' counts are right.
This cannot be undone.
{% endblocktranslate %}</p>
<form method="post">{% csrf_token %}
<input type="hidden" name="action" value="erase_personal_data">
<input type="hidden" name="_selected_action" value="{{ pk }}">
<input type="hidden" name="confirm" value="yes">
<p><label for="id_requested_by">{% translate "On whose request (who, how, when)" %}</label><br>
<input type="text" name="requested_by" id="id_requested_by" size="60" maxlength="500" required
 value="{{ requested_by }}"></p>
<p><label><input type="checkbox" name="invalid" value="yes"{% if invalid %} checked{% endif %}>
{% blocktranslate trimmed %}The lead was invalid (fake or test data): a partner paid for it within
the last 30 days is charged back{% endblocktranslate %}</label></p>
<input type="submit" class="deletelink" value="{% translate "Erase personal data" %}">
</form>
{% endblock %}"""
)


def _one_for_manager(
    modeladmin: admin.ModelAdmin[Candidate], request: HttpRequest, queryset: QuerySet[Candidate]
) -> Candidate | None:
    if not is_manager(request):
        modeladmin.message_user(request, _("Only managers may do this."), level=messages.ERROR)
        return None
    chosen = list(queryset.select_related(None)[:2])
    if len(chosen) != 1:
        # A request is one person's: one candidate at a time, so no one is erased by mistake.
        modeladmin.message_user(request, _("Select exactly one candidate."), level=messages.ERROR)
        return None
    return chosen[0]


@admin.action(description=_("Export personal data (JSON)"), permissions=["delete"])
def export_personal_data(
    modeladmin: admin.ModelAdmin[Candidate], request: HttpRequest, queryset: QuerySet[Candidate]
) -> HttpResponse | None:
    candidate = _one_for_manager(modeladmin, request, queryset)
    if candidate is None:
        return None
    exported = person_export(candidate=candidate)
    audit_record(
        candidate_id=candidate.pk,
        action=Action.EXPORT,
        by=staff_user(request),
        channel=Channel.ADMIN,
        fields=sorted(exported),
    )
    body = json.dumps(exported, ensure_ascii=False, indent=2)
    stamp = timezone.localtime(timezone=BUSINESS_TZ).strftime("%Y%m%d-%H%M")
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="personal-data-{candidate.pk}-{stamp}.json"'
    return response


@admin.action(description=_("Erase personal data"), permissions=["delete"])
def erase_personal_data(
    modeladmin: admin.ModelAdmin[Candidate], request: HttpRequest, queryset: QuerySet[Candidate]
) -> TemplateResponse | None:
    candidate = _one_for_manager(modeladmin, request, queryset)
    if candidate is None:
        return None
    requested_by = request.POST.get("requested_by", "").strip()[:500]
    if request.POST.get("confirm") != "yes" or not requested_by:
        context: dict[str, Any] = {
            **modeladmin.admin_site.each_context(request),
            "title": _("Erase personal data"),
            "name": str(candidate),
            "pk": candidate.pk,
            "requested_by": requested_by,
            "invalid": request.POST.get("invalid") == "yes",
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)
    kind = ErasureRecord.Kind.INVALID if request.POST.get("invalid") == "yes" else ErasureRecord.Kind.REQUEST
    record = person_erase(candidate=candidate, requested_by=requested_by, by=staff_user(request), kind=kind)
    counts = ", ".join(f"{name}={count}" for name, count in record.counts.items())
    modeladmin.message_user(request, _("Personal data erased (%(counts)s).") % {"counts": counts})
    return None


@admin.action(description=_("Withdraw consent (no more messages, close)"), permissions=["change"])
def withdraw_consent(
    modeladmin: admin.ModelAdmin[Candidate], request: HttpRequest, queryset: QuerySet[Candidate]
) -> None:
    """Advisors on their own candidates, managers on all; the others are refused by name."""
    done, refused = 0, []
    for candidate in queryset.select_related(None).only("pk", "family_name", "given_name", "advisor_id"):
        if not may_edit(request, candidate):
            refused.append(str(candidate))
            continue
        candidate_withdraw_consent(candidate_id=candidate.pk, by=staff_user(request), channel=Channel.ADMIN)
        done += 1
    if done:
        modeladmin.message_user(
            request,
            _(
                "Consent withdrawn for %(count)d candidate(s): closed, their messages and future "
                "consultations cancelled."
            )
            % {"count": done},
        )
    if refused:
        modeladmin.message_user(
            request,
            _("Not changed, they are another advisor's candidates: %(names)s")
            % {"names": ", ".join(refused)},
            level=messages.ERROR,
        )


PRIVACY_ACTIONS = (export_personal_data, erase_personal_data, withdraw_consent)


RETENTION_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}{% load i18n %}
{% block content %}
<p>{% blocktranslate trimmed with days=period_days cutoff=cutoff|date:"Y-m-d H:i" %}
Candidates closed, or never reached, before {{ cutoff }} (RETENTION_PERIOD: {{ days }} days)
and with no lead or contact since. The daily retention task anonymises them; nothing has
been changed yet.
{% endblocktranslate %}</p>
<p>{% blocktranslate trimmed count counter=due|length %}
{{ counter }} candidate would be anonymised.
{% plural %}
{{ counter }} candidates would be anonymised.
{% endblocktranslate %}</p>
{% if due %}<table id="retention-due">
<thead><tr><th>{% translate "candidate id" %}</th><th>{% translate "why" %}</th>
<th>{% translate "since" %}</th></tr></thead>
<tbody>{% for row in due %}<tr>
<td><a href="{% url "admin:leads_candidate_change" row.id %}">{{ row.id }}</a></td>
<td>{% if row.why == "closed" %}{% translate "closed" %}{% else %}{% translate "never reached" %}{% endif %}
</td><td>{{ row.since|date:"Y-m-d" }}</td></tr>{% endfor %}</tbody></table>{% endif %}
{% endblock %}"""
)


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin[ErasureRecord]):
    """Append-only: written by the erasure service, read by managers."""

    list_display = ("erased_at", "candidate_id", "kind", "erased_by", "requested_by")
    list_filter = ("kind",)
    list_select_related = ("erased_by",)
    search_fields = ("=candidate_id", "requested_by")
    readonly_fields = ("candidate_id", "erased_at", "kind", "erased_by", "requested_by", "counts")

    def get_urls(self) -> list[URLPattern]:
        retention = path(
            "retention/",
            self.admin_site.admin_view(self.retention_view),
            name="leads_erasurerecord_retention",
        )
        return [retention, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if is_manager(request):
            link = format_html(
                '<a href="{}">{}</a>',
                reverse("admin:leads_erasurerecord_retention"),
                _("Retention: who would be anonymised now (dry run)"),
            )
            extra_context = {**(extra_context or {}), "subtitle": link}
        return super().changelist_view(request, extra_context)

    def retention_view(self, request: HttpRequest) -> TemplateResponse:
        """The dry run of the retention task, for managers: ids and dates only."""
        if not is_manager(request):
            raise PermissionDenied
        now = timezone.now()
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": _("Retention: who would be anonymised now (dry run)"),
            "opts": self.opts,
            "due": retention_report(as_of=now),
            "cutoff": timezone.localtime(retention_cutoff(as_of=now), BUSINESS_TZ),
            "period_days": settings.RETENTION_PERIOD.days,
        }
        return TemplateResponse(request, RETENTION_TEMPLATE, context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ErasureRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ErasureRecord | None = None) -> bool:
        return False
