"""Applications in the advisors' workspace: the pipeline list (counts per stage, filters,
moves through the service), the application's steps, placements, and the posting's
"matching candidates" page from which an advisor recommends or reveals the employer."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import Groups, User
from accounts.services import staff_user_create
from leads.models import Application, ApplicationEvent, Candidate, EmployerReveal, InterviewRound, Placement
from leads.placements.services import application_accept, application_create
from roles.models import EmployerFeeTerms, JobPosting, Role
from tests.clock import clock_at
from tests.leads.conftest import lead_body
from tests.roles.factories import EmployerFactory, JobPostingFactory

pytestmark = pytest.mark.django_db

# Written around fixed dates (offers in late November 2026, starts in January 2027).
_clock = clock_at("2026-11-20T10:00:00+09:00")

S = Application.Stage
LIST = "/admin/leads/application/"


@pytest.fixture
def advisor() -> User:
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


@pytest.fixture
def browser(advisor: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)
    return client


@pytest.fixture
def candidate(partner) -> Candidate:
    return Candidate.objects.get(leads__id=partner.post(lead_body()).json()["id"])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _candidates(partner, n: int) -> list[Candidate]:
    ids = [
        partner.post(lead_body(email=f"p{i}@example.com", phone=f"090-2{i:03d}-{i:04d}")).json()["id"]
        for i in range(n)
    ]
    return [Candidate.objects.get(leads__id=i) for i in ids]


def test_the_pipeline_list_counts_each_stage_within_its_query_budget(
    browser, advisor, partner, django_assert_max_num_queries
):
    posting = JobPostingFactory.create()
    people = _candidates(partner, 5)
    for person, stage in zip(
        people, [S.RECOMMENDED, S.SUBMITTED, S.SUBMITTED, S.OFFER, S.REJECTED], strict=True
    ):
        application = application_create(candidate=person, posting=posting, by=advisor)
        Application.objects.filter(pk=application.pk).update(stage=stage)

    # Session, user, permissions, the page with its count, the facet counts of the three
    # filters and their choices: a fixed number whatever the number of rows.
    with django_assert_max_num_queries(16):
        response = browser.get(LIST)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Submitted to the employer (2)" in body
    assert "Offer (1)" in body
    assert "Rejected by the employer (1)" in body


def test_the_list_filters_by_stage_advisor_and_employer(browser, advisor, partner):
    wanted_employer = EmployerFactory.create(name="あおば食品株式会社")
    one, two = _candidates(partner, 2)
    wanted = application_create(
        candidate=one, posting=JobPostingFactory.create(employer=wanted_employer), by=advisor
    )
    application_create(candidate=two, posting=JobPostingFactory.create(), by=advisor)

    by_employer = browser.get(LIST, {"posting__employer__id__exact": wanted_employer.pk})
    by_stage = browser.get(LIST, {"stage__exact": "offer"})
    by_advisor = browser.get(LIST, {"advisor__id__exact": advisor.pk})

    assert [a.pk for a in by_employer.context["cl"].result_list] == [wanted.pk]
    assert list(by_stage.context["cl"].result_list) == []
    assert by_advisor.context["cl"].result_count == 2


def test_an_action_moves_the_selected_applications_through_the_service(browser, advisor, partner):
    posting = JobPostingFactory.create()
    one, two = _candidates(partner, 2)
    movable = application_create(candidate=one, posting=posting, by=advisor)
    stuck = application_create(candidate=two, posting=posting, by=advisor)
    Application.objects.filter(pk=stuck.pk).update(stage=S.REJECTED)

    response = browser.post(
        LIST, {"action": "move_to_submitted", "_selected_action": [movable.pk, stuck.pk]}, follow=True
    )

    assert response.status_code == 200
    movable.refresh_from_db()
    stuck.refresh_from_db()
    assert (movable.stage, stuck.stage) == ("submitted", "rejected")
    event = ApplicationEvent.objects.get(kind="stage_changed")
    assert (event.application, event.actor) == (movable, advisor)
    assert _messages(response) == [
        "1 applications moved.",
        f"{two}: An application cannot move from Rejected by the employer to Submitted to the employer.",
    ]


def test_the_application_page_shows_its_steps_and_keeps_the_stage_read_only(browser, advisor, candidate):
    application = application_create(candidate=candidate, posting=JobPostingFactory.create(), by=advisor)
    Application.objects.filter(pk=application.pk).update(stage=S.OFFER)
    url = f"{LIST}{application.pk}/change/"

    page = browser.get(url)
    inlines = {
        f"{prefix}-{key}": "0"
        for prefix in ("interview_rounds", "events")
        for key in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    saved = browser.post(url, {"note": "メモ", "stage": "accepted", **inlines})

    assert (page.status_code, saved.status_code) == (200, 302)
    assert f"/admin/leads/application/{application.pk}/accept/" in page.content.decode()
    application.refresh_from_db()
    assert (application.stage, application.note) == ("offer", "メモ")
    assert 'name="stage"' not in page.content.decode()


def test_an_advisor_schedules_an_interview_and_records_the_placement_from_the_admin(
    browser, advisor, candidate
):
    application = application_create(candidate=candidate, posting=JobPostingFactory.create(), by=advisor)
    Application.objects.filter(pk=application.pk).update(stage=S.SUBMITTED)

    assert browser.get(f"{LIST}{application.pk}/interview/").status_code == 200
    interview = browser.post(
        f"{LIST}{application.pk}/interview/",
        {"scheduled_at_0": "2026-12-01", "scheduled_at_1": "14:00", "note": "一次"},
    )
    Application.objects.filter(pk=application.pk).update(stage=S.OFFER)
    placed = browser.post(
        f"{LIST}{application.pk}/accept/",
        {"start_date": "2027-01-04", "annual_salary_jpy": "3600000", "fee_jpy": "", "guarantee_until": ""},
    )

    assert (interview.status_code, placed.status_code) == (302, 302)
    assert list(InterviewRound.objects.values_list("number", "note")) == [(1, "一次")]
    placement = Placement.objects.get()
    assert (placement.start_date, placement.fee_jpy) == (date(2027, 1, 4), 1_080_000)
    candidate.refresh_from_db()
    assert candidate.stage == "placed"


def test_a_refused_placement_shows_the_rule_on_the_form(browser, advisor, candidate):
    application = application_create(candidate=candidate, posting=JobPostingFactory.create(), by=advisor)

    response = browser.post(
        f"{LIST}{application.pk}/accept/", {"start_date": "2027-01-04", "annual_salary_jpy": "3600000"}
    )

    assert response.status_code == 200
    assert "An application cannot move from Recommended to Offer accepted." in response.content.decode()
    assert Placement.objects.count() == 0


def test_the_leaving_is_recorded_on_the_placement_page(browser, advisor, candidate):
    application = application_create(candidate=candidate, posting=JobPostingFactory.create(), by=advisor)
    Application.objects.filter(pk=application.pk).update(stage=S.OFFER)
    EmployerFeeTerms.objects.create(
        employer=application.posting.employer,
        effective_from=date(2026, 1, 1),
        rate_percent=Decimal("30.00"),
        refund_bands=[{"within_days": 90, "percent": 50}],
    )
    placement = application_accept(
        application_id=application.pk, by=advisor, start_date=date(2027, 1, 4), annual_salary_jpy=3_600_000
    )

    # A refund typed in the form is not taken: it is computed from the bands.
    response = browser.post(
        f"/admin/leads/placement/{placement.pk}/change/",
        {
            "left_on": "2027-02-10",
            "refund_jpy": "1",
            # the read-only invoices inline's management form, as the page sends it
            "invoices-TOTAL_FORMS": "0",
            "invoices-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    placement.refresh_from_db()
    assert (placement.left_on, placement.refund_jpy) == (date(2027, 2, 10), 540_000)
    assert ApplicationEvent.objects.filter(kind="left_early", actor=advisor).count() == 1
    assert browser.get("/admin/leads/placement/").status_code == 200


def test_applications_cannot_be_deleted(browser, advisor, candidate):
    application = application_create(candidate=candidate, posting=JobPostingFactory.create(), by=advisor)

    response = browser.get(f"{LIST}{application.pk}/delete/")

    assert response.status_code == 403


def test_an_advisor_adds_an_application_through_the_service(browser, advisor, candidate):
    posting = JobPostingFactory.create()

    form = browser.get(f"{LIST}add/")
    response = browser.post(f"{LIST}add/", {"candidate": candidate.pk, "posting": posting.pk, "note": ""})

    assert (form.status_code, response.status_code) == (200, 302)
    application = Application.objects.get()
    assert (application.stage, application.advisor) == ("recommended", advisor)
    assert ApplicationEvent.objects.get().kind == "created"
    candidate.refresh_from_db()
    assert candidate.stage == "applying"


# --- the posting's matching candidates ----------------------------------------------------------


def _matching_posting() -> JobPosting:
    return JobPostingFactory.create(
        role=Role.objects.get(slug="general_admin"),
        prefecture="13",
        inexperienced_welcome=True,
        weekends_holidays_off=True,
    )


def test_the_posting_page_links_to_its_matching_candidates(browser):
    posting = _matching_posting()

    response = browser.get(f"/admin/roles/jobposting/{posting.pk}/change/")

    assert response.status_code == 200
    assert f"/admin/roles/jobposting/{posting.pk}/matching/" in response.content.decode()


def test_the_matching_page_ranks_with_reasons_within_its_query_budget(
    browser, advisor, partner, django_assert_num_queries
):
    posting = _matching_posting()
    people = _candidates(partner, 3)
    Candidate.objects.filter(pk=people[0].pk).update(desired_roles=["general_admin"])
    application_create(candidate=people[0], posting=posting, by=advisor)

    # 1 session, 2 user, 3 the posting with role and employer, 4-5 the advisor's user and
    # group permissions, 6 the posting's certifications, 7 the ranked candidates, 8 their
    # applications for the posting, 9 their reveals.
    with django_assert_num_queries(9):
        response = browser.get(f"/admin/roles/jobposting/{posting.pk}/matching/")

    assert response.status_code == 200
    rows = response.context["rows"]
    assert rows[0]["match"].candidate == people[0]
    assert rows[0]["stage_label"] == "Recommended"
    assert [row["stage_label"] for row in rows[1:]] == [None, None]
    assert "Desired role: 一般事務" in response.content.decode()


def test_recommending_from_the_matching_page_creates_the_application(browser, advisor, candidate):
    posting = _matching_posting()
    url = f"/admin/roles/jobposting/{posting.pk}/matching/"

    first = browser.post(url, {"candidate": candidate.pk, "action": "recommend"}, follow=True)
    second = browser.post(url, {"candidate": candidate.pk, "action": "recommend"}, follow=True)

    assert Application.objects.get().candidate == candidate
    assert _messages(first) == [f"{candidate} recommended."]
    assert _messages(second) == ["This candidate has already been recommended for this posting."]


def test_revealing_from_the_matching_page_is_logged(browser, advisor, candidate):
    posting = _matching_posting()

    browser.post(
        f"/admin/roles/jobposting/{posting.pk}/matching/", {"candidate": candidate.pk, "action": "reveal"}
    )

    reveal = EmployerReveal.objects.get()
    assert (reveal.candidate, reveal.posting, reveal.advisor) == (candidate, posting, advisor)


def test_staff_without_the_permission_cannot_recommend(candidate):
    staff = User.objects.create_user(
        email="it@urakata.example", password="x", display_name="IT", is_staff=True
    )
    client = Client()
    client.force_login(staff)
    posting = _matching_posting()

    response = client.post(f"/admin/roles/jobposting/{posting.pk}/matching/", {"candidate": candidate.pk})

    assert response.status_code == 403
    assert Application.objects.count() == 0


def test_the_add_form_refuses_a_posting_that_is_not_recruiting(browser, candidate):
    posting = JobPostingFactory.create(status=JobPosting.Status.PAUSED)

    response = browser.post(f"{LIST}add/", {"candidate": candidate.pk, "posting": posting.pk, "note": ""})

    assert response.status_code == 200
    assert "Only a posting that is recruiting can receive applications." in response.content.decode()
    assert Application.objects.count() == 0
