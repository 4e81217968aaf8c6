"""Explainable matching in both directions, scored by the database: postings for a
candidate, candidates for a posting. The criteria, their weights and the reasons are in
leads.placements.matching_rules.
"""

from typing import Any

from django.db.models import (
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
)
from django.db.models.functions import Coalesce

from leads.models import Candidate, CandidateCertification, RemoteWish
from leads.placements.matching_rules import (
    CRITERIA,
    EXPERIENCE_PREFERRED_PENALTY,
    HELD,
    PREFERRED_CERTIFICATION_WEIGHT,
    WEIGHTS,
    CandidateMatch,
    PostingMatch,
    Reason,
    all_of,
    any_of,
    flag,
    json_list_has,
    match_reasons,
    points,
    strings_of,
    wished_places,
)
from roles.models import Certification, JobPosting

_RequiredThrough = JobPosting.required_certifications.through


_PreferredThrough = JobPosting.preferred_certifications.through


def candidate_held_certification_ids(*, candidate: Candidate) -> set[int]:
    """One query: certifications held per the workspace records or the intake codes."""
    records = CandidateCertification.objects.filter(candidate=candidate, status=HELD)
    return set(
        Certification.objects.filter(
            Q(code__in=strings_of(candidate.certifications)) | Q(pk__in=records.values("certification_id"))
        ).values_list("pk", flat=True)
    )


def _posting_flags(*, candidate: Candidate, held: set[int]) -> dict[str, Expression]:
    roles = strings_of(candidate.desired_roles)
    places = wished_places(candidate)
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
        "role": flag(Q(role__slug__in=roles) if roles else False),
        "location": flag(any_of(location)),
        "required_certifications": flag(~Q(Exists(missing_required))),
        "experience": flag(Q(inexperienced_welcome=True) if no_experience else True),
        "salary": flag(True if wish is None else Q(salary_max__gte=wish)),
        "weekends": flag(Q(weekends_holidays_off=True) if candidate.wants_weekends_off else True),
        "overtime": flag(True if tolerance is None else Q(avg_monthly_overtime_hours__lte=tolerance)),
        "experience_preferred": flag(Q(experience_preferred=True) if no_experience else False),
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
        total = total + points(flags[criterion], weight)
    score: Expression = total + points(flags["experience_preferred"], EXPERIENCE_PREFERRED_PENALTY)
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
    return match_reasons(
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


def _candidate_holds(certification: Certification) -> Q:
    record = CandidateCertification.objects.filter(
        candidate_id=OuterRef("pk"), certification_id=certification.pk, status=HELD
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
    holds = {f"req_{c.pk}": flag(_candidate_holds(c)) for c in required}
    holds |= {f"pref_{c.pk}": flag(_candidate_holds(c)) for c in preferred}
    overtime = posting.avg_monthly_overtime_hours
    no_experience = Q(has_desk_experience=False)
    flags = {
        "role": flag(json_list_has("desired_roles", posting.role.slug)),
        "location": flag(any_of(location)),
        "required_certifications": flag(all_of([_candidate_holds(c) for c in required])),
        "experience": flag(True if posting.inexperienced_welcome else Q(has_desk_experience=True)),
        "salary": flag(Q(min_annual_salary__isnull=True) | Q(min_annual_salary__lte=posting.salary_max)),
        "weekends": flag(True if posting.weekends_holidays_off else Q(wants_weekends_off=False)),
        "overtime": flag(
            Q(max_overtime_hours__isnull=True)
            if overtime is None
            else Q(max_overtime_hours__isnull=True) | Q(max_overtime_hours__gte=overtime)
        ),
        "experience_preferred": flag(no_experience if posting.experience_preferred else False),
    }
    count: Any = Value(0, output_field=IntegerField())
    for certification in preferred:
        count = count + points(holds[f"pref_{certification.pk}"], 1)
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
            reasons=match_reasons(
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
