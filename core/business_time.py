"""Business-hours arithmetic in Asia/Tokyo, for the lead-contact SLA (CONTRACT section 6:
"lead not contacted within 2 business hours").

Business time is weekdays 09:00-18:00 JST, except Japanese public holidays and the year-end
break. Each business day is the half-open interval [09:00, 18:00): 18:00 itself is closed for
is_business_time(), but a clock that runs out exactly at closing ends at 18:00 that day, not at
09:00 the next morning.

Japan has had no daylight saving time since 1951, so wall-clock arithmetic on Asia/Tokyo
datetimes is exact arithmetic on instants; inputs in any zone are converted first.
"""

import zoneinfo
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import jpholiday

BUSINESS_TZ = zoneinfo.ZoneInfo("Asia/Tokyo")
BUSINESS_OPENS = time(9, 0)
BUSINESS_CLOSES = time(18, 0)

_ONE_DAY = timedelta(days=1)


def _require_aware(moment: datetime, *, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}.")


@lru_cache(maxsize=4096)
def _is_public_holiday(day: date) -> bool:
    # jpholiday recomputes the year's rules on every call; SLA sweeps ask about the same few days.
    return bool(jpholiday.is_holiday(day))


def _in_year_end_break(day: date) -> bool:
    # 年末年始: Japanese companies, agencies and their clients close from Dec 29 to Jan 3. Only
    # Jan 1 is a public holiday, so jpholiday alone would count the rest as working days.
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and not _in_year_end_break(day) and not _is_public_holiday(day)


def _opening(day: date) -> datetime:
    return datetime.combine(day, BUSINESS_OPENS, tzinfo=BUSINESS_TZ)


def _closing(day: date) -> datetime:
    return datetime.combine(day, BUSINESS_CLOSES, tzinfo=BUSINESS_TZ)


def _next_business_day(after: date) -> date:
    day = after + _ONE_DAY
    while not is_business_day(day):
        day += _ONE_DAY
    return day


def is_business_time(moment: datetime) -> bool:
    _require_aware(moment, name="moment")
    local = moment.astimezone(BUSINESS_TZ)
    return is_business_day(local.date()) and BUSINESS_OPENS <= local.time() < BUSINESS_CLOSES


def _clock_start(local: datetime) -> datetime:
    """The first business instant at or after ``local``: where a business-time clock starts."""
    day = local.date()
    if is_business_day(day):
        if local < _opening(day):
            return _opening(day)
        if local < _closing(day):
            return local
    return _opening(_next_business_day(day))


def business_time_add(start: datetime, duration: timedelta) -> datetime:
    """The instant (in Asia/Tokyo) at which ``duration`` of business time has passed since ``start``.

    A start outside business hours counts from the next opening, so a zero duration gives that
    opening. Loops once per business day spanned, never per minute.
    """
    _require_aware(start, name="start")
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration!r}.")
    moment = _clock_start(start.astimezone(BUSINESS_TZ))
    remaining = duration
    while True:
        left_today = _closing(moment.date()) - moment
        if remaining <= left_today:  # "<=": running out exactly at closing ends at 18:00 that day
            return moment + remaining
        remaining -= left_today
        moment = _opening(_next_business_day(moment.date()))


def business_time_between(start: datetime, end: datetime) -> timedelta:
    """Business time elapsed from ``start`` to ``end``; negative when ``end`` is before ``start``.

    Inverse of business_time_add: ``business_time_between(s, business_time_add(s, d)) == d``.
    The sign lets an SLA clock show time left (positive) and time overdue (negative) alike.
    """
    _require_aware(start, name="start")
    _require_aware(end, name="end")
    if end < start:
        return -business_time_between(end, start)
    first, last = start.astimezone(BUSINESS_TZ), end.astimezone(BUSINESS_TZ)
    total = timedelta(0)
    day = first.date()
    while day <= last.date():
        if is_business_day(day):
            overlap = min(last, _closing(day)) - max(first, _opening(day))
            total += max(overlap, timedelta(0))
        day += _ONE_DAY
    return total
