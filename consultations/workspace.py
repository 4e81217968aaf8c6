"""What the advisors' workspace (leads.candidates) reads of consultations, registered in
ConsultationsConfig.ready: the list's "upcoming consultation" filter and the dashboard's
consultations of the day, and its line about refused booking attempts."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from consultations.models import Booking
from consultations.services.abuse import REFUSAL_SPIKE, refusals_since
from leads.candidates.dashboard import DashboardAlert


def booking_upcoming_exists(now: datetime) -> Exists:
    """The candidate (OuterRef("pk")) has a consultation booked at or after `now`."""
    return Exists(
        Booking.objects.filter(candidate=OuterRef("pk"), status=Booking.Status.BOOKED, start_at__gte=now)
    )


def bookings_between(*, start: datetime, end: datetime, advisor: User | None, limit: int) -> list[Any]:
    """Consultations starting in [start, end) that were not cancelled (nor released
    unconfirmed), earliest first, with their candidate and advisor; one advisor's or
    everyone's. Holds awaiting confirmation are among them, with their status."""
    rows = Booking.objects.filter(start_at__gte=start, start_at__lt=end).exclude(
        status__in=(Booking.Status.CANCELLED, Booking.Status.RELEASED)
    )
    if advisor is not None:
        rows = rows.filter(advisor=advisor)
    return list(rows.select_related("candidate", "advisor").order_by("start_at", "pk")[:limit])


def refused_attempts_alert(*, now: datetime) -> list[DashboardAlert]:
    """A line while the last hour's refused booking attempts are at REFUSAL_SPIKE or more:
    someone is trying to empty the calendar (services.abuse)."""
    count = refusals_since(since=now - timedelta(hours=1))
    if count < REFUSAL_SPIKE:
        return []
    text = _(
        "%(count)d booking attempts were refused in the last hour: "
        "someone may be trying to fill the calendar."
    )
    return [
        DashboardAlert(
            text=text % {"count": count}, link=reverse("admin:consultations_bookingrefusal_changelist")
        )
    ]
