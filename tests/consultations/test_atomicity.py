"""A booking's change and its messages are written in one transaction
(consultations/services/bookings.py: "every effect ... is an outbox row written in the same
transaction"), proven by making the database refuse the message's outbox row, written after
the booking's own rows, and finding the booking and the calendar as they were.

The refusal is a database trigger (tests/leads/intake/test_atomicity.py), and the requests run in
autocommit as real ones do (`transaction=True`)."""

from typing import Any

import pytest
import time_machine
from django.test import Client

from consultations.models import Booking
from core.models import OutboxMessage
from leads.models import Candidate, Lead
from tests.consultations.conftest import FRIDAY_MORNING, Api, token_for
from tests.db_faults import assert_refused, outbox_insert_fails

pytestmark = pytest.mark.django_db(transaction=True)

TEN = "2026-11-24T10:00:00+09:00"
WEDNESDAY_AFTERNOON = "2026-11-25T14:00:00+09:00"
CONSENT = {
    "privacy_policy_version": "2026-04",
    "agreed_at": "2026-11-19T10:00:00+09:00",
    "third_party_provision": True,
}


@pytest.fixture(autouse=True)
def _friday_morning():
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        yield


def _post(path: str, body: dict[str, Any]) -> Any:
    # As a browser sees it: the exception ends as a 500, not in the test.
    return Client(raise_request_exception=False).post(path, body, content_type="application/json")


def _available(api: Api, day: str = "2026-11-24") -> dict[str, int]:
    return {s["start"][11:16]: s["available"] for s in api.slots(day).json()["slots"]}


def _outbox(booking_id: str) -> dict[str, str]:
    """The booking's outbox rows: key -> state."""
    return dict(OutboxMessage.objects.filter(subject=f"booking:{booking_id}").values_list("key", "state"))


def test_a_booking_whose_confirmation_fails_leaves_no_booking_and_the_seat_free(api, advisors, lead):
    stage_before = Candidate.objects.values_list("stage", flat=True).get()
    body = {"booking_token": token_for(lead), "start": TEN, "mode": "online"}

    with outbox_insert_fails("booking.confirmation"):
        response = _post("/api/v1/consultations/bookings/", body)

    assert_refused(response)
    assert Booking.objects.count() == 0
    assert not OutboxMessage.objects.filter(subject__startswith="booking:").exists()
    candidate = Candidate.objects.get()
    assert (candidate.stage, candidate.advisor_id) == (stage_before, None)
    assert _available(api)["10:00"] == 2  # both advisors' seats
    # The same person books the same seat: neither the slot nor `already_booked` is in the way.
    retry = api.book_lead(lead, TEN)
    assert retry.status_code == 201
    assert _available(api)["10:00"] == 1


def test_a_direct_booking_whose_hold_message_fails_leaves_no_lead_candidate_or_booking(api, advisors):
    # The person is recorded as a direct lead inside the booking's transaction (on PostgreSQL
    # by intake's one-statement path): the refusal must undo them too.
    body = {
        "start": TEN,
        "mode": "phone",
        "family_name": "鈴木",
        "given_name": "花子",
        "email": "hanako@example.com",
        "consent": CONSENT,
    }

    with outbox_insert_fails("booking.hold"):
        response = _post("/api/v1/consultations/bookings/", body)

    assert_refused(response)
    assert Booking.objects.count() == Lead.objects.count() == Candidate.objects.count() == 0
    assert OutboxMessage.objects.count() == 0  # nor the lead's assignment and follow-up
    assert _available(api)["10:00"] == 2
    retry = _post("/api/v1/consultations/bookings/", body)
    assert retry.status_code == 201
    assert (Lead.objects.count(), Candidate.objects.count(), Booking.objects.count()) == (1, 1, 1)


@pytest.fixture
def booked(api, advisors, lead):
    """(manage token, booking id) of a booking on Tuesday at 10:00 JST."""
    response = api.book_lead(lead, TEN)
    assert response.status_code == 201
    return response.json()["manage_token"], response.json()["id"]


def test_a_cancellation_whose_notice_fails_leaves_the_booking_and_its_reminders(api, booked):
    token, booking_id = booked
    messages = _outbox(booking_id)
    assert set(messages.values()) == {"pending"}
    assert len(messages) == 4  # the confirmation, two reminders, the advisor's follow-up

    with outbox_insert_fails("booking.cancelled"):
        response = _post(f"/api/v1/consultations/manage/{token}/cancel/", {"reason": "仕事の都合"})

    assert_refused(response)
    booking = Booking.objects.get()
    assert (booking.status, booking.cancelled_at, booking.cancel_reason) == ("booked", None, "")
    assert _outbox(booking_id) == messages  # none cancelled, no cancellation notice
    assert _available(api)["10:00"] == 1  # the seat is still taken
    retry = api.manage(token, "cancel/", {"reason": "仕事の都合"})
    assert (retry.status_code, retry.json()["status"]) == (200, "cancelled")
    assert _available(api)["10:00"] == 2


def test_a_reschedule_whose_notice_fails_leaves_the_booking_where_it_was(api, booked):
    token, booking_id = booked
    messages = _outbox(booking_id)

    with outbox_insert_fails("booking.rescheduled"):
        response = _post(f"/api/v1/consultations/manage/{token}/reschedule/", {"start": WEDNESDAY_AFTERNOON})

    assert_refused(response)
    booking = Booking.objects.get()
    assert (booking.start_at.isoformat(), booking.sequence) == ("2026-11-24T01:00:00+00:00", 0)
    assert _outbox(booking_id) == messages  # the old time's reminders are still pending
    assert _available(api)["10:00"] == 1  # the old seat is still taken...
    assert _available(api, "2026-11-25")["14:00"] == 2  # ...and the new one was never taken
    retry = api.manage(token, "reschedule/", {"start": WEDNESDAY_AFTERNOON})
    assert (retry.status_code, retry.json()["start"]) == (200, WEDNESDAY_AFTERNOON)
