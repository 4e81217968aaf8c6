"""Explainable matching in both directions: each criterion moves the rank and
says so, closed things stay out, advisors only, a fixed query budget."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone, translation
from factory.declarations import LazyFunction, Sequence
from factory.django import DjangoModelFactory

from accounts.models import Groups, User
from accounts.services import staff_user_create
from leads.models import Candidate, CandidateCertification, RemoteWish
from leads.placements.matching import candidates_for_posting, postings_for_candidate
from leads.placements.matching_rules import (
    EXPERIENCE_PREFERRED_PENALTY,
    PREFERRED_CERTIFICATION_WEIGHT,
    WEIGHTS,
)
from roles.models import Certification, JobPosting, Role
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db


class CandidateFactory(DjangoModelFactory[Candidate]):
    """A candidate whose every wish the default posting (`_posting`) meets."""

    class Meta:
        model = Candidate

    family_name = "佐藤"
    given_name = Sequence(lambda n: f"花子{n}")
    email = Sequence(lambda n: f"match{n}@example.com")
    partner_status_changed_at = LazyFunction(timezone.now)
    prefecture = "13"
    desired_roles = LazyFunction(lambda: ["general_admin"])
    desired_prefectures = LazyFunction(lambda: ["13"])
    has_desk_experience = False
    min_annual_salary = 3_000_000
    wants_weekends_off = True
    max_overtime_hours = 20


def _posting(**fields: Any) -> JobPosting:
    """A posting that meets every wish of the default candidate."""
    required = fields.pop("required", [])
    preferred = fields.pop("preferred", [])
    defaults: dict[str, Any] = {
        "role": Role.objects.get(slug="general_admin"),
        "prefecture": "13",
        "salary_min": 3_000_000,
        "salary_max": 4_000_000,
        "inexperienced_welcome": True,
        "weekends_holidays_off": True,
        "avg_monthly_overtime_hours": 10,
    }
    posting = JobPostingFactory.create(**(defaults | fields))
    posting.required_certifications.set(Certification.objects.filter(code__in=required))
    posting.preferred_certifications.set(Certification.objects.filter(code__in=preferred))
    return posting


def _hold(candidate: Candidate, code: str, status: str = CandidateCertification.Status.HELD) -> None:
    CandidateCertification.objects.create(
        candidate=candidate,
        certification=Certification.objects.get(code=code),
        status=status,
        exam_date=timezone.localdate() if status == CandidateCertification.Status.EXAM_BOOKED else None,
    )


def _reason(match: Any, criterion: str) -> dict[str, Any] | None:
    found = [r for r in match.reasons if r.criterion == criterion]
    assert len(found) <= 1
    return {"met": found[0].met, "detail": found[0].detail} if found else None


def _met(match: Any, criterion: str) -> bool | None:
    reason = _reason(match, criterion)
    return None if reason is None else reason["met"]


# --- postings for a candidate: one test per criterion ---------------------------------------
# The worse posting is always created last: the tie-break (newest first) would put it first,
# so only the criterion can put the better one ahead.

POSTING_CRITERIA = [
    pytest.param("role", {}, {"role_slug": "accounting"}, WEIGHTS["role"], id="role"),
    pytest.param("experience", {}, {"inexperienced_welcome": False}, WEIGHTS["experience"], id="未経験歓迎"),
    pytest.param("location", {}, {"prefecture": "27"}, WEIGHTS["location"], id="prefecture"),
    pytest.param(
        "salary", {}, {"salary_min": 2_500_000, "salary_max": 2_900_000}, WEIGHTS["salary"], id="salary"
    ),
    pytest.param("weekends", {}, {"weekends_holidays_off": False}, WEIGHTS["weekends"], id="weekends"),
    pytest.param("overtime", {}, {"avg_monthly_overtime_hours": 21}, WEIGHTS["overtime"], id="overtime"),
    pytest.param(
        "overtime", {}, {"avg_monthly_overtime_hours": None}, WEIGHTS["overtime"], id="overtime-unknown"
    ),
    pytest.param(
        "required_certifications",
        {"required": ["boki_2"]},
        {"required": ["boki_1"]},
        WEIGHTS["required_certifications"],
        id="required-certifications",
    ),
    pytest.param(
        "preferred_certifications",
        {"preferred": ["boki_2"]},
        {"preferred": ["boki_1"]},
        PREFERRED_CERTIFICATION_WEIGHT,
        id="preferred-certifications",
    ),
]


def _with_role(fields: dict[str, Any]) -> dict[str, Any]:
    fields = dict(fields)
    if "role_slug" in fields:
        fields["role"] = Role.objects.get(slug=fields.pop("role_slug"))
    return fields


@pytest.mark.parametrize(("criterion", "better_fields", "worse_fields", "weight"), POSTING_CRITERIA)
def test_it_ranks_postings_by_each_criterion(criterion, better_fields, worse_fields, weight):
    candidate = CandidateFactory.create()
    _hold(candidate, "boki_2")
    better = _posting(**_with_role(better_fields))
    worse = _posting(**_with_role(worse_fields))

    matches = postings_for_candidate(candidate=candidate)

    assert [m.posting for m in matches] == [better, worse]
    assert matches[0].score - matches[1].score == weight
    assert (_met(matches[0], criterion), _met(matches[1], criterion)) == (True, False)


def test_it_counts_experience_preferred_as_a_minus_for_a_newcomer():
    candidate = CandidateFactory.create(has_desk_experience=False)
    better = _posting()
    worse = _posting(experience_preferred=True)

    matches = postings_for_candidate(candidate=candidate)

    assert [m.posting for m in matches] == [better, worse]
    assert matches[0].score - matches[1].score == -EXPERIENCE_PREFERRED_PENALTY
    assert (_met(matches[0], "experience_preferred"), _met(matches[1], "experience_preferred")) == (
        None,
        False,
    )


def test_it_does_not_hold_experience_against_an_experienced_candidate():
    candidate = CandidateFactory.create(has_desk_experience=True)
    first = _posting(inexperienced_welcome=False, experience_preferred=True)
    second = _posting()

    matches = postings_for_candidate(candidate=candidate)

    assert matches[0].score == matches[1].score
    assert [m.posting for m in matches] == [second, first]  # a tie: newest first
    assert _met(matches[1], "experience") is True
    assert _met(matches[1], "experience_preferred") is True


def test_it_counts_intake_codes_as_held_but_not_studying():
    candidate = CandidateFactory.create(certifications=["mos_excel"])
    _hold(candidate, "boki_2", status=CandidateCertification.Status.STUDYING)
    better = _posting(required=["mos_excel"])
    worse = _posting(required=["boki_2"])

    matches = postings_for_candidate(candidate=candidate)

    assert [m.posting for m in matches] == [better, worse]
    assert (_met(matches[0], "required_certifications"), _met(matches[1], "required_certifications")) == (
        True,
        False,
    )


def test_it_uses_the_own_prefecture_when_no_prefecture_is_desired():
    candidate = CandidateFactory.create(desired_prefectures=[], prefecture="27")
    better = _posting(prefecture="27")
    worse = _posting(prefecture="13")

    matches = postings_for_candidate(candidate=candidate)

    assert [m.posting for m in matches] == [better, worse]
    assert (_met(matches[0], "location"), _met(matches[1], "location")) == (True, False)


def test_it_matches_a_fully_remote_posting_anywhere_when_remote_is_wished():
    candidate = CandidateFactory.create(desired_prefectures=["01"], remote_wish=RemoteWish.FULL)
    better = _posting(prefecture="13", remote=JobPosting.Remote.FULL)
    worse = _posting(prefecture="13", remote=JobPosting.Remote.PARTIAL)

    with translation.override("en"):
        matches = postings_for_candidate(candidate=candidate)

    assert [m.posting for m in matches] == [better, worse]
    assert _reason(matches[0], "location") == {"met": True, "detail": "Fully remote, as wished"}
    assert _reason(matches[1], "location") == {
        "met": False,
        "detail": "Outside the desired prefectures: Tokyo",
    }


def test_it_explains_every_criterion_in_words():
    candidate = CandidateFactory.create(certifications=["boki_2"])
    posting = _posting(required=["boki_2"], preferred=["mos_excel"], experience_preferred=True)

    with translation.override("en"):
        (match,) = postings_for_candidate(candidate=candidate)

    assert [(r.criterion, r.met, r.detail) for r in match.reasons] == [
        ("role", True, "Desired role: 一般事務"),
        ("location", True, "Desired prefecture: Tokyo"),
        ("experience", True, "No experience needed"),
        ("experience_preferred", False, "Experience preferred, and no desk experience yet"),
        ("required_certifications", True, "Holds every required certification: 日商簿記検定2級"),
        ("preferred_certifications", False, "None of the preferred certifications held: MOS Excel"),
        ("salary", True, "Up to 4,000,000 yen a year; the wish is from 3,000,000 yen"),
        ("weekends", True, "Weekends and holidays off, as wished"),
        ("overtime", True, "About 10 hours of overtime a month, within 20"),
    ]
    assert match.posting == posting
    assert match.score == sum(WEIGHTS.values()) + EXPERIENCE_PREFERRED_PENALTY


def test_it_treats_unstated_wishes_as_met():
    candidate = CandidateFactory.create(
        min_annual_salary=None, wants_weekends_off=False, max_overtime_hours=None
    )
    _posting(
        salary_min=2_000_000,
        salary_max=2_500_000,
        weekends_holidays_off=False,
        avg_monthly_overtime_hours=None,
    )

    (match,) = postings_for_candidate(candidate=candidate)

    assert [_met(match, c) for c in ("salary", "weekends", "overtime")] == [True, True, True]


@pytest.mark.parametrize("status", ["draft", "paused", "closed"])
def test_it_lists_only_open_postings(status):
    candidate = CandidateFactory.create()
    open_posting = _posting()
    _posting(status=status)

    assert [m.posting for m in postings_for_candidate(candidate=candidate)] == [open_posting]


def test_it_stops_at_the_limit_and_numbers_the_ranks():
    candidate = CandidateFactory.create()
    for _ in range(4):
        _posting()

    matches = postings_for_candidate(candidate=candidate, limit=3)

    assert [m.rank for m in matches] == [1, 2, 3]


def test_it_ranks_postings_in_four_queries(django_assert_num_queries):
    candidate = CandidateFactory.create(certifications=["boki_3"])
    _hold(candidate, "boki_2")
    for n in range(6):
        _posting(required=["boki_2"] if n % 2 else [], preferred=["boki_3", "mos_excel"])

    # 1 held certification ids, 2 ranked postings with employer and role, 3 their required
    # certifications, 4 their preferred certifications.
    with django_assert_num_queries(4):
        matches = postings_for_candidate(candidate=candidate)

    assert len(matches) == 6


# --- candidates for a posting: one test per criterion ---------------------------------------
# The worse candidate is created last, for the same reason as above.

CANDIDATE_CRITERIA = [
    pytest.param("role", {}, {}, {"desired_roles": ["accounting"]}, WEIGHTS["role"], id="role"),
    pytest.param("location", {}, {}, {"desired_prefectures": ["27"]}, WEIGHTS["location"], id="prefecture"),
    pytest.param(
        "experience",
        {"inexperienced_welcome": False},
        {"has_desk_experience": True},
        {},
        WEIGHTS["experience"],
        id="未経験歓迎",
    ),
    pytest.param(
        "experience_preferred",
        {"experience_preferred": True},
        {"has_desk_experience": True},
        {},
        -EXPERIENCE_PREFERRED_PENALTY,
        id="経験者優遇",
    ),
    pytest.param("salary", {}, {}, {"min_annual_salary": 4_000_001}, WEIGHTS["salary"], id="salary"),
    pytest.param(
        "weekends",
        {"weekends_holidays_off": False},
        {"wants_weekends_off": False},
        {},
        WEIGHTS["weekends"],
        id="weekends",
    ),
    pytest.param(
        "overtime",
        {"avg_monthly_overtime_hours": 30},
        {"max_overtime_hours": 30},
        {},
        WEIGHTS["overtime"],
        id="overtime",
    ),
    pytest.param(
        "required_certifications",
        {"required": ["boki_2"]},
        {"certifications": ["boki_2"]},
        {},
        WEIGHTS["required_certifications"],
        id="required-certifications",
    ),
    pytest.param(
        "preferred_certifications",
        {"preferred": ["boki_2", "mos_excel"]},
        {"certifications": ["boki_2"]},
        {},
        PREFERRED_CERTIFICATION_WEIGHT,
        id="preferred-certifications",
    ),
]


@pytest.mark.parametrize(
    ("criterion", "posting_fields", "better_fields", "worse_fields", "weight"), CANDIDATE_CRITERIA
)
def test_it_ranks_candidates_by_each_criterion(
    criterion, posting_fields, better_fields, worse_fields, weight
):
    posting = _posting(**posting_fields)
    better = CandidateFactory.create(**better_fields)
    worse = CandidateFactory.create(**worse_fields)

    matches = candidates_for_posting(posting=posting)

    assert [m.candidate for m in matches] == [better, worse]
    assert matches[0].score - matches[1].score == weight
    assert (_met(matches[0], criterion), _met(matches[1], criterion)) == (True, False)


def test_it_counts_a_held_record_but_not_a_booked_exam_for_a_posting():
    posting = _posting(required=["boki_2"])
    better = CandidateFactory.create()
    _hold(better, "boki_2")
    worse = CandidateFactory.create()
    _hold(worse, "boki_2", status=CandidateCertification.Status.EXAM_BOOKED)

    with translation.override("en"):
        matches = candidates_for_posting(posting=posting)

    assert [m.candidate for m in matches] == [better, worse]
    assert _reason(matches[1], "required_certifications") == {
        "met": False,
        "detail": "Missing required certifications: 日商簿記検定2級",
    }


def test_it_finds_candidates_by_own_prefecture_or_remote_wish():
    posting = _posting(prefecture="27", remote=JobPosting.Remote.FULL)
    by_prefecture = CandidateFactory.create(desired_prefectures=[], prefecture="27")
    by_remote = CandidateFactory.create(desired_prefectures=["01"], remote_wish=RemoteWish.PARTIAL)
    neither = CandidateFactory.create(desired_prefectures=["01"])

    matches = candidates_for_posting(posting=posting)

    assert [m.candidate for m in matches] == [by_remote, by_prefecture, neither]
    assert [_met(m, "location") for m in matches] == [True, True, False]


def test_it_leaves_out_closed_and_placed_candidates():
    posting = _posting()
    open_candidate = CandidateFactory.create()
    CandidateFactory.create(is_closed=True, closed_reason=Candidate.ClosedReason.NOT_INTERESTED)
    CandidateFactory.create(stage=Candidate.Stage.PLACED)

    assert [m.candidate for m in candidates_for_posting(posting=posting)] == [open_candidate]


def test_it_ranks_candidates_in_two_queries(django_assert_num_queries):
    posting = _posting(required=["boki_2"], preferred=["boki_3", "mos_excel"])
    for n in range(6):
        candidate = CandidateFactory.create(certifications=["boki_3"] if n % 2 else [])
        if n % 3 == 0:
            _hold(candidate, "boki_2")
    posting = JobPosting.objects.select_related("role").get(pk=posting.pk)

    # 1 the posting's required and preferred certifications (one UNION ALL), 2 the ranked
    # candidates with their advisor.
    with django_assert_num_queries(2):
        matches = candidates_for_posting(posting=posting)

    assert len(matches) == 6


# --- the advisor API ---------------------------------------------------------------------


@pytest.fixture
def advisor() -> User:
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


@pytest.fixture
def advisor_client(advisor: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)
    return client


def _postings_url(candidate: Candidate) -> str:
    return f"/api/v1/candidates/{candidate.pk}/matching-postings/"


def _candidates_url(posting: JobPosting) -> str:
    return f"/api/v1/postings/{posting.pk}/matching-candidates/"


def test_it_answers_an_advisor_with_ranked_postings(advisor_client, django_assert_num_queries):
    candidate = CandidateFactory.create()
    employer = EmployerFactory.create(name="あおば食品株式会社")
    better = _posting(employer=employer, title="一般事務")
    _posting(weekends_holidays_off=False)

    # 1 session, 2 user, 3 advisor group check, 4 candidate, then postings_for_candidate's 4.
    with django_assert_num_queries(8):
        response = advisor_client.get(_postings_url(candidate))

    assert response.status_code == 200
    body = response.json()
    assert [row["rank"] for row in body] == [1, 2]
    assert body[0]["posting"] == {
        "id": better.pk,
        "title": "一般事務",
        "role": "general_admin",
        "salary_min": 3_000_000,
        "salary_max": 4_000_000,
        "employer_name": "あおば食品株式会社",
    }
    assert body[0]["score"] == sum(WEIGHTS.values())
    assert body[1]["reasons"][-2] == {
        "criterion": "weekends",
        "met": False,
        "detail": "Not weekends and holidays off, which is wished",
    }


def test_it_answers_an_advisor_with_ranked_candidates(advisor_client, advisor, django_assert_num_queries):
    posting = _posting()
    candidate = CandidateFactory.create(family_name="佐藤", given_name="花子", advisor=advisor)
    CandidateFactory.create(desired_roles=["hr"])

    # 1 session, 2 user, 3 advisor group check, 4 posting with role, then
    # candidates_for_posting's 2.
    with django_assert_num_queries(6):
        response = advisor_client.get(_candidates_url(posting), {"limit": 1})

    assert response.status_code == 200
    (row,) = response.json()
    assert row["candidate"] == {
        "id": str(candidate.pk),
        "name": "佐藤 花子",
        "stage": "new",
        "advisor": {"id": advisor.pk, "display_name": "Aoki"},
    }
    assert row["reasons"][0] == {"criterion": "role", "met": True, "detail": "Desired role: 一般事務"}


@pytest.mark.parametrize("url", ["postings", "candidates"])
def test_it_refuses_anonymous_callers_and_partners(url, client, partner):
    candidate = CandidateFactory.create()
    posting = _posting()
    path = _postings_url(candidate) if url == "postings" else _candidates_url(posting)

    assert client.get(path).status_code == 403
    response = partner.get(path)
    assert response.status_code == 403
    assert "テスト商事" not in response.content.decode()


def test_it_refuses_staff_outside_the_advisor_groups(client):
    user = User.objects.create_user(
        email="ops@urakata.example", password="x", display_name="Ops", is_staff=True
    )
    assert not user.groups.exists()
    client.force_login(user)

    assert client.get(_candidates_url(_posting())).status_code == 403


def test_it_answers_404_for_an_unknown_candidate_or_posting(advisor_client):
    assert (
        advisor_client.get(
            "/api/v1/candidates/00000000-0000-0000-0000-000000000000/matching-postings/"
        ).status_code
        == 404
    )
    assert advisor_client.get("/api/v1/postings/999999/matching-candidates/").status_code == 404


@pytest.mark.parametrize("limit", ["0", "101", "many"])
def test_it_refuses_a_bad_limit(advisor_client, limit):
    response = advisor_client.get(_postings_url(CandidateFactory.create()), {"limit": limit})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "limit"


def test_a_manager_is_an_advisor_here():
    manager = staff_user_create(email="mori@urakata.example", display_name="Mori", group=Groups.MANAGERS)
    client = Client()
    client.force_login(manager)

    assert Group.objects.get(name=Groups.MANAGERS) in manager.groups.all()
    assert client.get(_postings_url(CandidateFactory.create())).status_code == 200
