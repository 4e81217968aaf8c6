"""The two-year rule: a person the agency placed is not put forward to another employer for
two years after the start, unless a manager records the person's own request (kept on the
application's history and in the audit log). The same rule through the API and the admin.
Also: the leaving through the API (recorded once; the refund is never typed)."""

from datetime import date

import pytest
import time_machine
from django.test import Client

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.models import Application, ApplicationEvent, AuditEntry
from leads.placements.fees import placement_record_leaving
from tests.clock import clock_at
from tests.leads.invoices.helpers import CandidateFactory, place
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db

_clock = clock_at("2027-03-01T10:00:00+09:00")

RULE = (
    "Two-year rule: this person started at 株式会社はじめ商事 on 2027-03-01 through us and may not be "
    "put forward to another employer until 2029-03-01, unless a manager records that the person asked for it."
)


@pytest.fixture
def advisor():
    return staff_user_create(email="rule@urakata.example", display_name="Rule", group=Groups.ADVISORS)


@pytest.fixture
def manager():
    return staff_user_create(email="chief@urakata.example", display_name="Chief", group=Groups.MANAGERS)


@pytest.fixture
def placed(advisor):
    """A person placed at はじめ商事, starting today (2027-03-01)."""
    candidate = CandidateFactory.create(advisor=advisor)
    place(
        by=advisor,
        candidate=candidate,
        employer=EmployerFactory.create(name="株式会社はじめ商事"),
        start_date=date(2027, 3, 1),
    )
    return candidate


@pytest.fixture
def other_posting():
    return JobPostingFactory.create(employer=EmployerFactory.create(name="つぎの物産株式会社"))


def _api(user, body):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client.post("/api/v1/applications/", body, content_type="application/json")


def test_the_api_refuses_another_employer_within_two_years(advisor, placed, other_posting):
    response = _api(advisor, {"candidate": str(placed.pk), "posting": other_posting.pk})

    assert response.status_code == 409
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "two_year_rule", "detail": RULE, "attr": None}],
    }
    assert not Application.objects.filter(posting=other_posting).exists()


def test_an_advisor_cannot_record_the_persons_request(advisor, placed, other_posting):
    response = _api(
        advisor,
        {"candidate": str(placed.pk), "posting": other_posting.pk, "own_request_reason": "本人の希望"},
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "two_year_rule"
    assert "only a manager can record" in response.json()["errors"][0]["detail"]
    assert not Application.objects.filter(posting=other_posting).exists()


def test_a_manager_records_the_persons_request_through_the_api(manager, placed, other_posting):
    response = _api(
        manager,
        {
            "candidate": str(placed.pk),
            "posting": other_posting.pk,
            "own_request_reason": "  本人から転職の相談があり、\n面談で意思を確認した  ",
        },
    )

    assert response.status_code == 201
    event = ApplicationEvent.objects.get(kind=ApplicationEvent.Kind.OWN_REQUEST)
    assert (event.application.posting, event.actor, event.note) == (
        other_posting,
        manager,
        "本人から転職の相談があり、 面談で意思を確認した",
    )
    audit = AuditEntry.objects.get(candidate_id=placed.pk, fields=["own_request_reason"])
    assert (audit.action, audit.actor, audit.channel) == ("change", manager, "api")


def test_the_same_employer_and_a_person_who_left_are_not_held(advisor, placed):
    same = JobPostingFactory.create(employer=placed.applications.get().posting.employer)
    assert _api(advisor, {"candidate": str(placed.pk), "posting": same.pk}).status_code == 201

    placement = placed.applications.get(posting__title="経理アシスタント").placement
    placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 3, 20), by=advisor)
    other = JobPostingFactory.create()
    assert _api(advisor, {"candidate": str(placed.pk), "posting": other.pk}).status_code == 201


def test_the_rule_ends_two_years_after_the_start(advisor, placed, other_posting):
    with time_machine.travel("2029-02-28T23:00:00+09:00", tick=False):
        advisor.refresh_from_db()
        held = _api(advisor, {"candidate": str(placed.pk), "posting": other_posting.pk})
    with time_machine.travel("2029-03-01T00:30:00+09:00", tick=False):
        free = _api(advisor, {"candidate": str(placed.pk), "posting": other_posting.pk})

    assert (held.status_code, free.status_code) == (409, 201)


def _admin_add(client: Client, candidate, posting, reason: str = ""):
    return client.post(
        "/admin/leads/application/add/",
        {"candidate": str(candidate.pk), "posting": posting.pk, "note": "", "own_request_reason": reason},
    )


def test_the_admin_refuses_it_with_the_rules_message(advisor, placed, other_posting):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)

    response = _admin_add(client, placed, other_posting)

    assert response.status_code == 200
    assert RULE in response.content.decode()
    assert not Application.objects.filter(posting=other_posting).exists()


def test_a_manager_records_the_persons_request_in_the_admin(manager, placed, other_posting):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(manager)

    response = _admin_add(client, placed, other_posting, reason="本人の申出（面談記録あり）")

    assert response.status_code == 302
    application = Application.objects.get(posting=other_posting)
    event = application.events.get(kind=ApplicationEvent.Kind.OWN_REQUEST)
    assert (event.actor, event.note) == (manager, "本人の申出（面談記録あり）")
    audit = AuditEntry.objects.get(candidate_id=placed.pk, fields=["own_request_reason"])
    assert (audit.actor, audit.channel) == (manager, "admin")


def test_the_api_refuses_a_second_leaving_day_and_never_takes_a_typed_refund(advisor):
    placement = place(by=advisor, employer=EmployerFactory.create(), start_date=date(2027, 3, 1))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)
    url = f"/api/v1/applications/{placement.application_id}/placement/leaving/"

    first = client.post(url, {"left_on": "2027-03-10", "refund_jpy": 1}, content_type="application/json")
    again = client.post(url, {"left_on": "2027-03-10"}, content_type="application/json")
    other = client.post(url, {"left_on": "2027-03-11"}, content_type="application/json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["refund_jpy"] == 0  # no fee terms: no bands, nothing to refund
    assert other.status_code == 409
    assert other.json()["errors"][0]["code"] == "already_left"
