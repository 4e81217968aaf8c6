"""What makes a candidate and a posting a match, and how it is explained: the criteria and
their weights, the SQL building blocks the scoring queries (leads.placements.matching) are
made of, and the reasons shown next to each match, in the advisor's language.

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
    Expression,
    IntegerField,
    Q,
    Value,
    When,
)
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.prefectures import PREFECTURE_CHOICES
from leads.models import Candidate, CandidateCertification
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


HELD = CandidateCertification.Status.HELD


_PREFECTURE_NAMES = dict(PREFECTURE_CHOICES)


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


def any_of(conditions: list[Q]) -> Q | bool:
    """OR of the conditions; False (a constant) when there is none."""
    return reduce(or_, conditions) if conditions else False


def all_of(conditions: list[Q]) -> Q | bool:
    """AND of the conditions; True (a constant) when there is none."""
    return reduce(and_, conditions) if conditions else True


def flag(condition: Q | bool) -> Expression:
    """A boolean column: a constant when this side already decides it, else the condition."""
    if isinstance(condition, bool):
        return Value(condition, output_field=BooleanField())
    # CASE, not the bare condition: SQL's NULL (a posting without an overtime figure) must
    # read as "not met", never as a third value.
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def points(flag: Expression, weight: int) -> Case:
    return Case(When(flag, then=Value(weight)), default=Value(0), output_field=IntegerField())


def json_list_has(field: str, value: str) -> Q:
    """`field` (a JSON list of strings) contains `value`. jsonb @> on PostgreSQL; SQLite has
    no JSON containment, so there the quoted value is matched in the stored text, as
    leads.candidates.selectors.candidates_wanting_role does (slugs, codes and JIS codes
    contain no quote, so '"13"' cannot match inside another item)."""
    if connection.features.supports_json_field_contains:
        return Q(**{f"{field}__contains": [value]})
    return Q(**{f"{field}__icontains": f'"{value}"'})


def strings_of(value: object) -> list[str]:
    """JSON lists written by lead intake and the admin; anything else reads as empty."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def wished_places(candidate: Candidate) -> list[str]:
    """The desired prefectures, or the candidate's own when none is desired."""
    return strings_of(candidate.desired_prefectures) or (
        [candidate.prefecture] if candidate.prefecture else []
    )


def _yen(amount: int) -> str:
    return f"{amount:,}"


def _names(certifications: Iterable[Certification]) -> str:
    return "、".join(c.name for c in certifications)


def _prefecture(code: str) -> str:
    return str(_PREFECTURE_NAMES.get(code, code))


def say(message: Promise, **values: Any) -> str:
    return str(message) % values if values else str(message)


def match_reasons(
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
                say(
                    _("Experience preferred, and no desk experience yet")
                    if flags["experience_preferred"]
                    else _("Experience preferred; has desk experience")
                ),
            )
        )
    if not required:
        detail = say(_("No certification required"))
    elif flags["required_certifications"]:
        detail = say(_("Holds every required certification: %(names)s"), names=_names(required))
    else:
        detail = say(_("Missing required certifications: %(names)s"), names=_names(missing_required))
    reasons.append(Reason("required_certifications", flags["required_certifications"], detail))
    if preferred:
        if preferred_held:
            detail = say(_("Preferred certifications held: %(names)s"), names=_names(preferred_held))
        else:
            detail = say(_("None of the preferred certifications held: %(names)s"), names=_names(preferred))
        reasons.append(Reason("preferred_certifications", bool(preferred_held), detail))
    reasons += [
        Reason("salary", flags["salary"], _salary_detail(flags["salary"], candidate, posting)),
        Reason("weekends", flags["weekends"], _weekends_detail(flags["weekends"], candidate)),
        Reason("overtime", flags["overtime"], _overtime_detail(flags["overtime"], candidate, posting)),
    ]
    return reasons


def _role_detail(met: bool, posting: JobPosting) -> str:
    role = posting.role.name_ja
    return say(_("Desired role: %(role)s") if met else _("Not among the desired roles: %(role)s"), role=role)


def _location_detail(met: bool, candidate: Candidate, posting: JobPosting) -> str:
    place = posting.prefecture
    if met and place and place in wished_places(candidate):
        return say(_("Desired prefecture: %(prefecture)s"), prefecture=_prefecture(place))
    if met:
        return say(_("Fully remote, as wished"))
    if not place:
        return say(_("Work location not recorded"))
    return say(_("Outside the desired prefectures: %(prefecture)s"), prefecture=_prefecture(place))


def _experience_detail(met: bool, candidate: Candidate) -> str:
    if candidate.has_desk_experience:
        return say(_("Has desk experience"))
    return say(
        _("No experience needed")
        if met
        else _("No desk experience, and the posting does not welcome newcomers")
    )


def _salary_detail(met: bool, candidate: Candidate, posting: JobPosting) -> str:
    wish = candidate.min_annual_salary
    if wish is None:
        return say(_("No minimum salary given"))
    values = {"salary_max": _yen(posting.salary_max), "wish": _yen(wish)}
    if met:
        return say(_("Up to %(salary_max)s yen a year; the wish is from %(wish)s yen"), **values)
    return say(_("Up to %(salary_max)s yen a year, below the wish of %(wish)s yen"), **values)


def _weekends_detail(met: bool, candidate: Candidate) -> str:
    if not candidate.wants_weekends_off:
        return say(_("Weekends off not asked for"))
    return say(
        _("Weekends and holidays off, as wished")
        if met
        else _("Not weekends and holidays off, which is wished")
    )


def _overtime_detail(met: bool, candidate: Candidate, posting: JobPosting) -> str:
    tolerance = candidate.max_overtime_hours
    hours = posting.avg_monthly_overtime_hours
    if tolerance is None:
        return say(_("Overtime tolerance not discussed yet"))
    if hours is None:
        return say(_("Overtime not recorded; the tolerance is %(max)s hours a month"), max=tolerance)
    message = (
        _("About %(hours)s hours of overtime a month, within %(max)s")
        if met
        else _("About %(hours)s hours of overtime a month, more than %(max)s")
    )
    return say(message, hours=hours, max=tolerance)
