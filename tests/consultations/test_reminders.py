"""Consultation reminders (CONTRACT section 6): 24 h and 1 h before, only for the booking as
it still is, never in quiet hours, never after cancellation, once each."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from consultations.models import Booking
from consultations.services import booking_cancel, booking_reschedule
from core.models import OutboxMessage
from core.outbox import outbox_sweep
from core.quiet_hours import candidate_delivery_time
from tests.consultations.conftest import FRIDAY_MORNING

pytestmark = pytest.mark.django_db
TEN = "2026-11-24T10:00:00+09:00"  # a Tuesday


def _jst(value: str) -> datetime:
    return datetime.fromisoformat(value)


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
    with time_machine.travel("2026-11-25T13:00:00+09:00", tick=False):
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
