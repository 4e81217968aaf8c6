"""demo_bookings_seed: a couple of bookings for the demo candidates, once."""

import pytest
import time_machine

from consultations.demo import demo_bookings_seed
from consultations.models import Booking
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
