"""Real parallel HTTP requests against a live server on PostgreSQL (CONTRACT section 5:
"under any number of concurrent requests for one slot, exactly `available` of them succeed;
an advisor never has two overlapping bookings; no request gets a 5xx")."""

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test import override_settings
from django.test.testcases import LiveServerThread
from django.utils import timezone

from consultations.models import Booking
from consultations.selectors import slots_for_range
from tests.conftest import RACES
from tests.consultations.conftest import make_lead, token_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql(RACES),
]


class _WideBacklogServer(ThreadedWSGIServer):
    request_queue_size = 128  # socketserver's 5 resets connections when 50 clients arrive at once


class _ServerThread(LiveServerThread):
    server_class = _WideBacklogServer


class _LiveServer:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture(scope="module")
def parallel_server():
    """pytest-django's live server, but able to accept 50 connections at the same instant."""
    thread = _ServerThread("localhost", static_handler=StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield _LiveServer(f"http://localhost:{thread.port}")
    thread.terminate()


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _parallel(count: int, send: Callable[[int], tuple[int, Any]]) -> list[tuple[int, Any]]:
    barrier = threading.Barrier(count)

    def run(i: int) -> tuple[int, Any]:
        barrier.wait()
        try:
            return send(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _free_slots(kind: str = "career"):
    now = timezone.now()
    today = timezone.localdate(now)
    return slots_for_range(date_from=today, date_to=today + timedelta(days=10), kind=kind, now=now)


def _next_free_slot(kind: str = "career"):
    return _free_slots(kind)[0]


def _overlaps() -> int:
    """Pairs of active bookings of one advisor whose time (with buffers) overlaps."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM consultations_booking a JOIN consultations_booking b
               ON a.advisor_id = b.advisor_id AND a.id < b.id
               AND a.start_at < b.blocked_until AND b.start_at < a.blocked_until
               WHERE a.status IN ('held', 'booked', 'attended')
               AND b.status IN ('held', 'booked', 'attended')"""
        )
        return int(cursor.fetchone()[0])


def test_fifty_requests_for_one_slot_give_exactly_available_bookings(parallel_server, make_advisor):
    for _ in range(3):
        make_advisor()
    slot = _next_free_slot()
    assert slot.available == 3
    tokens = [token_for(make_lead()) for _ in range(50)]

    results = _parallel(
        50,
        lambda i: _post(
            f"{parallel_server.url}/api/v1/consultations/bookings/",
            {"booking_token": tokens[i], "start": slot.start.isoformat(), "mode": "online"},
        ),
    )

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 3 + [409] * 47
    assert {body["errors"][0]["code"] for status, body in results if status == 409} == {"slot_unavailable"}
    assert Booking.objects.count() == 3
    assert len(set(Booking.objects.values_list("advisor_id", flat=True))) == 3
    assert _overlaps() == 0


CONSENT = {
    "privacy_policy_version": "2026-04",
    "agreed_at": "2026-11-19T10:00:00+09:00",
    "third_party_provision": True,
}


def _direct_body(i: int, start: str) -> dict[str, Any]:
    return {
        "start": start,
        "mode": "online",
        "family_name": "並行",
        "given_name": f"{i}号",
        "email": f"person{i}@example.com",
        "consent": CONSENT,
    }


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_fifty_holds_and_bookings_for_one_slot_give_exactly_available_seats(parallel_server, make_advisor):
    """Holds take their seat exactly as bookings do: 25 lead-link bookings and 25 direct
    holds (each from its own address, behind one trusted proxy) race for three seats."""
    for _ in range(3):
        make_advisor()
    slot = _next_free_slot()
    tokens = [token_for(make_lead()) for _ in range(25)]
    url = f"{parallel_server.url}/api/v1/consultations/bookings/"

    def send(i: int) -> tuple[int, Any]:
        if i < 25:
            return _post(url, {"booking_token": tokens[i], "start": slot.start.isoformat(), "mode": "online"})
        return _post(url, _direct_body(i, slot.start.isoformat()), {"X-Forwarded-For": f"203.0.113.{i}"})

    results = _parallel(50, send)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 3 + [409] * 47
    assert {body["errors"][0]["code"] for status, body in results if status == 409} == {"slot_unavailable"}
    assert Booking.objects.filter(status__in=["held", "booked"]).count() == 3
    assert len(set(Booking.objects.values_list("advisor_id", flat=True))) == 3
    assert _overlaps() == 0


def test_ten_parallel_holds_from_one_address_hold_at_most_three_seats(parallel_server, make_advisor):
    for _ in range(3):
        make_advisor()
    starts = [slot.start.isoformat() for slot in _free_slots()[::8][:10]]  # two hours apart
    assert len(starts) == 10
    url = f"{parallel_server.url}/api/v1/consultations/bookings/"

    results = _parallel(10, lambda i: _post(url, _direct_body(i, starts[i])))

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 3 + [429] * 7
    assert Booking.objects.filter(status="held").count() == 3


def test_fifty_overlapping_requests_never_overlap_an_advisor(parallel_server, make_advisor):
    for _ in range(2):
        make_advisor()
    first = _next_free_slot("documents").start
    # Starts every 15 minutes over two hours, three kinds: most overlap with buffers.
    kinds = ["career", "documents", "interview"]
    bodies = [
        {
            "booking_token": token_for(make_lead()),
            "start": (first + timedelta(minutes=15 * (i % 8))).isoformat(),
            "mode": "phone",
            "kind": kinds[i % 3],
        }
        for i in range(50)
    ]

    results = _parallel(
        50, lambda i: _post(f"{parallel_server.url}/api/v1/consultations/bookings/", bodies[i])
    )

    assert {status for status, _ in results} <= {201, 409}
    assert sum(1 for status, _ in results if status == 201) == Booking.objects.count() >= 2
    assert _overlaps() == 0


def test_twenty_parallel_reschedules_keep_one_consistent_booking(parallel_server, make_advisor):
    make_advisor()
    make_advisor()
    slot, *others = _free_slots()
    status, created = _post(
        f"{parallel_server.url}/api/v1/consultations/bookings/",
        {"booking_token": token_for(make_lead()), "start": slot.start.isoformat(), "mode": "online"},
    )
    assert status == 201
    targets = [other.start.isoformat() for other in others[:20]]
    url = f"{parallel_server.url}/api/v1/consultations/manage/{created['manage_token']}/reschedule/"

    results = _parallel(20, lambda i: _post(url, {"start": targets[i]}))

    assert {status for status, _ in results} <= {200, 409}
    moved = [body for status, body in results if status == 200]
    booking = Booking.objects.get()  # still exactly one row
    assert str(booking.pk) == created["id"]
    assert booking.status == "booked"
    assert booking.sequence == len(moved) >= 1
    assert timezone.localtime(booking.start_at).isoformat() in [body["start"] for body in moved]
    assert booking.end_at - booking.start_at == timedelta(minutes=45)
    assert _overlaps() == 0


def test_cancel_and_rebook_races_leave_one_booking_per_slot_and_advisor(parallel_server, make_advisor):
    make_advisor()
    slot = _next_free_slot()
    status, created = _post(
        f"{parallel_server.url}/api/v1/consultations/bookings/",
        {"booking_token": token_for(make_lead()), "start": slot.start.isoformat(), "mode": "online"},
    )
    assert status == 201
    cancel_url = f"{parallel_server.url}/api/v1/consultations/manage/{created['manage_token']}/cancel/"
    tokens = [token_for(make_lead()) for _ in range(10)]

    def send(i: int) -> tuple[int, Any]:
        if i < 5:
            return _post(cancel_url, {"reason": "race"})
        return _post(
            f"{parallel_server.url}/api/v1/consultations/bookings/",
            {"booking_token": tokens[i], "start": slot.start.isoformat(), "mode": "online"},
        )

    results = _parallel(10, send)

    assert [status for status, _ in results[:5]] == [200] * 5  # cancelling is idempotent
    assert {status for status, _ in results[5:]} <= {201, 409}
    assert Booking.objects.filter(status="booked").count() == sum(1 for s, _ in results[5:] if s == 201) <= 1
    assert _overlaps() == 0
