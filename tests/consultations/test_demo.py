"""demo_bookings_seed: a couple of bookings for the demo candidates, once."""

from datetime import date

import pytest
import time_machine

from consultations.demo import demo_bookings_seed
from consultations.models import Booking
from leads.models import Candidate, FollowUpTask
from tests.consultations.conftest import FRIDAY_MORNING, make_lead

pytestmark = pytest.mark.django_db


class Report:
    def __init__(self):
        self.created = {}

    def add(self, what, count):
        self.created[what] = self.created.get(what, 0) + count


@time_machine.travel(FRIDAY_MORNING, tick=False)
def test_it_books_the_demo_candidates_once(advisors):
    make_lead(email="hina.takahashi@demo.urakata.example")
    make_lead(email="ren.ito@demo.urakata.example")
    make_lead(email="someone@example.com")

    first, second = Report(), Report()
    demo_bookings_seed(report=first)
    demo_bookings_seed(report=second)

    assert (first.created, second.created) == ({"bookings": 2}, {"bookings": 0})
    assert sorted(Booking.objects.values_list("kind", "candidate__email")) == [
        ("career", "hina.takahashi@demo.urakata.example"),
        ("documents", "ren.ito@demo.urakata.example"),
    ]
    assert {b.start_at.isoformat() for b in Booking.objects.all()} == {"2026-11-24T01:00:00+00:00"}


def test_without_demo_candidates_it_does_nothing(advisors):
    report = Report()

    demo_bookings_seed(report=report)

    assert report.created == {"bookings": 0}


@time_machine.travel(FRIDAY_MORNING, tick=False)
def test_the_next_demo_candidates_had_their_consultation_last_week(advisors):
    # One instant (the clock is frozen): the seed takes them by email, hina, hiroto, ren, yui.
    for name in ("hina.takahashi", "ren.ito", "yui.watanabe", "hiroto.yamamoto"):
        make_lead(email=f"{name}@demo.urakata.example")

    first, second = Report(), Report()
    demo_bookings_seed(report=first)
    demo_bookings_seed(report=second)

    assert (first.created, second.created) == ({"bookings": 4}, {"bookings": 0})
    rows = Booking.objects.order_by("start_at", "candidate__email").values_list(
        "candidate__email", "start_at", "status", "next_step", "next_step_due"
    )
    assert [
        (str(email).split("@")[0], start.isoformat(), status, step, due)
        for email, start, status, step, due in rows
    ] == [
        ("ren.ito", "2026-11-16T01:00:00+00:00", "attended", "documents", date(2026, 11, 23)),
        ("yui.watanabe", "2026-11-16T01:00:00+00:00", "attended", "", None),
        ("hina.takahashi", "2026-11-24T01:00:00+00:00", "booked", "", None),
        ("hiroto.yamamoto", "2026-11-24T01:00:00+00:00", "booked", "", None),
    ]
    stages = dict(Candidate.objects.values_list("email", "stage"))
    assert [
        stages[f"{name}@demo.urakata.example"] for name in ("ren.ito", "yui.watanabe", "hina.takahashi")
    ] == [
        "documents",
        "consulted",
        "consultation_booked",
    ]
    assert FollowUpTask.objects.get().source == "post_consultation"
