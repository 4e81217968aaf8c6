"""Non-public postings (非公開求人): advisors and managers only (CONTRACT section 4)."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group

from accounts.models import Groups, User
from roles.models import Certification, JobPosting, Role
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db

POSTINGS = "/api/v1/postings/"
JST = ZoneInfo("Asia/Tokyo")


def _staff(email: str, *, group: str | None, is_staff: bool = True) -> User:
    user = User.objects.create_user(email=email, password="x", display_name=email, is_staff=is_staff)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def advisor_client(client):
    client.force_login(_staff("advisor@example.com", group=Groups.ADVISORS))
    return client


@pytest.fixture
def posting():
    employer = EmployerFactory.create(name="あおば食品株式会社", prefecture="13", industry="食品メーカー")
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=JST), tick=False):
        posting = JobPostingFactory.create(
            employer=employer,
            role=Role.objects.get(slug="accounting"),
            title="【未経験OK】経理アシスタント",
            description="請求書の発行を担当します。",
            prefecture="13",
            remote=JobPosting.Remote.PARTIAL,
            salary_min=3_200_000,
            salary_max=4_000_000,
            inexperienced_welcome=True,
            pc_skills=["Excel"],
            weekends_holidays_off=True,
            annual_holidays=125,
            avg_monthly_overtime_hours=10,
        )
        posting.preferred_certifications.set(Certification.objects.filter(code__in=["boki_3", "mos_excel"]))
        posting.required_certifications.set(Certification.objects.filter(code="boki_2"))
    return posting


def _expected(posting: JobPosting) -> dict[str, Any]:
    return {
        "id": posting.pk,
        "employer": {
            "id": posting.employer_id,
            "name": "あおば食品株式会社",
            "prefecture": "13",
            "industry": "食品メーカー",
        },
        "role": {"slug": "accounting", "name_ja": "経理"},
        "title": "【未経験OK】経理アシスタント",
        "description": "請求書の発行を担当します。",
        "prefecture": "13",
        "remote": "partial",
        "employment_type": "full_time",
        "salary_min": 3_200_000,
        "salary_max": 4_000_000,
        "inexperienced_welcome": True,
        "experience_preferred": False,
        "required_certifications": [{"code": "boki_2", "name": "日商簿記検定2級"}],
        "preferred_certifications": [
            {"code": "boki_3", "name": "日商簿記検定3級"},
            {"code": "mos_excel", "name": "MOS Excel"},
        ],
        "pc_skills": ["Excel"],
        "weekends_holidays_off": True,
        "annual_holidays": 125,
        "avg_monthly_overtime_hours": 10,
        "status": "open",
        "created_at": "2026-11-02T10:00:00+09:00",
        "updated_at": "2026-11-02T10:00:00+09:00",
    }


@pytest.mark.parametrize("path", [POSTINGS, f"{POSTINGS}1/"])
def test_it_refuses_an_anonymous_caller(client, path):
    response = client.get(path)

    assert response.status_code == 403
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_authenticated", "detail": "認証情報が含まれていません。", "attr": None}],
    }


def test_it_ignores_a_bearer_key(client, posting):
    # Partners authenticate with API keys; those never open the postings.
    response = client.get(POSTINGS, headers={"Authorization": "Bearer some-partner-key"})

    assert response.status_code == 403
    assert posting.title not in response.content.decode()


@pytest.mark.parametrize("which", ["list", "detail"])
def test_it_refuses_a_valid_partner_key(partner, posting, which):
    # The key is real and active: it opens the partner's own API...
    assert partner.get("/api/v1/leads/").status_code == 200
    path = POSTINGS if which == "list" else f"{POSTINGS}{posting.pk}/"

    # ...and nothing of the postings (CONTRACT section 4).
    response = partner.get(path)

    assert response.status_code == 403
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_authenticated", "detail": "認証情報が含まれていません。", "attr": None}],
    }
    text = response.content.decode()
    assert posting.title not in text
    assert posting.employer.name not in text


@pytest.mark.parametrize(
    ("group", "is_staff"),
    [(None, True), (None, False), (Groups.ADVISORS, False)],
    ids=["staff-without-group", "plain-user", "advisor-group-but-not-staff"],
)
def test_it_refuses_a_user_who_is_not_an_advisor(client, posting, group, is_staff):
    client.force_login(_staff("someone@example.com", group=group, is_staff=is_staff))

    for path in (POSTINGS, f"{POSTINGS}{posting.pk}/"):
        response = client.get(path)

        assert response.status_code == 403
        assert response.json() == {
            "type": "client_error",
            "errors": [
                {
                    "code": "permission_denied",
                    "detail": "この操作を行う権限がありません。",
                    "attr": None,
                }
            ],
        }


def test_it_lists_postings_to_an_advisor(advisor_client, posting):
    response = advisor_client.get(POSTINGS)

    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": [_expected(posting)]}


def test_it_shows_one_posting_to_an_advisor(advisor_client, posting):
    response = advisor_client.get(f"{POSTINGS}{posting.pk}/")

    assert response.status_code == 200
    assert response.json() == _expected(posting)


def test_it_answers_404_for_an_unknown_posting(advisor_client):
    response = advisor_client.get(f"{POSTINGS}999999/")

    assert response.status_code == 404
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "見つかりませんでした。", "attr": None}],
    }


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_it_lets_managers_and_superusers_in(client, posting, who):
    if who == "manager":
        user = _staff("manager@example.com", group=Groups.MANAGERS)
    else:
        user = User.objects.create_superuser(email="root@example.com", password="x", display_name="root")
    client.force_login(user)

    response = client.get(POSTINGS)

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [posting.pk]


def test_it_refuses_an_advisor_whose_account_was_disabled(client, posting):
    advisor = _staff("gone@example.com", group=Groups.ADVISORS)
    client.force_login(advisor)
    User.objects.filter(pk=advisor.pk).update(is_active=False)

    response = client.get(POSTINGS)

    assert response.status_code == 403


def test_it_filters_by_role_and_status(advisor_client):
    accounting, hr = Role.objects.get(slug="accounting"), Role.objects.get(slug="hr")
    open_accounting = JobPostingFactory.create(role=accounting)
    closed_accounting = JobPostingFactory.create(role=accounting, status=JobPosting.Status.CLOSED)
    open_hr = JobPostingFactory.create(role=hr)

    def ids(query):
        response = advisor_client.get(POSTINGS, query)
        assert response.status_code == 200
        return {item["id"] for item in response.json()["results"]}

    assert ids({"role": "accounting"}) == {open_accounting.pk, closed_accounting.pk}
    assert ids({"status": "open"}) == {open_accounting.pk, open_hr.pk}
    assert ids({"role": "accounting", "status": "closed"}) == {closed_accounting.pk}
    assert ids({"role": "legal"}) == set()


def test_it_rejects_an_unknown_status_filter(advisor_client):
    response = advisor_client.get(POSTINGS, {"status": "archived"})

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [(error["code"], error["attr"]) for error in body["errors"]] == [("invalid", "status")]


def test_it_pages_newest_first(advisor_client):
    postings = []
    for day in (1, 2, 3):
        with time_machine.travel(datetime(2026, 11, day, 9, 0, tzinfo=JST), tick=False):
            postings.append(JobPostingFactory.create())

    first = advisor_client.get(POSTINGS, {"page_size": 2}).json()
    second = advisor_client.get(first["next"]).json()

    assert [item["id"] for item in first["results"]] == [postings[2].pk, postings[1].pk]
    assert [item["id"] for item in second["results"]] == [postings[0].pk]
    assert second["next"] is None


def test_it_lists_postings_in_a_constant_number_of_queries(advisor_client, django_assert_num_queries):
    certifications = list(Certification.objects.all()[:3])
    for _ in range(10):
        posting = JobPostingFactory.create()
        posting.required_certifications.set(certifications[:1])
        posting.preferred_certifications.set(certifications[1:])

    # 1. the session, 2. the user, 3. IsAdvisor: is the user in Advisors or Managers,
    # 4. one page of postings joined with employer and role,
    # 5. their required certifications, 6. their preferred certifications.
    with django_assert_num_queries(6):
        response = advisor_client.get(POSTINGS)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 10
