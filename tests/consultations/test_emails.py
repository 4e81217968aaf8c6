"""The candidate's emails about a booking: sent by the outbox after commit, in Japanese by
default (English on request), with the .ics attached; stale ones are skipped."""

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from consultations.models import Booking
from core.channels.sms import outbox as sms_outbox
from core.models import OutboxMessage
from core.outbox_sweep import outbox_sweep
from leads.models import Candidate
from tests.consultations.conftest import FRIDAY_MORNING, make_lead, token_for
from tests.fake_line import LINE_USER

pytestmark = pytest.mark.django_db

TEN = "2026-11-24T10:00:00+09:00"
NOTICE_KINDS = ("booking.confirmation", "booking.reminder", "booking.cancelled")


@pytest.fixture(autouse=True)
def _friday_morning():
    sms_outbox.clear()
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        yield


def _booking_mail():
    return [m for m in mail.outbox if m.to == ["hanako@example.com"]]


def _ics(message):
    """The attachment's Content-Type as it goes out (one charset) and its calendar."""
    ((name, content, _mimetype),) = message.attachments
    assert name == "consultation.ics"
    (part,) = [p for p in message.message().walk() if p.get_filename() == "consultation.ics"]
    return part["Content-Type"], Calendar.from_ical(content)


@pytest.fixture
def token(api, advisors):
    response = api.book_lead(make_lead(email="hanako@example.com", family_name="鈴木"), TEN)
    assert response.status_code == 201
    return response.json()["manage_token"]


def test_the_confirmation_is_in_japanese_with_the_ics(token):
    outbox_sweep()

    (message,) = _booking_mail()
    assert message.subject == "【ご予約確定】2026-11-24 10:00 キャリア相談"
    assert "鈴木 様" in message.body
    assert "日時: 2026-11-24 (火) 10:00–10:45 (日本時間)" in message.body
    assert "担当アドバイザー: 佐藤 美咲" in message.body
    assert f"https://urakata.test/consultations/{token}" in message.body
    mimetype, calendar = _ics(message)
    assert mimetype == 'text/calendar; method="PUBLISH"; charset="utf-8"'
    (event,) = calendar.walk("VEVENT")
    assert event["DTSTART"].dt.isoformat() == "2026-11-24T10:00:00+09:00"
    assert OutboxMessage.objects.get(kind="booking.confirmation").state == "sent"


def test_an_english_speaker_gets_english(api, advisors):
    lead = make_lead(email="hanako@example.com", family_name="Suzuki")
    api.client.post(
        "/api/v1/consultations/bookings/",
        {"booking_token": token_for(lead), "start": TEN, "mode": "office"},
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )

    outbox_sweep()

    (message,) = _booking_mail()
    assert message.subject == "[Booking confirmed] Career consultation on 2026-11-24 10:00"
    assert message.body.startswith("Dear Suzuki,")
    assert "When: 2026-11-24 (Tue) 10:00–10:45 (Japan time)" in message.body
    assert Booking.objects.get().language == "en"


def test_a_reschedule_sends_the_new_time_with_a_higher_sequence(api, token):
    outbox_sweep()
    api.manage(token, "reschedule/", {"start": "2026-11-25T15:00:00+09:00"})

    outbox_sweep()

    first, second = _booking_mail()
    assert second.subject == "【日時変更】キャリア相談 を 2026-11-25 15:00 に変更しました"
    assert "2026-11-25 (水) 15:00–15:45" in second.body
    _, calendar = _ics(second)
    (event,) = calendar.walk("VEVENT")
    (old,) = _ics(first)[1].walk("VEVENT")
    assert str(event["UID"]) == str(old["UID"])
    assert (int(old["SEQUENCE"]), int(event["SEQUENCE"])) == (0, 1)


def test_a_cancellation_sends_a_cancelling_ics_and_nothing_stale(api, token):
    api.manage(token, "cancel/", {})

    outbox_sweep()

    (message,) = _booking_mail()  # the unsent confirmation was cancelled with the booking
    notices = OutboxMessage.objects.filter(subject__startswith="booking:", kind__in=NOTICE_KINDS)
    states = dict(notices.values_list("kind", "state"))
    assert states == {
        "booking.confirmation": "cancelled",
        "booking.reminder": "cancelled",
        "booking.cancelled": "sent",
    }
    assert message.subject == "【キャンセル】2026-11-24 10:00 キャリア相談"
    mimetype, calendar = _ics(message)
    assert mimetype == 'text/calendar; method="CANCEL"; charset="utf-8"'
    assert str(calendar["METHOD"]) == "CANCEL"


def test_a_confirmation_for_a_booking_cancelled_meanwhile_is_skipped(token):
    Booking.objects.update(status="cancelled")  # e.g. by a path that did not cancel the row

    outbox_sweep()

    assert OutboxMessage.objects.get(kind="booking.confirmation").state == "skipped"
    assert _booking_mail() == []


def test_a_candidate_without_email_gets_a_short_sms_with_the_manage_link(api, advisors):
    lead = make_lead(email=None, phone="+819012345678")
    token = api.book_lead(lead, TEN).json()["manage_token"]

    outbox_sweep()

    assert OutboxMessage.objects.get(kind="booking.confirmation").state == "sent"
    assert [m for m in mail.outbox if m.attachments] == []
    (sms,) = sms_outbox
    assert sms.to == "+819012345678"
    assert (sms.subject, sms.attachments) == ("", ())
    assert sms.body.endswith(f"https://urakata.test/consultations/{token}")
    assert "11/24 10:00" in sms.body


def test_a_candidate_who_prefers_line_gets_a_line_push_with_the_manage_link(api, advisors, fake_line):
    lead = make_lead(email="hanako@example.com")
    Candidate.objects.filter(leads__id=lead.pk).update(contact_channel="line", line_user_id=LINE_USER)
    token = api.book_lead(lead, TEN).json()["manage_token"]

    outbox_sweep()

    assert OutboxMessage.objects.get(kind="booking.confirmation").state == "sent"
    assert _booking_mail() == []
    (push,) = fake_line.requests
    assert push["json"]["to"] == LINE_USER
    (flex,) = push["json"]["messages"]
    assert flex["type"] == "flex"
    assert flex["altText"].endswith(f"https://urakata.test/consultations/{token}")  # the plain fallback
    assert [button["action"]["uri"] for button in flex["contents"]["footer"]["contents"]] == [
        f"https://urakata.test/consultations/{token}",
        f"https://urakata.test/api/v1/consultations/manage/{token}/ics",
    ]
