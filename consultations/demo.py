"""Demo bookings for seed_demo (called by demo.services). Idempotent: a demo candidate who
already has a booking of any kind gets none, so running it twice adds nothing.

The first demo candidates get a consultation to come; the next ones one that took place last
week, held, one with its outcome recorded and one without (so the advisors' "outcome to
record" list and the post-consultation follow-up have something to show)."""

from datetime import datetime, timedelta
from typing import Protocol

from django.utils import timezone

from consultations.models import Booking, ConsultationKind, ConsultationMode
from consultations.selectors import slots_for_range
from consultations.services import BookingError, booking_create, booking_mark_held, booking_record_outcome
from leads.models import Candidate, Lead

DEMO_EMAIL_DOMAIN = "@demo.urakata.example"
DEMO_BOOKINGS = (  # (kind, mode) for the first demo candidates, in order of creation
    (ConsultationKind.CAREER, ConsultationMode.ONLINE),
    (ConsultationKind.DOCUMENTS, ConsultationMode.PHONE),
)
# (kind, mode, next step or None: held without an outcome yet) for the next ones: last week.
DEMO_PAST_BOOKINGS = (
    (ConsultationKind.CAREER, ConsultationMode.OFFICE, Booking.NextStep.DOCUMENTS),
    (ConsultationKind.CAREER, ConsultationMode.ONLINE, None),
)
DEMO_OUTCOME_NOTE = "経理職を希望。簿記3級を勉強中。職務経歴書の下書きを一緒に作ることにした。"
PAST = timedelta(days=7)


class Report(Protocol):
    def add(self, what: str, count: int) -> None: ...


def _book_first_free(*, lead: Lead, kind: str, mode: str, now: datetime) -> Booking | None:
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    for slot in slots_for_range(
        date_from=tomorrow, date_to=tomorrow + timedelta(days=14), kind=kind, now=now
    ):
        try:
            return booking_create(start=slot.start, kind=kind, mode=mode, lead_id=lead.pk, now=now).booking
        except BookingError:
            continue
    return None


def demo_bookings_seed(*, report: Report) -> None:
    """A couple of bookings for the demo candidates (if they exist), in the first free
    slots from tomorrow on, and a couple held last week (booked as if a week ago: the same
    services, so their messages and follow-ups are those of any booking)."""
    plans: list[tuple[str, str, bool, str | None]] = [
        (kind, mode, False, None) for kind, mode in DEMO_BOOKINGS
    ]
    plans += [(kind, mode, True, step) for kind, mode, step in DEMO_PAST_BOOKINGS]
    candidates = list(
        Candidate.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN).order_by("created_at", "email")[
            : len(plans)
        ]
    )
    booked = set(Booking.objects.filter(candidate__in=candidates).values_list("candidate_id", flat=True))
    now = timezone.now()
    created = 0
    for candidate, (kind, mode, past, next_step) in zip(candidates, plans, strict=False):
        lead = Lead.objects.filter(candidate=candidate).order_by("created_at").first()
        if candidate.pk in booked or lead is None:
            continue
        booking = _book_first_free(lead=lead, kind=kind, mode=mode, now=now - PAST if past else now)
        if booking is None:
            continue
        created += 1
        if not past or booking.end_at > now:
            continue
        advisor = booking.advisor
        booking_mark_held(booking_id=booking.pk, by=advisor, now=now)
        if next_step is not None:
            booking_record_outcome(
                booking_id=booking.pk,
                next_step=next_step,
                next_step_due=timezone.localdate(now) + timedelta(days=3),
                note=DEMO_OUTCOME_NOTE,
                by=advisor,
                now=now,
            )
    report.add("bookings", created)
