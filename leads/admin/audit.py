"""The audit log in the admin: the candidate page's hooks (`AuditedCandidateAdmin`, a mixin
the candidate admin puts first among its bases) and the managers' read-only list of
entries."""

import uuid
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.staff import staff_user
from leads.audit import Action, Channel, audit_record, audit_record_many
from leads.candidates.exports import CANDIDATE_HEADER
from leads.models import AuditEntry, Candidate


def _changed_field_names(form: Any, formsets: Any) -> list[str]:
    """Names, never values: the candidate's own fields, then `<part>.<field>` for the inline
    rows changed and `<part>.added` / `<part>.deleted` for rows added or removed."""
    names = list(form.changed_data)
    for formset in formsets or ():
        part = formset.model._meta.model_name
        if formset.new_objects:
            names.append(f"{part}.added")
        for _obj, fields in formset.changed_objects:
            names += [f"{part}.{field}" for field in fields]
        if formset.deleted_objects:
            names.append(f"{part}.deleted")
    return sorted(set(names))


class AuditedCandidateAdmin(admin.ModelAdmin[Candidate]):
    """Writes the audit log of the candidate admin: a view for each display of the page, a
    change (with the changed field names) for each saved form, an export for each CSV row.
    Also shows, on the page, when consent was withdrawn and (to whoever may read the log)
    a link to this candidate's entries."""

    audit_fieldset_fields = ("consent_withdrawn_at", "audit_log")

    # changeform_view, not change_view: the URL patterns hold the bound change_view they were
    # built with, while everything it calls is looked up on the instance as it is now.
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().changeform_view(request, object_id, form_url, extra_context)
        # Only a page that was shown: an unknown id redirects, a refused one raises.
        if object_id is not None and request.method == "GET" and response.status_code == 200:
            try:
                candidate_id = uuid.UUID(unquote(object_id))
            except ValueError:
                return response
            audit_record(
                candidate_id=candidate_id, action=Action.VIEW, by=staff_user(request), channel=Channel.ADMIN
            )
        return response

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        # Called once the form and its inlines are saved, inside the page's transaction.
        request._audit_changed_fields = _changed_field_names(form, formsets)  # type: ignore[attr-defined]
        return super().construct_change_message(request, form, formsets, add)

    def log_change(self, request: HttpRequest, obj: Candidate, message: Any) -> Any:
        fields: list[str] = getattr(request, "_audit_changed_fields", [])
        if fields:
            audit_record(
                candidate_id=obj.pk,
                action=Action.CHANGE,
                by=staff_user(request),
                channel=Channel.ADMIN,
                fields=fields,
            )
        return super().log_change(request, obj, message)

    def get_action(self, action: Any) -> Any:
        found = super().get_action(action)
        if found is None or found[1] != "export_csv":
            return found
        func, name, description = found

        def audited_export(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Candidate]) -> Any:
            response = func(modeladmin, request, queryset)
            # The rows the CSV will stream: the same queryset, ids only (one query).
            audit_record_many(
                candidate_ids=queryset.values_list("pk", flat=True),
                action=Action.EXPORT,
                by=staff_user(request),
                channel=Channel.ADMIN_CSV,
                fields=CANDIDATE_HEADER,
            )
            return response

        # The permissions and description stay the wrapped action's.
        audited_export.__dict__.update(func.__dict__)
        return audited_export, name, description

    # --- the page ---------------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Candidate | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fields: tuple[str, ...] = self.audit_fieldset_fields
            if not request.user.has_perm("leads.view_auditentry"):
                fields = tuple(name for name in fields if name != "audit_log")  # it would be a 403
            fieldsets.append((_("Privacy"), {"fields": fields}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Candidate | None = None) -> Any:
        return (*super().get_readonly_fields(request, obj), *self.audit_fieldset_fields)

    @admin.display(description=_("audit log"))
    def audit_log(self, candidate: Candidate) -> str:
        if candidate.pk is None:
            return "-"
        url = (
            reverse("admin:leads_auditentry_changelist")
            + "?"
            + urlencode({"candidate_id": str(candidate.pk)})
        )
        return format_html('<a href="{}">{}</a>', url, _("audit log for this candidate"))


class ChannelFilter(admin.SimpleListFilter):
    """The channels are a fixed vocabulary: listed from code, not by a DISTINCT over the
    whole (ever-growing) log."""

    title = _("through")
    parameter_name = "channel"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(channel.value, channel.value) for channel in Channel]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(channel=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Read-only for managers (the only group with `view_auditentry`); nobody adds, changes
    or deletes, and on PostgreSQL the table itself refuses it."""

    list_display = ("at", "candidate", "action", "actor", "channel", "field_names")
    list_filter = ("action", ChannelFilter)
    list_select_related = ("actor",)
    search_fields = ("=candidate_id",)
    search_help_text = _("A candidate id (the full UUID).")
    readonly_fields = ("at", "candidate_id", "action", "actor", "channel", "fields")
    show_full_result_count = False  # no second COUNT over the whole log

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The candidate page links here with ?candidate_id=<uuid>.
        return lookup == "candidate_id" or super().lookup_allowed(lookup, value, request)  # type: ignore[arg-type]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEntry], search_term: str
    ) -> tuple[QuerySet[AuditEntry], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            candidate_id = uuid.UUID(term)
        except ValueError:
            return queryset.none(), False  # not an id: nothing matches (and no 500)
        return queryset.filter(candidate_id=candidate_id), False

    @admin.display(description=_("candidate"), ordering="candidate_id")
    def candidate(self, entry: AuditEntry) -> str:
        url = reverse("admin:leads_candidate_change", args=[entry.candidate_id])
        return format_html('<a href="{}">{}</a>', url, entry.candidate_id)

    @admin.display(description=_("fields"))
    def field_names(self, entry: AuditEntry) -> str:
        return ", ".join(entry.fields) if entry.fields else "-"
