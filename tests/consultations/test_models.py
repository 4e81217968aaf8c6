"""The database itself refuses double bookings, whoever writes (PostgreSQL)."""

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from consultations.models import Booking
from consultations.tokens import manage_token_new
from core.business_time import BUSINESS_TZ
from tests.consultations.conftest import make_lead

EXCLUSION = "an exclusion constraint: on SQLite the booking service checks (test_sqlite.py)"

pytestmark = pytest.mark.django_db

TEN = datetime(2026, 11, 24, 10, tzinfo=BUSINESS_TZ)


def _booking(advisor, start, *, status="booked", kind="career", lead=None):
    lead = lead or make_lead()
    _, token_hash, salt = manage_token_new(booking_id="x")
    return Booking(
        candidate_id=lead.candidate_id,
        advisor=advisor,
        kind=kind,
        mode="online",
        start_at=start,
        end_at=start + timedelta(minutes=45),
        blocked_until=start + timedelta(minutes=60),
        status=status,
        manage_token_hash=token_hash,
        manage_token_salt=salt,
    )


def _refused(booking) -> bool:
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError:
        return True
    return False


@pytest.mark.postgresql(EXCLUSION)
def test_an_orm_write_cannot_overlap_an_advisors_booking_or_its_buffer(advisors):
    _booking(advisors[0], TEN).save()

    assert _refused(_booking(advisors[0], TEN + timedelta(minutes=59)))
    assert _refused(_booking(advisors[0], TEN - timedelta(minutes=59)))
    assert not _refused(_booking(advisors[0], TEN + timedelta(minutes=60)))  # right after the buffer
    assert not _refused(_booking(advisors[1], TEN))  # another advisor
    assert not _refused(_booking(advisors[0], TEN + timedelta(minutes=15), status="cancelled"))


@pytest.mark.postgresql(EXCLUSION)
def test_held_bookings_still_occupy_the_time(advisors):
    _booking(advisors[0], TEN, status="attended").save()

    assert _refused(_booking(advisors[0], TEN))


def test_one_booked_consultation_per_candidate_and_kind(advisors):
    lead = make_lead()
    _booking(advisors[0], TEN, lead=lead).save()

    assert _refused(_booking(advisors[1], TEN + timedelta(days=1), lead=lead))
    assert not _refused(_booking(advisors[1], TEN + timedelta(days=1), lead=lead, kind="interview"))
    assert not _refused(_booking(advisors[1], TEN + timedelta(days=2), lead=lead, status="no_show"))
