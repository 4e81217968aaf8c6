"""Request-scoped helpers shared by the workspace screens: each is computed once per request,
because the list page's query budget is pinned by tests."""

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin
from django.db.models import ForeignKey, Model
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.template import engines
from django.template.response import TemplateResponse

from accounts.staff import is_manager, staff_user
from leads.candidates.selectors import (
    ChoiceLists,
    candidate_editable_by,
    workspace_choice_lists,
)
from leads.models import Candidate

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


def choice_lists(request: HttpRequest) -> ChoiceLists:
    cached: ChoiceLists | None = getattr(request, "_workspace_choices", None)
    if cached is None:
        cached = workspace_choice_lists()
        request._workspace_choices = cached  # type: ignore[attr-defined]
    return cached


def may_edit(request: HttpRequest, candidate: Candidate) -> bool:
    return candidate_editable_by(
        candidate=candidate, user=staff_user(request), is_manager=is_manager(request)
    )


class CachedForeignKeyChoicesMixin:
    """Renders a foreign key's <select> from one query per request instead of one per
    inline row (each row's field is a copy that would iterate its queryset again)."""

    cached_choice_fields: tuple[str, ...] = ()

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None and db_field.name in self.cached_choice_fields:
            cache: dict[str, list[tuple[Any, Any]]] = request.__dict__.setdefault("_workspace_fk_choices", {})
            key = f"{db_field.model._meta.label}.{db_field.name}"
            if key not in cache:
                cache[key] = [(getattr(value, "value", value), label) for value, label in field.choices]
            field.choices = cache[key]
        return cast(ModelChoiceField[Any] | None, field)


class CandidatePartInline(CachedForeignKeyChoicesMixin, admin.TabularInline[Any, Candidate]):
    """A part of a candidate's record: editable only by whoever may edit the candidate."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and (obj is None or may_edit(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or may_edit(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or may_edit(request, obj))


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    """Another part's rows shown on a page, never edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Inlines other parts add to the candidate page (placements: applications and reveals), in
# registration order after the candidate's own; registered when their admin module is
# imported (leads/admin/__init__.py imports them all), so the candidate admin imports none.
CANDIDATE_PAGE_INLINES: list[type[admin.options.InlineModelAdmin[Any, Any]]] = []


def candidate_page_inline_register(inline: type[Any]) -> type[Any]:
    """Add an inline to the candidate page (used as a class decorator)."""
    CANDIDATE_PAGE_INLINES.append(inline)
    return inline


# The page of an action that asks for a value first (a correction's amount, a replay's
# start): small, shared, one template string rather than files.
ACTION_FORM_TEMPLATE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block content %}
<p>{{ summary }}</p>
<form method="post">{% csrf_token %}
<input type="hidden" name="action" value="{{ action }}">
{% for pk in selected %}<input type="hidden" name="_selected_action" value="{{ pk }}">
{% endfor %}{{ form.as_p }}
<input type="submit" value="{{ submit }}">
</form>
{% endblock %}"""
)


def action_form_page(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    action: str,
    selected: list[Model],
    form: forms.Form,
    title: "StrOrPromise",
    summary: "StrOrPromise",
    submit: "StrOrPromise",
) -> TemplateResponse:
    """The action's form for the chosen rows: 200 when first shown, 400 when refused."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "summary": summary,
        "action": action,
        "selected": [obj.pk for obj in selected],
        "form": form,
        "submit": submit,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, ACTION_FORM_TEMPLATE, context, status=400 if form.is_bound else 200)
