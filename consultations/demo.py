"""Demo bookings for seed_demo (called by demo.services). Idempotent: a demo candidate who
already has a booking of any kind gets none, so running it twice adds nothing."""

from datetime import timedelta
from typing import Protocol

from django.utils import timezone

from consultations.models import Booking, ConsultationKind, ConsultationMode
from consultations.selectors import slots_for_range
from consultations.services import BookingError, booking_create
from leads.models import Candidate, Lead

DEMO_EMAIL_DOMAIN = "@demo.urakata.example"
DEMO_BOOKINGS = (  # (kind, mode) for the first demo candidates, in order of creation
    (ConsultationKind.CAREER, ConsultationMode.ONLINE),
    (ConsultationKind.DOCUMENTS, ConsultationMode.PHONE),
)


class Report(Protocol):
    def add(self, what: str, count: int) -> None: ...


def demo_bookings_seed(*, report: Report) -> None:
    """A couple of bookings for the demo candidates (if they exist), in the first free
    slots from tomorrow on."""
    candidates = list(
        Candidate.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN).order_by("created_at", "email")[
            : len(DEMO_BOOKINGS)
        ]
    )
    booked = set(Booking.objects.filter(candidate__in=candidates).values_list("candidate_id", flat=True))
    now = timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    created = 0
    for candidate, (kind, mode) in zip(candidates, DEMO_BOOKINGS, strict=False):
        lead = Lead.objects.filter(candidate=candidate).order_by("created_at").first()
        if candidate.pk in booked or lead is None:
            continue
        for slot in slots_for_range(
            date_from=tomorrow, date_to=tomorrow + timedelta(days=14), kind=kind, now=now
        ):
            try:
                booking_create(start=slot.start, kind=kind, mode=mode, lead_id=lead.pk, now=now)
            except BookingError:
                continue
            created += 1
            break
    report.add("bookings", created)
