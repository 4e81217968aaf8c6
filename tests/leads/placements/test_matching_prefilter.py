"""candidates_for_posting scores only the candidates who want the posting's role when that
provably gives the same first `limit` rows, and everyone otherwise: both paths rank exactly
what scoring everyone ranks."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Candidate
from leads.placements.matching import candidates_for_posting
from leads.placements.matching_rules import WEIGHTS
from roles.models import JobPosting, Role
from tests.roles.factories import JobPostingFactory

pytestmark = pytest.mark.django_db


def _candidate(n: int, **fields: Any) -> Candidate:
    defaults: dict[str, Any] = {
        "family_name": "佐藤",
        "given_name": f"花子{n}",
        "email": f"pre{n}@example.com",
        "partner_status_changed_at": timezone.now(),
        "prefecture": "13",
        "desired_roles": ["general_admin"],
        "desired_prefectures": ["13"],
        "min_annual_salary": 3_000_000,
        "wants_weekends_off": True,
        "max_overtime_hours": 20,
    }
    return Candidate.objects.create(**(defaults | fields))


def _posting() -> JobPosting:
    return JobPostingFactory.create(
        role=Role.objects.get(slug="general_admin"),
        prefecture="13",
        inexperienced_welcome=True,
        weekends_holidays_off=True,
        avg_monthly_overtime_hours=10,
    )


def _ranked_sql(posting: JobPosting, limit: int) -> tuple[list[Any], str]:
    with CaptureQueriesContext(connection) as queries:
        matches = candidates_for_posting(posting=posting, limit=limit)
    return matches, queries[-1]["sql"]


def test_with_enough_strong_role_wanters_the_others_cannot_rank():
    posting = _posting()
    strong = [_candidate(n) for n in range(3)]  # every criterion met: the maximum score
    # Wants another role but meets everything else: the best an outsider can score.
    outsider = _candidate(9, desired_roles=["hr"])

    matches, sql = _ranked_sql(posting, limit=3)

    assert {m.candidate for m in matches} == set(strong)
    assert [m.score for m in matches] == [sum(WEIGHTS.values())] * 3
    assert outsider not in [m.candidate for m in matches]
    assert "LIMIT 1 OFFSET 2)" in sql  # the role pre-filter: is there a 3rd strong role wanter?


def test_with_too_few_strong_role_wanters_everyone_is_ranked():
    posting = _posting()
    strong = _candidate(0)
    weak_wanter = _candidate(1, desired_prefectures=["01"], prefecture="01", min_annual_salary=9_000_000)
    outsider = _candidate(2, desired_roles=["hr"])

    matches = candidates_for_posting(posting=posting, limit=3)

    # The outsider (everything but the role: 90) outranks the weak role wanter (30 + 15 +
    # 10 + 10 + 20 = 85): only scoring everyone finds that.
    assert [m.candidate for m in matches] == [strong, outsider, weak_wanter]
    assert [m.score for m in matches] == [120, 90, 85]


def test_an_outsider_tied_with_the_last_strong_one_is_not_lost():
    posting = _posting()
    # A role wanter scoring exactly the outsiders' ceiling (120 - 30 = 90) is not above it,
    # so only one role wanter beats the ceiling and the pre-filter must not decide.
    _candidate(0, min_annual_salary=9_000_000)  # salary missed: 120 - 15 = 105
    tied = _candidate(1, desired_prefectures=["01"], prefecture="01", max_overtime_hours=5)  # 120 - 20 - 10
    outsider = _candidate(2, desired_roles=["hr"])  # 90 too, and newer: it ranks first of the two

    matches = candidates_for_posting(posting=posting, limit=2)

    assert [m.score for m in matches] == [105, 90]
    assert matches[1].candidate == outsider  # newer first among equal scores
    assert tied not in [m.candidate for m in matches]
