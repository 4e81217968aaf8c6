"""Consultation follow-ups (CONTRACT section 6): the advisor's post-consultation reminder the
next business morning, and the no-show follow-up 30 minutes after the start (the advisor's
task and email, the candidate's rebooking link in their hours). Each is written with the
booking change it is about and checked again when it is due."""

from datetime import datetime
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.utils import timezone, translation

from consultations.models import AvailabilityOverride, Booking
from consultations.services import (
    booking_cancel,
    booking_create,
    booking_mark_held,
    booking_mark_no_show,
    booking_record_outcome,
    booking_reschedule,
)
from core.business_time import BUSINESS_TZ
from core.models import OutboxMessage
from core.outbox_sweep import outbox_sweep
from leads.intake.tokens import booking_token_lead_id
from leads.models import Candidate, FollowUpTask
from tests.consultations.conftest import FRIDAY_MORNING, make_lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_for_staff")]

TEN = "2026-11-24T10:00:00+09:00"  # a Tuesday; Monday 23 is a public holiday
FOLLOWUP_KINDS = ("booking.post_consultation", "booking.no_show", "booking.no_show_rebook")


@pytest.fixture
def english_for_staff():
    # Staff messages are written in LANGUAGE_CODE; English keeps these assertions independent
    # of the Japanese catalogue.
    with override_settings(LANGUAGE_CODE="en"):
        yield


def _jst(value):
    return datetime.fromisoformat(value)


def _only_followups():
    """Set aside the other rows of the lead and the booking (assignment, contact SLA,
    confirmation, reminders: tested on their own), so that sweeps here count follow-ups."""
    OutboxMessage.objects.exclude(kind__in=FOLLOWUP_KINDS).update(state="cancelled")


def _book(start=TEN, *, lead=None, language="en", kind="career"):
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        lead = lead or make_lead()
        booking = booking_create(
            start=_jst(start), kind=kind, mode="online", lead_id=lead.pk, language=language
        ).booking
    _only_followups()
    return booking


@pytest.fixture
def booking(advisors):
    return _book()


def _rows(*kinds):
    rows = OutboxMessage.objects.filter(kind__in=kinds or FOLLOWUP_KINDS).order_by("due_at", "kind", "pk")
    return [(row.kind, timezone.localtime(row.due_at).isoformat(), row.state) for row in rows]


def _sweep(at):
    mail.outbox.clear()
    with time_machine.travel(at, tick=False):
        return str(outbox_sweep())


def _mails():
    return [(m.to, m.subject) for m in mail.outbox]


def _tasks():
    return [(t.advisor_id, t.source, t.title) for t in FollowUpTask.objects.order_by("pk")]


# --- post-consultation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (TEN, "2026-11-25T09:00:00+09:00"),  # Tuesday -> Wednesday morning
        (
            "2026-11-20T14:00:00+09:00",
            "2026-11-24T09:00:00+09:00",
        ),  # Friday -> past the weekend and the holiday
        ("2026-12-28T10:00:00+09:00", "2027-01-04T09:00:00+09:00"),  # the year-end break
    ],
)
def test_the_post_consultation_reminder_is_due_the_next_business_morning(advisors, start, due):
    _book(start)

    assert _rows("booking.post_consultation") == [("booking.post_consultation", due, "pending")]


def test_the_advisor_is_reminded_the_morning_after_a_held_consultation_without_outcome(booking):
    with time_machine.travel("2026-11-24T10:50:00+09:00", tick=False):
        booking_mark_held(booking_id=booking.pk, by=booking.advisor)

    early = _sweep("2026-11-25T08:59:00+09:00")
    assert (early, _mails()) == ("sent=0 skipped=0 failed=0", [])
    due = _sweep("2026-11-25T09:00:00+09:00")
    again = _sweep("2026-11-25T09:05:00+09:00")

    assert due == "sent=1 skipped=0 failed=0"
    assert again == "sent=0 skipped=0 failed=0"
    assert _rows("booking.post_consultation") == [
        ("booking.post_consultation", "2026-11-25T09:00:00+09:00", "sent")
    ]
    assert _tasks() == [
        (booking.advisor_id, "post_consultation", "Record the outcome and next step of the consultation")
    ]
    assert FollowUpTask.objects.get().due_at.isoformat() == "2026-11-25T00:00:00+00:00"


def test_the_advisors_email_links_the_booking_and_names_nobody(booking):
    with time_machine.travel("2026-11-24T10:50:00+09:00", tick=False):
        booking_mark_held(booking_id=booking.pk, by=None)
    with time_machine.travel("2026-11-25T09:00:00+09:00", tick=False):
        mail.outbox.clear()
        outbox_sweep()

    (message,) = mail.outbox
    assert message.to == [booking.advisor.email]
    assert message.subject == "[Follow-up] Record the outcome of the consultation on 2026-11-24 10:00"
    assert f"https://urakata.test/admin/consultations/booking/{booking.pk}/change/" in message.body
    assert "2026-11-24 10:00–10:45 (JST)" in message.body
    assert booking.candidate.family_name not in message.body
    assert booking.candidate.email not in message.body


def test_no_reminder_once_the_outcome_is_recorded(booking):
    with time_machine.travel("2026-11-24T17:00:00+09:00", tick=False):
        booking_record_outcome(booking_id=booking.pk, next_step="none", by=booking.advisor)

    result = _sweep("2026-11-25T09:00:00+09:00")

    assert result == "sent=0 skipped=0 failed=0"
    assert _rows("booking.post_consultation")[0][2] == "cancelled"
    assert _tasks() == []


def test_an_outcome_recorded_after_the_row_was_claimed_is_skipped_at_delivery(booking):
    with time_machine.travel("2026-11-24T10:50:00+09:00", tick=False):
        booking_mark_held(booking_id=booking.pk, by=None)
    # As if recorded while a sweep held the row (the cancellation found it `sending`).
    Booking.objects.filter(pk=booking.pk).update(next_step="thinking", outcome_recorded_at=timezone.now())

    assert _sweep("2026-11-25T09:00:00+09:00") == "sent=0 skipped=1 failed=0"
    assert (_mails(), _tasks()) == ([], [])


@pytest.mark.parametrize(
    "mark",
    [
        None,  # nobody marked it: still `booked`
        booking_mark_no_show,
    ],
)
def test_a_consultation_not_held_gets_no_post_consultation_reminder(booking, mark):
    if mark is not None:
        with time_machine.travel("2026-11-24T10:50:00+09:00", tick=False):
            booking_mark_held(booking_id=booking.pk, by=None)
            mark(booking_id=booking.pk, by=None)  # corrected: they did not come after all

    _sweep("2026-11-25T09:00:00+09:00")

    assert _rows("booking.post_consultation")[0][2] == "skipped"
    assert [source for _, source, _ in _tasks()] == ([] if mark is None else ["no_show"])


def test_a_moved_consultation_is_followed_up_after_its_new_time_only(booking):
    with time_machine.travel("2026-11-23T12:00:00+09:00", tick=False):
        booking_reschedule(booking_id=booking.pk, start=_jst("2026-11-26T15:00:00+09:00"))
    _only_followups()
    with time_machine.travel("2026-11-26T16:00:00+09:00", tick=False):
        booking_mark_held(booking_id=booking.pk, by=None)

    assert _rows("booking.post_consultation") == [
        ("booking.post_consultation", "2026-11-25T09:00:00+09:00", "cancelled"),
        ("booking.post_consultation", "2026-11-27T09:00:00+09:00", "pending"),
    ]
    assert _sweep("2026-11-27T09:00:00+09:00") == "sent=1 skipped=0 failed=0"


def test_a_cancelled_consultation_is_not_followed_up(booking):
    with time_machine.travel("2026-11-23T12:00:00+09:00", tick=False):
        booking_cancel(booking_id=booking.pk)

    _sweep("2026-11-25T09:00:00+09:00")

    assert _rows("booking.post_consultation")[0][2] == "cancelled"
    assert _tasks() == []


# --- no-show ---------------------------------------------------------------------------------


def _no_show(booking, at):
    with time_machine.travel(at, tick=False):
        booking_mark_no_show(booking_id=booking.pk, by=booking.advisor)


def test_marking_a_no_show_writes_both_follow_ups_30_minutes_after_the_start(booking):
    _no_show(booking, "2026-11-24T10:10:00+09:00")

    assert _rows("booking.no_show", "booking.no_show_rebook") == [
        ("booking.no_show", "2026-11-24T10:30:00+09:00", "pending"),
        ("booking.no_show_rebook", "2026-11-24T10:30:00+09:00", "pending"),
    ]


def test_a_no_show_marked_later_is_followed_up_at_once(booking):
    _no_show(booking, "2026-11-24T13:00:00+09:00")

    assert _rows("booking.no_show", "booking.no_show_rebook") == [
        ("booking.no_show", "2026-11-24T13:00:00+09:00", "pending"),
        ("booking.no_show_rebook", "2026-11-24T13:00:00+09:00", "pending"),
    ]


def test_the_advisor_gets_a_task_and_the_candidate_a_link_to_book_again(booking):
    _no_show(booking, "2026-11-24T10:10:00+09:00")
    assert _sweep("2026-11-24T10:29:00+09:00") == "sent=0 skipped=0 failed=0"

    result = _sweep("2026-11-24T10:30:00+09:00")
    advisor_mail, candidate_mail = sorted(mail.outbox, key=lambda m: m.to != [booking.advisor.email])
    again = _sweep("2026-11-24T10:31:00+09:00")

    assert (result, again) == ("sent=2 skipped=0 failed=0", "sent=0 skipped=0 failed=0")
    assert _tasks() == [
        (booking.advisor_id, "no_show", "Call the candidate who did not come to the consultation")
    ]
    assert advisor_mail.subject == "[Follow-up] No-show at the consultation on 2026-11-24 10:00"
    assert candidate_mail.to == [booking.candidate.email]
    assert candidate_mail.subject == "[Book again] Your Career consultation"
    assert (
        "We could not meet you at your consultation on 2026-11-24 10:00 (Japan time)." in candidate_mail.body
    )
    (link,) = [line for line in candidate_mail.body.splitlines() if "/book/" in line]
    assert link.startswith("https://urakata.test/book/")
    assert link.endswith("?kind=career")


def test_the_rebooking_link_opens_the_booking_page_of_the_candidates_lead(booking):
    _no_show(booking, "2026-11-24T10:10:00+09:00")
    _sweep("2026-11-24T10:30:00+09:00")
    (link,) = [line for m in mail.outbox for line in m.body.splitlines() if "/book/" in line]
    token = link.removeprefix("https://urakata.test/book/").removesuffix("?kind=career")

    with time_machine.travel("2026-11-24T10:35:00+09:00", tick=False):
        page = Client().get(f"/book/{token}", {"kind": "career"})
        lead_id = booking_token_lead_id(token=token)  # at the moment it is used: links expire

    assert lead_id == booking.lead_id
    assert page.status_code == 200


def test_the_candidates_link_waits_for_the_end_of_quiet_hours(booking, advisors):
    evening = AvailabilityOverride.objects.create(
        advisor=booking.advisor, date=_jst(TEN).date(), kind="extra", start_time="19:00", end_time="21:30"
    )
    late = _book("2026-11-24T20:30:00+09:00")
    assert late.advisor_id == evening.advisor_id

    _no_show(late, "2026-11-24T20:45:00+09:00")

    assert _rows("booking.no_show", "booking.no_show_rebook") == [
        ("booking.no_show", "2026-11-24T21:00:00+09:00", "pending"),  # the advisor: on time
        ("booking.no_show_rebook", "2026-11-25T08:00:00+09:00", "pending"),  # the candidate: at 08:00
    ]
    assert _sweep("2026-11-24T21:00:00+09:00") == "sent=1 skipped=0 failed=0"
    assert _mails() == [([late.advisor.email], "[Follow-up] No-show at the consultation on 2026-11-24 20:30")]
    assert _sweep("2026-11-25T07:59:00+09:00") == "sent=0 skipped=0 failed=0"
    assert _sweep("2026-11-25T08:00:00+09:00") == "sent=1 skipped=0 failed=0"
    assert _mails() == [([late.candidate.email], "[Book again] Your Career consultation")]


def test_a_no_show_corrected_to_held_is_not_followed_up_as_one(booking):
    _no_show(booking, "2026-11-24T10:10:00+09:00")
    with time_machine.travel("2026-11-24T10:20:00+09:00", tick=False):
        booking_mark_held(booking_id=booking.pk, by=booking.advisor)

    assert _sweep("2026-11-24T10:30:00+09:00") == "sent=0 skipped=2 failed=0"
    assert (_mails(), _tasks()) == ([], [])


def test_a_second_no_show_after_a_correction_sends_no_second_link(booking):
    _no_show(booking, "2026-11-24T10:10:00+09:00")
    _sweep("2026-11-24T10:30:00+09:00")
    with time_machine.travel("2026-11-24T11:00:00+09:00", tick=False):
        booking_mark_held(booking_id=booking.pk, by=None)
    _no_show(booking, "2026-11-24T11:05:00+09:00")

    assert _sweep("2026-11-24T11:10:00+09:00") == "sent=0 skipped=0 failed=0"
    assert len(_tasks()) == 1


def test_nobody_is_asked_to_contact_a_candidate_who_withdrew_consent(booking):
    _no_show(booking, "2026-11-24T10:10:00+09:00")
    Candidate.objects.filter(pk=booking.candidate_id).update(
        consent_withdrawn_at=_jst("2026-11-24T10:20:00+09:00")
    )

    assert _sweep("2026-11-24T10:30:00+09:00") == "sent=0 skipped=2 failed=0"
    assert (_mails(), _tasks()) == ([], [])


def test_a_candidate_who_booked_again_meanwhile_gets_no_link(booking):
    _no_show(booking, "2026-11-24T10:10:00+09:00")
    with time_machine.travel("2026-11-24T10:15:00+09:00", tick=False):
        booking_create(
            start=_jst("2026-11-26T10:00:00+09:00"), kind="career", mode="phone", lead_id=booking.lead_id
        )
    _only_followups()

    _sweep("2026-11-24T10:30:00+09:00")

    assert _rows("booking.no_show_rebook")[0][2] == "skipped"
    assert [m.to for m in mail.outbox] == [[booking.advisor.email]]


def test_the_candidates_message_is_in_their_language(advisors):
    booking = _book(language="ja")
    _no_show(booking, "2026-11-24T10:10:00+09:00")

    _sweep("2026-11-24T10:30:00+09:00")

    (candidate_mail,) = [m for m in mail.outbox if m.to == [booking.candidate.email]]
    # Lines already in the catalogue (the new ones are translated when the lead merges them).
    assert candidate_mail.body.startswith(f"{booking.candidate.family_name} 様")
    assert "裏方 キャリアサポート" in candidate_mail.body


def test_the_short_text_for_sms_and_line_carries_the_link(booking):
    url = "https://urakata.test/book/abc?kind=career"
    context = {"booking": booking, "booking_url": url, "business_tz": BUSINESS_TZ}
    with translation.override("en"):
        text = render_to_string("consultations/short/no_show_rebook.txt", context)

    sentence = "Urakata: we missed you at your consultation on 11/24 10:00 (Japan time). Book a new time:"
    assert text == f"{sentence} {url}\n"


def test_send_due_reminders_delivers_the_follow_ups_due_at_its_instant(booking):
    with time_machine.travel("2026-11-24T10:50:00+09:00", tick=False):
        booking_mark_held(booking_id=booking.pk, by=None)
        early, due = StringIO(), StringIO()
        call_command("send_due_reminders", "--as-of", "2026-11-25T08:59:00+09:00", stdout=early)
        call_command("send_due_reminders", "--as-of", "2026-11-25T09:00:00+09:00", stdout=due)

    assert (early.getvalue(), due.getvalue()) == (
        "sent=0 skipped=0 failed=0\n",
        "sent=1 skipped=0 failed=0\n",
    )
    assert [source for _, source, _ in _tasks()] == ["post_consultation"]
