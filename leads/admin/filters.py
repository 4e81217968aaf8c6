"""Filters of the candidate list. None of them runs a query of its own: choice lists come
from one shared query (common.choice_lists) or from code."""

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Exists, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.staff import is_manager, staff_user
from core.prefectures import PREFECTURE_CHOICES
from leads.admin.common import choice_lists
from leads.candidates.selectors import (
    bookings_available,
    candidates_wanting_role,
    candidates_with_overdue_followup,
    candidates_with_partner,
    candidates_with_upcoming_consultation,
    duplicates_of,
)
from leads.models import Candidate

YES = "yes"


class AdvisorFilter(admin.SimpleListFilter):
    """By advisor. Advisors land on their own candidates ("mine" is their default); "All"
    then needs an explicit value, since no value means the default."""

    title = _("advisor")
    parameter_name = "advisor"
    MINE, UNASSIGNED, EVERYONE = "mine", "none", "all"

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any) -> None:
        self.defaults_to_mine = not is_manager(request)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (self.MINE, _("My candidates")),
            (self.UNASSIGNED, _("Unassigned")),
            *choice_lists(request).staff,
        ]

    def value(self) -> str | None:
        value = super().value()
        if value is None and self.defaults_to_mine:
            return self.MINE
        return value

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        everyone = (
            changelist.get_query_string({self.parameter_name: self.EVERYONE})
            if self.defaults_to_mine
            else changelist.get_query_string(remove=[self.parameter_name])
        )
        yield {
            "selected": self.value() in (None, self.EVERYONE),
            "query_string": everyone,
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        value = self.value()
        if value == self.MINE:
            return queryset.filter(advisor=staff_user(request))
        if value == self.UNASSIGNED:
            return queryset.filter(advisor__isnull=True)
        if value and value.isdigit():
            return queryset.filter(advisor_id=int(value))
        return queryset


class PartnerFilter(admin.SimpleListFilter):
    """Candidates with a lead from the partner (any lead, not only the credited one).
    Partners are shown by slug: unique, stable, and what partners are called internally."""

    title = _("partner")
    parameter_name = "partner"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return choice_lists(request).partners

    def queryset(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        value = self.value()
        if value and value.isdigit():
            return candidates_with_partner(queryset=queryset, partner_id=int(value))
        return queryset


class DesiredRoleFilter(admin.SimpleListFilter):
    title = _("desired role")
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return choice_lists(request).roles

    def queryset(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        value = self.value()
        if value in {slug for slug, _label in self.lookup_choices}:
            return candidates_wanting_role(queryset=queryset, slug=str(value))
        return queryset


class PrefectureFilter(admin.SimpleListFilter):
    title = _("prefecture")
    parameter_name = "prefecture"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(PREFECTURE_CHOICES)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        value = self.value()
        return queryset.filter(prefecture=value) if value else queryset


class _YesFilter(admin.SimpleListFilter):
    label: Any = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(YES, self.label)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        return self.apply(queryset) if self.value() == YES else queryset

    def apply(self, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        raise NotImplementedError


class OverdueFollowupFilter(_YesFilter):
    title = _("follow-up")
    parameter_name = "overdue"
    label = _("Overdue")

    def apply(self, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        return candidates_with_overdue_followup(queryset=queryset, now=timezone.now())


class UpcomingConsultationFilter(_YesFilter):
    title = _("consultation")
    parameter_name = "consultation"
    label = _("Upcoming consultation")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return super().lookups(request, model_admin) if bookings_available() else []

    def apply(self, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        return candidates_with_upcoming_consultation(queryset=queryset, now=timezone.now())


class PossibleDuplicateFilter(_YesFilter):
    title = _("duplicates")
    parameter_name = "duplicate"
    label = _("Possible duplicate")

    def apply(self, queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
        return queryset.filter(Exists(duplicates_of()))
