"""Reads for consultation booking: free slots, free advisors, bookings by manage token.

Free time is computed in Python from three queries whatever the number of advisors and
days (weekly hours, date overrides, active bookings of the range), so the slots endpoint
costs the same for 2 advisors over a day as for 20 over a month.

The slot grid: a consultation may start every 15 minutes on the clock (:00, :15, :30, :45)
inside an advisor's hours, and must end within them. 15 rather than 30 minutes because
buffers make free time start at quarter hours (a 60-minute review plus its 15-minute
buffer frees 11:15), and a coarser grid would waste that time.

All wall-clock times are Asia/Tokyo through zoneinfo (core.business_time.BUSINESS_TZ);
Japan has no daylight saving time, so wall-clock arithmetic there is exact.
"""

import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeVar

import jpholiday
from django.conf import settings
from django.db.models import Count, Q

from accounts.models import Groups
from consultations.models import (
    KIND_SPECS,
    LONGEST_BLOCK,
    AvailabilityOverride,
    Booking,
    ConsultationMode,
    KindSpec,
    WeeklyAvailability,
)
from consultations.tokens import manage_token_hash
from core.business_time import BUSINESS_TZ

SLOT_STEP = timedelta(minutes=15)
_STEP_SECONDS = SLOT_STEP.total_seconds()
MODES = tuple(ConsultationMode.values)  # every advisor offers every mode
_DAY = timedelta(days=1)
_LONGEST = LONGEST_BLOCK
_ACTIVE_ADVISOR = Q(advisor__is_active=True, advisor__groups__name=Groups.ADVISORS)

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    available: int
    modes: tuple[str, ...] = MODES


@lru_cache(maxsize=1024)
def day_closed_by_default(day: date) -> bool:
    """Public holidays, and 年末年始 (Dec 29 - Jan 3, when the agency and employers close),
    are closed unless an override opens the day. (jpholiday is slow: cached per day.)"""
    year_end = (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)
    return year_end or bool(jpholiday.is_holiday(day))


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=BUSINESS_TZ)


_Point = TypeVar("_Point", datetime, float)


def _merge(windows: Iterable[tuple[_Point, _Point]]) -> list[tuple[_Point, _Point]]:
    """Union of half-open intervals, sorted and disjoint (touching ones joined)."""
    merged: list[tuple[_Point, _Point]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass
class _Schedule:
    """Everything about the advisors' time in a date range, loaded in three queries."""

    weekly: dict[tuple[int, int], list[tuple[time, time]]] = field(default_factory=lambda: defaultdict(list))
    overrides: dict[tuple[int, date], list[AvailabilityOverride]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # Each advisor's busy time as merged, sorted intervals in POSIX seconds: `starts` and
    # `ends` ascend together, so a bisection finds the only interval that can overlap a
    # candidate slot (float comparisons, not aware datetimes of two time zones).
    busy_starts: dict[int, list[float]] = field(default_factory=dict)
    busy_ends: dict[int, list[float]] = field(default_factory=dict)
    advisors: set[int] = field(default_factory=set)

    @classmethod
    def load(
        cls, *, first: date, last: date, now: datetime, exclude_booking: uuid.UUID | None = None
    ) -> "_Schedule":
        schedule = cls()
        # 1: the weekly hours of active advisors
        weekly = WeeklyAvailability.objects.filter(_ACTIVE_ADVISOR).values_list(
            "advisor_id", "weekday", "start_time", "end_time"
        )
        for advisor_id, weekday, start, end in weekly:
            schedule.weekly[(advisor_id, weekday)].append((start, end))
            schedule.advisors.add(advisor_id)
        # 2: their overrides in the range
        for override in AvailabilityOverride.objects.filter(_ACTIVE_ADVISOR, date__range=(first, last)):
            schedule.overrides[(override.advisor_id, override.date)].append(override)
            schedule.advisors.add(override.advisor_id)
        # 3: bookings that can touch the range (a buffer may reach past midnight) and take
        # the advisor's time: a hold past its deadline does not (it is released on demand)
        bookings = Booking.objects.filter(
            Booking.occupying(now),
            start_at__lt=_at(last, time()) + _DAY + _LONGEST,
            blocked_until__gt=_at(first, time()) - _LONGEST,
        )
        if exclude_booking is not None:
            bookings = bookings.exclude(pk=exclude_booking)
        busy: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for advisor_id, busy_start, busy_until in bookings.values_list(
            "advisor_id", "start_at", "blocked_until"
        ):
            busy[advisor_id].append((busy_start.timestamp(), busy_until.timestamp()))
        for advisor_id, intervals in busy.items():
            merged = _merge(intervals)  # the exclusion constraint keeps them apart; SQLite may not
            schedule.busy_starts[advisor_id] = [start for start, _ in merged]
            schedule.busy_ends[advisor_id] = [end for _, end in merged]
        return schedule

    def windows(self, advisor_id: int, day: date) -> list[Window]:
        """The advisor's hours on a day: a day off closes it; replacement hours stand in for
        the weekly ones (and open a holiday); extra hours add to whichever applies."""
        overrides = self.overrides.get((advisor_id, day), [])
        kinds = {o.kind for o in overrides}
        if AvailabilityOverride.Kind.DAY_OFF in kinds:
            return []
        hours: list[tuple[time, time]] = []
        if AvailabilityOverride.Kind.REPLACE not in kinds and not day_closed_by_default(day):
            hours += self.weekly.get((advisor_id, day.weekday()), [])
        hours += [(o.start_time, o.end_time) for o in overrides if o.start_time and o.end_time]
        return _merge((_at(day, start), _at(day, end)) for start, end in hours)

    def is_free(self, advisor_id: int, start: float, blocked_until: float) -> bool:
        """Whether [start, blocked_until) (POSIX seconds) touches none of the advisor's
        busy intervals: the first interval ending after `start` must begin at or after
        `blocked_until` (intervals are disjoint and sorted, so no later one can overlap)."""
        ends = self.busy_ends.get(advisor_id)
        if not ends:
            return True
        index = bisect_right(ends, start)
        return index == len(ends) or self.busy_starts[advisor_id][index] >= blocked_until


def _grid(window: Window, spec: KindSpec, earliest: float, latest: float) -> Iterable[float]:
    """Starts (POSIX seconds) on the quarter hours of the clock inside ``window`` whose
    consultation ends within it, between ``earliest`` and ``latest``. Asia/Tokyo is UTC+9
    all year, a whole number of quarter hours, so the clock's quarter hours are the
    multiples of 900 s since the epoch: the grid is integer arithmetic, no datetimes."""
    step, length = _STEP_SECONDS, spec.length.total_seconds()
    end = window[1].timestamp()
    moment = -(-max(window[0].timestamp(), earliest) // step) * step  # up to the next quarter hour
    while moment + length <= end and moment <= latest:
        yield moment
        moment += step


def booking_window(now: datetime) -> tuple[datetime, datetime]:
    """The first and last instants a consultation may start at (notice and horizon)."""
    return now + settings.CONSULTATION_MIN_NOTICE, now + settings.CONSULTATION_HORIZON


def _free_advisors_by_start(
    *, schedule: _Schedule, first: date, last: date, spec: KindSpec, now: datetime
) -> dict[datetime, list[int]]:
    earliest, latest = (moment.timestamp() for moment in booking_window(now))
    blocks = (spec.length + spec.buffer).total_seconds()
    free: dict[float, list[int]] = defaultdict(list)
    advisors = sorted(schedule.advisors)
    day = first
    while day <= last:
        for advisor_id in advisors:
            for window in schedule.windows(advisor_id, day):
                for start in _grid(window, spec, earliest, latest):
                    if schedule.is_free(advisor_id, start, start + blocks):
                        free[start].append(advisor_id)
        day += _DAY
    return {datetime.fromtimestamp(start, BUSINESS_TZ): ids for start, ids in free.items()}


def _clamp(*, date_from: date, date_to: date, now: datetime) -> tuple[date, date] | None:
    # Clamping first keeps every later computation within the horizon (and away from
    # date.max, which a client may well send).
    earliest, latest = booking_window(now)
    first = max(date_from, earliest.astimezone(BUSINESS_TZ).date())
    last = min(date_to, latest.astimezone(BUSINESS_TZ).date())
    return (first, last) if first <= last else None


def slots_for_range(*, date_from: date, date_to: date, kind: str, now: datetime) -> list[Slot]:
    """Free slots from ``date_from`` to ``date_to`` (Asia/Tokyo dates, inclusive) with the
    number of advisors free for each. At most three queries, none if the range is outside
    the bookable window."""
    bounds = _clamp(date_from=date_from, date_to=date_to, now=now)
    if bounds is None:
        return []
    first, last = bounds
    spec = KIND_SPECS[kind]
    schedule = _Schedule.load(first=first, last=last, now=now)
    free = _free_advisors_by_start(schedule=schedule, first=first, last=last, spec=spec, now=now)
    return [
        Slot(start=start, end=start + spec.length, available=len(advisors))
        for start, advisors in sorted(free.items())
    ]


def advisors_free_at(
    *,
    start: datetime,
    kind: str,
    now: datetime,
    preferred: int | None = None,
    exclude_booking: uuid.UUID | None = None,
) -> list[int]:
    """The advisors who could take a consultation of ``kind`` at ``start``, best first: the
    ``preferred`` advisor (the candidate's own) when free, then the least loaded (fewest
    upcoming booked consultations), then the longest-serving. Empty when ``start`` is not a
    slot. ``exclude_booking`` is a booking being moved, whose current time is not busy."""
    day = start.astimezone(BUSINESS_TZ).date()
    if _clamp(date_from=day, date_to=day, now=now) is None:
        return []
    spec = KIND_SPECS[kind]
    schedule = _Schedule.load(first=day, last=day, now=now, exclude_booking=exclude_booking)
    free = _free_advisors_by_start(schedule=schedule, first=day, last=day, spec=spec, now=now)
    candidates = free.get(start, [])
    if len(candidates) <= 1:
        return candidates
    load = dict(
        Booking.objects.filter(advisor_id__in=candidates, status=Booking.Status.BOOKED, start_at__gte=now)
        .values("advisor_id")
        .annotate(n=Count("pk"))
        .values_list("advisor_id", "n")
    )
    return sorted(candidates, key=lambda a: (a != preferred, load.get(a, 0), a))


def booking_get_by_token(*, token: str, now: datetime) -> Booking | None:
    """The booking a manage token opens, or None when the token is wrong or has expired
    (at the end of the consultation). Looked up by hash: see consultations.tokens."""
    return (
        Booking.objects.select_related("advisor", "candidate")
        .filter(manage_token_hash=manage_token_hash(token=token), end_at__gt=now)
        .first()
    )
