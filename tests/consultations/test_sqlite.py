"""The embedded default (SQLite) has no exclusion constraint: the booking service's own
overlap check, made after its write inside the transaction, keeps advisors single-booked."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.test_embedded_default import _embedded_env

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.processes

SCRIPT = """
import json
from datetime import timedelta
from django.utils import timezone
from consultations.models import Booking
from consultations.selectors import slots_for_range
from consultations.services import SlotUnavailable, advisor_onboard, booking_create, booking_reschedule
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest

import consultations.services.bookings as bookings
advisor = advisor_onboard(email="solo@urakata.example", display_name="Solo")
def lead(n):
    data = LeadInput(family_name="山田", given_name="太郎", email=f"c{n}@example.com",
                     consent_policy_version="v1", consent_agreed_at=timezone.now(),
                     consent_third_party_provision=True, raw_payload={})
    return lead_ingest(partner=None, data=data).lead
now = timezone.now()
today = timezone.localdate(now)
slots = slots_for_range(date_from=today, date_to=today + timedelta(days=10), kind="career", now=now)
first, second = slots[:2]
outcomes = []
booked = booking_create(start=first.start, kind="career", mode="online", lead_id=lead(1).pk)
outcomes.append("booked")
for start in (first.start, second.start):  # second.start overlaps first's buffer
    try:
        booking_create(start=start, kind="career", mode="online", lead_id=lead(2).pk)
        outcomes.append("booked")
    except SlotUnavailable:
        outcomes.append("unavailable")
# As if a concurrent request had read the advisor as free: the write-then-check refuses it.
bookings.advisors_free_at = lambda **kwargs: [advisor.pk]
try:
    booking_create(start=first.start, kind="career", mode="online", lead_id=lead(3).pk)
    outcomes.append("booked")
except SlotUnavailable:
    outcomes.append("refused after writing")
moved = booking_reschedule(booking_id=booked.booking.pk, start=second.start)
outcomes.append(moved.sequence)
print(json.dumps([outcomes, Booking.objects.count()]))
"""


def test_on_sqlite_an_advisor_is_never_double_booked(tmp_path):
    env = _embedded_env(tmp_path)

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "manage.py", *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=180, text=True)

    assert manage("migrate", "--noinput").returncode == 0
    result = manage("shell", "-c", SCRIPT)

    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        ["booked", "unavailable", "unavailable", "refused after writing", 1],
        1,
    ]
