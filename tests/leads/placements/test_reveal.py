"""Revealing a posting's employer to a candidate: an explicit advisor action after the
teaser, logged once per candidate and posting with who and when."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import Groups, User
from accounts.services import staff_user_create
from leads.models import Candidate, EmployerReveal
from leads.placements.services import employer_reveal
from tests.leads.conftest import lead_body
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


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


def _url(candidate: Candidate) -> str:
    return f"/api/v1/candidates/{candidate.pk}/employer-reveals/"


def test_revealing_is_logged_with_advisor_and_time(advisor_client, advisor, candidate, posting):
    with time_machine.travel("2026-11-25T15:00:00+09:00", tick=False):
        response = advisor_client.post(
            _url(candidate), {"posting": posting.pk}, content_type="application/json"
        )

    assert response.status_code == 201
    reveal = EmployerReveal.objects.get()
    assert response.json() == {
        "id": reveal.pk,
        "posting": {
            "id": posting.pk,
            "title": "経理事務",
            "role": posting.role.slug,
            "employer_name": "あおば食品株式会社",
            "employment_type": "full_time",
        },
        "advisor": {"id": advisor.pk, "display_name": "Aoki"},
        "revealed_at": "2026-11-25T15:00:00+09:00",
    }
    assert (reveal.candidate, reveal.posting, reveal.advisor) == (candidate, posting, advisor)
    assert reveal.revealed_at == datetime(2026, 11, 25, 15, 0, tzinfo=JST)


def test_revealing_again_keeps_the_first_record(advisor_client, advisor, candidate, posting):
    with time_machine.travel("2026-11-25T15:00:00+09:00", tick=False):
        advisor_client.post(_url(candidate), {"posting": posting.pk}, content_type="application/json")
    other = staff_user_create(email="ito@urakata.example", display_name="Ito", group=Groups.ADVISORS)
    client = Client()
    client.force_login(other)

    with time_machine.travel("2026-11-26T15:00:00+09:00", tick=False):
        response = client.post(_url(candidate), {"posting": posting.pk}, content_type="application/json")

    assert response.status_code == 200
    assert (response.json()["advisor"]["display_name"], response.json()["revealed_at"]) == (
        "Aoki",
        "2026-11-25T15:00:00+09:00",
    )
    assert EmployerReveal.objects.count() == 1


def test_the_candidates_reveals_are_listed_newest_first(
    advisor_client, advisor, candidate, posting, django_assert_num_queries
):
    later = JobPostingFactory.create()
    with time_machine.travel("2026-11-25T10:00:00+09:00", tick=False):
        employer_reveal(candidate=candidate, posting=posting, by=advisor)
    with time_machine.travel("2026-11-26T10:00:00+09:00", tick=False):
        employer_reveal(candidate=candidate, posting=later, by=advisor)
    employer_reveal(
        candidate=Candidate.objects.create(
            family_name="他",
            given_name="人",
            email="x@example.com",
            partner_status_changed_at=posting.created_at,
        ),
        posting=posting,
        by=advisor,
    )

    # 1 session, 2 user, 3 advisor group check, 4 candidate, 5 the reveals with posting,
    # employer, role and advisor.
    with django_assert_num_queries(5):
        response = advisor_client.get(_url(candidate))

    assert response.status_code == 200
    assert [row["posting"]["id"] for row in response.json()] == [later.pk, posting.pk]


def test_partners_and_anonymous_callers_cannot_reveal(client, partner, candidate, posting):
    anonymous = client.post(_url(candidate), {"posting": posting.pk}, content_type="application/json")
    as_partner = partner.client.post(
        _url(candidate), {"posting": posting.pk}, content_type="application/json", headers=partner.headers()
    )

    assert (anonymous.status_code, as_partner.status_code) == (403, 403)
    assert EmployerReveal.objects.count() == 0


def test_the_partner_sees_no_employer_after_a_reveal(partner, advisor, candidate, posting):
    employer_reveal(candidate=candidate, posting=posting, by=advisor)

    lead_id = candidate.leads.get().id
    bodies = [
        partner.get(f"/api/v1/leads/{lead_id}/").content.decode(),
        partner.get("/api/v1/leads/").content.decode(),
    ]

    assert all("あおば食品" not in body and "経理事務" not in body for body in bodies)


def test_an_unknown_candidate_is_404(advisor_client, posting):
    response = advisor_client.post(
        "/api/v1/candidates/00000000-0000-0000-0000-000000000000/employer-reveals/",
        {"posting": posting.pk},
        content_type="application/json",
    )

    assert response.status_code == 404
