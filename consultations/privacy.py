"""The bookings' part of a person's disclosure and erasure (leads.privacy.records)."""

from typing import Any

from django.utils import timezone

from consultations.models import Booking
from consultations.services.bookings import booking_cancel
from consultations.services.notices import booking_subject
from core.outbox import outbox_cancel
from leads.models import Candidate


def bookings_export(candidate: Candidate) -> list[dict[str, Any]]:
    bookings = Booking.objects.filter(candidate=candidate).select_related("advisor").order_by("start_at")
    return [
        {
            "id": str(booking.pk),
            "kind": booking.kind,
            "mode": booking.mode,
            "start": timezone.localtime(booking.start_at).isoformat(),
            "end": timezone.localtime(booking.end_at).isoformat(),
            "status": booking.status,
            "advisor": booking.advisor.display_name,
            "notes": booking.notes,
            "meeting_url": booking.meeting_url,
            "cancel_reason": booking.cancel_reason,
            "outcome": booking.outcome_note,
            "next_step": booking.next_step,
            "next_step_due": booking.next_step_due.isoformat() if booking.next_step_due else None,
            "created_at": timezone.localtime(booking.created_at).isoformat(),
        }
        for booking in bookings
    ]


def bookings_erase(candidate: Candidate) -> int:
    """Blank the person's words on their bookings (and the advisor's note of what was said
    in a consultation), cancel the ones still to come (nobody should call an erased person)
    and every pending email, reminder or follow-up about them. The bookings stay as
    anonymous rows (with their next step, which says nothing personal) so advisors'
    histories and counts stay right."""
    bookings = list(Booking.objects.filter(candidate=candidate).only("pk"))
    for booking in bookings:
        outbox_cancel(subject=booking_subject(booking.pk))
    Booking.objects.filter(
        candidate=candidate, status=Booking.Status.BOOKED, start_at__gt=timezone.now()
    ).update(status=Booking.Status.CANCELLED)
    Booking.objects.filter(candidate=candidate).update(
        notes="", meeting_url="", cancel_reason="", outcome_note=""
    )
    return len(bookings)


def bookings_withdraw_consent(candidate: Candidate) -> int:
    """The bookings' part of a consent withdrawal (leads.privacy.consent): future
    consultations are cancelled and nothing is sent about them. booking_cancel writes the
    cancellation notice; it is cancelled again in the same transaction, so it is never
    committed as pending and never sent. Returns how many bookings were cancelled."""
    now = timezone.now()  # one instant: a booking starting meanwhile cannot fail the withdrawal
    future = Booking.objects.filter(candidate=candidate, status=Booking.Status.BOOKED, start_at__gt=now)
    cancelled = 0
    for booking_id in list(future.values_list("pk", flat=True)):
        booking_cancel(booking_id=booking_id, reason="consent withdrawn", now=now)
        cancelled += 1
    for booking_id in Booking.objects.filter(candidate=candidate).values_list("pk", flat=True):
        outbox_cancel(subject=booking_subject(booking_id))
    return cancelled
