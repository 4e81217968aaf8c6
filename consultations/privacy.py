"""The bookings' part of a person's disclosure and erasure (leads.services.privacy)."""

from typing import Any

from django.utils import timezone

from consultations.models import Booking
from consultations.services.bookings import booking_subject
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
            "created_at": timezone.localtime(booking.created_at).isoformat(),
        }
        for booking in bookings
    ]


def bookings_erase(candidate: Candidate) -> int:
    """Blank the person's words on their bookings, cancel the ones still to come (nobody
    should call an erased person) and every pending email or reminder about them. The
    bookings stay as anonymous rows so advisors' histories and counts stay right."""
    bookings = list(Booking.objects.filter(candidate=candidate).only("pk"))
    for booking in bookings:
        outbox_cancel(subject=booking_subject(booking.pk))
    Booking.objects.filter(
        candidate=candidate, status=Booking.Status.BOOKED, start_at__gt=timezone.now()
    ).update(status=Booking.Status.CANCELLED)
    Booking.objects.filter(candidate=candidate).update(notes="", meeting_url="", cancel_reason="")
    return len(bookings)
