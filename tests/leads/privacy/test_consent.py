"""A candidate withdrawing consent: closed (the partner reads `closed`), no message of any
kind afterwards (reminders, booking notices, lead follow-ups), future consultations
cancelled without telling them, recorded in the audit log; from the admin, advisors on
their own candidates and managers on all."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client

from accounts.models import Groups
from accounts.services import staff_user_create
from consultations.models import Booking
from consultations.services import advisor_onboard
from consultations.services.notices import booking_subject
from core.models import OutboxMessage
from leads.candidates.pipeline import candidate_advance_to
from leads.intake.tokens import booking_token_for
from leads.models import AuditEntry, Candidate, Lead, TimelineEvent
from leads.privacy.consent import candidate_withdraw_consent
from leads.privacy.records import person_erase
from tests.consultations.conftest import FRIDAY_MORNING, Api
from tests.leads.conftest import lead_body

pytestmark = pytest.mark.django_db
TUESDAY_TEN = "2026-11-24T10:00:00+09:00"


@pytest.fixture
def advisor():
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


def _lead(partner, **body) -> Lead:
    response = partner.post(lead_body(**body))
    assert response.status_code == 201, response.json()
    return Lead.objects.select_related("candidate").get(pk=response.json()["id"])


def _login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_withdrawal_closes_the_candidate_and_the_partner_reads_closed(partner, advisor):
    lead = _lead(partner)
    candidate = lead.candidate
    assert partner.get(f"/api/v1/leads/{lead.pk}/").json()["status"] == "received"
    pending = OutboxMessage.objects.filter(subject=f"lead:{lead.pk}", state="pending")
    assert pending.count() == 2  # assignment, contact SLA (which brings the later follow-ups)

    with time_machine.travel("2026-11-25T10:00:00+09:00", tick=False):
        done = candidate_withdraw_consent(candidate_id=candidate.pk, by=advisor, channel="admin")

    candidate.refresh_from_db()
    assert done.already is False
    assert done.cancelled == {"leads": 2, "bookings": 0}
    assert candidate.consent_withdrawn_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert (candidate.is_closed, candidate.closed_reason, candidate.partner_status) == (
        True,
        "consent_withdrawn",
        "closed",
    )
    assert partner.get(f"/api/v1/leads/{lead.pk}/").json()["status"] == "closed"
    assert pending.count() == 0
    closed = TimelineEvent.objects.get(candidate=candidate, kind=TimelineEvent.Kind.CLOSED)
    assert (closed.data, closed.actor) == ({"reason": "consent_withdrawn"}, advisor)
    assert list(AuditEntry.objects.values_list("candidate_id", "action", "actor_id", "channel", "at")) == [
        (candidate.pk, "consent_withdrawn", advisor.pk, "admin", candidate.consent_withdrawn_at)
    ]


def test_withdrawing_twice_changes_nothing(partner):
    candidate = _lead(partner).candidate
    first = candidate_withdraw_consent(candidate_id=candidate.pk, by=None, channel="command")
    candidate.refresh_from_db()
    snapshot = (candidate.consent_withdrawn_at, candidate.updated_at)

    again = candidate_withdraw_consent(candidate_id=candidate.pk, by=None, channel="command")

    candidate.refresh_from_db()
    assert (first.already, again.already) == (False, True)
    assert (candidate.consent_withdrawn_at, candidate.updated_at) == snapshot
    assert AuditEntry.objects.count() == 1


def test_a_placed_candidate_stays_placed_and_an_already_closed_one_keeps_its_reason(partner):
    placed = _lead(partner).candidate
    candidate_advance_to(candidate_id=placed.pk, stage=Candidate.Stage.PLACED)
    closed = _lead(partner).candidate
    Candidate.objects.filter(pk=closed.pk).update(is_closed=True, closed_reason="unreachable")

    for candidate in (placed, closed):
        candidate_withdraw_consent(candidate_id=candidate.pk, by=None, channel="command")

    placed.refresh_from_db()
    closed.refresh_from_db()
    assert (placed.stage, placed.is_closed, placed.partner_status) == ("placed", False, "placed")
    assert placed.consent_withdrawn_at is not None
    assert (closed.closed_reason, closed.consent_withdrawn_at is not None) == ("unreachable", True)


def test_after_withdrawal_no_reminder_and_no_cancellation_notice_is_sent(partner):
    advisor_onboard(email="misaki@urakata.example", display_name="佐藤 美咲")
    lead = _lead(partner)
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        booked = Api().book(
            booking_token=booking_token_for(lead_id=lead.pk), start=TUESDAY_TEN, mode="online"
        )
        assert booked.status_code == 201, booked.json()
    booking = Booking.objects.get()
    rows = OutboxMessage.objects.filter(subject=booking_subject(booking.pk))
    # The confirmation (not yet swept), the reminders 24 h and 1 h before, and whatever
    # else the consultations app writes about a booking: all pending.
    kinds = sorted(rows.values_list("kind", flat=True))
    assert (kinds.count("booking.confirmation"), kinds.count("booking.reminder")) == (1, 2)
    assert set(rows.values_list("state", flat=True)) == {"pending"}

    with time_machine.travel("2026-11-21T12:00:00+09:00", tick=False):
        done = candidate_withdraw_consent(candidate_id=lead.candidate_id, by=None, channel="command")
    for instant in ("2026-11-23T10:00:00+09:00", "2026-11-24T09:00:00+09:00", "2026-11-24T09:59:00+09:00"):
        with time_machine.travel(instant, tick=False):
            call_command("send_due_reminders", stdout=StringIO())

    assert done.cancelled["bookings"] == 1
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "consent withdrawn")
    assert mail.outbox == []  # no confirmation, reminder or cancellation notice
    assert set(rows.values_list("state", flat=True)) == {"cancelled"}
    assert not rows.filter(kind="booking.cancelled").exclude(state="cancelled").exists()


def test_advisors_withdraw_for_their_own_candidates_and_managers_for_all(partner, advisor):
    mine, theirs = _lead(partner).candidate, _lead(partner).candidate
    Candidate.objects.filter(pk=mine.pk).update(advisor=advisor)
    other = staff_user_create(email="ito@urakata.example", display_name="Ito", group=Groups.ADVISORS)
    Candidate.objects.filter(pk=theirs.pk).update(advisor=other)

    response = _login(advisor).post(
        "/admin/leads/candidate/?advisor=all",
        {"action": "withdraw_consent", "_selected_action": [str(mine.pk), str(theirs.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown[0].startswith("Consent withdrawn for 1 candidate(s)")
    assert shown[1] == f"Not changed, they are another advisor's candidates: {theirs}"
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.closed_reason, theirs.consent_withdrawn_at) == ("consent_withdrawn", None)

    boss = staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    _login(boss).post(
        "/admin/leads/candidate/?advisor=all",
        {"action": "withdraw_consent", "_selected_action": [str(theirs.pk)]},
    )
    theirs.refresh_from_db()
    assert theirs.closed_reason == "consent_withdrawn"
    assert sorted(AuditEntry.objects.values_list("actor__email", "channel")) == [
        ("aoki@urakata.example", "admin"),
        ("boss@urakata.example", "admin"),
    ]


def test_the_withdrawal_time_survives_an_erasure(partner):
    candidate = _lead(partner).candidate
    candidate_withdraw_consent(candidate_id=candidate.pk, by=None, channel="command")
    candidate.refresh_from_db()
    withdrawn_at = candidate.consent_withdrawn_at

    person_erase(candidate=candidate, requested_by="本人からの請求", by=None)

    candidate.refresh_from_db()
    assert candidate.consent_withdrawn_at == withdrawn_at
    assert candidate.erased_at is not None
    assert withdrawn_at is not None
    assert candidate.erased_at - withdrawn_at < timedelta(minutes=1)
