"""POST /api/v1/consultations/bookings/ (CONTRACT section 5)."""

import re

import pytest
import time_machine

from consultations.models import Booking
from consultations.tokens import manage_token_hash
from core.models import OutboxMessage
from leads.models import Candidate, Lead
from tests.consultations.conftest import FRIDAY_MORNING, codes, make_lead, token_for

pytestmark = pytest.mark.django_db

TEN = "2026-11-24T10:00:00+09:00"
CONSENT = {
    "privacy_policy_version": "2026-04",
    "agreed_at": "2026-11-19T10:00:00+09:00",
    "third_party_provision": True,
}


@pytest.fixture(autouse=True)
def _friday_morning():
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        yield


def test_a_lead_books_with_its_token(api, advisors, lead):
    response = api.book_lead(lead, TEN, mode="phone", notes="転職の時期を相談したいです")

    assert response.status_code == 201
    body = response.json()
    booking = Booking.objects.get()
    token = body.pop("manage_token")
    assert body == {
        "id": str(booking.pk),
        "status": "booked",
        "start": "2026-11-24T10:00:00+09:00",
        "end": "2026-11-24T10:45:00+09:00",
        "mode": "phone",
        "kind": "career",
        "advisor": {"display_name": "佐藤 美咲"},
        "manage_url": f"https://urakata.test/consultations/{token}",
    }
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    # Only the token's hash is stored.
    assert booking.manage_token_hash == manage_token_hash(token=token)
    assert token not in {str(v) for v in Booking.objects.values().get().values()}
    assert (booking.candidate_id, booking.lead_id, booking.notes) == (
        lead.candidate_id,
        lead.pk,
        "転職の時期を相談したいです",
    )
    assert booking.blocked_until.isoformat() == "2026-11-24T02:00:00+00:00"  # 11:00 JST: end + buffer


def test_booking_moves_the_candidate_to_consultation_booked(api, advisors, lead):
    api.book_lead(lead, TEN)

    candidate = Candidate.objects.get()
    assert (candidate.stage, candidate.partner_status) == ("consultation_booked", "consultation_booked")
    assert candidate.advisor == advisors[0]  # the person they will talk to becomes their advisor


# What a failure between the booking and its messages leaves behind (nothing):
# tests/consultations/test_atomicity.py.
def test_the_confirmation_is_queued_in_the_same_transaction(api, advisors, lead):
    booking_id = api.book_lead(lead, TEN).json()["id"]

    row = OutboxMessage.objects.get(kind="booking.confirmation")
    assert (row.subject, row.payload, row.state) == (
        f"booking:{booking_id}",
        {"booking_id": booking_id},
        "pending",
    )


def test_a_person_books_with_contact_details_as_a_direct_lead_and_the_seat_is_held(api, advisors):
    response = api.book(
        start=TEN,
        kind="documents",
        family_name="鈴木",
        given_name="花子",
        email="Hanako@Example.com",
        phone="080-1111-2222",
        consent=CONSENT,
    )

    assert response.status_code == 201
    booking = Booking.objects.get()
    # A hold: no manage link in the answer (it is sent to the person, who must confirm).
    assert response.json() == {
        "id": str(booking.pk),
        "status": "held",
        "start": "2026-11-24T10:00:00+09:00",
        "end": "2026-11-24T11:00:00+09:00",
        "mode": "online",
        "kind": "documents",
        "advisor": {"display_name": "佐藤 美咲"},
        "confirm_by": "2026-11-20T09:30:00+09:00",  # now + CONSULTATION_HOLD_TTL (30m)
    }
    lead = Lead.objects.get()
    assert (lead.partner, lead.email, lead.phone) == (None, "hanako@example.com", "+818011112222")
    assert booking.candidate == lead.candidate
    assert lead.candidate.stage == "new"  # consultation_booked once confirmed (test_holds.py)


def test_a_known_person_booking_with_contact_details_stays_one_candidate(api, advisors):
    known = make_lead(email="known@example.com")

    response = api.book(
        start=TEN, family_name="山田", given_name="太郎", email="known@example.com", consent=CONSENT
    )

    assert response.status_code == 201
    assert Candidate.objects.count() == 1
    assert Booking.objects.get().candidate_id == known.candidate_id


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"booking_token": "forged"}, "booking_token"),
        ({"family_name": "鈴木", "given_name": "花子", "consent": CONSENT}, "email"),
        ({"family_name": "鈴木", "email": "a@example.com", "consent": CONSENT}, "given_name"),
        ({"family_name": "鈴木", "given_name": "花子", "email": "a@example.com"}, "consent"),
        ({"family_name": "鈴木", "given_name": "花子", "phone": "123", "consent": CONSENT}, "phone"),
        ({"booking_token": "x", "unknown": 1}, "unknown"),
    ],
)
def test_it_refuses_a_body_without_a_valid_person(api, advisors, body, attr):
    response = api.book(start=TEN, **body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    assert Booking.objects.count() == Lead.objects.count() == 0


def test_a_token_and_contact_details_together_are_refused(api, advisors, lead):
    response = api.book_lead(lead, TEN, email="other@example.com")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "email"


def test_an_expired_booking_token_is_refused(api, advisors, lead):
    token = token_for(lead)
    with time_machine.travel("2026-12-05T09:00:00+09:00", tick=False):  # 15 days later
        response = api.book(booking_token=token, start="2026-12-08T10:00:00+09:00")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "booking_token"


@pytest.mark.parametrize(
    "start",
    [
        "2026-11-23T20:00:00-05:00",
        "2026-11-24T01:00:00Z",
        "2026-11-24T01:00:00+00:00",
        "2026-11-24T10:00:00+09:00",
    ],
)
def test_any_offset_lands_on_the_same_tokyo_time(api, advisors, lead, start):
    response = api.book_lead(lead, start)

    assert response.status_code == 201
    assert response.json()["start"] == "2026-11-24T10:00:00+09:00"


def test_a_time_without_offset_is_refused(api, advisors, lead):
    response = api.book_lead(lead, "2026-11-24T10:00:00")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "start"


@pytest.mark.parametrize(
    "start",
    [
        "2026-11-24T10:07:00+09:00",  # not on the grid
        "2026-11-24T09:00:00+09:00",  # before opening
        "2026-11-24T18:30:00+09:00",  # would end after closing
        "2026-11-23T10:00:00+09:00",  # holiday
        "2026-11-20T10:00:00+09:00",  # within the two hours' notice
        "2026-11-19T10:00:00+09:00",  # past
        "2027-01-20T10:00:00+09:00",  # beyond the horizon
        "9999-12-31T10:00:00+09:00",  # no overflow past the year 9999
        "0001-01-01T09:00:00+09:00",
    ],
)
def test_a_time_that_is_not_a_slot_is_unavailable(api, advisors, lead, start):
    response = api.book_lead(lead, start)

    assert response.status_code == 409
    assert codes(response) == ["slot_unavailable"]
    assert response.json()["type"] == "client_error"
    assert Booking.objects.count() == 0
    assert Candidate.objects.get().stage == "new"


def test_the_candidates_own_advisor_is_chosen_when_free(api, advisors, lead):
    Candidate.objects.filter(pk=lead.candidate_id).update(advisor=advisors[1])

    response = api.book_lead(lead, TEN)

    assert response.json()["advisor"] == {"display_name": "田中 健太"}


def test_otherwise_the_least_loaded_free_advisor(api, advisors):
    api.book_lead(make_lead(), "2026-11-25T10:00:00+09:00")  # advisor 0 now has one booking

    response = api.book_lead(make_lead(), TEN)

    assert response.json()["advisor"] == {"display_name": "田中 健太"}


def test_when_the_own_advisor_is_busy_another_one_takes_it(api, advisors):
    first, second = make_lead(), make_lead()
    Candidate.objects.filter(pk=second.candidate_id).update(advisor=advisors[0])
    api.book_lead(first, TEN)  # takes advisor 0 (least loaded, lowest id)

    response = api.book_lead(second, TEN)

    assert response.status_code == 201
    assert response.json()["advisor"] == {"display_name": "田中 健太"}
    assert Candidate.objects.get(pk=second.candidate_id).advisor == advisors[0]  # unchanged


def test_a_full_slot_is_unavailable(api, advisors):
    assert api.book_lead(make_lead(), TEN).status_code == 201
    assert api.book_lead(make_lead(), TEN).status_code == 201

    response = api.book_lead(make_lead(), TEN)

    assert response.status_code == 409
    assert codes(response) == ["slot_unavailable"]
    assert Booking.objects.count() == 2


def test_a_second_booking_of_the_same_kind_is_already_booked(api, advisors, lead):
    api.book_lead(lead, TEN)

    response = api.book_lead(lead, "2026-11-25T10:00:00+09:00")

    assert response.status_code == 409
    assert codes(response) == ["already_booked"]
    assert Booking.objects.count() == 1


def test_another_kind_can_be_booked_alongside(api, advisors, lead):
    api.book_lead(lead, TEN)

    response = api.book_lead(lead, "2026-11-25T10:00:00+09:00", kind="interview")

    assert response.status_code == 201


def test_after_a_cancellation_the_kind_can_be_booked_again(api, advisors, lead):
    token = api.book_lead(lead, TEN).json()["manage_token"]
    api.manage(token, "cancel/", {})

    assert api.book_lead(lead, "2026-11-25T10:00:00+09:00").status_code == 201


def test_a_failed_direct_booking_leaves_no_candidate_behind(api, advisors):
    api.book_lead(make_lead(), TEN)
    api.book_lead(make_lead(), TEN)

    response = api.book(
        start=TEN, family_name="鈴木", given_name="花子", email="new@example.com", consent=CONSENT
    )

    assert response.status_code == 409
    assert not Candidate.objects.filter(email="new@example.com").exists()
    assert OutboxMessage.objects.filter(kind="lead.assign").count() == 2  # the two real leads only


def test_an_impossible_start_is_a_400_not_a_crash(api, advisors, lead):
    response = api.book_lead(lead, "2026-11-24T12:99:00Z")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "start"


def test_an_impossible_consent_time_is_a_400_not_a_crash(api, advisors):
    consent = {**CONSENT, "agreed_at": "2024-01-01T12:99:00Z"}

    response = api.book(
        start=TEN, family_name="鈴木", given_name="花子", email="a@example.com", consent=consent
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "consent.agreed_at"


def test_when_the_constraint_refuses_an_advisor_the_next_one_is_tried(api, advisors, monkeypatch):
    # As if a concurrent request had read both advisors as free: the exclusion constraint
    # refuses the busy one inside a savepoint, and the booking goes to the other.
    api.book_lead(make_lead(), TEN)  # advisor 0
    monkeypatch.setattr(
        "consultations.services.bookings.advisors_free_at", lambda **_: [a.pk for a in advisors]
    )

    second = api.book_lead(make_lead(), TEN)
    third = api.book_lead(make_lead(), TEN)

    assert second.status_code == 201
    assert second.json()["advisor"] == {"display_name": "田中 健太"}
    assert (third.status_code, codes(third)) == (409, ["slot_unavailable"])
    assert Booking.objects.count() == 2
