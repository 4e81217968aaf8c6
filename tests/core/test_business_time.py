from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jpholiday
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.business_time import (
    BUSINESS_CLOSES,
    BUSINESS_OPENS,
    BUSINESS_TZ,
    business_time_add,
    business_time_between,
    is_business_day,
    is_business_time,
)

NEW_YORK = ZoneInfo("America/New_York")


def jst(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, second: int = 0, microsecond: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=BUSINESS_TZ)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def test_it_uses_tokyo_office_hours():
    assert str(BUSINESS_TZ) == "Asia/Tokyo"
    assert (BUSINESS_OPENS.isoformat(), BUSINESS_CLOSES.isoformat()) == ("09:00:00", "18:00:00")


def test_it_relies_on_jpholiday_knowing_these_holidays():
    # The tables below assume these; if the library changes its mind, fail here, not obscurely.
    assert jpholiday.is_holiday_name(date(2026, 11, 23)) == "勤労感謝の日"
    assert jpholiday.is_holiday_name(date(2027, 1, 11)) == "成人の日"
    assert jpholiday.is_holiday_name(date(2026, 9, 22)) == "国民の休日"
    assert jpholiday.is_holiday_name(date(2026, 12, 30)) is None  # the break is ours, not the law's


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 24), True),  # Tuesday
        (date(2026, 11, 20), True),  # Friday
        (date(2026, 11, 21), False),  # Saturday
        (date(2026, 11, 22), False),  # Sunday
        (date(2026, 11, 23), False),  # Monday, 勤労感謝の日
        (date(2027, 1, 11), False),  # Monday, 成人の日
        (date(2026, 9, 21), False),  # Monday, 敬老の日
        (date(2026, 9, 22), False),  # Tuesday, 国民の休日 between two holidays
        (date(2026, 9, 23), False),  # Wednesday, 秋分の日
        (date(2026, 5, 6), False),  # Wednesday, 振替休日 for Sunday 5/3
        (date(2026, 12, 28), True),  # Monday, last working day of the year
        (date(2026, 12, 29), False),  # Tuesday, year-end break
        (date(2026, 12, 31), False),  # Thursday, year-end break
        (date(2027, 1, 1), False),  # Friday, 元日
        (date(2027, 1, 3), False),  # Sunday, break and weekend
        (date(2028, 1, 3), False),  # Monday, year-end break although a weekday and no holiday
        (date(2027, 1, 4), True),  # Monday, first working day
    ],
)
def test_it_knows_business_days(day, expected):
    assert is_business_day(day) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (jst(2026, 11, 24, 8, 59, second=59, microsecond=999999), False),
        (jst(2026, 11, 24, 9, 0), True),
        (jst(2026, 11, 24, 12, 0), True),
        (jst(2026, 11, 24, 17, 59, second=59, microsecond=999999), True),
        (jst(2026, 11, 24, 18, 0), False),  # closing time itself is closed
        (jst(2026, 11, 21, 12, 0), False),  # Saturday
        (jst(2026, 11, 23, 12, 0), False),  # holiday
        (jst(2026, 12, 30, 12, 0), False),  # year-end break
        (datetime(2026, 11, 24, 0, 0, tzinfo=UTC), True),  # 09:00 JST
        (datetime(2026, 11, 23, 23, 59, tzinfo=UTC), False),  # 08:59 JST
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), False),  # 18:00 JST
        (datetime(2026, 11, 23, 19, 0, tzinfo=NEW_YORK), True),  # Tuesday 09:00 JST, Monday in NY
    ],
)
def test_it_knows_business_time(moment, expected):
    assert is_business_time(moment) is expected


def test_it_refuses_naive_datetimes():
    naive = datetime(2026, 11, 24, 10, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match=r"^moment must be a timezone-aware datetime"):
        is_business_time(naive)
    with pytest.raises(ValueError, match=r"^start must be a timezone-aware datetime"):
        business_time_add(naive, hours(2))
    with pytest.raises(ValueError, match=r"^start must be a timezone-aware datetime"):
        business_time_between(naive, jst(2026, 11, 24, 12, 0))
    with pytest.raises(ValueError, match=r"^end must be a timezone-aware datetime"):
        business_time_between(jst(2026, 11, 24, 12, 0), naive)


def test_it_refuses_a_negative_duration():
    with pytest.raises(ValueError, match=r"^duration must not be negative"):
        business_time_add(jst(2026, 11, 24, 10, 0), -timedelta(microseconds=1))


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # within one day
        (jst(2026, 11, 24, 10, 0), hours(2), jst(2026, 11, 24, 12, 0)),
        (jst(2026, 11, 24, 9, 0), hours(2), jst(2026, 11, 24, 11, 0)),  # exactly at opening
        (jst(2026, 11, 24, 8, 0), hours(2), jst(2026, 11, 24, 11, 0)),  # before opening
        (jst(2026, 11, 24, 0, 0), hours(2), jst(2026, 11, 24, 11, 0)),
        (jst(2026, 11, 24, 16, 0), hours(2), jst(2026, 11, 24, 18, 0)),  # runs out at closing: stays
        (jst(2026, 11, 24, 17, 59), timedelta(minutes=1), jst(2026, 11, 24, 18, 0)),
        (jst(2026, 11, 24, 9, 0), hours(9), jst(2026, 11, 24, 18, 0)),  # a whole day
        # across the night
        (jst(2026, 11, 24, 17, 0), hours(2), jst(2026, 11, 25, 10, 0)),
        (jst(2026, 11, 24, 18, 0), hours(2), jst(2026, 11, 25, 11, 0)),  # exactly at closing
        (jst(2026, 11, 24, 23, 30), timedelta(minutes=30), jst(2026, 11, 25, 9, 30)),
        (
            jst(2026, 11, 24, 9, 0),
            hours(9) + timedelta(microseconds=1),
            jst(2026, 11, 25, 9, 0, microsecond=1),
        ),
        # weekends
        (jst(2026, 11, 13, 17, 0), hours(2), jst(2026, 11, 16, 10, 0)),  # Friday -> Monday
        (jst(2026, 11, 14, 12, 0), hours(2), jst(2026, 11, 16, 11, 0)),  # Saturday -> Monday
        (jst(2026, 11, 15, 23, 59), hours(2), jst(2026, 11, 16, 11, 0)),  # Sunday night
        # public holidays
        (jst(2026, 11, 20, 17, 0), hours(2), jst(2026, 11, 24, 10, 0)),  # Monday 11/23 is a holiday
        (jst(2026, 11, 21, 12, 0), hours(2), jst(2026, 11, 24, 11, 0)),
        (jst(2027, 1, 8, 17, 0), hours(2), jst(2027, 1, 12, 10, 0)),  # Monday 1/11 成人の日
        (jst(2026, 9, 18, 17, 0), hours(2), jst(2026, 9, 24, 10, 0)),  # Silver Week: Mon-Wed off
        # the year-end break
        (jst(2026, 12, 28, 17, 0), hours(2), jst(2027, 1, 4, 10, 0)),
        (jst(2026, 12, 30, 12, 0), hours(2), jst(2027, 1, 4, 11, 0)),
        (jst(2027, 12, 28, 17, 0), hours(2), jst(2028, 1, 4, 10, 0)),  # 1/3/2028 is a Monday
        # long durations
        (jst(2026, 11, 24, 9, 0), hours(45), jst(2026, 11, 30, 18, 0)),  # five whole days
        (jst(2026, 11, 24, 10, 30), hours(45), jst(2026, 12, 1, 10, 30)),
        (jst(2026, 11, 20, 17, 0), hours(45), jst(2026, 11, 30, 17, 0)),  # holiday Monday inside
        (jst(2026, 12, 21, 9, 0), hours(56), jst(2027, 1, 4, 11, 0)),  # across the year-end break
        # zero: the clock starts at the next opening
        (jst(2026, 11, 24, 10, 0), timedelta(0), jst(2026, 11, 24, 10, 0)),
        (jst(2026, 11, 24, 18, 0), timedelta(0), jst(2026, 11, 25, 9, 0)),
        (jst(2026, 11, 21, 12, 0), timedelta(0), jst(2026, 11, 24, 9, 0)),
    ],
)
def test_it_adds_business_time(start, duration, expected):
    result = business_time_add(start, duration)
    assert result == expected
    assert result.tzinfo is BUSINESS_TZ


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Tuesday 17:00 JST is Tuesday 03:00 in New York (EST, UTC-5).
        (datetime(2026, 11, 24, 3, 0, tzinfo=NEW_YORK), jst(2026, 11, 25, 10, 0)),
        # Thursday 20:00 EDT (UTC-4) is Friday 09:00 JST.
        (datetime(2026, 7, 9, 20, 0, tzinfo=NEW_YORK), jst(2026, 7, 10, 11, 0)),
        # New York's clocks jump on Sunday 2026-03-08 at 02:00; Tokyo's never do.
        (datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK), jst(2026, 3, 9, 11, 0)),  # 15:30 JST Sunday
        (datetime(2026, 3, 8, 20, 0, tzinfo=NEW_YORK), jst(2026, 3, 9, 11, 0)),  # 09:00 JST Monday
        (datetime(2026, 11, 24, 8, 0, tzinfo=UTC), jst(2026, 11, 25, 10, 0)),  # 17:00 JST
    ],
)
def test_it_adds_business_time_to_a_start_in_any_time_zone(start, expected):
    result = business_time_add(start, hours(2))
    assert result == expected
    assert result.utcoffset() == hours(9)
    assert result.isoformat() == expected.isoformat()


def test_it_adds_years_of_business_time_by_days_not_minutes():
    # Given 2,000 business days of business time from an opening
    start, duration = jst(2026, 1, 5, 9, 0), hours(9 * 2000)
    # when added
    result = business_time_add(start, duration)
    # then it ends at a closing time roughly eight years on, and measures back exactly
    assert (result.year, result.time()) == (2034, BUSINESS_CLOSES)
    assert business_time_between(start, result) == duration


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (jst(2026, 11, 24, 10, 0), jst(2026, 11, 24, 12, 0), hours(2)),
        (jst(2026, 11, 24, 10, 0), jst(2026, 11, 24, 10, 0), timedelta(0)),
        (jst(2026, 11, 24, 7, 0), jst(2026, 11, 24, 20, 0), hours(9)),
        (jst(2026, 11, 24, 18, 0), jst(2026, 11, 25, 9, 0), timedelta(0)),  # closed overnight
        (jst(2026, 11, 24, 17, 0), jst(2026, 11, 25, 10, 0), hours(2)),
        (jst(2026, 11, 13, 17, 0), jst(2026, 11, 16, 10, 0), hours(2)),  # over a weekend
        (jst(2026, 11, 20, 17, 0), jst(2026, 11, 24, 10, 0), hours(2)),  # over a weekend and holiday
        (jst(2026, 11, 21, 0, 0), jst(2026, 11, 23, 23, 59), timedelta(0)),  # all closed
        (jst(2026, 12, 28, 17, 0), jst(2027, 1, 4, 10, 0), hours(2)),  # over the year-end break
        (jst(2026, 11, 24, 9, 0), jst(2026, 11, 30, 18, 0), hours(45)),
        (jst(2026, 11, 24, 12, 0), jst(2026, 11, 24, 10, 0), -hours(2)),  # overdue: negative
        (jst(2026, 11, 25, 12, 0), jst(2026, 11, 20, 17, 0), -hours(1 + 9 + 3)),
        # Friday 19:00 EST is Saturday 09:00 JST; Monday 21:00 EDT (after New York's switch to
        # summer time) is Tuesday 10:00 JST: Monday's 9 hours plus 1.
        (
            datetime(2026, 3, 6, 19, 0, tzinfo=NEW_YORK),
            datetime(2026, 3, 9, 21, 0, tzinfo=NEW_YORK),
            hours(10),
        ),
        (datetime(2026, 11, 24, 0, 0, tzinfo=UTC), jst(2026, 11, 24, 10, 0), hours(1)),
    ],
)
def test_it_measures_business_time_between(start, end, expected):
    assert business_time_between(start, end) == expected


# --- properties ------------------------------------------------------------------------------

_ZONES = st.sampled_from([BUSINESS_TZ, ZoneInfo("UTC"), NEW_YORK])
# Naive bounds as hypothesis wants them; the holidays of these years are known to jpholiday.
_MOMENTS = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=_ZONES,
    allow_imaginary=False,
)
_DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=hours(200))


@settings(deadline=None)
@given(start=_MOMENTS, duration=_DURATIONS)
def test_it_measures_back_exactly_what_it_added(start, duration):
    assert business_time_between(start, business_time_add(start, duration)) == duration


@settings(deadline=None)
@given(start=_MOMENTS, duration=_DURATIONS)
def test_it_always_lands_in_business_time_or_at_a_closing(start, duration):
    result = business_time_add(start, duration)
    at_closing = result.time() == BUSINESS_CLOSES and is_business_day(result.date())
    assert is_business_time(result) or at_closing
    assert result >= start


@settings(deadline=None)
@given(start=_MOMENTS, first=_DURATIONS, second=_DURATIONS.filter(bool))
def test_it_adds_in_steps_as_in_one_go(start, first, second):
    # An SLA of 2 h then a reminder 22 h later lands where a 24 h SLA does (for a non-zero step:
    # a zero step from a closing time moves to the next opening, where the clock restarts).
    assert business_time_add(business_time_add(start, first), second) == business_time_add(
        start, first + second
    )


@settings(deadline=None)
@given(start=_MOMENTS, shorter=_DURATIONS, longer=_DURATIONS)
def test_it_never_goes_back_for_a_longer_duration(start, shorter, longer):
    shorter, longer = sorted([shorter, longer])
    assert business_time_add(start, shorter) <= business_time_add(start, longer)


@settings(deadline=None)
@given(first=_MOMENTS, second=_MOMENTS, third=_MOMENTS)
def test_it_measures_additively_and_antisymmetrically(first, second, third):
    assert business_time_between(first, second) + business_time_between(second, third) == (
        business_time_between(first, third)
    )
    assert business_time_between(second, first) == -business_time_between(first, second)


@settings(deadline=None, max_examples=50)
@given(
    start=_MOMENTS.map(lambda moment: moment.replace(second=0, microsecond=0)),
    minutes=st.integers(min_value=0, max_value=4 * 24 * 60),
)
def test_it_agrees_with_counting_minute_by_minute(start, minutes):
    # A slow, obviously right oracle: count the open minutes one by one. Stepping in UTC, as
    # adding to a New York datetime steps its wall clock, which skips or repeats an hour at DST.
    start, step = start.astimezone(UTC), timedelta(minutes=1)
    open_minutes = sum(is_business_time(start + step * index) for index in range(minutes))
    assert business_time_between(start, start + step * minutes) == step * open_minutes
