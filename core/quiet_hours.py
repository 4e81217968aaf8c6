"""Candidates get messages only outside CANDIDATE_QUIET_HOURS (default 21:00-08:00 JST)."""

from datetime import datetime, timedelta

from django.conf import settings

from core.business_time import BUSINESS_TZ


def candidate_delivery_time(*, due: datetime, deadline: datetime | None = None) -> datetime | None:
    """When a message due at `due` may reach a candidate: `due` itself outside quiet hours,
    else the end of the quiet window. None when that would be at or after `deadline` (a
    reminder that would arrive after the consultation is no use)."""
    quiet = settings.CANDIDATE_QUIET_HOURS
    at = due.astimezone(BUSINESS_TZ)
    if quiet is not None and quiet.contains(at.time()):
        end = at.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
        if end <= at:  # the window wraps midnight and we are before it: it ends tomorrow
            end += timedelta(days=1)
        at = end
    if deadline is not None and at >= deadline:
        return None
    return at
