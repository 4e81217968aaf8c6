"""The advisors' consultation screens: today's and this week's bookings, and the actions
that go through the booking services."""

import pytest
import time_machine
from django.test import Client

from consultations.models import Booking
from leads.models import Candidate
from tests.consultations.conftest import FRIDAY_MORNING, make_lead

pytestmark = pytest.mark.django_db

BOOKINGS = "/admin/consultations/booking/"


@pytest.fixture
def bookings(api, advisors):
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        for start in ("2026-11-24T10:00:00+09:00", "2026-11-27T10:00:00+09:00", "2026-12-01T10:00:00+09:00"):
            assert api.book_lead(make_lead(), start).status_code == 201
    return list(Booking.objects.order_by("start_at"))


def _listed(response):
    return [str(b.pk) for b in response.context["cl"].result_list]


def test_the_list_filters_today_and_this_week_in_tokyo_time(admin_client_jp, bookings):
    with time_machine.travel("2026-11-24T08:00:00+09:00", tick=False):  # Tuesday, before 9 UTC
        today = admin_client_jp.get(BOOKINGS, {"when": "today"})
        week = admin_client_jp.get(BOOKINGS, {"when": "week"})
        everything = admin_client_jp.get(BOOKINGS)

    assert today.status_code == 200
    assert _listed(today) == [str(bookings[0].pk)]
    assert _listed(week) == [str(bookings[0].pk), str(bookings[1].pk)]
    assert len(_listed(everything)) == 3


def test_marking_held_moves_the_candidate_on(admin_client_jp, bookings):
    with time_machine.travel("2026-11-24T10:50:00+09:00", tick=False):
        admin_client_jp.post(
            BOOKINGS, {"action": "mark_held", "_selected_action": [str(bookings[0].pk), str(bookings[1].pk)]}
        )

    statuses = list(Booking.objects.order_by("start_at").values_list("status", flat=True))
    assert statuses == ["attended", "booked", "booked"]  # a future one cannot be marked held
    assert Candidate.objects.get(pk=bookings[0].candidate_id).stage == "consulted"


def test_marking_no_show_frees_the_candidate_to_book_again(admin_client_jp, bookings, api):
    with time_machine.travel("2026-11-24T10:50:00+09:00", tick=False):
        admin_client_jp.post(BOOKINGS, {"action": "mark_no_show", "_selected_action": [str(bookings[0].pk)]})
        lead = bookings[0].lead
        again = api.book_lead(lead, "2026-11-26T10:00:00+09:00")

    assert Booking.objects.get(pk=bookings[0].pk).status == "no_show"
    assert again.status_code == 201


def test_cancel_from_the_admin_goes_through_the_service(admin_client_jp, bookings):
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        admin_client_jp.post(BOOKINGS, {"action": "cancel", "_selected_action": [str(bookings[2].pk)]})

    booking = Booking.objects.get(pk=bookings[2].pk)
    assert booking.status == "cancelled"
    assert booking.cancel_reason != ""


def test_nobody_adds_or_deletes_bookings_by_hand(admin_client_jp, bookings):
    assert admin_client_jp.get(f"{BOOKINGS}add/").status_code == 403
    assert admin_client_jp.get(f"{BOOKINGS}{bookings[0].pk}/delete/").status_code == 403
    assert admin_client_jp.get(f"{BOOKINGS}{bookings[0].pk}/change/").status_code == 200


def test_overrides_are_listed(admin_client_jp, advisors):
    assert admin_client_jp.get("/admin/consultations/availabilityoverride/").status_code == 200
    assert admin_client_jp.get("/admin/consultations/availabilityoverride/add/").status_code == 200


@pytest.mark.parametrize("count", [1, 4])
def test_the_week_list_costs_the_same_whatever_the_number_of_bookings(
    api, advisors, django_assert_num_queries, count
):
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        for day in range(24, 24 + count):
            assert api.book_lead(make_lead(), f"2026-11-{day}T10:00:00+09:00").status_code == 201
    client = Client()
    client.force_login(advisors[0])
    with time_machine.travel("2026-11-24T12:00:00+09:00", tick=False):
        client.get(BOOKINGS, {"when": "week"})  # warm the per-process caches (content types)
        # session, user, user permissions, group permissions, the advisor filter's users,
        # count filtered, count all, the page (advisor and candidate joined), the date
        # hierarchy's bounds and its days.
        with django_assert_num_queries(10):
            response = client.get(BOOKINGS, {"when": "week"})

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == count
