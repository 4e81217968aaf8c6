"""Managing a booking with its token (CONTRACT section 5): details, cancel, reschedule, .ics."""

import pytest
import time_machine
from icalendar import Calendar

from consultations.models import Booking
from core.models import OutboxMessage
from tests.consultations.conftest import FRIDAY_MORNING, codes, make_lead

pytestmark = pytest.mark.django_db

TEN = "2026-11-24T10:00:00+09:00"
ELEVEN = "2026-11-24T11:00:00+09:00"


@pytest.fixture(autouse=True)
def _friday_morning():
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        yield


@pytest.fixture
def booked(api, advisors):
    """(manage token, booking) of a career consultation on Tuesday at 10:00 JST."""
    response = api.book_lead(make_lead(), TEN)
    assert response.status_code == 201
    return response.json()["manage_token"], Booking.objects.get(pk=response.json()["id"])


def _available(api, day="2026-11-24"):
    return {s["start"][11:16]: s["available"] for s in api.slots(day).json()["slots"]}


def _event(response):
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_the_token_opens_the_booking(api, booked):
    token, booking = booked

    response = api.manage(token)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(booking.pk),
        "status": "booked",
        "start": "2026-11-24T10:00:00+09:00",
        "end": "2026-11-24T10:45:00+09:00",
        "mode": "online",
        "kind": "career",
        "advisor": {"display_name": "佐藤 美咲"},
    }


@pytest.mark.parametrize("action", ["", "cancel/", "reschedule/", "ics"])
def test_a_wrong_token_is_token_invalid(api, booked, action):
    token, _ = booked
    body = {"": None, "ics": None, "cancel/": {}, "reschedule/": {"start": ELEVEN}}[action]

    response = api.manage(token[:-1] + ("0" if token[-1] != "0" else "1"), action, body)

    assert response.status_code == 404
    assert codes(response) == ["token_invalid"]
    assert response["Content-Type"] == "application/json"


def test_the_token_expires_at_the_end_of_the_consultation(api, booked):
    token, _ = booked

    with time_machine.travel("2026-11-24T10:44:59+09:00", tick=False):
        assert api.manage(token).status_code == 200
    with time_machine.travel("2026-11-24T10:45:00+09:00", tick=False):
        response = api.manage(token)

    assert response.status_code == 404
    assert codes(response) == ["token_invalid"]


def test_cancel_frees_the_slot_and_is_harmless_to_repeat(api, booked):
    token, booking = booked
    assert _available(api)["10:00"] == 1

    first = api.manage(token, "cancel/", {"reason": "仕事の都合"})
    again = api.manage(token, "cancel/", {"reason": "another reason"})

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "cancelled"
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "仕事の都合")
    assert booking.cancelled_at.isoformat() == "2026-11-20T00:00:00+00:00"
    assert _available(api)["10:00"] == 2


def test_cancel_stops_the_pending_messages_and_queues_the_cancellation(api, booked):
    token, booking = booked
    subject = f"booking:{booking.pk}"
    reminder = OutboxMessage.objects.create(  # e.g. a reminder written with the booking
        key=f"booking.reminder:{subject}:24h",
        kind="booking.reminder",
        subject=subject,
        due_at=booking.start_at,
    )

    api.manage(token, "cancel/", {})

    states = dict(OutboxMessage.objects.filter(subject=subject).values_list("kind", "state"))
    assert states == {
        "booking.confirmation": "cancelled",
        "booking.reminder": "cancelled",
        "booking.post_consultation": "cancelled",
        "booking.cancelled": "pending",
    }
    reminder.refresh_from_db()
    assert reminder.state == "cancelled"


def test_cancel_without_a_body_works(api, booked):
    token, _ = booked

    response = api.client.post(
        f"/api/v1/consultations/manage/{token}/cancel/", content_type="application/json"
    )

    assert response.status_code == 200


def test_after_the_start_cancel_and_reschedule_are_closed(api, booked):
    token, booking = booked

    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        cancel = api.manage(token, "cancel/", {})
        move = api.manage(token, "reschedule/", {"start": "2026-11-25T10:00:00+09:00"})
        details = api.manage(token)

    assert (cancel.status_code, move.status_code) == (409, 409)
    assert codes(cancel) == codes(move) == ["booking_closed"]
    assert details.json()["status"] == "booked"
    booking.refresh_from_db()
    assert (booking.status, booking.sequence) == ("booked", 0)


def test_reschedule_moves_the_same_booking(api, booked):
    token, booking = booked

    response = api.manage(token, "reschedule/", {"start": "2026-11-25T05:00:00Z"})

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (str(booking.pk), "booked")
    assert (body["start"], body["end"]) == ("2026-11-25T14:00:00+09:00", "2026-11-25T14:45:00+09:00")
    assert Booking.objects.count() == 1
    booking.refresh_from_db()
    assert booking.sequence == 1
    assert _available(api)["10:00"] == 2  # the old time is free again
    assert _available(api, "2026-11-25")["14:00"] == 1
    assert api.manage(token).json()["start"] == "2026-11-25T14:00:00+09:00"  # the same link still works


def test_reschedule_replaces_the_pending_messages(api, booked):
    token, booking = booked

    api.manage(token, "reschedule/", {"start": ELEVEN})

    rows = OutboxMessage.objects.filter(subject=f"booking:{booking.pk}").order_by("created_at", "pk")
    assert [(r.kind, r.key.rsplit(":", 1)[1], r.state) for r in rows] == [
        ("booking.confirmation", "1", "cancelled"),
        ("booking.reminder", "86400s", "cancelled"),
        ("booking.reminder", "3600s", "cancelled"),
        ("booking.post_consultation", "1", "cancelled"),
        ("booking.rescheduled", "2", "pending"),
        ("booking.reminder", "86400s", "pending"),
        ("booking.reminder", "3600s", "pending"),
        ("booking.post_consultation", "2", "pending"),
    ]


def test_reschedule_can_move_within_its_own_buffer(api, booked):
    token, booking = booked

    response = api.manage(token, "reschedule/", {"start": "2026-11-24T10:15:00+09:00"})

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.advisor.display_name == "佐藤 美咲"  # kept: its own old time did not block it


def test_reschedule_to_a_taken_time_leaves_the_booking_untouched(api, booked):
    token, booking = booked
    api.book_lead(make_lead(), ELEVEN)
    api.book_lead(make_lead(), ELEVEN)  # both advisors busy at 11:00

    response = api.manage(token, "reschedule/", {"start": ELEVEN})

    assert response.status_code == 409
    assert codes(response) == ["slot_unavailable"]
    after = Booking.objects.get(pk=booking.pk)
    assert (after.start_at, after.end_at, after.advisor_id, after.sequence, after.status) == (
        booking.start_at,
        booking.end_at,
        booking.advisor_id,
        0,
        "booked",
    )
    # The confirmation, the two reminders and the advisor's post-consultation follow-up, as
    # written at booking: nothing changed.
    assert OutboxMessage.objects.filter(subject=f"booking:{booking.pk}", state="pending").count() == 4


def test_reschedule_to_another_advisor_when_its_own_is_busy(api, booked):
    token, booking = booked
    other = api.book_lead(make_lead(), "2026-11-25T10:00:00+09:00").json()  # advisor 1 (less loaded)
    assert other["advisor"]["display_name"] == "田中 健太"
    api.book_lead(make_lead(), "2026-11-25T11:00:00+09:00")  # both have one: advisor 0 by id
    Booking.objects.filter(start_at__gte="2026-11-25T00:00:00+09:00").update(advisor=booking.advisor)
    # Advisor 0 is busy on Wednesday at 10:00 and 11:00; advisor 1 is free.

    response = api.manage(token, "reschedule/", {"start": "2026-11-25T10:00:00+09:00"})

    assert response.status_code == 200
    assert response.json()["advisor"] == {"display_name": "田中 健太"}


def test_a_cancelled_booking_cannot_be_rescheduled(api, booked):
    token, _ = booked
    api.manage(token, "cancel/", {})

    response = api.manage(token, "reschedule/", {"start": ELEVEN})

    assert response.status_code == 409
    assert codes(response) == ["booking_closed"]


def test_reschedule_to_the_same_time_changes_nothing(api, booked):
    token, booking = booked

    response = api.manage(token, "reschedule/", {"start": "2026-11-24T01:00:00Z"})

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.sequence == 0


@pytest.mark.parametrize("start", ["9999-12-31T10:00:00+09:00", "2026-11-24T10:05:00+09:00"])
def test_reschedule_to_a_time_that_is_not_a_slot_is_unavailable(api, booked, start):
    token, _ = booked

    response = api.manage(token, "reschedule/", {"start": start})

    assert response.status_code == 409
    assert codes(response) == ["slot_unavailable"]


def test_reschedule_needs_a_start_with_an_offset(api, booked):
    token, _ = booked

    response = api.manage(token, "reschedule/", {"start": "2026-11-25T10:00:00"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "start"


def test_the_ics_is_one_event_in_tokyo_time(api, booked):
    token, booking = booked

    response = api.manage(token, "ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar, event = _event(response)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(event["UID"]) == f"booking-{booking.pk}@urakata"
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].dt.isoformat() == "2026-11-24T10:00:00+09:00"
    assert event["DTEND"].dt.isoformat() == "2026-11-24T10:45:00+09:00"
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "キャリア相談（裏方）"
    assert f"https://urakata.test/consultations/{token}" in str(event["DESCRIPTION"])
    assert b"BEGIN:VTIMEZONE" in response.content


def test_the_ics_keeps_its_uid_and_counts_revisions(api, booked):
    token, _ = booked
    uid = str(_event(api.manage(token, "ics"))[1]["UID"])

    api.manage(token, "reschedule/", {"start": ELEVEN})
    api.manage(token, "reschedule/", {"start": "2026-11-25T11:00:00+09:00"})
    _, event = _event(api.manage(token, "ics"))

    assert str(event["UID"]) == uid
    assert int(event["SEQUENCE"]) == 2
    assert event["DTSTART"].dt.isoformat() == "2026-11-25T11:00:00+09:00"


def test_a_cancelled_booking_gives_a_cancelling_ics(api, booked):
    token, _ = booked
    api.manage(token, "cancel/", {})

    response = api.manage(token, "ics", None)

    calendar, event = _event(response)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"


def test_the_ics_answers_even_a_client_that_only_accepts_calendars(api, booked):
    token, _ = booked

    response = api.client.get(
        f"/api/v1/consultations/manage/{token}/ics", headers={"Accept": "text/calendar"}
    )

    assert response.status_code == 200
