"""What a booking writes to the outbox for the candidate, with the change it is about: the
notice of each revision (confirmed, moved, cancelled) and the reminders before the start
(CONSULTATION_REMINDER_OFFSETS, held to the candidate's quiet hours)."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings

from consultations.models import Booking
from consultations.services.followups import post_consultation_item
from core.outbox import OutboxItem, outbox_enqueue
from core.quiet_hours import candidate_delivery_time
from core.tasks import outbox_kick_on_commit

KIND_CONFIRMATION = "booking.confirmation"


KIND_RESCHEDULED = "booking.rescheduled"


KIND_CANCELLED = "booking.cancelled"


KIND_REMINDER = "booking.reminder"


KIND_HOLD = "booking.hold"  # the message asking the person to confirm their hold


KIND_HOLD_RELEASE = "booking.hold_release"  # due at confirm_by: the hold is released


HOLD_KINDS = (KIND_HOLD, KIND_HOLD_RELEASE)  # moot once the hold is confirmed or released


# The candidate's messages about a booking still to come: moot once it has taken place (the
# follow-ups of services.followups are not: they are about what happened).
CANDIDATE_NOTICE_KINDS = (KIND_CONFIRMATION, KIND_RESCHEDULED, KIND_CANCELLED, KIND_REMINDER, KIND_HOLD)


def booking_subject(booking_id: uuid.UUID) -> str:
    return f"booking:{booking_id}"


def booking_notice_enqueue(booking: Booking, *, kind: str, now: datetime, by_staff: bool = False) -> None:
    """The candidate's notice of a change. The reply to their own action goes at once, at any
    hour (they are waiting for it); a change the agency made waits out their quiet hours
    (consultations.outbox_handlers.booking_notice_send)."""
    payload: dict[str, object] = {"booking_id": str(booking.pk)}
    if by_staff:
        payload["by_staff"] = True
    item = OutboxItem(
        kind=kind,
        subject=booking_subject(booking.pk),
        due_at=now,
        payload=payload,
        version=booking.sequence + 1,  # one notice per revision of the booking
    )
    outbox_enqueue(items=[item])
    outbox_kick_on_commit()


def booking_hold_enqueue(booking: Booking, *, now: datetime) -> None:
    """A hold's two rows: the message with the confirmation link (at once, at any hour: the
    person is waiting for it) and the release at its `confirm_by`."""
    assert booking.confirm_by is not None
    payload: dict[str, object] = {"booking_id": str(booking.pk)}
    subject = booking_subject(booking.pk)
    outbox_enqueue(
        items=[
            OutboxItem(kind=KIND_HOLD, subject=subject, due_at=now, payload=payload),
            OutboxItem(kind=KIND_HOLD_RELEASE, subject=subject, due_at=booking.confirm_by, payload=payload),
        ]
    )
    outbox_kick_on_commit()


def booking_reminders_schedule(booking: Booking, *, now: datetime) -> None:
    """The candidate's reminders (CONSULTATION_REMINDER_OFFSETS before the start, 24 h and
    1 h by default), written with the booking. One falling in quiet hours waits for their
    end; one that would then come after the start, or is already past, is not written.
    Each row remembers the start it is about, so a moved booking's old rows can never be
    mistaken for current ones (they are cancelled as well). The advisor's post-consultation
    follow-up for this time is written here too (services.followups)."""
    items = []
    for offset in settings.CONSULTATION_REMINDER_OFFSETS:
        due = candidate_delivery_time(due=booking.start_at - offset, deadline=booking.start_at)
        if due is None or due <= now:
            continue
        items.append(
            OutboxItem(
                kind=KIND_REMINDER,
                subject=booking_subject(booking.pk),
                due_at=due,
                payload={
                    "booking_id": str(booking.pk),
                    "start": booking.start_at.isoformat(),
                    "offset": int(offset.total_seconds()),
                },
                version=booking.sequence + 1,
                variant=f"{int(offset.total_seconds())}s",
            )
        )
    items.append(post_consultation_item(booking=booking, subject=booking_subject(booking.pk)))
    outbox_enqueue(items=items)


def reminder_superseded_at(*, start: datetime, offset: timedelta) -> datetime:
    """When the reminder ``offset`` before ``start`` is no longer worth sending: when the
    next, shorter reminder goes (as booking_reminders_schedule writes it), or else at the start. A
    24 h reminder found late (a sweep that was down) is not sent after the 1 h one is due:
    one reminder then, not two within minutes."""
    shorter = [other for other in settings.CONSULTATION_REMINDER_OFFSETS if other < offset]
    if shorter:
        at = candidate_delivery_time(due=start - max(shorter), deadline=start)
        if at is not None:
            return at
    return start
