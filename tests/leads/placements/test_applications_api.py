"""The advisors' application API: who may call it, the list and its filters, creating (also
under concurrency), moving, interview rounds, placements, and the contract's error format."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from accounts.models import Groups, User
from accounts.services import staff_user_create
from leads.models import Application, ApplicationEvent, Candidate, Placement
from leads.placements.services import application_create
from roles.models import EmployerFeeTerms
from tests.clock import clock_at
from tests.conftest import RACES
from tests.leads.conftest import lead_body
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db

# Written around fixed dates (offers in late November 2026, starts in January 2027).
_clock = clock_at("2026-11-20T10:00:00+09:00")

S = Application.Stage


@pytest.fixture
def advisor() -> User:
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


@pytest.fixture
def advisor_client(advisor: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)
    return client


@pytest.fixture
def candidate(partner) -> Candidate:
    return Candidate.objects.get(leads__id=partner.post(lead_body()).json()["id"])


@pytest.fixture
def posting():
    return JobPostingFactory.create(
        employer=EmployerFactory.create(name="あおば食品株式会社"), title="経理事務"
    )


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


# --- who may call ------------------------------------------------------------------------------

PATHS = [
    ("get", "/api/v1/applications/"),
    ("post", "/api/v1/applications/"),
    ("get", "/api/v1/applications/1/"),
    ("post", "/api/v1/applications/1/transition/"),
    ("post", "/api/v1/applications/1/interview-rounds/"),
    ("post", "/api/v1/applications/1/placement/"),
    ("post", "/api/v1/applications/1/placement/leaving/"),
    ("get", "/api/v1/candidates/00000000-0000-0000-0000-000000000000/employer-reveals/"),
    ("post", "/api/v1/candidates/00000000-0000-0000-0000-000000000000/employer-reveals/"),
]


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_anonymous_callers_get_403_in_the_contracts_shape(client, method, path):
    response = getattr(client, method)(path, {}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_a_partner_key_gets_403(partner, method, path):
    response = getattr(partner.client, method)(
        path, {}, content_type="application/json", headers=partner.headers()
    )

    assert response.status_code == 403


def test_staff_outside_the_advisor_groups_get_403():
    staff = User.objects.create_user(
        email="it@urakata.example", password="x", display_name="IT", is_staff=True
    )
    client = Client()
    client.force_login(staff)

    assert client.get("/api/v1/applications/").status_code == 403


# --- list --------------------------------------------------------------------------------------


def test_the_list_names_candidate_posting_employer_and_placement(advisor_client, advisor, candidate, posting):
    application = application_create(candidate=candidate, posting=posting, by=advisor)

    response = advisor_client.get("/api/v1/applications/")

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row == {
        "id": application.pk,
        "candidate": {"id": str(candidate.pk), "name": "山田 太郎", "stage": "applying"},
        "posting": {
            "id": posting.pk,
            "title": "経理事務",
            "role": posting.role.slug,
            "employer_name": "あおば食品株式会社",
            "employment_type": "full_time",
        },
        "advisor": {"id": advisor.pk, "display_name": "Aoki"},
        "stage": "recommended",
        "stage_changed_at": row["stage_changed_at"],
        "note": "",
        "placement": None,
        "created_at": row["created_at"],
    }


def test_the_list_filters_and_stays_within_its_query_budget(
    advisor_client, advisor, candidate, posting, django_assert_num_queries
):
    other_employer = EmployerFactory.create()
    wanted = application_create(candidate=candidate, posting=posting, by=advisor)
    for _ in range(3):
        application_create(
            candidate=candidate, posting=JobPostingFactory.create(employer=other_employer), by=advisor
        )

    # 1 session, 2 user, 3 advisor group check, 4 the page with candidate, posting, employer,
    # role, advisor and placement joined.
    with django_assert_num_queries(4):
        response = advisor_client.get("/api/v1/applications/", {"employer": posting.employer_id})
    assert [r["id"] for r in response.json()["results"]] == [wanted.pk]

    assert len(advisor_client.get("/api/v1/applications/", {"stage": "recommended"}).json()["results"]) == 4
    assert advisor_client.get("/api/v1/applications/", {"stage": "offer"}).json()["results"] == []
    assert len(advisor_client.get("/api/v1/applications/", {"advisor": advisor.pk}).json()["results"]) == 4
    assert [
        r["id"]
        for r in advisor_client.get("/api/v1/applications/", {"posting": posting.pk}).json()["results"]
    ] == [wanted.pk]
    bad = advisor_client.get("/api/v1/applications/", {"stage": "hired"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "stage"


# --- create ------------------------------------------------------------------------------------


def test_an_advisor_recommends_a_candidate(advisor_client, advisor, candidate, posting):
    response = _post(
        advisor_client, "/api/v1/applications/", {"candidate": str(candidate.pk), "posting": posting.pk}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["stage"], body["interview_rounds"], len(body["events"])) == ("recommended", [], 1)
    assert body["events"][0]["actor"] == {"id": advisor.pk, "display_name": "Aoki"}
    application = Application.objects.get()
    assert (application.candidate, application.posting, application.advisor) == (candidate, posting, advisor)


def test_a_second_recommendation_is_409(advisor_client, candidate, posting):
    _post(advisor_client, "/api/v1/applications/", {"candidate": str(candidate.pk), "posting": posting.pk})

    response = _post(
        advisor_client, "/api/v1/applications/", {"candidate": str(candidate.pk), "posting": posting.pk}
    )

    assert response.status_code == 409
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": "duplicate",
                "detail": "This candidate has already been recommended for this posting.",
                "attr": None,
            }
        ],
    }
    assert Application.objects.count() == 1


def test_an_unknown_posting_is_400(advisor_client, candidate):
    response = _post(
        advisor_client, "/api/v1/applications/", {"candidate": str(candidate.pk), "posting": 999999}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "posting"


# --- transitions, rounds, placement --------------------------------------------------------------


def test_an_advisor_moves_an_application_and_a_refused_move_is_409(
    advisor_client, advisor, candidate, posting
):
    application = application_create(candidate=candidate, posting=posting, by=advisor)
    path = f"/api/v1/applications/{application.pk}/transition/"

    moved = _post(advisor_client, path, {"to": "submitted", "note": "送付しました"})
    refused = _post(advisor_client, path, {"to": "offer"})
    accepted = _post(advisor_client, path, {"to": "accepted"})

    assert moved.status_code == 200
    assert (moved.json()["stage"], moved.json()["events"][-1]["note"]) == ("submitted", "送付しました")
    assert refused.status_code == 409
    assert refused.json()["errors"][0] == {
        "code": "transition",
        "detail": "An application cannot move from Submitted to the employer to Offer.",
        "attr": None,
    }
    assert accepted.status_code == 400  # not a choice: accepting records the placement
    assert accepted.json()["errors"][0]["attr"] == "to"


def test_an_advisor_schedules_interview_rounds(advisor_client, advisor, candidate, posting):
    application = application_create(candidate=candidate, posting=posting, by=advisor)
    _post(advisor_client, f"/api/v1/applications/{application.pk}/transition/", {"to": "submitted"})
    path = f"/api/v1/applications/{application.pk}/interview-rounds/"

    first = _post(advisor_client, path, {"scheduled_at": "2026-12-01T14:00:00+09:00"})
    second = _post(advisor_client, path, {"scheduled_at": "2026-12-08T10:00:00+09:00", "note": "役員面接"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["number"], second.json()["number"], second.json()["note"]) == (1, 2, "役員面接")
    detail = advisor_client.get(f"/api/v1/applications/{application.pk}/").json()
    assert detail["stage"] == "interview"
    assert [r["number"] for r in detail["interview_rounds"]] == [1, 2]


def test_an_advisor_records_the_placement_and_a_leaving(advisor_client, advisor, candidate, posting):
    EmployerFeeTerms.objects.create(
        employer=posting.employer,
        effective_from=date(2026, 1, 1),
        rate_percent=Decimal("30.00"),
        refund_bands=[{"within_days": 30, "percent": 80}, {"within_days": 90, "percent": 50}],
    )
    application = application_create(candidate=candidate, posting=posting, by=advisor)
    Application.objects.filter(pk=application.pk).update(stage=S.OFFER)

    placed = _post(
        advisor_client,
        f"/api/v1/applications/{application.pk}/placement/",
        {"start_date": "2027-01-04", "annual_salary_jpy": 3_600_000, "placed_on": "2026-11-25"},
    )
    left = _post(
        advisor_client,
        f"/api/v1/applications/{application.pk}/placement/leaving/",
        {"left_on": "2027-02-10"},  # day 38: the 90-day band, 50% of the fee
    )

    assert placed.status_code == 201
    assert placed.json() == {
        "id": Placement.objects.get().pk,
        "placed_on": "2026-11-25",
        "start_date": "2027-01-04",
        "annual_salary_jpy": 3_600_000,
        "fee_rate_percent": "30.00",
        "fee_jpy": 1_080_000,
        "employment_type": "full_time",
        "is_permanent": True,
        "guarantee_until": "2027-04-03",  # day 90 of the last band
        "left_on": None,
        "refund_jpy": None,
        "left_within_6_months": False,
    }
    assert left.status_code == 200
    assert (left.json()["left_on"], left.json()["refund_jpy"], left.json()["left_within_6_months"]) == (
        "2027-02-10",
        540_000,
        True,
    )
    candidate.refresh_from_db()
    assert candidate.stage == "placed"
    assert (
        advisor_client.get(f"/api/v1/applications/{application.pk}/").json()["placement"]["fee_jpy"]
        == 1_080_000
    )


def test_a_placement_before_the_offer_is_409(advisor_client, advisor, candidate, posting):
    application = application_create(candidate=candidate, posting=posting, by=advisor)

    response = _post(
        advisor_client,
        f"/api/v1/applications/{application.pk}/placement/",
        {"start_date": "2027-01-04", "annual_salary_jpy": 3_600_000},
    )

    assert response.status_code == 409
    assert Placement.objects.count() == 0


def test_an_impossible_start_date_is_400(advisor_client, advisor, candidate, posting):
    application = application_create(candidate=candidate, posting=posting, by=advisor)
    Application.objects.filter(pk=application.pk).update(stage=S.OFFER)

    response = _post(
        advisor_client,
        f"/api/v1/applications/{application.pk}/placement/",
        {"start_date": "2026-01-04", "placed_on": "2026-11-25", "annual_salary_jpy": 3_600_000},
    )

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    application.refresh_from_db()
    assert application.stage == S.OFFER


def test_an_unknown_application_is_404(advisor_client):
    assert advisor_client.get("/api/v1/applications/424242/").status_code == 404
    assert (
        _post(advisor_client, "/api/v1/applications/424242/transition/", {"to": "submitted"}).status_code
        == 404
    )


# --- concurrency ------------------------------------------------------------------------------------


@pytest.mark.postgresql(RACES)
@pytest.mark.django_db(transaction=True)
def test_parallel_recommendations_create_one_application(partner):
    # Transactional tests empty every table, the groups made by migrations included.
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    advisor = staff_user_create(email="par@urakata.example", display_name="Par", group=Groups.ADVISORS)
    candidate = Candidate.objects.get(leads__id=partner.post(lead_body()).json()["id"])
    posting = JobPostingFactory.create()
    count = 8
    barrier = threading.Barrier(count)

    def recommend(_: int) -> Any:
        client = Client()
        client.force_login(advisor)
        barrier.wait()
        try:
            response = _post(
                client, "/api/v1/applications/", {"candidate": str(candidate.pk), "posting": posting.pk}
            )
            return response.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        statuses = sorted(pool.map(recommend, range(count)))

    assert statuses == [201] + [409] * (count - 1)
    assert Application.objects.count() == 1
    assert ApplicationEvent.objects.count() == 1
    candidate.refresh_from_db()
    assert candidate.stage == "applying"


def test_a_leaving_without_a_placement_is_404(advisor_client, advisor, candidate, posting):
    application = application_create(candidate=candidate, posting=posting, by=advisor)

    response = _post(
        advisor_client,
        f"/api/v1/applications/{application.pk}/placement/leaving/",
        {"left_on": str(date(2027, 1, 1))},
    )

    assert response.status_code == 404
