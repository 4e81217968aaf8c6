"""The candidate's timeline on the admin page: consultations merged in from their own table
(booked, rescheduled, cancelled, held, no-show), calls with their outcome (voicemail
included), and a query count that does not grow with the history."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from consultations.models import Booking
from leads.candidates.pipeline import candidate_call_log
from leads.candidates.timeline import TIMELINE_SOURCES, candidate_timeline
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import Candidate, TimelineEvent
from leads.placements.services import application_create, application_transition
from tests.leads.helpers_admin import messages_of
from tests.roles.factories import JobPostingFactory

pytestmark = pytest.mark.django_db

JST = timezone.get_fixed_timezone(9 * 60)
_numbers = iter(range(10_000))


def _candidate(advisor=None):
    n = next(_numbers)
    with time_machine.travel(datetime(2026, 11, 1, 9, 0, tzinfo=JST), tick=False):
        lead = lead_ingest(
            partner=None,
            data=LeadInput(
                family_name="佐藤",
                given_name=f"花子{n}",
                email=f"tl{n}@example.com",
                consent_policy_version="2026-04",
                consent_agreed_at=timezone.now(),
                consent_third_party_provision=True,
                raw_payload={},
            ),
        ).lead
    if advisor is not None:
        Candidate.objects.filter(pk=lead.candidate_id).update(advisor=advisor)
    return Candidate.objects.get(pk=lead.candidate_id)


def _booking(candidate, advisor, *, booked_at, start, kind="career", **changes):
    with time_machine.travel(booked_at, tick=False):
        booking = Booking.objects.create(
            candidate=candidate,
            advisor=advisor,
            kind=kind,
            mode="online",
            start_at=start,
            end_at=start + timedelta(minutes=45),
            blocked_until=start + timedelta(hours=1),
            manage_token_hash=uuid.uuid4().hex,
            manage_token_salt="s",
        )
    if changes:
        Booking.objects.filter(pk=booking.pk).update(**changes)
    return booking


@pytest.fixture
def advisor():
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


def _at(day, hour):
    return datetime(2026, 11, day, hour, 0, tzinfo=JST)


def test_consultations_are_merged_into_the_timeline(advisor):
    candidate = _candidate(advisor)
    # Booked on the 2nd for the 5th, moved twice (last on the 3rd).
    _booking(candidate, advisor, booked_at=_at(2, 10), start=_at(5, 14), sequence=2, updated_at=_at(3, 12))
    # Booked on the 2nd, cancelled on the 4th.
    _booking(
        candidate,
        advisor,
        booked_at=_at(2, 11),
        start=_at(6, 14),
        kind="documents",
        status="cancelled",
        cancelled_at=_at(4, 9),
        cancel_reason="都合が悪くなった",
    )
    # Held on the 3rd; a no-show on the 4th.
    _booking(candidate, advisor, booked_at=_at(1, 12), start=_at(3, 15), kind="interview", status="attended")
    _booking(candidate, advisor, booked_at=_at(1, 13), start=_at(4, 16), kind="interview", status="no_show")

    with time_machine.travel(_at(10, 9), tick=False):
        entries = [(e.at, e.kind) for e in candidate_timeline(candidate_id=candidate.pk)]

    assert entries == [
        (_at(4, 16), "booking_no_show"),
        (_at(4, 9), "booking_cancelled"),
        (_at(3, 15), "booking_held"),
        (_at(3, 12), "booking_rescheduled"),
        (_at(2, 11), "booking_booked"),
        (_at(2, 10), "booking_booked"),
        (_at(1, 13), "booking_booked"),
        (_at(1, 12), "booking_booked"),
        (_at(1, 9), "lead"),
    ]


def test_the_candidate_page_shows_the_consultations_in_constant_queries(
    advisor, django_assert_max_num_queries
):
    candidate = _candidate(advisor)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)
    url = f"/admin/leads/candidate/{candidate.pk}/change/"
    _booking(candidate, advisor, booked_at=_at(2, 10), start=_at(3, 15), kind="interview", status="attended")
    candidate_call_log(candidate_id=candidate.pk, outcome="voicemail", by=advisor)
    client.get(url)  # the session's first touch
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200

    for day in range(5, 15):
        _booking(
            candidate,
            advisor,
            booked_at=_at(day, 10),
            start=_at(day + 1, 15),
            kind="interview",
            status="no_show",
        )
        candidate_call_log(candidate_id=candidate.pk, outcome="no_answer", by=advisor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)

    html = page.content.decode()
    assert html.count('class="timeline-booking_no_show"') == 10
    assert html.count('class="timeline-booking_booked"') == 11
    assert html.count('class="timeline-booking_held"') == 1
    assert "Voicemail left" in html
    assert "Interview practice 2026-11-03 15:00" in html


def test_applications_are_merged_into_the_timeline(advisor):
    candidate = _candidate(advisor)
    posting = JobPostingFactory.create()
    with time_machine.travel(_at(2, 10), tick=False):
        application = application_create(candidate=candidate, posting=posting, by=advisor)
    with time_machine.travel(_at(3, 10), tick=False):
        application_transition(application_id=application.pk, to="submitted", by=advisor, note="書類送付")

    entries = candidate_timeline(candidate_id=candidate.pk)

    applications = [(e.at, e.kind, e.actor) for e in entries if e.kind.startswith("application_")]
    assert applications == [
        (_at(3, 10), "application_stage_changed", "Aoki"),
        (_at(2, 10), "application_created", "Aoki"),
    ]
    assert entries[0].detail.startswith(posting.title)
    assert entries[0].detail.endswith("書類送付")


def test_a_source_is_one_function(advisor):
    candidate = _candidate(advisor)

    def reminders(candidate_id):
        from leads.candidates.timeline import TimelineEntry

        return [TimelineEntry(at=_at(20, 9), kind="reminder", label="Reminder", actor="", detail="")]

    TIMELINE_SOURCES.append(reminders)
    try:
        kinds = [e.kind for e in candidate_timeline(candidate_id=candidate.pk)]
    finally:
        TIMELINE_SOURCES.remove(reminders)

    assert kinds == ["reminder", "lead"]


def test_the_list_logs_a_voicemail_which_keeps_the_sla_running(advisor):
    candidate = _candidate(advisor)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)

    response = client.post(
        "/admin/leads/candidate/",
        {"action": "log_call_voicemail", "_selected_action": [str(candidate.pk)]},
        follow=True,
    )

    assert messages_of(response) == ["Updated 1 candidate(s)."]
    candidate.refresh_from_db()
    # An attempt, not a contact: the candidate is being contacted and the contact-SLA
    # follow-ups (which look at last_contacted_at) still run.
    assert (candidate.stage, candidate.last_contacted_at) == ("contacting", None)
    call = TimelineEvent.objects.get(candidate=candidate, kind="call")
    assert (call.data, call.actor) == ({"outcome": "voicemail"}, advisor)
    page = client.get(f"/admin/leads/candidate/{candidate.pk}/change/").content.decode()
    assert "Voicemail left" in page
