"""Quiet candidates (CONTRACT section 6): an active candidate with no activity for
QUIET_CANDIDATE_AFTER (14 days) is flagged to their advisor once per quiet period, by an
email and a follow-up task, through the outbox."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail

from accounts.models import Groups
from accounts.services import staff_user_create
from core.models import OutboxMessage
from core.outbox_sweep import outbox_sweep
from leads.candidates.followups import followup_task_complete
from leads.candidates.pipeline import candidate_call_log, candidate_close, candidate_stage_change
from leads.candidates.quiet import candidates_quiet, candidates_quiet_scan
from leads.models import Candidate, FollowUpTask
from leads.tasks import quiet_candidates_scan_task
from tests.leads.conftest import lead_body

pytestmark = pytest.mark.django_db

RECEIVED = "2026-11-02T10:00:00+09:00"  # a Monday


def _jst(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
def advisor():
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    return staff_user_create(email="advisor@urakata.example", display_name="Advisor", group=Groups.ADVISORS)


@pytest.fixture
def candidate(partner, advisor):
    """Received (and assigned) Monday 2 Nov 10:00 JST; nothing has happened since."""
    with time_machine.travel(RECEIVED, tick=False):
        assert partner.post(lead_body(email="quiet@example.com")).status_code == 201
        outbox_sweep()  # assignment and the advisor's notice
    _no_contact_sla_follow_ups()
    mail.outbox.clear()
    candidate = Candidate.objects.get()
    assert candidate.advisor == advisor
    return candidate


def _no_contact_sla_follow_ups():
    # Not what these tests are about (tests/leads/intake/test_outbox_handlers.py).
    OutboxMessage.objects.filter(kind__startswith="lead.contact", state="pending").update(state="cancelled")


def _scan(at: str) -> int:
    with time_machine.travel(at, tick=False):
        return candidates_quiet_scan()


def _sweep(at: str):
    with time_machine.travel(at, tick=False):
        return outbox_sweep()


def _quiet_rows():
    rows = OutboxMessage.objects.filter(kind="candidate.quiet").order_by("due_at")
    return [(row.due_at.isoformat(), row.state) for row in rows]


def test_a_candidate_quiet_for_14_days_is_flagged_once(candidate, advisor, settings):
    settings.LANGUAGE_CODE = "en"  # the advisors' language (the Japanese is in the catalogue)
    assert _scan("2026-11-16T09:59:59+09:00") == 0
    assert _scan("2026-11-16T10:00:00+09:00") == 1
    assert _scan("2026-11-16T11:00:00+09:00") == 0  # the same quiet period: nothing new
    assert _quiet_rows() == [("2026-11-16T01:00:00+00:00", "pending")]

    assert str(_sweep("2026-11-16T10:00:00+09:00")) == "sent=1 skipped=0 failed=0"
    _sweep("2026-11-16T10:01:00+09:00")

    (message,) = mail.outbox
    assert message.to == [advisor.email]
    assert message.subject == "[Follow-up] A candidate has been quiet for a while"
    assert message.body.startswith("One of your candidates has had no activity for 14 days.")
    assert "Last activity: 2026-11-02 10:00 (JST)" in message.body
    assert f"https://urakata.test/admin/leads/candidate/{candidate.pk}/change/" in message.body
    assert "quiet@example.com" not in message.body  # a link, never the person's details
    task = FollowUpTask.objects.get()
    assert (task.candidate_id, task.advisor_id, task.source) == (candidate.pk, advisor.pk, "quiet_candidate")
    assert task.due_at.isoformat() == "2026-11-16T01:00:00+00:00"
    assert _quiet_rows() == [("2026-11-16T01:00:00+00:00", "sent")]


def test_a_weekend_or_night_flag_waits_for_business_hours(partner, advisor):
    with time_machine.travel("2026-11-06T19:30:00+09:00", tick=False):  # a Friday evening
        partner.post(lead_body(email="late@example.com"))
        outbox_sweep()
    _no_contact_sla_follow_ups()

    assert _scan("2026-11-20T19:30:00+09:00") == 1
    # Friday 20 Nov 19:30 -> Monday 23 Nov is a public holiday -> Tuesday 24 Nov 09:00.
    assert _quiet_rows() == [("2026-11-24T00:00:00+00:00", "pending")]


def test_any_activity_starts_a_new_quiet_period(candidate, advisor):
    with time_machine.travel("2026-11-12T15:00:00+09:00", tick=False):
        candidate_call_log(candidate_id=candidate.pk, outcome="no_answer", by=advisor)

    assert _scan("2026-11-16T10:00:00+09:00") == 0
    assert _scan("2026-11-26T14:59:00+09:00") == 0
    assert _scan("2026-11-26T15:00:00+09:00") == 1


@pytest.mark.parametrize(
    "activity",
    ["stage_change", "task_done", "new_lead"],
)
def test_activity_after_the_flag_was_written_skips_it_and_a_later_period_is_flagged(
    candidate, advisor, partner, activity
):
    assert _scan("2026-11-16T10:00:00+09:00") == 1
    with time_machine.travel("2026-11-16T10:00:30+09:00", tick=False):
        if activity == "stage_change":
            candidate_stage_change(candidate_id=candidate.pk, to="contacting", by=advisor)
        elif activity == "task_done":
            from leads.candidates.followups import followup_task_create

            task = followup_task_create(
                candidate_id=candidate.pk, advisor_id=advisor.pk, due_at=_jst(RECEIVED), title="Call"
            )
            followup_task_complete(task_id=task.pk, by=advisor)
        else:
            partner.post(lead_body(email="quiet@example.com"))  # they signed up again

    _sweep("2026-11-16T10:01:00+09:00")
    assert _quiet_rows() == [("2026-11-16T01:00:00+00:00", "skipped")]
    assert not FollowUpTask.objects.filter(source="quiet_candidate").exists()
    assert _scan("2026-11-30T10:00:29+09:00") == 0
    assert _scan("2026-11-30T10:00:30+09:00") == 1


def test_closed_placed_withdrawn_and_unassigned_candidates_are_never_quiet(partner, advisor):
    with time_machine.travel(RECEIVED, tick=False):
        for n in range(5):
            partner.post(lead_body(email=f"c{n}@example.com"))
        outbox_sweep()
    _no_contact_sla_follow_ups()
    closed, placed, withdrawn, unassigned, active = (
        Candidate.objects.get(email=f"c{n}@example.com") for n in range(5)
    )
    candidate_close(candidate_id=closed.pk, reason="not_interested", by=advisor)
    Candidate.objects.filter(pk=placed.pk).update(stage="placed")
    Candidate.objects.filter(pk=withdrawn.pk).update(consent_withdrawn_at=_jst(RECEIVED))
    Candidate.objects.filter(pk=unassigned.pk).update(advisor=None)
    Candidate.objects.exclude(pk=active.pk).update(created_at=_jst(RECEIVED))
    from leads.models import Lead, TimelineEvent

    TimelineEvent.objects.update(occurred_at=_jst(RECEIVED))  # the close happened back then
    Lead.objects.update(created_at=_jst(RECEIVED))

    with time_machine.travel("2026-12-01T10:00:00+09:00", tick=False):
        assert list(candidates_quiet(now=_jst("2026-12-01T10:00:00+09:00")).values_list("pk", flat=True)) == [
            active.pk
        ]


def test_the_scan_is_one_query_whatever_the_number_of_candidates(partner, advisor, django_assert_num_queries):
    with time_machine.travel(RECEIVED, tick=False):
        for n in range(20):
            partner.post(lead_body(email=f"many{n}@example.com"))
        outbox_sweep()
    _no_contact_sla_follow_ups()

    with time_machine.travel("2026-11-16T10:00:00+09:00", tick=False):
        # 1. the quiet candidates not flagged yet; 2. one INSERT of their rows
        with django_assert_num_queries(2):
            assert candidates_quiet_scan() == 20
        with django_assert_num_queries(1):  # the second finds nothing (and inserts nothing)
            assert candidates_quiet_scan() == 0


def test_the_beat_task_scans(candidate):
    with time_machine.travel("2026-11-16T10:00:00+09:00", tick=False):
        assert quiet_candidates_scan_task() == 1

    assert OutboxMessage.objects.get(kind="candidate.quiet").subject == f"candidate:{candidate.pk}"


def test_the_threshold_is_a_setting(candidate, settings):
    settings.QUIET_CANDIDATE_AFTER = timedelta(days=3)

    assert _scan("2026-11-05T09:59:00+09:00") == 0
    assert _scan("2026-11-05T10:00:00+09:00") == 1
