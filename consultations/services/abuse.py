"""Nobody can empty the calendar (CONTRACT section 5, "Abuse"; OWASP API6 2023).

The public booking flow is guarded at three levels:
- the seats themselves: a direct booking only holds its seat until the person confirms it
  from the message sent to them (services.bookings.booking_hold), and one client address
  holds at most HOLDS_PER_CLIENT seats at once (counted in the database, under a lock);
- attempts: per client address an hour, per email or phone a day (the rules below), and
  slot queries per address a minute, counted in the shared cache (core.ratelimit);
- what advisors see: every refusal is tallied per hour and reason (BookingRefusal: one row
  an hour per reason, whatever a bot sends), listed in the admin, and once an hour's
  refusals pass REFUSAL_SPIKE the dashboard says so and the managers are told, once a day.

Client addresses and contacts are never stored or used as keys as they are: only their
keyed hashes (core.ratelimit.client_key).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from consultations.models import BookingRefusal
from core.business_time import BUSINESS_TZ
from core.outbox import OutboxItem, outbox_enqueue
from core.ratelimit import RateLimit, client_key, rate_limit_hit
from core.tasks import outbox_kick_on_commit

ADDRESS_ATTEMPTS = RateLimit(name="booking-address", limit=10, window=3600)
CONTACT_ATTEMPTS = RateLimit(name="booking-contact", limit=3, window=86400)
SLOT_QUERIES = RateLimit(name="slots-address", limit=60, window=60)
REFUSAL_SPIKE = 30  # refused attempts within an hour that make an attack worth a look
KIND_REFUSAL_SPIKE = "booking.refusal_spike"

Reason = BookingRefusal.Reason


@dataclass(frozen=True)
class Refused:
    reason: str  # a BookingRefusal.Reason
    retry_after: int  # seconds


def _hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def booking_refusal_record(*, reason: str, now: datetime | None = None) -> None:
    """Count one refused attempt in this hour's tally; tell the managers (once a JST day)
    when the hour's refusals reach REFUSAL_SPIKE."""
    now = now or timezone.now()
    hour = _hour(now)
    with transaction.atomic():
        counted = BookingRefusal.objects.filter(hour=hour, reason=reason).update(count=F("count") + 1)
        if not counted:
            try:
                with transaction.atomic():
                    BookingRefusal.objects.create(hour=hour, reason=reason, count=1)
            except IntegrityError:  # another request made the row first
                BookingRefusal.objects.filter(hour=hour, reason=reason).update(count=F("count") + 1)
        total = refusals_since(since=hour)
        day = now.astimezone(BUSINESS_TZ).date().isoformat()
        if total >= REFUSAL_SPIKE and cache.add(f"booking-refusal-spike:{day}", 1, timeout=2 * 86400):
            outbox_enqueue(
                items=[
                    OutboxItem(
                        kind=KIND_REFUSAL_SPIKE,
                        subject=f"booking-refusals:{day}",
                        due_at=now,
                        payload={"hour": hour.isoformat()},
                    )
                ]
            )
            outbox_kick_on_commit()


def refusals_since(*, since: datetime) -> int:
    return BookingRefusal.objects.filter(hour__gte=_hour(since)).aggregate(n=Sum("count"))["n"] or 0


def _refuse(reason: str, retry_after: int) -> Refused:
    booking_refusal_record(reason=reason)
    return Refused(reason=reason, retry_after=retry_after)


def direct_attempt_admit(*, client: str, email: str | None, phone: str | None) -> Refused | None:
    """Count a direct booking attempt from ``client`` (a client_key) for these contacts:
    None if it may go on, else why not and for how long."""
    retry_after = rate_limit_hit(rule=ADDRESS_ATTEMPTS, subject=client)
    if retry_after is not None:
        return _refuse(Reason.ADDRESS_ATTEMPTS, retry_after)
    for contact in (email, phone):
        if contact:
            retry_after = rate_limit_hit(rule=CONTACT_ATTEMPTS, subject=client_key(contact))
            if retry_after is not None:
                return _refuse(Reason.CONTACT_ATTEMPTS, retry_after)
    return None


def slot_query_admit(*, client: str) -> Refused | None:
    retry_after = rate_limit_hit(rule=SLOT_QUERIES, subject=client)
    return None if retry_after is None else _refuse(Reason.SLOT_QUERIES, retry_after)


def holds_refused(*, retry_at: datetime, now: datetime | None = None) -> Refused:
    """A hold refused because the client holds enough seats: retry when the first frees."""
    now = now or timezone.now()
    return _refuse(Reason.HOLDS_AT_ONCE, max(1, int((retry_at - now).total_seconds()) + 1))
