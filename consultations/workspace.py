"""What the advisors' workspace (leads.candidates) reads of consultations, registered in
ConsultationsConfig.ready: the list's "upcoming consultation" filter and the dashboard's
consultations of the day."""

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef

from accounts.models import User
from consultations.models import Booking


def booking_upcoming_exists(now: datetime) -> Exists:
    """The candidate (OuterRef("pk")) has a consultation booked at or after `now`."""
    return Exists(
        Booking.objects.filter(candidate=OuterRef("pk"), status=Booking.Status.BOOKED, start_at__gte=now)
    )


def bookings_between(*, start: datetime, end: datetime, advisor: User | None, limit: int) -> list[Any]:
    """Consultations starting in [start, end) that were not cancelled, earliest first, with
    their candidate and advisor; one advisor's or everyone's."""
    rows = Booking.objects.filter(start_at__gte=start, start_at__lt=end).exclude(
        status=Booking.Status.CANCELLED
    )
    if advisor is not None:
        rows = rows.filter(advisor=advisor)
    return list(rows.select_related("candidate", "advisor").order_by("start_at", "pk")[:limit])
