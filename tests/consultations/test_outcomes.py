"""The outcome of a held consultation: the next step moves the candidate's stage and gives
the advisor one follow-up task; recorded through the service and the admin form."""

from datetime import date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import Client, override_settings
from django.utils import translation

from accounts.models import Groups
from accounts.services import staff_user_create
from consultations.models import Booking
from consultations.privacy import bookings_erase, bookings_export
from consultations.services import (
    BookingClosed,
    OutcomeAlreadyRecorded,
    booking_cancel,
    booking_create,
    booking_mark_held,
    booking_mark_no_show,
    booking_record_outcome,
)
from core.models import OutboxMessage
from leads.models import Candidate, FollowUpTask
from tests.consultations.conftest import FRIDAY_MORNING, make_lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TEN = datetime.fromisoformat("2026-11-24T10:00:00+09:00")  # a Tuesday
AFTER = "2026-11-24T10:50:00+09:00"
BOOKINGS = "/admin/consultations/booking/"


@pytest.fixture
def english():
    # Task titles are written in LANGUAGE_CODE and errors in the active language: English
    # keeps these assertions independent of the Japanese catalogue.
    with override_settings(LANGUAGE_CODE="en"), translation.override("en"):
        yield


@pytest.fixture
def booking(advisors):
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        lead = make_lead()
        return booking_create(start=TEN, kind="career", mode="online", lead_id=lead.pk).booking


def _record(booking, **fields):
    fields.setdefault("by", booking.advisor)
    with time_machine.travel(AFTER, tick=False):
        return booking_record_outcome(booking_id=booking.pk, **fields)


def _tasks():
    return [
        (t.advisor_id, t.source, t.due_at.isoformat(), t.title, t.created_by_id)
        for t in FollowUpTask.objects.order_by("pk")
    ]


def _stage(booking):
    return Candidate.objects.get(pk=booking.candidate_id).stage


def test_recording_an_outcome_marks_the_consultation_held_and_records_it(booking):
    recorded = _record(booking, next_step="another_consultation", note=" 次回は職務経歴書を持参 ")

    booking.refresh_from_db()
    assert recorded.status == "attended"
    assert (booking.status, booking.next_step, booking.next_step_due, booking.outcome_note) == (
        "attended",
        "another_consultation",
        None,
        "次回は職務経歴書を持参",
    )
    assert booking.outcome_recorded_at.isoformat() == "2026-11-24T01:50:00+00:00"
    assert booking.outcome_recorded_by == booking.advisor
    assert _stage(booking) == "consulted"


@pytest.mark.parametrize(
    ("next_step", "stage"),
    [
        ("documents", "documents"),
        ("apply", "applying"),
        ("another_consultation", "consulted"),
        ("thinking", "consulted"),
        ("none", "consulted"),
    ],
)
def test_the_next_step_moves_the_candidate_forward(booking, next_step, stage):
    _record(booking, next_step=next_step)

    assert _stage(booking) == stage


def test_the_follow_up_task_is_due_at_nine_on_the_chosen_day(booking):
    _record(booking, next_step="documents", next_step_due=date(2026, 11, 27))

    assert _tasks() == [
        (
            booking.advisor_id,
            "post_consultation",
            "2026-11-27T00:00:00+00:00",  # 09:00 JST
            "Prepare the documents agreed in the consultation",
            booking.advisor_id,
        )
    ]


def test_without_a_date_the_task_is_due_the_next_business_morning(booking):
    with time_machine.travel("2026-11-27T16:00:00+09:00", tick=False):  # a Friday
        booking_record_outcome(booking_id=booking.pk, next_step="thinking", by=booking.advisor)

    assert [(source, due) for _, source, due, _, _ in _tasks()] == [
        ("post_consultation", "2026-11-30T00:00:00+00:00")  # Monday 09:00 JST
    ]


def test_no_further_support_makes_no_task(booking):
    _record(booking, next_step="none")

    assert _tasks() == []


def test_recording_again_updates_only_the_note_and_makes_no_second_task(booking):
    _record(booking, next_step="apply", next_step_due=date(2026, 11, 26), note="first")
    _record(booking, next_step="apply", next_step_due=date(2026, 11, 26), note="corrected")

    booking.refresh_from_db()
    assert booking.outcome_note == "corrected"
    assert len(_tasks()) == 1


def test_another_next_step_after_one_is_recorded_is_refused(booking):
    _record(booking, next_step="apply")

    with pytest.raises(OutcomeAlreadyRecorded):
        _record(booking, next_step="documents")

    booking.refresh_from_db()
    assert booking.next_step == "apply"


def test_recording_the_outcome_cancels_the_post_consultation_reminder(booking):
    _record(booking, next_step="thinking")

    row = OutboxMessage.objects.get(kind="booking.post_consultation")
    assert row.state == "cancelled"


def test_a_consultation_still_to_come_has_no_outcome(booking):
    with time_machine.travel("2026-11-24T09:59:00+09:00", tick=False), pytest.raises(BookingClosed):
        booking_record_outcome(booking_id=booking.pk, next_step="apply", by=None)

    booking.refresh_from_db()
    assert (booking.status, booking.outcome_recorded_at) == ("booked", None)


def test_a_no_show_or_cancelled_booking_has_no_outcome(booking, advisors):
    with time_machine.travel(AFTER, tick=False):
        booking_mark_no_show(booking_id=booking.pk, by=None)
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        other = booking_create(
            start=datetime.fromisoformat("2026-11-25T10:00:00+09:00"),
            kind="career",
            mode="phone",
            lead_id=make_lead().pk,
        ).booking
        booking_cancel(booking_id=other.pk)

    for closed in (booking, other):
        with time_machine.travel("2026-11-25T12:00:00+09:00", tick=False), pytest.raises(BookingClosed):
            booking_record_outcome(booking_id=closed.pk, next_step="apply", by=None)
    assert _tasks() == []


def test_a_held_consultation_with_an_outcome_cannot_become_a_no_show(booking):
    _record(booking, next_step="apply")

    with time_machine.travel(AFTER, tick=False), pytest.raises(BookingClosed):
        booking_mark_no_show(booking_id=booking.pk, by=None)


@pytest.mark.parametrize(
    ("next_step", "due", "message"),
    [
        ("later", None, "Choose the next step."),
        ("none", date(2026, 11, 30), "No further support has no due date."),
        ("apply", date(2026, 11, 23), "The next step cannot be due before the consultation."),
    ],
)
def test_impossible_outcomes_are_refused(booking, next_step, due, message):
    with pytest.raises(ValidationError) as raised:
        _record(booking, next_step=next_step, next_step_due=due)

    assert raised.value.messages == [message]
    booking.refresh_from_db()
    assert booking.status == "booked"


def test_the_database_refuses_an_outcome_on_a_booking_not_held(booking):
    with pytest.raises(IntegrityError):
        Booking.objects.filter(pk=booking.pk).update(next_step="apply", outcome_recorded_at=TEN)


# --- the admin -----------------------------------------------------------------------------


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _outcome_url(booking):
    return f"{BOOKINGS}{booking.pk}/outcome/"


def test_the_advisor_records_the_outcome_from_the_booking(booking):
    client = _client(booking.advisor)
    with time_machine.travel(AFTER, tick=False):
        page = client.get(f"{BOOKINGS}{booking.pk}/change/")
        form = client.get(_outcome_url(booking))
        posted = client.post(
            _outcome_url(booking),
            {"next_step": "documents", "next_step_due": "2026-11-26", "outcome_note": "履歴書の下書きを依頼"},
        )

    assert page.status_code == 200
    assert f'href="{_outcome_url(booking)}"' in page.content.decode()
    assert form.status_code == 200
    assert posted.status_code == 302
    assert posted["Location"] == f"{BOOKINGS}{booking.pk}/change/"
    booking.refresh_from_db()
    assert (booking.status, booking.next_step, booking.next_step_due, booking.outcome_note) == (
        "attended",
        "documents",
        date(2026, 11, 26),
        "履歴書の下書きを依頼",
    )
    assert _stage(booking) == "documents"
    assert len(_tasks()) == 1


def test_the_form_shows_what_the_service_refuses(booking):
    client = _client(booking.advisor)
    with time_machine.travel("2026-11-24T09:00:00+09:00", tick=False):
        early = client.post(_outcome_url(booking), {"next_step": "apply"})
    with time_machine.travel(AFTER, tick=False):
        missing = client.post(_outcome_url(booking), {"outcome_note": "x"})

    assert early.status_code == 200
    assert early.context["form"].non_field_errors() == [
        "Only a consultation that has taken place can have an outcome."
    ]
    assert missing.status_code == 200
    assert list(missing.context["form"].errors) == ["next_step"]
    booking.refresh_from_db()
    assert booking.outcome_recorded_at is None


def test_another_advisor_can_neither_record_nor_mark(booking, advisors):
    other = next(a for a in advisors if a != booking.advisor)
    client = _client(other)
    with time_machine.travel(AFTER, tick=False):
        form = client.get(_outcome_url(booking))
        posted = client.post(_outcome_url(booking), {"next_step": "apply"})
        client.post(BOOKINGS, {"action": "mark_no_show", "_selected_action": [str(booking.pk)]})
        page = client.get(f"{BOOKINGS}{booking.pk}/change/")

    assert (form.status_code, posted.status_code) == (403, 403)
    assert page.status_code == 200  # everyone sees every consultation, read-only
    assert page.context["has_change_permission"] is False
    assert _outcome_url(booking) not in page.content.decode()
    booking.refresh_from_db()
    assert (booking.status, booking.outcome_recorded_at) == ("booked", None)


def test_a_manager_records_any_advisors_outcome(booking, make_advisor):
    manager = staff_user_create(
        email="manager@urakata.example", display_name="Manager", group=Groups.MANAGERS
    )
    with time_machine.travel(AFTER, tick=False):
        posted = _client(manager).post(_outcome_url(booking), {"next_step": "thinking"})

    assert posted.status_code == 302
    booking.refresh_from_db()
    assert (booking.next_step, booking.outcome_recorded_by) == ("thinking", manager)
    assert FollowUpTask.objects.get().advisor == booking.advisor  # the task stays the advisor's


def test_the_list_shows_the_consultations_whose_outcome_is_missing(booking, advisors):
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        later = booking_create(
            start=datetime.fromisoformat("2026-11-24T14:00:00+09:00"),
            kind="career",
            mode="phone",
            lead_id=make_lead().pk,
        ).booking
        recorded = booking_create(
            start=datetime.fromisoformat("2026-11-24T11:00:00+09:00"),
            kind="career",
            mode="phone",
            lead_id=make_lead().pk,
        ).booking
    client = _client(booking.advisor)
    with time_machine.travel("2026-11-24T12:00:00+09:00", tick=False):
        booking_mark_held(booking_id=booking.pk, by=None)
        booking_record_outcome(booking_id=recorded.pk, next_step="none", by=None)
        missing = client.get(BOOKINGS, {"outcome": "missing"})
        done = client.get(BOOKINGS, {"outcome": "recorded"})

    assert [b.pk for b in missing.context["cl"].result_list] == [booking.pk]  # not `later`
    assert [b.pk for b in done.context["cl"].result_list] == [recorded.pk]
    assert later.pk not in [b.pk for b in missing.context["cl"].result_list]


def test_the_outcome_is_part_of_the_persons_export_and_its_note_is_erased(booking):
    _record(booking, next_step="documents", next_step_due=date(2026, 11, 26), note="転職理由: 夜勤")
    candidate = Candidate.objects.get(pk=booking.candidate_id)

    (exported,) = bookings_export(candidate)
    assert (exported["outcome"], exported["next_step"], exported["next_step_due"]) == (
        "転職理由: 夜勤",
        "documents",
        "2026-11-26",
    )
    bookings_erase(candidate)
    booking.refresh_from_db()
    assert (booking.outcome_note, booking.next_step) == ("", "documents")
