"""Parsing of the operator knobs (CONTRACT section 1).

Durations are ``<integer><s, m, h or d>``; quiet hours are ``HH:MM-HH:MM`` or empty.
A malformed value raises ``ImproperlyConfigured`` naming the variable, so start-up stops
with a message an operator can act on instead of running with a guess.
"""

import re
from dataclasses import dataclass
from datetime import time, timedelta

from django.core.exceptions import ImproperlyConfigured

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which candidates get no messages; may wrap midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def parse_duration(name: str, raw: str) -> timedelta:
    match = _DURATION.match(raw.strip())
    if not match:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a duration: use <integer><s, m, h or d>, e.g. 2h or 60d."
        )
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def parse_duration_list(name: str, raw: str) -> tuple[timedelta, ...]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts:
        raise ImproperlyConfigured(f"{name} is empty: give comma-separated durations, e.g. 24h,1h.")
    durations = {parse_duration(name, part) for part in parts}
    return tuple(sorted(durations, reverse=True))


def parse_quiet_hours(name: str, raw: str) -> QuietHours | None:
    raw = raw.strip()
    if not raw:
        return None
    start_raw, sep, end_raw = raw.partition("-")
    start_match, end_match = _CLOCK.match(start_raw.strip()), _CLOCK.match(end_raw.strip())
    if not sep or not start_match or not end_match:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a window: use HH:MM-HH:MM, e.g. 21:00-08:00.")
    start = time(int(start_match[1]), int(start_match[2]))
    end = time(int(end_match[1]), int(end_match[2]))
    if start == end:
        raise ImproperlyConfigured(f"{name}={raw!r} is an empty window: start and end must differ.")
    return QuietHours(start=start, end=end)


def parse_non_negative_int(name: str, raw: str) -> int:
    if not raw.strip().isdigit():
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number (0 or more).")
    return int(raw)


def parse_positive_int(name: str, raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) <= 0:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a positive whole number.")
    return int(raw)


def parse_duration_at_least(name: str, raw: str, minimum: timedelta) -> timedelta:
    """A duration with a floor, for knobs where a typo would do harm that cannot be undone
    (RETENTION_PERIOD=3d would anonymise nearly every closed candidate at once)."""
    duration = parse_duration(name, raw)
    if duration < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} is shorter than the minimum of {minimum.days}d.")
    return duration


_REGISTRATION_NUMBER = re.compile(r"^T\d{13}$")


def parse_registration_number(name: str, raw: str) -> str:
    """A qualified invoice issuer's registration number (適格請求書発行事業者登録番号): T and
    13 digits, as the National Tax Agency prints it."""
    value = raw.strip()
    if not _REGISTRATION_NUMBER.match(value):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a registration number: T and 13 digits.")
    return value


def parse_choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of: {', '.join(choices)}.")
    return value


def parse_required_text(name: str, raw: str) -> str:
    value = " ".join(raw.split())
    if not value:
        raise ImproperlyConfigured(f"{name}={raw!r} is empty: give the name to print.")
    return value
