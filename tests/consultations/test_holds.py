"""Direct bookings are held until confirmed, and nobody can empty the calendar (CONTRACT
section 5: "A direct booking ... is held", "Abuse"). Through HTTP, as a phone or a bot
would send it; the clock frozen on a known Friday morning."""

import io
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client, override_settings

from consultations.models import Booking, BookingRefusal
from core.models import OutboxMessage
from leads.models import Candidate, Lead
from tests.consultations.conftest import FRIDAY_MORNING, codes, make_lead

pytestmark = pytest.mark.django_db

TEN = "2026-11-24T10:00:00+09:00"  # a Tuesday
CONSENT = {
    "privacy_policy_version": "2026-04",
    "agreed_at": "2026-11-19T10:00:00+09:00",
    "third_party_provision": True,
}
CONFIRM_LINK = re.compile(r"https://urakata\.test/consultations/confirm/([0-9a-f]{64})")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(FRIDAY_MORNING, tick=False) as traveller:
        yield traveller


def _direct(
    client: Client,
    *,
    email: str,
    start: str = TEN,
    address: str = "198.51.100.7",
    forwarded_for: str | None = None,
    **extra,
):
    body = {"start": start, "mode": "online", "family_name": "鈴木", "given_name": "花子", "email": email}
    meta: dict[str, Any] = {"REMOTE_ADDR": address}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(
        "/api/v1/consultations/bookings/",
        {**body, "consent": CONSENT, **extra},
        content_type="application/json",
        **meta,
    )


def _available(client: Client, day: str = "2026-11-24", address: str = "192.0.2.200") -> dict[str, int]:
    response = client.get("/api/v1/consultations/slots/", {"from": day, "to": day}, REMOTE_ADDR=address)
    assert response.status_code == 200
    return {slot["start"][11:16]: slot["available"] for slot in response.json()["slots"]}


def _deliver(at: str | None = None) -> None:
    """What the beat sweep does (send_due_reminders: the same path)."""
    out = io.StringIO()
    call_command("send_due_reminders", *(["--as-of", at] if at else []), stdout=out)


def _candidate_mails(address: str = "hanako@example.com") -> list[Any]:
    return [m for m in mail.outbox if m.to == [address]]


def _confirm_token() -> str:
    (message,) = [m for m in mail.outbox if CONFIRM_LINK.search(str(m.body))]
    match = CONFIRM_LINK.search(str(message.body))
    assert match is not None
    return match[1]


def test_a_hold_takes_its_seat_and_sends_the_confirmation_link(advisors):
    client = Client()
    assert _available(client)["10:00"] == 2

    response = _direct(client, email="hanako@example.com")

    assert response.status_code == 201
    assert response.json()["status"] == "held"
    assert _available(client)["10:00"] == 1  # a hold takes its seat like a booking
    _deliver()
    (message,) = _candidate_mails()
    assert message.subject == "【ご確認ください】キャリア相談 2026-11-24 10:00"
    assert "09:30" in message.body  # confirm by (JST)
    assert CONFIRM_LINK.search(message.body)
    # Only booked bookings get reminders; the hold's rows are its message and its release.
    kinds = sorted(OutboxMessage.objects.filter(subject__startswith="booking:").values_list("kind", "state"))
    assert kinds == [("booking.hold", "sent"), ("booking.hold_release", "pending")]


def test_confirming_books_it_with_its_confirmation_and_reminders(advisors):
    client = Client()
    _direct(client, email="hanako@example.com")
    _deliver()
    token = _confirm_token()

    confirmed = client.post(f"/api/v1/consultations/confirm/{token}/")

    assert confirmed.status_code == 200
    assert (confirmed.json()["status"], confirmed.json()["start"]) == ("booked", "2026-11-24T10:00:00+09:00")
    booking = Booking.objects.get()
    assert (booking.status, str(booking.confirmed_at)) == ("booked", "2026-11-20 00:00:00+00:00")
    assert booking.candidate.stage == "consultation_booked"
    assert booking.candidate.advisor_id == booking.advisor_id
    rows = dict(OutboxMessage.objects.filter(subject=f"booking:{booking.pk}").values_list("kind", "state"))
    assert rows["booking.hold_release"] == "cancelled"
    assert rows["booking.confirmation"] == "pending"
    assert OutboxMessage.objects.filter(kind="booking.reminder", subject=f"booking:{booking.pk}").count() == 2
    # Confirming again is harmless; the manage link (the same token) now opens the booking.
    again = client.post(f"/api/v1/consultations/confirm/{token}/")
    assert (again.status_code, again.json()["status"]) == (200, "booked")
    assert client.get(f"/api/v1/consultations/manage/{token}/").json()["status"] == "booked"


def test_an_unconfirmed_hold_frees_its_seat_at_its_deadline(advisors, clock):
    client = Client()
    _direct(client, email="hanako@example.com")
    _deliver()
    token = _confirm_token()

    clock.shift(timedelta(minutes=30))  # 09:30: the deadline

    # The slot is offered again at once, before any sweep has run...
    assert _available(client)["10:00"] == 2
    # ...and the sweep releases the hold.
    _deliver()
    booking = Booking.objects.get()
    assert booking.status == "released"
    assert OutboxMessage.objects.get(kind="booking.hold_release").state == "sent"
    # Confirming now: the time was released, pick another.
    late = client.post(f"/api/v1/consultations/confirm/{token}/")
    assert late.status_code == 409
    assert late.json()["errors"][0] == {
        "code": "booking_closed",
        "detail": "確認の期限を過ぎたため、この時間枠は解放されました。別の時間をお選びください。",
        "attr": None,
    }
    assert not OutboxMessage.objects.filter(kind__in=["booking.confirmation", "booking.reminder"]).exists()


def test_send_due_reminders_as_of_a_later_instant_releases_the_hold(advisors):
    _direct(Client(), email="hanako@example.com")

    _deliver("2026-11-20T09:29:59+09:00")
    assert Booking.objects.get().status == "held"
    _deliver("2026-11-20T09:30:00+09:00")
    assert Booking.objects.get().status == "released"


def test_confirming_after_the_deadline_but_before_the_sweep_releases_it(advisors, clock):
    client = Client()
    _direct(client, email="hanako@example.com")
    _deliver()
    token = _confirm_token()
    clock.shift(timedelta(minutes=31))

    late = client.post(f"/api/v1/consultations/confirm/{token}/")

    assert (late.status_code, codes(late)) == (409, ["booking_closed"])
    assert Booking.objects.get().status == "released"


def test_a_hold_expired_but_not_yet_swept_does_not_block_a_new_booking(advisors, clock):
    client = Client()
    # Both seats at 10:00 held, from two addresses.
    assert _direct(client, email="a@example.com", address="198.51.100.1").status_code == 201
    assert _direct(client, email="b@example.com", address="198.51.100.2").status_code == 201
    assert "10:00" not in _available(client)
    clock.shift(timedelta(minutes=31))

    third = _direct(client, email="c@example.com", address="198.51.100.3")

    assert third.status_code == 201  # the expired hold in the way is released on demand
    assert sorted(Booking.objects.values_list("status", flat=True)) == ["held", "released", "released"]


def test_a_wrong_confirmation_token_is_404(advisors):
    response = Client().post("/api/v1/consultations/confirm/" + "0" * 64 + "/")

    assert (response.status_code, codes(response)) == (404, ["token_invalid"])


def test_a_cancelled_hold_frees_its_seat_without_a_message(advisors):
    client = Client()
    _direct(client, email="hanako@example.com")
    _deliver()
    token = _confirm_token()
    mail.outbox.clear()

    cancelled = client.post(
        f"/api/v1/consultations/manage/{token}/cancel/", {"reason": ""}, content_type="application/json"
    )

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert _available(client)["10:00"] == 2
    _deliver()
    assert _candidate_mails() == []
    confirm = client.post(f"/api/v1/consultations/confirm/{token}/")
    assert (confirm.status_code, codes(confirm)) == (409, ["booking_closed"])


def test_a_known_person_booking_directly_stays_one_candidate(advisors):
    known = make_lead(email="known@example.com")

    response = _direct(Client(), email="Known@Example.com")

    assert response.status_code == 201
    assert Candidate.objects.count() == 1
    assert Booking.objects.get().candidate_id == known.candidate_id
    assert Lead.objects.filter(candidate_id=known.candidate_id, partner=None).count() == 1


def test_one_person_holds_one_seat_of_a_kind(advisors):
    client = Client()
    _direct(client, email="hanako@example.com")

    again = _direct(client, email="hanako@example.com", start="2026-11-24T14:00:00+09:00")

    assert (again.status_code, codes(again)) == (409, ["already_booked"])


def test_the_bot_attack_holds_at_most_three_seats(advisors):
    """One address, 40 attempts with made-up emails over the day's slots (the attack that
    emptied a whole day before holds): three seats held, every other attempt 429."""
    client = Client()
    offered = set(_available(client))

    answers = [
        _direct(client, email=f"bot{i}@example.com", start=f"2026-11-24T1{i % 8}:00:00+09:00")
        for i in range(40)
    ]

    statuses = [answer.status_code for answer in answers]
    assert statuses == [201] * 3 + [429] * 37
    assert {code for answer in answers[3:] for code in codes(answer)} == {"throttled"}
    assert all(int(answer["Retry-After"]) >= 1 for answer in answers[3:])
    assert Booking.objects.filter(status="held").count() == 3
    # Every time of the day is still offered (the two advisors' other seats).
    assert set(_available(client)) == offered
    # Anyone else can still book.
    assert _direct(client, email="real@example.com", address="203.0.113.50").status_code == 201
    refused = dict(BookingRefusal.objects.values_list("reason", "count"))
    assert refused == {"holds_at_once": 7, "address_attempts": 30}  # 10 attempts an hour


def test_the_holds_limit_says_when_the_first_hold_frees(advisors):
    client = Client()
    for i in range(3):
        _direct(client, email=f"p{i}@example.com", start=f"2026-11-24T1{i}:00:00+09:00")

    fourth = _direct(client, email="p3@example.com", start="2026-11-24T14:00:00+09:00")

    assert fourth.status_code == 429
    assert fourth["Retry-After"] == "1801"  # the first hold is released at 09:30:00


def test_one_email_is_tried_at_most_three_times_a_day(advisors):
    client = Client()
    answers = [
        _direct(
            client,
            email="same@example.com",
            start=f"2026-11-24T1{i}:00:00+09:00",
            address=f"198.51.100.{i}",
            kind=kind,
        )
        for i, kind in enumerate(["career", "documents", "interview", "career"])
    ]

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert BookingRefusal.objects.get().reason == "contact_attempts"


def test_one_phone_in_another_form_is_the_same_phone(advisors):
    client = Client()
    phones = ["090-1234-5678", "09012345678", "+81 90 1234 5678", "０９０１２３４５６７８"]
    answers = [
        _direct(client, email=f"x{i}@example.com", phone=phone, address=f"198.51.100.{i}")
        for i, phone in enumerate(phones)
    ]

    assert [a.status_code for a in answers][-1] == 429


def test_a_forged_forwarded_for_changes_nothing_by_default(advisors):
    client = Client()
    answers = [
        _direct(
            client,
            email=f"bot{i}@example.com",
            start=f"2026-11-24T1{i}:00:00+09:00",
            forwarded_for=f"203.0.113.{i}",
        )
        for i in range(4)
    ]

    assert [a.status_code for a in answers] == [201, 201, 201, 429]


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_client_is_the_address_it_saw(advisors):
    client = Client()
    # The proxy appends the address it was connected from; what the client wrote before it
    # (the "forged" entries) is ignored.
    answers = [
        _direct(
            client,
            email=f"p{i}@example.com",
            start=f"2026-11-24T1{i}:00:00+09:00",
            forwarded_for=f"10.9.9.{i}, 203.0.113.9",
            address="10.0.0.1",  # the proxy
        )
        for i in range(4)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    other = _direct(
        client,
        email="other@example.com",
        start="2026-11-24T15:00:00+09:00",
        forwarded_for="203.0.113.10",
        address="10.0.0.1",
    )
    assert other.status_code == 201


def test_slots_are_given_sixty_times_a_minute_per_client(advisors, clock):
    client = Client()

    def ask(address: str = "198.51.100.7"):
        return client.get(
            "/api/v1/consultations/slots/", {"from": "2026-11-24", "to": "2026-11-24"}, REMOTE_ADDR=address
        )

    assert [ask().status_code for _ in range(60)] == [200] * 60
    refused = ask()
    assert (refused.status_code, codes(refused), refused["Retry-After"]) == (429, ["throttled"], "60")
    assert ask("198.51.100.8").status_code == 200  # another client
    clock.shift(timedelta(minutes=1))
    assert ask().status_code == 200


def test_a_spike_of_refusals_is_on_the_dashboard_and_told_to_the_managers_once(
    advisors, admin_client_jp, make_advisor
):
    from django.contrib.auth.models import Group

    manager = make_advisor("部長")
    manager.groups.add(Group.objects.get(name="Managers"))
    client = Client()
    for i in range(40):  # 3 held, then 37 refused
        _direct(client, email=f"bot{i}@example.com", start=f"2026-11-24T1{i % 8}:00:00+09:00")
    for i in range(20):  # a second wave from elsewhere: 17 more refused, still told once
        start = f"2026-11-25T1{i % 8}:00:00+09:00"
        _direct(client, email=f"bot-b{i}@example.com", start=start, address="198.51.100.99")

    assert OutboxMessage.objects.filter(kind="booking.refusal_spike").count() == 1
    _deliver()
    told = [m for m in mail.outbox if m.to == [manager.email]]
    assert [m.subject for m in told] == [
        "[Urakata] 予約の試行が多数拒否されています（2026-11-20 09:00 以降）"
    ]
    assert "https://urakata.test/admin/consultations/bookingrefusal/" in told[0].body
    dashboard = admin_client_jp.get("/admin/leads/candidate/dashboard/")
    assert "直近1時間に予約の試行 54 件を拒否しました" in dashboard.content.decode()
    listed = admin_client_jp.get("/admin/consultations/bookingrefusal/")
    assert listed.status_code == 200
    assert "同じ接続元からの未確認の仮押さえが多すぎる" in listed.content.decode()


def test_holds_and_releases_are_in_the_bookings_admin(advisors, admin_client_jp, clock):
    client = Client()
    _direct(client, email="a@example.com")
    _direct(client, email="b@example.com", start="2026-11-24T11:00:00+09:00", address="198.51.100.9")
    clock.shift(timedelta(minutes=31))
    _deliver()
    _direct(client, email="c@example.com", start="2026-11-24T12:00:00+09:00", address="198.51.100.10")

    held = admin_client_jp.get("/admin/consultations/booking/", {"status__exact": "held"})
    released = admin_client_jp.get("/admin/consultations/booking/", {"status__exact": "released"})

    assert held.context["cl"].result_count == 1
    assert released.context["cl"].result_count == 2
    assert "確認待ち" in held.content.decode()
