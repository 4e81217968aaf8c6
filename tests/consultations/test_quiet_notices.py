"""Quiet hours (21:00-08:00 JST) and the candidate's notices about a booking (CONTRACT
section 6): the reply to the candidate's own action (booked, moved, cancelled by them) goes at
once, at any hour, since they are waiting for it; a change the agency made waits for the
morning, unless the consultation would have started by then."""

from datetime import date

import pytest
import time_machine
from django.core import mail

from consultations.models import AvailabilityOverride, Booking
from core.business_time import BUSINESS_TZ
from core.knobs import parse_quiet_hours
from core.models import OutboxMessage
from core.outbox_sweep import outbox_sweep
from tests.consultations.conftest import make_lead
from tests.consultations.test_admin import BOOKINGS

pytestmark = pytest.mark.django_db

TUESDAY_NIGHT = "2026-11-24T22:30:00+09:00"  # in quiet hours
WEDNESDAY_TEN = "2026-11-25T10:00:00+09:00"
EMAIL = "hanako@example.com"
CONFIRMED = "【ご予約確定】2026-11-25 10:00 キャリア相談"
MOVED = "【日時変更】キャリア相談 を 2026-11-25 11:00 に変更しました"
CANCELLED = "【キャンセル】2026-11-25 10:00 キャリア相談"
EVENING_CANCELLED = "【キャンセル】2026-11-24 21:15 キャリア相談"


@pytest.fixture(autouse=True)
def _quiet_hours(settings):
    settings.CANDIDATE_QUIET_HOURS = parse_quiet_hours("CANDIDATE_QUIET_HOURS", "21:00-08:00")


def _sweep(at: str) -> list[str]:
    """The subjects of the candidate's emails one sweep at `at` sends."""
    mail.outbox.clear()
    with time_machine.travel(at, tick=False):
        outbox_sweep()
    return [str(m.subject) for m in mail.outbox if m.to == [EMAIL]]


def _book(api, start: str, at: str) -> tuple[str, Booking]:
    with time_machine.travel(at, tick=False):
        response = api.book_lead(make_lead(email=EMAIL), start)
    assert response.status_code == 201
    return response.json()["manage_token"], Booking.objects.get(pk=response.json()["id"])


def _cancel_as_advisor(admin_client_jp, booking: Booking, at: str) -> None:
    with time_machine.travel(at, tick=False):
        response = admin_client_jp.post(BOOKINGS, {"action": "cancel", "_selected_action": [str(booking.pk)]})
    assert response.status_code == 302
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def _cancellation_due() -> str:
    row = OutboxMessage.objects.get(kind="booking.cancelled")
    return f"{row.state} {row.due_at.astimezone(BUSINESS_TZ).isoformat()}"


def test_the_candidates_own_booking_and_cancellation_are_answered_at_once_at_night(api, advisors):
    token, _booking = _book(api, WEDNESDAY_TEN, at=TUESDAY_NIGHT)
    assert _sweep(TUESDAY_NIGHT) == [CONFIRMED]

    with time_machine.travel("2026-11-24T23:10:00+09:00", tick=False):
        cancelled = api.manage(token, "cancel/", {"reason": "急用"})
    assert cancelled.status_code == 200
    assert _sweep("2026-11-24T23:10:00+09:00") == [CANCELLED]


def test_the_candidates_own_move_is_answered_at_once_at_night(api, advisors):
    token, _booking = _book(api, WEDNESDAY_TEN, at="2026-11-24T15:00:00+09:00")
    _sweep("2026-11-24T15:00:00+09:00")

    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        moved = api.manage(token, "reschedule/", {"start": "2026-11-25T11:00:00+09:00"})
    assert moved.status_code == 200
    assert _sweep(TUESDAY_NIGHT) == [MOVED]


def test_an_advisors_cancellation_at_night_waits_for_the_morning(api, advisors, admin_client_jp):
    _token, booking = _book(api, WEDNESDAY_TEN, at="2026-11-24T15:00:00+09:00")
    assert _sweep("2026-11-24T15:00:00+09:00") == [CONFIRMED]

    _cancel_as_advisor(admin_client_jp, booking, at=TUESDAY_NIGHT)

    assert _sweep(TUESDAY_NIGHT) == []
    assert _cancellation_due() == "pending 2026-11-25T08:00:00+09:00"
    assert _sweep("2026-11-25T07:59:00+09:00") == []
    assert _sweep("2026-11-25T08:00:00+09:00") == [CANCELLED]


def test_an_advisors_cancellation_by_day_goes_at_once(api, advisors, admin_client_jp):
    _token, booking = _book(api, WEDNESDAY_TEN, at="2026-11-24T15:00:00+09:00")
    _sweep("2026-11-24T15:00:00+09:00")

    _cancel_as_advisor(admin_client_jp, booking, at="2026-11-24T16:00:00+09:00")

    assert _sweep("2026-11-24T16:00:00+09:00") == [CANCELLED]


def test_an_advisors_cancellation_goes_at_once_when_the_morning_would_be_too_late(
    api, advisors, admin_client_jp
):
    # An evening consultation at 21:15, cancelled at 21:05: 08:00 would be after it.
    for advisor in advisors:
        AvailabilityOverride.objects.create(
            advisor=advisor, date=date(2026, 11, 24), kind="extra", start_time="19:00", end_time="22:00"
        )
    _token, booking = _book(api, "2026-11-24T21:15:00+09:00", at="2026-11-24T15:00:00+09:00")
    _sweep("2026-11-24T15:00:00+09:00")

    _cancel_as_advisor(admin_client_jp, booking, at="2026-11-24T21:05:00+09:00")

    assert _sweep("2026-11-24T21:05:00+09:00") == [EVENING_CANCELLED]
