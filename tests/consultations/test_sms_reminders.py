"""A candidate who prefers SMS, through HTTP and the outbox, with Twilio (the fake API on
127.0.0.1): the booking's messages are created at Twilio once each, a row retried after
Twilio accepted it is not sent again, and Twilio's refusals are retried or failed."""

import pytest
import time_machine

from core.models import OutboxMessage, SmsDelivery
from core.outbox_sweep import outbox_sweep
from leads.models import Candidate
from tests.consultations.conftest import FRIDAY_MORNING, make_lead
from tests.fake_twilio import twilio_error

pytestmark = pytest.mark.django_db
TEN = "2026-11-24T10:00:00+09:00"
PHONE = "+819012345678"


@pytest.fixture(autouse=True)
def _friday_morning():
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        yield


def _booked(api):
    lead = make_lead(email="hanako@example.com", phone=PHONE)
    Candidate.objects.filter(leads__id=lead.pk).update(contact_channel="sms")
    return api.book_lead(lead, TEN).json()["manage_token"]


def test_the_confirmation_goes_by_twilio_once_even_when_the_row_is_sent_again(api, advisors, fake_twilio):
    token = _booked(api)

    outbox_sweep()
    row = OutboxMessage.objects.get(kind="booking.confirmation")
    assert row.state == "sent"
    (request,) = fake_twilio.requests
    assert request["form"]["To"] == PHONE
    assert request["form"]["Body"].endswith(f"https://urakata.test/consultations/{token}")
    assert request["form"]["StatusCallback"] == "https://urakata.test/sms/twilio/status"
    # Resent (an advisor's "Retry now", or a worker that died before marking it): the SID
    # recorded for the row stops a second SMS.
    OutboxMessage.objects.filter(pk=row.pk).update(state="pending")
    outbox_sweep()

    assert len(fake_twilio.requests) == 1
    assert OutboxMessage.objects.get(pk=row.pk).state == "sent"
    assert SmsDelivery.objects.get().status == "queued"


def test_a_5xx_is_retried_and_a_400_fails_the_row_with_twilios_error(api, advisors, fake_twilio):
    _booked(api)
    fake_twilio.script = [
        (503, twilio_error(503, 20503, "Service Unavailable"), 0),
        (400, twilio_error(400, 21211, "The 'To' number is not a valid phone number."), 0),
    ]
    OutboxMessage.objects.exclude(kind="booking.confirmation").update(state="cancelled")

    outbox_sweep()
    row = OutboxMessage.objects.get(kind="booking.confirmation")
    assert (row.state, row.attempts) == ("pending", 1)
    assert (
        row.last_error
        == "TransientError: Twilio answered 503: 20503 Unable to create record: Service Unavailable"
    )
    with time_machine.travel(row.due_at, tick=False):
        outbox_sweep()

    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 2)
    assert row.last_error == (
        "PermanentError: Twilio answered 400: 21211 Unable to create record:"
        " The 'To' number is not a valid phone number."
    )
    assert not SmsDelivery.objects.exists()
