"""Follow-up tasks: the services the reminders will call, and the "my day" screen."""

from datetime import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.candidates.followups import followup_task_complete, followup_task_create, followup_task_snooze
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import Candidate, FollowUpTask, TimelineEvent
from tests.clock import clock_at
from tests.leads.candidates.test_workspace import _form_data
from tests.leads.helpers_admin import messages_of

pytestmark = pytest.mark.django_db

JST = timezone.get_fixed_timezone(9 * 60)
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=JST)
TASKS = "/admin/leads/followuptask/"


def _at(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=JST)


# The tasks' fixed dates keep their meaning (due this morning, overdue, tomorrow) on any day.
_clock = clock_at(NOW.isoformat())


@pytest.fixture
def advisor():
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


@pytest.fixture
def other_advisor():
    return staff_user_create(email="ito@urakata.example", display_name="Ito", group=Groups.ADVISORS)


@pytest.fixture
def candidate():
    data = LeadInput(
        family_name="佐藤",
        given_name="花子",
        email="hanako@example.com",
        consent_policy_version="2026-04",
        consent_agreed_at=timezone.now(),
        consent_third_party_provision=True,
        raw_payload={},
    )
    return Candidate.objects.get(pk=lead_ingest(partner=None, data=data).lead.candidate_id)


def _task(candidate, advisor, due_at, title="電話する", **extra):
    return followup_task_create(
        candidate_id=candidate.pk, advisor_id=advisor.pk, due_at=due_at, title=title, **extra
    )


def test_create_with_a_key_is_safe_to_run_twice(candidate, advisor):
    first = _task(candidate, advisor, _at(25, 10), source="contact_sla", key="contact_sla:lead-1")
    second = _task(candidate, advisor, _at(25, 11), source="contact_sla", key="contact_sla:lead-1")

    assert first.pk == second.pk
    task = FollowUpTask.objects.get()
    assert (task.due_at, task.source, task.created_by, task.done_at) == (
        _at(25, 10),
        "contact_sla",
        None,
        None,
    )


def test_create_refuses_a_naive_time_a_blank_title_and_an_unknown_source(candidate, advisor):
    with pytest.raises(ValueError, match="timezone-aware"):
        _task(candidate, advisor, datetime(2026, 11, 25, 10, 0))  # noqa: DTZ001
    with pytest.raises(ValidationError):
        _task(candidate, advisor, _at(25, 10), title="  ")
    with pytest.raises(ValueError, match="'psychic'"):
        _task(candidate, advisor, _at(25, 10), source="psychic")
    assert FollowUpTask.objects.count() == 0


def test_complete_records_the_timeline_once(candidate, advisor):
    task = _task(candidate, advisor, _at(25, 10))

    with time_machine.travel(NOW, tick=False):
        followup_task_complete(task_id=task.pk, by=advisor)
        followup_task_complete(task_id=task.pk, by=advisor)

    task.refresh_from_db()
    assert task.done_at == NOW
    event = TimelineEvent.objects.get()
    assert (event.kind, event.actor, event.note) == ("task_done", advisor, "電話する")


def test_snooze_must_be_after_now_and_the_due_time(candidate, advisor):
    task = _task(candidate, advisor, _at(26, 10))
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(ValidationError):
            followup_task_snooze(task_id=task.pk, until=_at(25, 15), by=advisor)  # before due
        followup_task_snooze(task_id=task.pk, until=_at(26, 11), by=advisor)
        followup_task_complete(task_id=task.pk, by=advisor)
        with pytest.raises(ValidationError):
            followup_task_snooze(task_id=task.pk, until=_at(27, 11), by=advisor)  # done

    task.refresh_from_db()
    assert task.snoozed_until == _at(26, 11)


def test_my_day_lists_my_open_tasks_due_today_or_overdue_most_urgent_first(candidate, advisor, other_advisor):
    overdue = _task(candidate, advisor, _at(24, 9), title="昨日の電話")
    later_today = _task(candidate, advisor, _at(25, 18), title="夕方の電話")
    this_morning = _task(candidate, advisor, _at(25, 9), title="朝の電話")
    _task(candidate, advisor, _at(26, 0), title="明日")
    _task(candidate, other_advisor, _at(25, 9), title="他人の")
    done = _task(candidate, advisor, _at(25, 8), title="済み")
    snoozed = _task(candidate, advisor, _at(25, 8, 30), title="スヌーズ中")
    with time_machine.travel(NOW, tick=False):
        followup_task_complete(task_id=done.pk, by=advisor)
        followup_task_snooze(task_id=snoozed.pk, until=_at(25, 16), by=advisor)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)

    with time_machine.travel(NOW, tick=False):
        response = client.get(TASKS)
    with time_machine.travel(_at(25, 16, 30), tick=False):
        after_snooze = client.get(TASKS)

    assert [t.title for t in response.context["cl"].result_list] == [
        overdue.title,
        this_morning.title,
        later_today.title,
    ]
    assert [t.title for t in after_snooze.context["cl"].result_list] == [
        overdue.title,
        this_morning.title,
        snoozed.title,
        later_today.title,
    ]


def test_the_actions_complete_and_snooze_only_my_tasks(candidate, advisor, other_advisor):
    mine = _task(candidate, advisor, _at(25, 9))
    theirs = _task(candidate, other_advisor, _at(25, 9))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)

    with time_machine.travel(NOW, tick=False):
        response = client.post(
            f"{TASKS}?scope=open",
            {"action": "mark_done", "_selected_action": [mine.pk, theirs.pk]},
            follow=True,
        )

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.done_at, theirs.done_at) == (NOW, None)
    assert messages_of(response) == ["Updated 1 task(s).", "1 task(s) of other advisors were not changed."]


def test_snooze_until_tomorrow_morning(candidate, advisor):
    task = _task(candidate, advisor, _at(25, 9))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)

    with time_machine.travel(NOW, tick=False):
        client.post(TASKS, {"action": "snooze_until_tomorrow", "_selected_action": [task.pk]})

    task.refresh_from_db()
    assert task.snoozed_until == _at(26, 10)


def test_a_task_added_on_the_candidate_page_goes_through_the_service(candidate, advisor):
    Candidate.objects.filter(pk=candidate.pk).update(advisor=advisor)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(advisor)
    url = f"/admin/leads/candidate/{candidate.pk}/change/"
    data = _form_data(client.get(url))
    data.update(
        {
            "followup_tasks-TOTAL_FORMS": "1",
            "followup_tasks-0-title": "求人票を送る",
            "followup_tasks-0-due_at_0": "2026-11-26",
            "followup_tasks-0-due_at_1": "10:00:00",
            "followup_tasks-0-advisor": str(advisor.pk),
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302
    task = FollowUpTask.objects.get()
    assert (task.title, task.due_at, task.advisor, task.created_by, task.source) == (
        "求人票を送る",
        _at(26, 10),
        advisor,
        advisor,
        "manual",
    )
    listed = client.get("/admin/leads/candidate/", {"advisor": "mine"}).content.decode()
    assert '<td class="field-next_followup">2026-11-26 10:00</td>' in listed
