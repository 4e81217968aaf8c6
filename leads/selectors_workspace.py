"""Reads of the advisors' workspace: who may edit what, the candidate list's annotations and
filters, possible duplicates, and the "my day" task list."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import CharField, DateTimeField, Exists, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce

from accounts.models import Groups, User
from core.business_time import BUSINESS_TZ
from leads.models import Candidate, FollowUpTask, Lead, Partner
from roles.models import Role

# --- who may do what --------------------------------------------------------------------


def staff_is_manager(*, user: User) -> bool:
    """Managers (and superusers) change every candidate; advisors only their own."""
    if user.is_superuser:
        return True
    return user.groups.filter(name=Groups.MANAGERS).exists()


def candidate_editable_by(*, candidate: Candidate, user: User, is_manager: bool) -> bool:
    return is_manager or candidate.advisor_id == user.pk


# --- the candidate list -------------------------------------------------------------------


def followup_effective_due() -> Coalesce:
    """When an open task next asks for attention: its snooze time if snoozed (always after
    the due time, by constraint), else its due time."""
    return Coalesce("snoozed_until", "due_at", output_field=DateTimeField())


def candidate_list_annotate(queryset: QuerySet[Candidate]) -> QuerySet[Candidate]:
    """The list's computed columns as subqueries of the one page query: nothing per row."""
    next_task = (
        FollowUpTask.objects.filter(candidate=OuterRef("pk"), done_at__isnull=True)
        .annotate(effective=followup_effective_due())
        .order_by("effective")
        .values("effective")[:1]
    )
    return queryset.annotate(
        next_followup_at=Subquery(next_task, output_field=DateTimeField()),
        possible_duplicate=Exists(duplicates_of()),
    )


def duplicates_of() -> QuerySet[Candidate]:
    """Other candidates with the same reading and birth date as OuterRef: two records of
    one person who signed up with different contacts (same contacts would be one candidate)."""
    return Candidate.objects.filter(
        family_name_kana=OuterRef("family_name_kana"),
        given_name_kana=OuterRef("given_name_kana"),
        birth_date=OuterRef("birth_date"),
        family_name_kana__gt="",
        given_name_kana__gt="",
        birth_date__isnull=False,
    ).exclude(pk=OuterRef("pk"))


def candidate_possible_duplicates(*, candidate: Candidate) -> QuerySet[Candidate]:
    if not (candidate.family_name_kana and candidate.given_name_kana and candidate.birth_date):
        return Candidate.objects.none()
    return Candidate.objects.filter(
        family_name_kana=candidate.family_name_kana,
        given_name_kana=candidate.given_name_kana,
        birth_date=candidate.birth_date,
    ).exclude(pk=candidate.pk)


def candidates_with_partner(*, queryset: QuerySet[Candidate], partner_id: int) -> QuerySet[Candidate]:
    # A subquery, not a join: a candidate with two leads from the partner is listed once.
    return queryset.filter(pk__in=Lead.objects.filter(partner_id=partner_id).values("candidate_id"))


def candidates_wanting_role(*, queryset: QuerySet[Candidate], slug: str) -> QuerySet[Candidate]:
    if connection.features.supports_json_field_contains:
        return queryset.filter(desired_roles__contains=[slug])  # PostgreSQL: jsonb @>
    # SQLite has no JSON containment: match the quoted slug in the stored JSON text. Slugs
    # are [a-z_], so '"hr"' cannot match inside another slug.
    return queryset.filter(desired_roles__icontains=f'"{slug}"')


def candidates_with_overdue_followup(*, queryset: QuerySet[Candidate], now: datetime) -> QuerySet[Candidate]:
    overdue = (
        FollowUpTask.objects.filter(candidate=OuterRef("pk"), done_at__isnull=True)
        .annotate(effective=followup_effective_due())
        .filter(effective__lt=now)
    )
    return queryset.filter(Exists(overdue))


def bookings_available() -> bool:
    return apps.is_installed("consultations") and _booking_model() is not None


def _booking_model() -> type[Model] | None:
    try:
        return apps.get_model("consultations", "Booking")
    except LookupError:
        return None


def candidates_with_upcoming_consultation(
    *, queryset: QuerySet[Candidate], now: datetime
) -> QuerySet[Candidate]:
    # Resolved by name: consultations depends on leads, never the other way round.
    booking = _booking_model()
    if booking is None:
        return queryset
    upcoming = booking._default_manager.filter(candidate=OuterRef("pk"), status="booked", start_at__gte=now)
    return queryset.filter(Exists(upcoming))


@dataclass(frozen=True)
class ChoiceLists:
    staff: list[tuple[str, str]]
    partners: list[tuple[str, str]]
    roles: list[tuple[str, str]]


def workspace_choice_lists() -> ChoiceLists:
    """The advisors, partners and roles offered by the list's filters and action form, in
    ONE query (a UNION): the list page's query budget is pinned, and three small lookups
    would otherwise cost three round trips on every page view."""

    def rows(queryset: QuerySet[Any], kind: str, key: str, label: str) -> QuerySet[Any]:
        annotated: QuerySet[Any] = queryset.annotate(
            choice_kind=Value(kind, output_field=CharField()),
            choice_key=Cast(key, output_field=CharField()),
            choice_label=Cast(label, output_field=CharField()),
        )
        return annotated.values_list("choice_kind", "choice_key", "choice_label")

    staff = rows(User.objects.filter(is_staff=True, is_active=True), "staff", "pk", "display_name")
    partners = rows(Partner.objects.all(), "partner", "pk", "slug")
    roles = rows(Role.objects.filter(is_active=True), "role", "slug", "name_ja")
    lists: dict[str, list[tuple[str, str]]] = {"staff": [], "partner": [], "role": []}
    for kind, key, label in staff.union(partners, roles, all=True):
        lists[kind].append((key, label))
    return ChoiceLists(
        staff=sorted(lists["staff"], key=lambda row: row[1]),
        partners=sorted(lists["partner"], key=lambda row: row[1]),
        roles=lists["role"],
    )


# --- follow-up tasks ---------------------------------------------------------------------


def _start_of_day_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=BUSINESS_TZ)


def followup_tasks_my_day(
    *, advisor: User, now: datetime, queryset: QuerySet[FollowUpTask] | None = None
) -> QuerySet[FollowUpTask]:
    """The advisor's open tasks due today (JST) or overdue and not snoozed past now, the
    most urgent first."""
    tomorrow = _start_of_day_after(now.astimezone(BUSINESS_TZ).date())
    base = FollowUpTask.objects.all() if queryset is None else queryset
    return (
        base.filter(advisor=advisor, done_at__isnull=True, due_at__lt=tomorrow)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now))
        .order_by(followup_effective_due().asc(), "pk")
    )


def age_on(*, birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
