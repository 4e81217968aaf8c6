"""The advisors' dashboard (/admin/leads/candidate/dashboard/): today's consultations,
overdue follow-ups, new leads with their business-hours SLA clock, the funnel chart, who
may see it, and a constant query count."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import Groups, User
from accounts.services import staff_user_create
from consultations.models import Booking
from leads.candidates.followups import followup_task_complete, followup_task_create
from leads.candidates.pipeline import candidate_advance_to, candidate_call_log, candidate_close
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import Candidate, Partner
from leads.partners.keys import api_key_issue, partner_create

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/leads/candidate/dashboard/"
JST = timezone.get_fixed_timezone(9 * 60)
# Tuesday 2026-11-24, 10:30 in Tokyo: a business day.
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=JST)
_numbers = iter(range(10_000))


def _candidate(*, advisor=None, partner=None, family_name="佐藤", at=None):
    n = next(_numbers)
    data = LeadInput(
        family_name=family_name,
        given_name=f"花子{n}",
        family_name_kana="サトウ",
        given_name_kana="ハナコ",
        email=f"dash{n}@example.com",
        consent_policy_version="2026-04",
        consent_agreed_at=NOW - timedelta(days=30),
        consent_third_party_provision=True,
        raw_payload={},
    )
    with time_machine.travel(at or NOW - timedelta(days=20), tick=False):
        lead = lead_ingest(partner=partner, data=data).lead
    candidate = Candidate.objects.get(pk=lead.candidate_id)
    if advisor is not None:
        Candidate.objects.filter(pk=candidate.pk).update(advisor=advisor)
    return candidate


def _booking(candidate, advisor, *, start, status="booked"):
    return Booking.objects.create(
        candidate=candidate,
        advisor=advisor,
        kind="career" if status != "cancelled" else "documents",
        mode="online",
        start_at=start,
        end_at=start + timedelta(minutes=45),
        blocked_until=start + timedelta(hours=1),
        status=status,
        manage_token_hash=uuid.uuid4().hex,
        manage_token_salt="s",
    )


def _task(candidate, advisor, *, due, title):
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        return followup_task_create(candidate_id=candidate.pk, advisor_id=advisor.pk, due_at=due, title=title)


def _login(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _get(client, params=None):
    with time_machine.travel(NOW, tick=False):
        response = client.get(DASHBOARD, params or {})
    assert response.status_code == 200
    return response


@pytest.fixture
def advisor():
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


@pytest.fixture
def other_advisor():
    return staff_user_create(email="ito@urakata.example", display_name="Ito", group=Groups.ADVISORS)


@pytest.fixture
def manager():
    return staff_user_create(email="mori@urakata.example", display_name="Mori", group=Groups.MANAGERS)


def _world(advisor, other_advisor):
    partner = Partner.objects.filter(slug="career-media").first() or partner_create(
        slug="career-media", name="Career Media"
    )
    mine = _candidate(advisor=advisor, family_name="自分")
    theirs = _candidate(advisor=other_advisor, family_name="他人")
    # Consultations: today at 14:00 (mine), today at 16:00 (theirs), tomorrow (mine), a
    # cancelled one today (mine).
    _booking(mine, advisor, start=NOW.replace(hour=14, minute=0))
    _booking(theirs, other_advisor, start=NOW.replace(hour=16, minute=0))
    _booking(mine, advisor, start=NOW + timedelta(days=1), status="attended")
    _booking(mine, advisor, start=NOW.replace(hour=11, minute=0), status="cancelled")
    # Follow-ups: overdue (mine, theirs), due later today (mine), overdue but done (mine).
    _task(mine, advisor, due=NOW - timedelta(hours=2), title="折り返し電話")
    _task(theirs, other_advisor, due=NOW - timedelta(days=1), title="他人のタスク")
    _task(mine, advisor, due=NOW + timedelta(hours=2), title="まだ先")
    done = _task(mine, advisor, due=NOW - timedelta(hours=5), title="済んだタスク")
    followup_task_complete(task_id=done.pk, by=advisor)
    # New leads: Friday 17:00 (one business hour on Friday; the weekend and Monday 23rd, a
    # public holiday, do not count; due Tuesday 10:00: 30 min overdue), Tuesday 09:00,
    # unassigned (due 11:00: 30 min left); one already reached.
    late = _candidate(partner=partner, family_name="遅延", at=datetime(2026, 11, 20, 17, 0, tzinfo=JST))
    fresh = _candidate(family_name="新着", at=datetime(2026, 11, 24, 9, 0, tzinfo=JST))
    reached = _candidate(family_name="連絡済", at=datetime(2026, 11, 24, 9, 5, tzinfo=JST))
    with time_machine.travel(datetime(2026, 11, 24, 9, 30, tzinfo=JST), tick=False):
        candidate_call_log(candidate_id=reached.pk, outcome="reached", by=advisor)
    Candidate.objects.filter(pk=late.pk).update(advisor=advisor)
    return {"mine": mine, "theirs": theirs, "late": late, "fresh": fresh, "reached": reached}


def test_an_advisor_sees_their_day_and_the_sla_clock_in_business_hours(advisor, other_advisor):
    people = _world(advisor, other_advisor)

    response = _get(_login(advisor))

    html = response.content.decode()
    assert [b.candidate_id for b in response.context["consultations"]] == [people["mine"].pk]
    assert [t.title for t in response.context["overdue"]] == ["折り返し電話"]
    clocks = [(row["clock"].lead.candidate_id, row["text"]) for row in response.context["new_leads"]]
    # The oldest first; the unassigned fresh lead is there for anyone to pick up; the
    # other advisor's, the reached one and the month-old ones are not.
    assert clocks == [(people["late"].pk, "0 h 30 min overdue"), (people["fresh"].pk, "0 h 30 min left")]
    assert '<td class="sla-overdue">0 h 30 min overdue</td>' in html
    assert '<td class="sla-left">0 h 30 min left</td>' in html
    assert "14:00-14:45" in html
    assert response.context["scope"] == "mine"


def test_a_manager_sees_everyones_work(manager, advisor, other_advisor):
    people = _world(advisor, other_advisor)

    response = _get(_login(manager))

    assert [b.candidate_id for b in response.context["consultations"]] == [
        people["mine"].pk,
        people["theirs"].pk,
    ]
    assert [t.title for t in response.context["overdue"]] == ["他人のタスク", "折り返し電話"]
    assert [row["clock"].lead.candidate_id for row in response.context["new_leads"]] == [
        people["late"].pk,
        people["fresh"].pk,
    ]
    assert response.context["scope"] == "all"
    mine_only = _get(_login(manager), {"scope": "mine"})
    assert mine_only.context["consultations"] == []


def test_the_funnel_counts_what_each_candidate_reached_closed_ones_included(manager):
    one, two, three = _candidate(), _candidate(), _candidate()
    _candidate()  # still new
    candidate_advance_to(candidate_id=one.pk, stage="consulted")
    candidate_advance_to(candidate_id=two.pk, stage="applying")
    candidate_close(candidate_id=two.pk, reason="declined", by=None)  # keeps "applying"
    candidate_advance_to(candidate_id=three.pk, stage="placed")

    response = _get(_login(manager))

    reached = {row["step"].stage: row["step"].reached for row in response.context["funnel"]["rows"]}
    assert reached == {
        "new": 4,
        "contacting": 3,
        "contacted": 3,
        "consultation_booked": 3,
        "consulted": 3,
        "documents": 2,
        "applying": 2,
        "interviewing": 1,
        "offered": 1,
        "placed": 1,
    }
    html = response.content.decode()
    # The chart is inline SVG with its values as text, for screen readers too.
    assert '<svg class="funnel-chart" role="img" aria-labelledby="funnel-title funnel-desc"' in html
    assert "New: 4 (100%), Contacting: 3 (75%)," in html
    assert '<tr class="funnel-placed"><td>Placed</td><td>1</td><td>25</td></tr>' in html
    assert "<script" not in html.split('id="content-main"')[1]


def test_the_dashboard_runs_a_constant_number_of_queries(
    manager, advisor, other_advisor, django_assert_num_queries
):
    _world(advisor, other_advisor)
    client = _login(manager)
    _get(client)  # warm: the session's first touch

    # 1 session, 2 user, 3 is the user a manager, 4-5 the user's permissions (user, groups),
    # 6 today's consultations, 7 overdue follow-ups, 8 new leads, 9 overdue invoices (a
    # manager's), 10 the funnel (one aggregate), 11 the last hour's refused booking attempts
    # (the alerts), 12-13 the partners' payouts and funnels (a manager's). Nothing per row.
    with django_assert_num_queries(13):
        _get(client)
    for _ in range(5):
        _world(
            staff_user_create(email=f"a{next(_numbers)}@x.example", display_name="A", group=Groups.ADVISORS),
            staff_user_create(email=f"b{next(_numbers)}@x.example", display_name="B", group=Groups.ADVISORS),
        )
    with django_assert_num_queries(13):
        response = _get(client)
    assert len(response.context["consultations"]) == 12
    assert len(response.context["new_leads"]) == 12


def test_it_is_linked_from_the_admin_home_and_the_nav(advisor):
    client = _login(advisor)

    home = client.get("/admin/").content.decode()

    assert f'<a href="{DASHBOARD}" id="nav-dashboard">Dashboard</a>' in home
    assert f'<a href="{DASHBOARD}">Dashboard</a>' in home


def test_staff_without_the_workspace_and_partners_get_nothing():
    partner = partner_create(slug="career-media", name="Career Media")
    _, raw_key = api_key_issue(partner=partner)
    _candidate(partner=partner, family_name="秘密")
    outsider = User.objects.create_user(
        email="x@urakata.example", password="x", display_name="X", is_staff=True
    )

    anonymous = Client().get(DASHBOARD, headers={"Authorization": f"Bearer {raw_key}"})
    forbidden = _login(outsider).get(DASHBOARD)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    assert forbidden.status_code == 403
    assert "秘密" not in anonymous.content.decode() + forbidden.content.decode()
    assert 'id="nav-dashboard"' not in _login(outsider).get("/admin/").content.decode()
