"""Explainable matching in both directions (issue 5), scored by the database.

Every criterion is a boolean SQL expression in which the other side's attributes are
constants; the score is the weighted sum of those booleans, and PostgreSQL ranks and cuts
the rows (ORDER BY score, LIMIT). Python only turns the booleans of the few returned rows
into sentences a person can read.

Criteria and weights (the same from both sides; the weights say how much a person
usually cares, not a law):

| criterion              | weight | met when                                                        |
| ---------------------- | -----: | --------------------------------------------------------------- |
| role                   |     30 | the posting's role is among the candidate's desired roles       |
| location               |     20 | the posting's prefecture is a desired one (the candidate's own  |
|                        |        | when none is desired), or it is fully remote and remote wished  |
| required_certifications|     20 | the candidate holds every required certification (or none)      |
| experience             |     15 | 未経験歓迎, or the candidate has desk experience anyway          |
| salary                 |     15 | salary_max >= the candidate's minimum wish (no wish: met)       |
| weekends               |     10 | weekends and holidays off, or not wished                        |
| overtime               |     10 | average overtime within the tolerance (not discussed: met;      |
|                        |        | a posting without a figure does not meet a stated tolerance)   |
| preferred_certifications| 5 each| one per preferred certification held                            |
| experience_preferred   |    -10 | 経験者優遇 and the candidate has no desk experience (a minus)    |

A wish nobody stated (salary, weekends, overtime) is met: no conflict, so it neither lifts
nor sinks anyone. Role and location are not: an unknown wish is no evidence of fit.
"Held" certifications are the candidate's CandidateCertification rows with status held plus
the codes lead intake wrote to Candidate.certifications.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    Expression,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.prefectures import PREFECTURE_CHOICES
from leads.models import Candidate, CandidateCertification, RemoteWish
from roles.models import Certification, JobPosting

WEIGHTS: dict[str, int] = {
    "role": 30,
    "location": 20,
    "required_certifications": 20,
    "experience": 15,
    "salary": 15,
    "weekends": 10,
    "overtime": 10,
}
PREFERRED_CERTIFICATION_WEIGHT = 5
EXPERIENCE_PREFERRED_PENALTY = -10
CRITERIA = (
    "role",
    "location",
    "experience",
    "experience_preferred",
    "required_certifications",
    "preferred_certifications",
    "salary",
    "weekends",
    "overtime",
)

_HELD = CandidateCertification.Status.HELD
_PREFECTURE_NAMES = dict(PREFECTURE_CHOICES)
_RequiredThrough = JobPosting.required_certifications.through
_PreferredThrough = JobPosting.preferred_certifications.through


@dataclass(frozen=True)
class Reason:
    criterion: str
    met: bool
    detail: str


@dataclass(frozen=True)
class PostingMatch:
    rank: int
    score: int
    posting: JobPosting
    reasons: list[Reason]


@dataclass(frozen=True)
class CandidateMatch:
    rank: int
    score: int
    candidate: Candidate
    reasons: list[Reason]


# --- SQL building blocks ----------------------------------------------------------------


def _any(conditions: list[Q]) -> Q | bool:
    """OR of the conditions; False (a constant) when there is none."""
    return reduce(or_, conditions) if conditions else False


def _all(conditions: list[Q]) -> Q | bool:
    """AND of the conditions; True (a constant) when there is none."""
    return reduce(and_, conditions) if conditions else True


def _flag(condition: Q | bool) -> Expression:
    """A boolean column: a constant when this side already decides it, else the condition."""
    if isinstance(condition, bool):
        return Value(condition, output_field=BooleanField())
    # CASE, not the bare condition: SQL's NULL (a posting without an overtime figure) must
    # read as "not met", never as a third value.
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _points(flag: Expression, weight: int) -> Case:
    return Case(When(flag, then=Value(weight)), default=Value(0), output_field=IntegerField())


def json_list_has(field: str, value: str) -> Q:
    """`field` (a JSON list of strings) contains `value`. jsonb @> on PostgreSQL; SQLite has
    no JSON containment, so there the quoted value is matched in the stored text, as
    leads.candidates.selectors.candidates_wanting_role does (slugs, codes and JIS codes
    contain no quote, so '"13"' cannot match inside another item)."""
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field}__contains": [value]})
    return Q(**{f"{field}__icontains": f'"{value}"'})


def _strings(value: object) -> list[str]:
    """JSON lists written by lead intake and the admin; anything else reads as empty."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _wished_places(candidate: Candidate) -> list[str]:
    """The desired prefectures, or the candidate's own when none is desired."""
    return _strings(candidate.desired_prefectures) or ([candidate.prefecture] if candidate.prefecture else [])


def _yen(amount: int) -> str:
    return f"{amount:,}"


def _names(certifications: Iterable[Certification]) -> str:
    return "、".join(c.name for c in certifications)


def _prefecture(code: str) -> str:
    return str(_PREFECTURE_NAMES.get(code, code))


def _say(message: Promise, **values: Any) -> str:
    return str(message) % values if values else str(message)


# --- postings for a candidate ----------------------------------------------------------


def candidate_held_certification_ids(*, candidate: Candidate) -> set[int]:
    """One query: certifications held per the workspace records or the intake codes."""
    records = CandidateCertification.objects.filter(candidate=candidate, status=_HELD)
    return set(
        Certification.objects.filter(
            Q(code__in=_strings(candidate.certifications)) | Q(pk__in=records.values("certification_id"))
        ).values_list("pk", flat=True)
    )


def _posting_flags(*, candidate: Candidate, held: set[int]) -> dict[str, Expression]:
    roles = _strings(candidate.desired_roles)
    places = _wished_places(candidate)
    location = [Q(prefecture__in=places)] if places else []
    if candidate.remote_wish != RemoteWish.NONE:
        location.append(Q(remote=JobPosting.Remote.FULL))
    missing_required = _RequiredThrough.objects.filter(jobposting_id=OuterRef("pk")).exclude(
        certification_id__in=held
    )
    wish = candidate.min_annual_salary
    tolerance = candidate.max_overtime_hours
    no_experience = not candidate.has_desk_experience
    return {
        "role": _flag(Q(role__slug__in=roles) if roles else False),
        "location": _flag(_any(location)),
        "required_certifications": _flag(~Q(Exists(missing_required))),
        "experience": _flag(Q(inexperienced_welcome=True) if no_experience else True),
        "salary": _flag(True if wish is None else Q(salary_max__gte=wish)),
        "weekends": _flag(Q(weekends_holidays_off=True) if candidate.wants_weekends_off else True),
        "overtime": _flag(True if tolerance is None else Q(avg_monthly_overtime_hours__lte=tolerance)),
        "experience_preferred": _flag(Q(experience_preferred=True) if no_experience else False),
    }


def _preferred_held_count(held: set[int]) -> Expression:
    if not held:
        return Value(0, output_field=IntegerField())
    counted = (
        _PreferredThrough.objects.filter(jobposting_id=OuterRef("pk"), certification_id__in=held)
        .values("jobposting_id")
        .annotate(held_count=Count("pk"))
        # django-stubs does not see annotations on an auto-created through model.
        .values("held_count")  # type: ignore[misc]
    )
    count: Expression = Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
    return count


def _score(flags: dict[str, Expression], preferred_count: Expression) -> Expression:
    total: Any = preferred_count * Value(PREFERRED_CERTIFICATION_WEIGHT)
    for criterion, weight in WEIGHTS.items():
        total = total + _points(flags[criterion], weight)
    score: Expression = total + _points(flags["experience_preferred"], EXPERIENCE_PREFERRED_PENALTY)
    return score


def _certifications_in_order() -> QuerySet[Certification]:
    return Certification.objects.order_by("sort_order", "code")


def postings_for_candidate(*, candidate: Candidate, limit: int = 20) -> list[PostingMatch]:
    """Open postings ranked by fit for the candidate, best first, each with its reasons.

    Four queries whatever the number of postings: the candidate's held certifications, the
    scored and ranked postings (with employer and role), their required and their preferred
    certifications (for the reasons' names)."""
    held = candidate_held_certification_ids(candidate=candidate)
    flags = _posting_flags(candidate=candidate, held=held)
    preferred_count = _preferred_held_count(held)
    postings = (
        JobPosting.objects.filter(status=JobPosting.Status.OPEN)
        .select_related("employer", "role")
        .prefetch_related(
            Prefetch("required_certifications", queryset=_certifications_in_order()),
            Prefetch("preferred_certifications", queryset=_certifications_in_order()),
        )
        .annotate(
            **{f"m_{criterion}": flag for criterion, flag in flags.items()},
            preferred_held=preferred_count,
            match_score=_score(flags, preferred_count),
        )
        .order_by("-match_score", "-created_at", "-pk")[:limit]
    )
    return [
        PostingMatch(
            rank=rank,
            score=posting.match_score,
            posting=posting,
            reasons=_posting_reasons(candidate=candidate, posting=posting, held=held),
        )
        for rank, posting in enumerate(postings, start=1)
    ]


def _posting_reasons(*, candidate: Candidate, posting: Any, held: set[int]) -> list[Reason]:
    required = list(posting.required_certifications.all())
    preferred = list(posting.preferred_certifications.all())
    return _reasons(
        flags={
            criterion: getattr(posting, f"m_{criterion}")
            for criterion in CRITERIA
            if criterion != "preferred_certifications"
        },
        candidate=candidate,
        posting=posting,
        missing_required=[c for c in required if c.pk not in held],
        required=required,
        preferred=preferred,
        preferred_held=[c for c in preferred if c.pk in held],
    )


# --- candidates for a posting ----------------------------------------------------------


def _candidate_holds(certification: Certification) -> Q:
    record = CandidateCertification.objects.filter(
        candidate_id=OuterRef("pk"), certification_id=certification.pk, status=_HELD
    )
    return json_list_has("certifications", certification.code) | Q(Exists(record))


def _posting_certifications(*, posting: JobPosting) -> tuple[list[Certification], list[Certification]]:
    """One query (a UNION ALL) for both certification lists of the posting."""
    required = (
        Certification.objects.filter(postings_requiring=posting)
        .annotate(list_kind=Value(1, output_field=IntegerField()))
        .order_by()
    )
    preferred = (
        Certification.objects.filter(postings_preferring=posting)
        .annotate(list_kind=Value(2, output_field=IntegerField()))
        .order_by()
    )
    rows: list[Any] = list(required.union(preferred, all=True).order_by("list_kind", "sort_order", "code"))
    return [c for c in rows if c.list_kind == 1], [c for c in rows if c.list_kind == 2]


def _candidate_flags(
    *, posting: JobPosting, required: list[Certification], preferred: list[Certification]
) -> tuple[dict[str, Expression], dict[str, Expression], Expression]:
    """The criteria as columns of the candidate query, the per-certification columns
    (for the reasons' names), and the count of preferred certifications held."""
    place = posting.prefecture
    location: list[Q] = []
    if place:
        location += [json_list_has("desired_prefectures", place), Q(desired_prefectures=[], prefecture=place)]
    if posting.remote == JobPosting.Remote.FULL:
        location.append(~Q(remote_wish=RemoteWish.NONE))
    holds = {f"req_{c.pk}": _flag(_candidate_holds(c)) for c in required}
    holds |= {f"pref_{c.pk}": _flag(_candidate_holds(c)) for c in preferred}
    overtime = posting.avg_monthly_overtime_hours
    no_experience = Q(has_desk_experience=False)
    flags = {
        "role": _flag(json_list_has("desired_roles", posting.role.slug)),
        "location": _flag(_any(location)),
        "required_certifications": _flag(_all([_candidate_holds(c) for c in required])),
        "experience": _flag(True if posting.inexperienced_welcome else Q(has_desk_experience=True)),
        "salary": _flag(Q(min_annual_salary__isnull=True) | Q(min_annual_salary__lte=posting.salary_max)),
        "weekends": _flag(True if posting.weekends_holidays_off else Q(wants_weekends_off=False)),
        "overtime": _flag(
            Q(max_overtime_hours__isnull=True)
            if overtime is None
            else Q(max_overtime_hours__isnull=True) | Q(max_overtime_hours__gte=overtime)
        ),
        "experience_preferred": _flag(no_experience if posting.experience_preferred else False),
    }
    count: Any = Value(0, output_field=IntegerField())
    for certification in preferred:
        count = count + _points(holds[f"pref_{certification.pk}"], 1)
    return flags, holds, count


def _open_candidates() -> QuerySet[Candidate]:
    return Candidate.objects.filter(is_closed=False).exclude(stage=Candidate.Stage.PLACED)


def _only_role_wanters_can_rank(
    *, posting: JobPosting, score: Expression, preferred: list[Certification], limit: int
) -> Exists:
    """True when at least `limit` open candidates who want the posting's role score above
    the best score any other candidate can reach (every criterion but the role met, every
    preferred certification held): then nobody else can enter the first `limit`, and only
    those who want the role need scoring. Strictly above: an outsider with the same score
    could rank first on the tie-break (newer first).

    An uncorrelated EXISTS: PostgreSQL runs it once (an InitPlan) and stops as soon as it
    has found the `limit`-th such candidate, in whatever order it meets them."""
    ceiling = sum(WEIGHTS.values()) - WEIGHTS["role"] + PREFERRED_CERTIFICATION_WEIGHT * len(preferred)
    strong = (
        _open_candidates()
        .filter(json_list_has("desired_roles", posting.role.slug))
        .annotate(strong_score=score)
        .filter(strong_score__gt=ceiling)
        .order_by()
        .values("pk")
    )
    return Exists(strong[limit - 1 : limit])


def _wants_role_if(condition: Exists, *, slug: str) -> Q:
    """Candidates who want the role when `condition` holds, everyone otherwise. The
    condition is computed once per query, so the cost per row is the JSON containment."""
    return json_list_has("desired_roles", slug) | ~Q(condition)


def candidates_for_posting(*, posting: JobPosting, limit: int = 20) -> list[CandidateMatch]:
    """Open candidates (not closed, not placed) ranked by fit for the posting, best first.

    Two queries whatever the number of candidates (three if `posting.role` is not loaded
    yet): the posting's certifications, the scored and ranked candidates with advisor.

    Scoring every open candidate is most of the cost (100,000 rows: ~300 ms), so the
    ranked query scores only those who want the posting's role when that provably gives
    the same first `limit` (_only_role_wanters_can_rank, decided inside the same query),
    and everyone otherwise (bench/RESULTS.md, "Matching")."""
    required, preferred = _posting_certifications(posting=posting)
    flags, holds, preferred_count = _candidate_flags(posting=posting, required=required, preferred=preferred)
    score = _score(flags, preferred_count)
    enough = _only_role_wanters_can_rank(posting=posting, score=score, preferred=preferred, limit=limit)
    candidates = (
        _open_candidates()
        .filter(_wants_role_if(enough, slug=posting.role.slug))
        .select_related("advisor")
        .annotate(
            **{f"m_{criterion}": flag for criterion, flag in flags.items()},
            **holds,
            match_score=score,
        )
        .order_by("-match_score", "-created_at", "pk")[:limit]
    )
    return [
        CandidateMatch(
            rank=rank,
            score=candidate.match_score,
            candidate=candidate,
            reasons=_reasons(
                flags={criterion: getattr(candidate, f"m_{criterion}") for criterion in flags},
                candidate=candidate,
                posting=posting,
                required=required,
                missing_required=[c for c in required if not getattr(candidate, f"req_{c.pk}")],
                preferred=preferred,
                preferred_held=[c for c in preferred if getattr(candidate, f"pref_{c.pk}")],
            ),
        )
        for rank, candidate in enumerate(candidates, start=1)
    ]


# --- reasons -----------------------------------------------------------------------------


def _reasons(
    *,
    flags: dict[str, bool],
    candidate: Candidate,
    posting: JobPosting,
    required: list[Certification],
    missing_required: list[Certification],
    preferred: list[Certification],
    preferred_held: list[Certification],
) -> list[Reason]:
    """The annotated booleans of one row as sentences. Only wording is chosen here: every
    `met` is the database's."""
    reasons = [
        Reason("role", flags["role"], _role_detail(flags["role"], posting)),
        Reason("location", flags["location"], _location_detail(flags["location"], candidate, posting)),
        Reason("experience", flags["experience"], _experience_detail(flags["experience"], candidate)),
    ]
    if posting.experience_preferred:
        reasons.append(
            Reason(
                "experience_preferred",
                not flags["experience_preferred"],
                _say(
                    _("Experience preferred, and no desk experience yet")
                    if flags["experience_preferred"]
                    else _("Experience preferred; has desk experience")
                ),
            )
        )
    if not required:
        detail = _say(_("No certification required"))
    elif flags["required_certifications"]:
        detail = _say(_("Holds every required certification: %(names)s"), names=_names(required))
    else:
        detail = _say(_("Missing required certifications: %(names)s"), names=_names(missing_required))
    reasons.append(Reason("required_certifications", flags["required_certifications"], detail))
    if preferred:
        if preferred_held:
            detail = _say(_("Preferred certifications held: %(names)s"), names=_names(preferred_held))
        else:
            detail = _say(_("None of the preferred certifications held: %(names)s"), names=_names(preferred))
        reasons.append(Reason("preferred_certifications", bool(preferred_held), detail))
    reasons += [
        Reason("salary", flags["salary"], _salary_detail(flags["salary"], candidate, posting)),
        Reason("weekends", flags["weekends"], _weekends_detail(flags["weekends"], candidate)),
        Reason("overtime", flags["overtime"], _overtime_detail(flags["overtime"], candidate, posting)),
    ]
    return reasons


def _role_detail(met: bool, posting: JobPosting) -> str:
    role = posting.role.name_ja
    return _say(_("Desired role: %(role)s") if met else _("Not among the desired roles: %(role)s"), role=role)


def _location_detail(met: bool, candidate: Candidate, posting: JobPosting) -> str:
    place = posting.prefecture
    if met and place and place in _wished_places(candidate):
        return _say(_("Desired prefecture: %(prefecture)s"), prefecture=_prefecture(place))
    if met:
        return _say(_("Fully remote, as wished"))
    if not place:
        return _say(_("Work location not recorded"))
    return _say(_("Outside the desired prefectures: %(prefecture)s"), prefecture=_prefecture(place))


def _experience_detail(met: bool, candidate: Candidate) -> str:
    if candidate.has_desk_experience:
        return _say(_("Has desk experience"))
    return _say(
        _("No experience needed")
        if met
        else _("No desk experience, and the posting does not welcome newcomers")
    )


def _salary_detail(met: bool, candidate: Candidate, posting: JobPosting) -> str:
    wish = candidate.min_annual_salary
    if wish is None:
        return _say(_("No minimum salary given"))
    values = {"salary_max": _yen(posting.salary_max), "wish": _yen(wish)}
    if met:
        return _say(_("Up to %(salary_max)s yen a year; the wish is from %(wish)s yen"), **values)
    return _say(_("Up to %(salary_max)s yen a year, below the wish of %(wish)s yen"), **values)


def _weekends_detail(met: bool, candidate: Candidate) -> str:
    if not candidate.wants_weekends_off:
        return _say(_("Weekends off not asked for"))
    return _say(
        _("Weekends and holidays off, as wished")
        if met
        else _("Not weekends and holidays off, which is wished")
    )


def _overtime_detail(met: bool, candidate: Candidate, posting: JobPosting) -> str:
    tolerance = candidate.max_overtime_hours
    hours = posting.avg_monthly_overtime_hours
    if tolerance is None:
        return _say(_("Overtime tolerance not discussed yet"))
    if hours is None:
        return _say(_("Overtime not recorded; the tolerance is %(max)s hours a month"), max=tolerance)
    message = (
        _("About %(hours)s hours of overtime a month, within %(max)s")
        if met
        else _("About %(hours)s hours of overtime a month, more than %(max)s")
    )
    return _say(message, hours=hours, max=tolerance)
