"""Free slots (CONTRACT section 5): weekly hours, overrides, holidays, notice, horizon,
buffers, kinds, and a constant number of queries."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from consultations.models import AvailabilityOverride, Booking
from consultations.selectors import slots_for_range
from consultations.services import booking_cancel
from tests.consultations.conftest import FRIDAY_MORNING, TUESDAY, codes, make_lead, starts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _friday_morning():
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        yield


QUARTERS = [f"{h:02d}:{m:02d}" for h in range(10, 19) for m in (0, 15, 30, 45)]


def _times(response, day=TUESDAY):
    return [s[11:16] for s in starts(response) if s.startswith(day)]


def _available(response):
    return {s["start"][11:16]: s["available"] for s in response.json()["slots"]}


def test_it_offers_every_quarter_hour_of_the_advisors_hours(api, advisors):
    response = api.slots(TUESDAY)

    assert response.status_code == 200
    body = response.json()
    assert body["time_zone"] == "Asia/Tokyo"
    assert body["slots"][0] == {
        "start": "2026-11-24T10:00:00+09:00",
        "end": "2026-11-24T10:45:00+09:00",
        "available": 2,
        "modes": ["online", "phone", "office"],
    }
    assert body["slots"][-1]["start"] == "2026-11-24T18:15:00+09:00"
    assert body["slots"][-1]["end"] == "2026-11-24T19:00:00+09:00"  # ends within the hours
    assert _times(response) == QUARTERS[: QUARTERS.index("18:15") + 1]
    assert {s["available"] for s in body["slots"]} == {2}


def test_each_kind_has_its_own_length(api, advisors):
    documents = api.slots(TUESDAY, kind="documents").json()["slots"]
    interview = api.slots(TUESDAY, kind="interview").json()["slots"]

    assert (documents[0]["start"], documents[0]["end"]) == (
        "2026-11-24T10:00:00+09:00",
        "2026-11-24T11:00:00+09:00",
    )
    assert documents[-1]["start"] == "2026-11-24T18:00:00+09:00"
    assert interview[0]["end"] == "2026-11-24T10:45:00+09:00"


def test_it_spans_days_and_skips_weekends_and_holidays(api, advisors):
    # Fri 20 (from 11:00: two hours' notice), Sat 21, Sun 22, Mon 23 (holiday), Tue 24.
    response = api.slots("2026-11-20", TUESDAY)

    days = sorted({s[:10] for s in starts(response)})
    assert days == ["2026-11-20", "2026-11-24"]
    assert _times(response, "2026-11-20")[0] == "11:00"


def test_a_holiday_opens_with_an_override(api, advisors):
    AvailabilityOverride.objects.create(
        advisor=advisors[0], date=date(2026, 11, 23), kind="extra", start_time=time(13), end_time=time(15)
    )

    response = api.slots("2026-11-23")

    assert _times(response, "2026-11-23") == ["13:00", "13:15", "13:30", "13:45", "14:00", "14:15"]
    assert set(_available(response).values()) == {1}


def test_the_year_end_break_is_closed(api, advisors):
    with time_machine.travel("2026-12-20T09:00:00+09:00", tick=False):
        days = {s[:10] for s in starts(api.slots("2026-12-28", "2027-01-05"))}

    assert days == {"2026-12-28", "2027-01-04", "2027-01-05"}


def test_a_day_off_closes_one_advisors_day(api, advisors):
    AvailabilityOverride.objects.create(advisor=advisors[0], date=date(2026, 11, 24), kind="day_off")

    response = api.slots(TUESDAY)

    assert set(_available(response).values()) == {1}
    assert len(_times(response)) == 34


def test_replacement_hours_stand_in_for_the_week(api, advisors):
    AvailabilityOverride.objects.create(
        advisor=advisors[0], date=date(2026, 11, 24), kind="replace", start_time=time(8), end_time=time(9, 30)
    )

    available = _available(api.slots(TUESDAY))

    assert available["08:00"] == 1
    assert available["08:45"] == 1
    assert "09:00" not in available  # would end after 09:30
    assert available["10:00"] == 1  # only the other advisor now


def test_extra_hours_add_to_the_week_and_join_up_with_it(api, advisors):
    AvailabilityOverride.objects.create(
        advisor=advisors[0], date=date(2026, 11, 24), kind="extra", start_time=time(19), end_time=time(21)
    )

    available = _available(api.slots(TUESDAY))

    assert available["18:30"] == 1  # 18:30-19:15 runs from the weekly hours into the extra ones
    assert available["18:15"] == 2
    assert max(available) == "20:15"


def test_the_minimum_notice_hides_the_next_two_hours(api, advisors):
    with time_machine.travel("2026-11-24T09:50:00+09:00", tick=False):
        response = api.slots(TUESDAY)

    assert _times(response)[0] == "12:00"  # 11:50 is the earliest; the next quarter hour


def test_the_horizon_ends_sixty_days_ahead(api, advisors):
    # Friday 2026-11-20 09:00 + 60 days = Tuesday 2027-01-19 09:00, before opening time.
    response = api.slots("2027-01-18", "2027-01-19")

    assert sorted({s[:10] for s in starts(response)}) == ["2027-01-18"]


def test_a_booking_blocks_its_time_and_buffer_for_its_advisor_only(api, advisors):
    response = api.book_lead(make_lead(), "2026-11-24T12:00:00+09:00")
    assert response.status_code == 201

    available = _available(api.slots(TUESDAY))

    # The booked advisor: 12:00-12:45, then the 15-minute buffer; a slot before it must
    # leave its own buffer too (11:15-12:00 + 15 would run into 12:00).
    assert [available[t] for t in ("11:00", "11:15", "11:45", "12:00", "12:45", "13:00")] == [
        2,
        1,
        1,
        1,
        1,
        2,
    ]


def test_a_cancelled_booking_frees_its_slot(api, advisors):
    lead = make_lead()
    api.book_lead(lead, "2026-11-24T12:00:00+09:00")
    booking_cancel(booking_id=Booking.objects.get().pk)

    assert _available(api.slots(TUESDAY))["12:00"] == 2


def test_inactive_advisors_offer_nothing(api, advisors):
    advisors[0].is_active = False
    advisors[0].save(update_fields=["is_active"])

    assert set(_available(api.slots(TUESDAY)).values()) == {1}


def test_without_advisors_there_are_no_slots(api, db):
    assert api.slots(TUESDAY).json() == {"time_zone": "Asia/Tokyo", "slots": []}


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ({"from": "2026-11-24", "to": "2026-12-25"}, "to"),  # 32 days
        ({"from": "2026-11-25", "to": "2026-11-24"}, "from"),
        ({"from": "2026-11-24"}, "to"),
        ({"from": "24/11/2026", "to": "2026-11-24"}, "from"),
        ({"from": "2026-11-24", "to": "2026-11-24", "kind": "coffee"}, "kind"),
    ],
)
def test_it_refuses_bad_ranges(api, advisors, query, attr):
    response = api.client.get("/api/v1/consultations/slots/", query)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    assert codes(response)[0] in {"invalid", "required"}


def test_thirty_one_days_is_allowed(api, advisors):
    response = api.slots("2026-11-24", "2026-12-24")

    assert response.status_code == 200
    assert starts(response)[-1] == "2026-12-24T18:15:00+09:00"


def test_dates_far_away_answer_empty_not_an_error(api, advisors):
    assert api.slots("9999-12-31").json()["slots"] == []
    assert api.slots("0001-01-01").json()["slots"] == []


@pytest.mark.parametrize("advisor_count", [2, 20])
def test_the_slots_cost_three_queries_whatever_the_advisors(
    api, make_advisor, advisor_count, django_assert_num_queries
):
    for _ in range(advisor_count):
        make_advisor()
    make_lead()

    # 1 weekly hours of active advisors; 2 their overrides in the range; 3 active bookings.
    with django_assert_num_queries(3):
        response = api.slots("2026-11-24", "2026-12-24")

    assert response.json()["slots"][0]["available"] == advisor_count


def test_the_selector_answers_in_tokyo_time_for_a_now_in_utc(advisors):
    slots = slots_for_range(
        date_from=date(2026, 11, 24),
        date_to=date(2026, 11, 24),
        kind="career",
        now=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),  # 12:00 in Tokyo
    )

    assert slots[0].start.isoformat() == "2026-11-24T14:00:00+09:00"  # two hours' notice
    assert slots[0].end - slots[0].start == timedelta(minutes=45)
    assert slots[0].available == 2


def test_the_gaps_between_one_advisors_bookings_are_offered_exactly(api, make_advisor):
    make_advisor()
    for start in ("10:00", "14:00", "12:00"):  # in no particular order
        assert api.book_lead(make_lead(), f"{TUESDAY}T{start}:00+09:00").status_code == 201

    # Each booking blocks [start, start + 45 min + 15 min buffer): the only starts left
    # are those whose own hour fits between them, touching but not overlapping.
    afternoon = [t for t in QUARTERS if "15:00" <= t <= "18:15"]
    assert _times(api.slots(TUESDAY)) == ["11:00", "13:00", *afternoon]
