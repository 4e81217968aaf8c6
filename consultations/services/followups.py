"""The follow-ups a consultation leaves behind (CONTRACT section 6), written to the outbox in
the transaction of the booking change they are about and delivered by
consultations.outbox_followups:

- post-consultation: the advisor is reminded at 09:00 JST on the next business morning after
  the end of a held consultation whose outcome and next step are still unrecorded. Written
  with the booking (and again with each new time), so a reschedule or cancellation cancels it
  with the booking's other pending rows.
- no-show: 30 minutes after the start of a consultation marked no-show (or at once when it is
  marked later than that), the advisor gets a task and an email, and the candidate a fresh
  booking link, held to the candidate's hours (CANDIDATE_QUIET_HOURS). Two rows, one per
  recipient, so that a failure on one side is retried without repeating the other.

Each row carries the booking time it was written for: at delivery the handler sends only if
the booking is still in the state that warranted it at that time.
"""

from datetime import date, datetime, time, timedelta

from consultations.models import Booking
from core.business_time import BUSINESS_TZ, is_business_day
from core.outbox import OutboxItem, outbox_enqueue
from core.quiet_hours import candidate_delivery_time
from core.tasks import outbox_kick_on_commit

KIND_POST_CONSULTATION = "booking.post_consultation"
KIND_NO_SHOW = "booking.no_show"  # to the advisor
KIND_NO_SHOW_REBOOK = "booking.no_show_rebook"  # to the candidate
FOLLOWUP_KINDS = (KIND_POST_CONSULTATION, KIND_NO_SHOW, KIND_NO_SHOW_REBOOK)

MORNING = time(9, 0)
NO_SHOW_DELAY = timedelta(minutes=30)


def next_business_morning(after: datetime) -> datetime:
    """09:00 JST on the first business day (weekday, not a public holiday, not 29 Dec-3 Jan)
    after the Tokyo date of ``after``."""
    day: date = after.astimezone(BUSINESS_TZ).date() + timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, MORNING, tzinfo=BUSINESS_TZ)


def post_consultation_item(*, booking: Booking, subject: str) -> OutboxItem:
    """The advisor's reminder to record the outcome, for the booking's current time.
    ``subject`` is the booking's outbox subject, so it is cancelled with its other rows."""
    return OutboxItem(
        kind=KIND_POST_CONSULTATION,
        subject=subject,
        due_at=next_business_morning(booking.end_at),
        payload={"booking_id": str(booking.pk), "end": booking.end_at.isoformat()},
        version=booking.sequence + 1,
    )


def no_show_followups_schedule(*, booking: Booking, subject: str, now: datetime) -> None:
    """Call in the transaction that marks ``booking`` no-show. One pair of rows per booking
    revision: marking it no-show again after a correction sends no second link."""
    due = max(booking.start_at + NO_SHOW_DELAY, now)
    payload: dict[str, object] = {"booking_id": str(booking.pk), "start": booking.start_at.isoformat()}
    candidate_due = candidate_delivery_time(due=due)
    assert candidate_due is not None  # no deadline: the quiet window always ends
    outbox_enqueue(
        items=[
            OutboxItem(
                kind=KIND_NO_SHOW,
                subject=subject,
                due_at=due,
                payload=payload,
                version=booking.sequence + 1,
            ),
            OutboxItem(
                kind=KIND_NO_SHOW_REBOOK,
                subject=subject,
                due_at=candidate_due,
                payload=payload,
                version=booking.sequence + 1,
            ),
        ]
    )
    if due <= now:
        outbox_kick_on_commit()  # due already: do not wait for beat's next sweep
