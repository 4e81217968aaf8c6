"""Disclosure and erasure requests (APPI) from the candidate list, for managers only, and
the read-only list of erasure records. The candidate admin adds PRIVACY_ACTIONS to its
actions; the work is done by leads.services.privacy, as with privacy_export/privacy_erase."""

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.business_time import BUSINESS_TZ
from leads.admin.common import is_manager, staff_user
from leads.models import Candidate, ErasureRecord
from leads.services.privacy import person_erase, person_export

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
    body = json.dumps(person_export(candidate=candidate), ensure_ascii=False, indent=2)
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
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)
    record = person_erase(candidate=candidate, requested_by=requested_by, by=staff_user(request))
    counts = ", ".join(f"{name}={count}" for name, count in record.counts.items())
    modeladmin.message_user(request, _("Personal data erased (%(counts)s).") % {"counts": counts})
    return None


PRIVACY_ACTIONS = (export_personal_data, erase_personal_data)


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin[ErasureRecord]):
    """Append-only: written by the erasure service, read by managers."""

    list_display = ("erased_at", "candidate_id", "erased_by", "requested_by")
    list_select_related = ("erased_by",)
    search_fields = ("=candidate_id", "requested_by")
    readonly_fields = ("candidate_id", "erased_at", "erased_by", "requested_by", "counts")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ErasureRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ErasureRecord | None = None) -> bool:
        return False
