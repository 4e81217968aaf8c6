"""The consultations' part of a candidate's timeline (registered in ConsultationsConfig.ready):
one query for all of a candidate's bookings, whatever their number."""

import uuid

from django.utils.translation import gettext as _

from consultations.models import Booking
from leads.candidates.timeline import TimelineEntry, local_minute, timeline_source


def _booking_entries(booking: Booking) -> list[TimelineEntry]:
    """A booking's history as far as its row tells it. Bookings keep no history table: the
    row has its creation, its revision count (`sequence` grows with every move), its
    cancellation time and its outcome. A move is dated at the row's last change while the
    booking is still booked; once cancelled, held or no-show that change is the outcome's,
    so the move is shown right after the booking itself."""
    what = f"{booking.get_kind_display()} {local_minute(booking.start_at)}"
    advisor = str(booking.advisor) if booking.advisor_id else ""
    status = booking.status
    entries = []
    if booking.confirm_by is not None:  # a direct booking: held first, until confirmed
        entries.append(
            TimelineEntry(
                at=booking.created_at,
                kind="booking_hold",
                label=_("Consultation requested (awaiting confirmation)"),
                actor="",
                detail=what,
            )
        )
        if status == Booking.Status.RELEASED:
            entries.append(
                TimelineEntry(
                    at=booking.updated_at,
                    kind="booking_released",
                    label=_("Hold released unconfirmed"),
                    actor="",
                    detail=what,
                )
            )
    if booking.confirm_by is None or booking.confirmed_at is not None:
        entries.append(
            TimelineEntry(
                at=booking.confirmed_at or booking.created_at,
                kind="booking_booked",
                label=_("Consultation booked"),
                actor="",
                detail=what,
            )
        )
    if booking.sequence:
        entries.append(
            TimelineEntry(
                at=booking.updated_at if status == Booking.Status.BOOKED else booking.created_at,
                kind="booking_rescheduled",
                label=_("Consultation rescheduled"),
                actor="",
                detail=_("moved %(count)d time(s), now %(when)s") % {"count": booking.sequence, "when": what},
            )
        )
    if status == Booking.Status.CANCELLED:
        entries.append(
            TimelineEntry(
                at=booking.cancelled_at or booking.updated_at,
                kind="booking_cancelled",
                label=_("Consultation cancelled"),
                actor="",
                detail=" ".join(filter(None, [what, booking.cancel_reason])),
            )
        )
    elif status == Booking.Status.ATTENDED:
        entries.append(
            TimelineEntry(
                at=booking.start_at,
                kind="booking_held",
                label=_("Consultation held"),
                actor=advisor,
                # The outcome the advisor recorded, where consultations keeps one.
                detail=" ".join(filter(None, [what, getattr(booking, "outcome_note", "")])),
            )
        )
    elif status == Booking.Status.NO_SHOW:
        entries.append(
            TimelineEntry(
                at=booking.start_at,
                kind="booking_no_show",
                label=_("Consultation no-show"),
                actor=advisor,
                detail=what,
            )
        )
    return entries


@timeline_source
def timeline_bookings(candidate_id: uuid.UUID) -> list[TimelineEntry]:
    """The consultations: booked, rescheduled, cancelled, held, no-show."""
    rows = Booking.objects.filter(candidate_id=candidate_id).select_related("advisor")
    return [entry for row in rows for entry in _booking_entries(row)]
