"""Writes of the consultations app. Callers import from here (``consultations.services``)."""

from consultations.services.attendance import booking_mark_held, booking_mark_no_show
from consultations.services.availability import advisor_onboard, availability_set_default
from consultations.services.bookings import (
    AlreadyBooked,
    BookingClosed,
    BookingCreated,
    BookingError,
    HoldLimitReached,
    HoldReleased,
    SlotUnavailable,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_hold,
    booking_release,
    booking_reschedule,
)
from consultations.services.outcomes import OutcomeAlreadyRecorded, booking_record_outcome

__all__ = [
    "AlreadyBooked",
    "BookingClosed",
    "BookingCreated",
    "BookingError",
    "HoldLimitReached",
    "HoldReleased",
    "OutcomeAlreadyRecorded",
    "SlotUnavailable",
    "advisor_onboard",
    "availability_set_default",
    "booking_cancel",
    "booking_confirm",
    "booking_create",
    "booking_hold",
    "booking_mark_held",
    "booking_mark_no_show",
    "booking_record_outcome",
    "booking_release",
    "booking_reschedule",
]
