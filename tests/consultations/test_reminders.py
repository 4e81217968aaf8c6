"""Consultation reminders (CONTRACT section 6): 24 h and 1 h before, only for the booking as
it still is, never in quiet hours, never after cancellation, once each."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import translation

from consultations.models import Booking
from consultations.outbox_handlers import booking_reminder_send
from consultations.services import booking_cancel, booking_reschedule
from consultations.services.notices import reminder_superseded_at
from core.channels.sms import outbox as sms_outbox
from core.knobs import parse_quiet_hours
from core.models import OutboxMessage
from core.outbox import Outcome
from core.outbox_sweep import outbox_sweep
from core.quiet_hours import candidate_delivery_time
from leads.candidates.quiet import candidates_quiet
from leads.models import Candidate, Lead, TimelineEvent
from tests.consultations.conftest import FRIDAY_MORNING, make_lead

pytestmark = pytest.mark.django_db
TEN = "2026-11-24T10:00:00+09:00"  # a Tuesday


def _jst(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms_outbox.clear()


@pytest.fixture
def booked(api, advisors, lead):
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        assert api.book_lead(lead, TEN).status_code == 201
    mail.outbox.clear()
    return Booking.objects.get()


def _reminder_mails():
    return [m for m in mail.outbox if m.subject.startswith("【リマインド】")]


def _reminders():
    rows = OutboxMessage.objects.filter(kind="booking.reminder").order_by("due_at")
    return [(row.due_at.isoformat(), row.state) for row in rows]


def test_a_booking_writes_its_reminders_24h_and_1h_before(booked):
    assert _reminders() == [
        ("2026-11-23T01:00:00+00:00", "pending"),  # Monday 10:00 JST
        ("2026-11-24T00:00:00+00:00", "pending"),  # Tuesday 09:00 JST
    ]


def test_each_reminder_is_sent_once_at_its_time(booked):
    with time_machine.travel("2026-11-23T09:59:00+09:00", tick=False):
        outbox_sweep()  # the confirmation only
    assert _reminder_mails() == []
    with time_machine.travel("2026-11-23T10:00:00+09:00", tick=False):
        outbox_sweep()
        outbox_sweep()  # a second sweep finds nothing to do

    assert [(m.subject, m.to) for m in _reminder_mails()] == [
        ("【リマインド】2026-11-24 10:00 のキャリア相談", [booked.candidate.email])
    ]
    with time_machine.travel("2026-11-24T09:00:00+09:00", tick=False):
        outbox_sweep()
    assert len(_reminder_mails()) == 2


def test_a_cancelled_booking_sends_no_reminder(booked):
    with time_machine.travel("2026-11-23T09:00:00+09:00", tick=False):
        booking_cancel(booking_id=booked.pk)
    mail.outbox.clear()
    with time_machine.travel("2026-11-24T09:30:00+09:00", tick=False):
        outbox_sweep()

    assert _reminder_mails() == []
    assert {state for _, state in _reminders()} == {"cancelled"}


def test_a_moved_booking_is_reminded_of_its_new_time_only(booked):
    with time_machine.travel("2026-11-23T09:00:00+09:00", tick=False):
        booking_reschedule(booking_id=booked.pk, start=_jst("2026-11-25T14:00:00+09:00"))
    mail.outbox.clear()

    assert _reminders() == [
        ("2026-11-23T01:00:00+00:00", "cancelled"),
        ("2026-11-24T00:00:00+00:00", "cancelled"),
        ("2026-11-24T05:00:00+00:00", "pending"),  # 24 h before Wednesday 14:00
        ("2026-11-25T04:00:00+00:00", "pending"),
    ]
    for moment in ("2026-11-24T14:00:00+09:00", "2026-11-25T13:00:00+09:00"):
        with time_machine.travel(moment, tick=False):
            outbox_sweep()
    assert [m.subject for m in _reminder_mails()] == [
        "【リマインド】2026-11-25 14:00 のキャリア相談",
        "【リマインド】2026-11-25 14:00 のキャリア相談",
    ]


def test_a_reminder_found_late_is_expired_not_sent(booked):
    with time_machine.travel("2026-11-24T10:05:00+09:00", tick=False):
        outbox_sweep()

    assert _reminder_mails() == []
    assert {state for _, state in _reminders()} == {"expired"}


def test_a_24h_reminder_found_after_the_1h_one_is_due_gives_way_to_it(booked):
    # The sweep was down from Monday morning: at Tuesday 09:00 both are due; one reminder goes.
    with time_machine.travel("2026-11-24T09:00:00+09:00", tick=False):
        outbox_sweep()

    assert _reminders() == [
        ("2026-11-23T01:00:00+00:00", "expired"),
        ("2026-11-24T00:00:00+00:00", "sent"),
    ]
    assert len(_reminder_mails()) == 1


def test_a_24h_reminder_found_late_but_before_the_1h_one_still_goes(booked):
    with time_machine.travel("2026-11-24T08:59:00+09:00", tick=False):
        outbox_sweep()

    assert _reminders() == [
        ("2026-11-23T01:00:00+00:00", "sent"),
        ("2026-11-24T00:00:00+00:00", "pending"),
    ]


@override_settings(CANDIDATE_QUIET_HOURS=None)
def test_the_next_reminder_is_when_it_would_really_go_not_just_its_offset():
    start = _jst("2026-11-24T10:00:00+09:00")
    with override_settings(CONSULTATION_REMINDER_OFFSETS=(timedelta(hours=24), timedelta(hours=1))):
        nine = _jst("2026-11-24T09:00:00+09:00")
        assert reminder_superseded_at(start=start, offset=timedelta(hours=24)) == nine
        assert reminder_superseded_at(start=start, offset=timedelta(hours=1)) == start  # the last one
    with override_settings(
        CONSULTATION_REMINDER_OFFSETS=(timedelta(hours=24), timedelta(hours=3)),
        CANDIDATE_QUIET_HOURS=parse_quiet_hours("CANDIDATE_QUIET_HOURS", "21:00-08:00"),
    ):
        # 3 h before a 10:00 start is 07:00, in quiet hours: that one goes at 08:00.
        eight = _jst("2026-11-24T08:00:00+09:00")
        assert reminder_superseded_at(start=start, offset=timedelta(hours=24)) == eight


@override_settings(CONSULTATION_REMINDER_OFFSETS=(timedelta(hours=13),))
def test_a_reminder_in_quiet_hours_waits_for_the_morning(api, advisors, lead):
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        api.book_lead(lead, TEN)

    assert _reminders() == [("2026-11-23T23:00:00+00:00", "pending")]  # 08:00 JST, not 21:00


@pytest.mark.parametrize(
    ("due", "deadline", "expected"),
    [
        ("2026-11-24T12:00:00+09:00", None, "2026-11-24T12:00:00+09:00"),
        ("2026-11-24T21:00:00+09:00", None, "2026-11-25T08:00:00+09:00"),
        ("2026-11-25T03:00:00+09:00", None, "2026-11-25T08:00:00+09:00"),
        ("2026-11-25T07:59:00+09:00", None, "2026-11-25T08:00:00+09:00"),
        ("2026-11-25T08:00:00+09:00", None, "2026-11-25T08:00:00+09:00"),
        ("2026-11-24T12:00:00Z", None, "2026-11-25T08:00:00+09:00"),  # 21:00 JST
        ("2026-11-24T22:00:00+09:00", "2026-11-25T07:30:00+09:00", None),
    ],
)
def test_quiet_hours(due, deadline, expected):
    result = candidate_delivery_time(due=_jst(due), deadline=_jst(deadline) if deadline else None)

    assert (result.isoformat() if result else None) == expected


@override_settings(CANDIDATE_QUIET_HOURS=None)
def test_no_quiet_hours_when_the_knob_is_empty():
    due = _jst("2026-11-24T23:00:00+09:00")
    assert candidate_delivery_time(due=due) == due


def test_a_reminder_found_in_quiet_hours_waits_for_the_morning_without_counting_an_attempt(booked):
    # The 24 h reminder (Monday 10:00) was not delivered in time: a sweep finds it at 22:00.
    with time_machine.travel("2026-11-23T22:00:00+09:00", tick=False):
        result = outbox_sweep()
    row = OutboxMessage.objects.get(kind="booking.reminder", key__endswith=":86400s")
    assert (result.deferred, row.state, row.attempts) == (1, "pending", 0)
    assert row.due_at.isoformat() == "2026-11-23T23:00:00+00:00"  # 08:00 JST
    assert _reminder_mails() == []

    with time_machine.travel("2026-11-24T08:00:00+09:00", tick=False):
        outbox_sweep()
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 1)
    assert len(_reminder_mails()) == 1


def test_nobody_who_withdrew_consent_is_reminded(booked):
    Candidate.objects.filter(pk=booked.candidate_id).update(
        consent_withdrawn_at=_jst("2026-11-21T12:00:00+09:00")
    )

    with time_machine.travel("2026-11-24T09:00:00+09:00", tick=False):
        outbox_sweep()

    assert _reminder_mails() == []
    assert sms_outbox == []
    assert {state for _, state in _reminders()} == {"skipped"}


def test_a_candidate_who_prefers_sms_gets_a_short_text_in_their_language(api, advisors):
    lead = make_lead(email="sms@example.com", phone="+819012345678")
    Candidate.objects.filter(pk=lead.candidate_id).update(contact_channel="sms")
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        token = api.book_lead(lead, TEN).json()["manage_token"]
        outbox_sweep()  # the confirmation, by SMS too
    sms_outbox.clear()
    mail.outbox.clear()

    Booking.objects.update(language="en")
    with time_machine.travel("2026-11-23T10:00:00+09:00", tick=False), translation.override("ja"):
        outbox_sweep()  # the 24 h reminder, in the booking's language whatever the worker's

    assert mail.outbox == []
    assert [(m.to, m.body) for m in sms_outbox] == [
        (
            "+819012345678",
            "Urakata: a reminder of your Career consultation on 11/24 10:00 (Japan time)."
            f" Change or cancel: https://urakata.test/consultations/{token}",
        )
    ]


def test_an_upcoming_consultation_keeps_a_candidate_from_being_quiet(booked):
    long_ago = _jst("2026-10-01T10:00:00+09:00")
    Candidate.objects.update(created_at=long_ago, last_contacted_at=None)
    TimelineEvent.objects.update(occurred_at=long_ago)
    Lead.objects.update(created_at=long_ago)
    Booking.objects.update(updated_at=long_ago)  # booked long ago, for Tuesday 24 Nov 10:00

    def quiet(at):
        return list(candidates_quiet(now=_jst(at)).values_list("pk", flat=True))

    assert quiet("2026-11-20T10:00:00+09:00") == []
    assert quiet("2026-12-08T09:59:59+09:00") == []  # 14 days after the consultation's start
    assert quiet("2026-12-08T10:00:00+09:00") == [booked.candidate_id]
    # A cancelled consultation counts from its cancellation, not its start.
    Booking.objects.update(status="cancelled", updated_at=long_ago)
    assert quiet("2026-11-20T10:00:00+09:00") == [booked.candidate_id]


def test_a_reminder_reads_its_booking_in_one_query(booked, django_assert_num_queries):
    # The sweep's hot path. The handler reads only the columns it uses; one it forgot would
    # be loaded lazily, one query each, and fail this count.
    row = OutboxMessage.objects.filter(kind="booking.reminder").order_by("due_at")[0]

    # 1 query: the booking with its advisor and candidate; rendering and sending read nothing.
    with time_machine.travel("2026-11-23T10:00:00+09:00", tick=False), django_assert_num_queries(1):
        outcome = booking_reminder_send(row)

    assert outcome == Outcome.SENT
    (sent,) = _reminder_mails()
    assert sent.to == [booked.candidate.email]
    assert booked.advisor.display_name in sent.body
