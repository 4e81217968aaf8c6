from datetime import time, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.knobs import QuietHours, parse_duration, parse_duration_list, parse_positive_int, parse_quiet_hours


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("60d", timedelta(days=60)),
    ],
)
def test_it_parses_durations(raw, expected):
    assert parse_duration("X", raw) == expected


@pytest.mark.parametrize("raw", ["", "2", "h", "2 h", "1.5h", "-2h", "2w", "2H", "two hours"])
def test_it_names_the_variable_of_a_malformed_duration(raw):
    with pytest.raises(ImproperlyConfigured, match=r"^CONSULTATION_MIN_NOTICE="):
        parse_duration("CONSULTATION_MIN_NOTICE", raw)


def test_it_parses_duration_lists_longest_first_without_duplicates():
    assert parse_duration_list("X", "1h, 24h,1h") == (timedelta(hours=24), timedelta(hours=1))


@pytest.mark.parametrize("raw", ["", " , ", "24h,soon"])
def test_it_rejects_bad_duration_lists(raw):
    with pytest.raises(ImproperlyConfigured, match="CONSULTATION_REMINDER_OFFSETS"):
        parse_duration_list("CONSULTATION_REMINDER_OFFSETS", raw)


def test_it_parses_quiet_hours_that_wrap_midnight():
    quiet = parse_quiet_hours("X", "21:00-08:00")
    assert quiet == QuietHours(start=time(21), end=time(8))
    assert quiet.contains(time(21, 0))
    assert quiet.contains(time(3, 30))
    assert not quiet.contains(time(8, 0))
    assert not quiet.contains(time(12, 0))


def test_it_parses_quiet_hours_within_one_day():
    quiet = parse_quiet_hours("X", "12:00-13:00")
    assert quiet is not None
    assert quiet.contains(time(12, 30))
    assert not quiet.contains(time(13, 0))


def test_it_treats_empty_quiet_hours_as_none():
    assert parse_quiet_hours("X", "  ") is None


@pytest.mark.parametrize("raw", ["21-08", "21:00", "25:00-08:00", "21:00-08:60", "08:00-08:00", "9:00-17:00"])
def test_it_rejects_bad_quiet_hours(raw):
    with pytest.raises(ImproperlyConfigured, match=r"^CANDIDATE_QUIET_HOURS="):
        parse_quiet_hours("CANDIDATE_QUIET_HOURS", raw)


@pytest.mark.parametrize("raw", ["0", "-1", "x", ""])
def test_it_rejects_non_positive_integers(raw):
    with pytest.raises(ImproperlyConfigured, match=r"^REMINDER_SWEEP_SECONDS="):
        parse_positive_int("REMINDER_SWEEP_SECONDS", raw)
