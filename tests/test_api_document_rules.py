"""The rules that keep answers true to /api/schema/ (tests/test_openapi_staff.py fuzzes
them): a blank choice is null, an empty query parameter is refused, an interview time is
one a person could mean."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.models import Candidate
from leads.placements.services import application_create, application_transition
from tests.leads.conftest import lead_body
from tests.roles.factories import JobPostingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisor_client():
    advisor = staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)
    client.advisor = advisor  # type: ignore[attr-defined]
    return client


def test_blank_choices_are_null_and_the_schema_says_so(partner, advisor_client):
    candidate = Candidate.objects.get(leads__id=partner.post(lead_body()).json()["id"])
    Candidate.objects.filter(pk=candidate.pk).update(advisor=advisor_client.advisor)
    application = application_create(
        candidate=candidate, posting=JobPostingFactory.create(), by=advisor_client.advisor
    )

    shown = advisor_client.get(f"/api/v1/candidates/{candidate.pk}/").json()
    event = advisor_client.get(f"/api/v1/applications/{application.pk}/").json()["events"][0]
    schema = advisor_client.get("/api/schema/", headers={"Accept": "application/json"}).json()

    assert (shown["closed_reason"], shown["word_level"], shown["excel_level"]) == (None, None, None)
    assert (event["from_stage"], event["to_stage"]) == (None, "recommended")
    detail = schema["components"]["schemas"]["CandidateDetailOutput"]["properties"]
    assert detail["closed_reason"]["nullable"] is True


@pytest.mark.parametrize(
    ("path", "parameter"),
    [("/api/v1/candidates/", "stage"), ("/api/v1/applications/", "stage"), ("/api/v1/postings/", "status")],
)
def test_an_empty_query_parameter_is_a_400(advisor_client, path, parameter):
    response = advisor_client.get(path, {parameter: ""})

    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [
            {"code": "invalid", "detail": "Give a value or leave the parameter out.", "attr": parameter}
        ],
    }


def test_an_interview_in_1869_is_refused(partner, advisor_client):
    candidate = Candidate.objects.get(leads__id=partner.post(lead_body()).json()["id"])
    application = application_create(
        candidate=candidate, posting=JobPostingFactory.create(), by=advisor_client.advisor
    )
    application_transition(application_id=application.pk, to="submitted", by=advisor_client.advisor)
    path = f"/api/v1/applications/{application.pk}/interview-rounds/"

    old = advisor_client.post(
        path, {"scheduled_at": "1869-07-14T12:02:08-19:52"}, content_type="application/json"
    )
    soon = advisor_client.post(
        path,
        {"scheduled_at": (timezone.now() + timedelta(days=3)).isoformat()},
        content_type="application/json",
    )

    assert old.status_code == 400
    assert old.json()["errors"] == [
        {
            "code": "invalid",
            "detail": "Enter a time within a year before and two years after today.",
            "attr": "scheduled_at",
        }
    ]
    assert soon.status_code == 201, soon.json()
