"""The candidates' pages: book from a lead's link, then move or cancel from the booking's
link, through the same services as the API."""

import re

import pytest
import time_machine
from django.test import Client

from consultations import pages
from consultations.models import Booking
from consultations.selectors import booking_get_by_token
from core.models import OutboxMessage
from leads.privacy.records import person_erase
from tests.consultations.conftest import FRIDAY_MORNING, make_lead, token_for

pytestmark = pytest.mark.django_db
TEN = "2026-11-24T10:00:00+09:00"
ELEVEN = "2026-11-24T11:00:00+09:00"


@pytest.fixture(autouse=True)
def _friday_morning():
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        yield


def _manage_path(response) -> str:
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


def test_the_booking_page_offers_free_times_in_japanese(advisors, lead):
    page = Client().get(f"/book/{token_for(lead)}", {"day": "2026-11-24"})

    text = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="ja">' in text
    assert "面談を予約する" in text
    assert f'value="{TEN}"' in text
    assert "day=2026-11-20" in text  # today, after the minimum notice
    assert "day=2026-11-23" not in text  # a public holiday
    assert "day=2026-11-21" not in text  # a Saturday


def test_a_candidate_books_moves_and_cancels_from_the_links(advisors, lead):
    client = Client()

    form = {"kind": "career", "start": TEN, "mode": "phone", "notes": "夜が希望"}
    booked = client.post(f"/book/{token_for(lead)}", form)

    manage = _manage_path(booked)
    assert re.fullmatch(r"/consultations/[\w.:-]+", manage)
    booking = Booking.objects.get()
    assert (booking.kind, booking.mode, booking.notes) == ("career", "phone", "夜が希望")
    page = client.get(manage).content.decode()
    assert "2026/11/24 (火) 10:00–10:45" in page
    assert booking.advisor.display_name in page

    moved = client.post(manage, {"action": "reschedule", "start": ELEVEN})
    booking.refresh_from_db()
    assert moved.status_code == 200
    assert booking.start_at.isoformat() == "2026-11-24T02:00:00+00:00"
    assert Booking.objects.count() == 1

    cancelled = client.post(manage, {"action": "cancel", "reason": "予定が入った"})
    booking.refresh_from_db()
    assert cancelled.status_code == 200
    assert "キャンセルしました" in cancelled.content.decode()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "予定が入った")


def test_a_taken_time_is_a_clear_message_not_a_crash(advisors, lead):
    other = make_lead()
    for person in (make_lead(), other):
        Client().post(f"/book/{token_for(person)}", {"kind": "career", "start": TEN, "mode": "online"})

    response = Client().post(f"/book/{token_for(lead)}", {"kind": "career", "start": TEN, "mode": "online"})

    assert response.status_code == 409
    assert "別の時間を選んでください" in response.content.decode()
    assert Booking.objects.count() == 2


def test_a_link_spent_while_the_candidate_acted_gets_the_friendly_page(advisors, lead, monkeypatch):
    client = Client()
    form = {"kind": "career", "start": TEN, "mode": "online"}
    manage = _manage_path(client.post(f"/book/{token_for(lead)}", form))
    real, reads = booking_get_by_token, []

    def ended_after_the_first_read(**kwargs):
        reads.append(kwargs)
        return real(**kwargs) if len(reads) == 1 else None

    monkeypatch.setattr(pages, "booking_get_by_token", ended_after_the_first_read)

    response = client.post(manage, {"action": "reschedule", "start": ELEVEN})

    assert response.status_code == 404
    assert "このリンクは無効か、有効期限が切れています。" in response.content.decode()


@pytest.mark.parametrize("path", ["/book/not-a-token", "/consultations/not-a-token"])
def test_a_wrong_link_says_so(path):
    response = Client().get(path)

    assert response.status_code == 404
    assert "このリンクは無効か、有効期限が切れています。" in response.content.decode()


def test_an_erased_person_cannot_book_from_an_old_link(advisors, lead):
    person_erase(candidate=lead.candidate, requested_by="本人", by=None)

    response = Client().post(f"/book/{token_for(lead)}", {"kind": "career", "start": TEN, "mode": "online"})

    assert response.status_code == 404
    assert Booking.objects.count() == 0


def test_erasure_covers_bookings(advisors, lead):
    form = {"kind": "career", "start": TEN, "mode": "online", "notes": "秘密のメモ"}
    Client().post(f"/book/{token_for(lead)}", form)

    person_erase(candidate=lead.candidate, requested_by="本人", by=None)

    booking = Booking.objects.get()
    assert (booking.status, booking.notes) == ("cancelled", "")
    pending = OutboxMessage.objects.filter(subject=f"booking:{booking.pk}", state="pending")
    assert not pending.exists()
