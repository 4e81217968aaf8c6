"""Reads of the advisors' workspace: who may edit what, the candidate list's annotations and
filters, possible duplicates, and the "my day" task list."""

import contextlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from core.business_time import BUSINESS_TZ
from core.normalize import NormalizationError, kana_to_katakana, normalize_phone
from leads.models import Candidate, FollowUpTask, Lead, Partner
from roles.models import Role

# --- who may do what --------------------------------------------------------------------


def candidate_editable_by(*, candidate: Candidate, user: User, is_manager: bool) -> bool:
    return is_manager or candidate.advisor_id == user.pk


# --- the candidate list -------------------------------------------------------------------


def candidate_search(*, queryset: QuerySet[Candidate], term: str) -> QuerySet[Candidate]:
    """Search as advisors type, for the admin list and the advisor API alike. Every word must
    match a name (kanji, any width), a reading (hiragana or katakana, stored as katakana),
    the email or digits of the phone (anywhere, or its start as dialled at home: 090-12);
    a whole phone number in any usual form (stored as E.164) finds that number only."""
    words = term.split()
    if not words:
        return queryset
    with contextlib.suppress(NormalizationError):  # a whole phone number: that number only
        return queryset.filter(phone=normalize_phone(term))
    match = Q()
    for word in words:
        text = unicodedata.normalize("NFKC", word)  # names are stored NFKC
        kana = kana_to_katakana(word)
        # Readings (katakana) have no case and emails are stored lower-case: a plain LIKE,
        # cheaper than ILIKE and served by the trigram indexes of migration 0013. Names may
        # hold latin letters, so they are matched in any case.
        word_match = (
            Q(family_name__icontains=text)
            | Q(given_name__icontains=text)
            | Q(family_name_kana__contains=kana)
            | Q(given_name_kana__contains=kana)
            | Q(email__contains=text.lower())
        )
        digits = text.replace("-", "")
        if digits.isdigit() and len(digits) >= 3:  # part of a number, e.g. its last four digits
            word_match |= Q(phone__contains=digits)
            if digits.startswith("0"):  # its start as dialled at home: 090-12 is +8190 12...
                word_match |= Q(phone__startswith="+81" + digits[1:])
        match &= word_match
    return queryset.filter(match)


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


# What the list asks of consultations, registered by that app (ConsultationsConfig.ready):
# consultations depends on leads, never the other way round. Without it the filter is not
# offered.
UpcomingConsultation = Callable[[datetime], Exists]
_upcoming_consultation: list[UpcomingConsultation] = []


def upcoming_consultation_register(*, condition: UpcomingConsultation) -> None:
    """`condition(now)`: an Exists over the candidate (OuterRef("pk")) with a consultation
    booked at or after now."""
    _upcoming_consultation[:] = [condition]


def bookings_available() -> bool:
    return bool(_upcoming_consultation)


def candidates_with_upcoming_consultation(
    *, queryset: QuerySet[Candidate], now: datetime
) -> QuerySet[Candidate]:
    if not _upcoming_consultation:
        return queryset
    return queryset.filter(_upcoming_consultation[0](now))


def candidate_list_filtered(
    *,
    user: User,
    now: datetime,
    q: str = "",
    stage: str | None = None,
    closed: bool | None = None,
    advisor: str | None = None,
    partner: int | None = None,
    role: str | None = None,
    prefecture: str | None = None,
    overdue: bool | None = None,
    consultation: bool | None = None,
) -> QuerySet[Candidate]:
    """The candidate list with the admin list's filters and search, for the advisor API:
    the list's columns as subqueries, the advisor and credited partner joined; one query
    per page. `advisor` is "me", "none" or an id; no value means everyone."""
    candidates = candidate_list_annotate(
        Candidate.objects.select_related("advisor", "credited_lead__partner")
    )
    if q:
        candidates = candidate_search(queryset=candidates, term=q)
    if stage:
        candidates = candidates.filter(stage=stage)
    if closed is not None:
        candidates = candidates.filter(is_closed=closed)
    if advisor == "me":
        candidates = candidates.filter(advisor=user)
    elif advisor == "none":
        candidates = candidates.filter(advisor__isnull=True)
    elif advisor:
        candidates = candidates.filter(advisor_id=int(advisor))
    if partner is not None:
        candidates = candidates_with_partner(queryset=candidates, partner_id=partner)
    if role:
        candidates = candidates_wanting_role(queryset=candidates, slug=role)
    if prefecture:
        candidates = candidates.filter(prefecture=prefecture)
    if overdue:
        candidates = candidates_with_overdue_followup(queryset=candidates, now=now)
    if consultation:
        candidates = candidates_with_upcoming_consultation(queryset=candidates, now=now)
    return candidates


def candidate_detail_get(*, candidate_id: Any) -> Candidate | None:
    """One candidate with the list's columns and the profile's parts (three queries)."""
    return (
        candidate_list_annotate(Candidate.objects.select_related("advisor", "credited_lead__partner"))
        .prefetch_related("work_history", "certification_records__certification")
        .filter(pk=candidate_id)
        .first()
    )


@dataclass(frozen=True)
class ChoiceLists:
    staff: list[tuple[str, str]]
    partners: list[tuple[str, str]]
    roles: list[tuple[str, str]]


def workspace_choice_lists() -> ChoiceLists:
    """The advisors, partners and roles offered by the list's filters and action form: three
    small queries, run once per request (leads.admin.common.choice_lists). A UNION saved two
    round trips but broke the list on SQLite (an ORDER BY inside a compound statement)."""
    # Sorted here, not in SQL: PostgreSQL's and SQLite's collations order names differently.
    staff = User.objects.filter(is_staff=True, is_active=True).values_list("pk", "display_name")
    partners = Partner.objects.values_list("pk", "slug")
    roles = Role.objects.filter(is_active=True).values_list("slug", "name_ja")  # the catalogue's order
    return ChoiceLists(
        staff=sorted(((str(pk), name) for pk, name in staff), key=lambda row: row[1]),
        partners=sorted(((str(pk), slug) for pk, slug in partners), key=lambda row: row[1]),
        roles=list(roles),
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
