"""The candidate pipeline: stage rules, closing, calls, the timeline, and what partners see."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.candidates.pipeline import (
    StageTransitionError,
    candidate_advance_to,
    candidate_call_log,
    candidate_close,
    candidate_reopen,
    candidate_stage_change,
    transition_allowed,
)
from leads.models import Candidate, TimelineEvent
from tests.leads.conftest import lead_body

pytestmark = pytest.mark.django_db
Stage = Candidate.Stage


@pytest.fixture
def advisor():
    return staff_user_create(email="adv@urakata.example", display_name="Adviser", group=Groups.ADVISORS)


@pytest.fixture
def candidate(partner):
    lead = partner.post(lead_body()).json()
    return Candidate.objects.get(leads__id=lead["id"])


@pytest.mark.parametrize(
    ("current", "to", "allowed"),
    [
        ("new", "contacting", True),
        ("new", "consultation_booked", True),  # forward, skipping stages
        ("consulted", "consultation_booked", True),  # one back, to correct a mistake
        ("consulted", "contacted", False),  # two back
        ("placed", "offered", False),  # placed is final
        ("offered", "placed", True),
    ],
)
def test_transition_rules(current, to, allowed):
    assert transition_allowed(current=current, to=to) is allowed


def test_a_stage_change_is_recorded_with_actor_and_time_and_reaches_the_partner(partner, candidate, advisor):
    lead_id = candidate.leads.get().id
    # An hour after the lead came in, whenever the test runs.
    at = timezone.localtime(timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    with time_machine.travel(at, tick=False):
        candidate_stage_change(candidate_id=candidate.pk, to=Stage.CONSULTED, by=advisor, note="good talk")

    candidate.refresh_from_db()
    assert (candidate.stage, candidate.partner_status) == ("consulted", "consultation_held")
    event = TimelineEvent.objects.get()
    assert (event.kind, event.actor, event.data, event.note) == (
        "stage_changed",
        advisor,
        {"from": "new", "to": "consulted"},
        "good talk",
    )
    seen = partner.get(f"/api/v1/leads/{lead_id}/").json()
    assert (seen["status"], seen["status_changed_at"]) == ("consultation_held", at.isoformat())


def test_a_forbidden_change_is_refused_and_changes_nothing(candidate, advisor):
    candidate_stage_change(candidate_id=candidate.pk, to=Stage.DOCUMENTS, by=advisor)

    with pytest.raises(StageTransitionError):
        candidate_stage_change(candidate_id=candidate.pk, to=Stage.NEW, by=advisor)

    candidate.refresh_from_db()
    assert candidate.stage == "documents"
    assert TimelineEvent.objects.count() == 1


def test_closing_keeps_the_last_stage_and_shows_closed(candidate, advisor):
    candidate_stage_change(candidate_id=candidate.pk, to=Stage.CONTACTED, by=advisor)
    candidate_close(candidate_id=candidate.pk, reason="not_interested", by=advisor)
    candidate_close(candidate_id=candidate.pk, reason="duplicate", by=advisor)  # harmless repeat

    candidate.refresh_from_db()
    assert (candidate.stage, candidate.is_closed, candidate.closed_reason) == (
        "contacted",
        True,
        "not_interested",
    )
    assert candidate.partner_status == "closed"
    with pytest.raises(StageTransitionError):
        candidate_stage_change(candidate_id=candidate.pk, to=Stage.CONSULTED, by=advisor)
    with pytest.raises(ValueError, match="'bored'"):
        candidate_close(candidate_id=candidate.pk, reason="bored", by=advisor)

    candidate_reopen(candidate_id=candidate.pk, by=advisor)
    candidate.refresh_from_db()
    assert (candidate.is_closed, candidate.closed_reason, candidate.partner_status) == (
        False,
        "",
        "contacted",
    )


def test_the_system_only_moves_forward_and_reopens_a_candidate_who_acts(candidate):
    candidate_close(candidate_id=candidate.pk, reason="unreachable", by=None)
    candidate_advance_to(candidate_id=candidate.pk, stage=Stage.CONSULTATION_BOOKED)
    candidate_advance_to(candidate_id=candidate.pk, stage=Stage.CONTACTED)  # behind: no change

    candidate.refresh_from_db()
    assert (candidate.stage, candidate.is_closed, candidate.partner_status) == (
        "consultation_booked",
        False,
        "consultation_booked",
    )
    kinds = list(TimelineEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["closed", "reopened", "stage_changed"]


def test_a_placed_candidate_cannot_be_closed(candidate):
    candidate_advance_to(candidate_id=candidate.pk, stage=Stage.PLACED)

    with pytest.raises(StageTransitionError):
        candidate_close(candidate_id=candidate.pk, reason="duplicate", by=None)


def test_calls_move_new_candidates_along(candidate, advisor):
    candidate_call_log(candidate_id=candidate.pk, outcome="no_answer", by=advisor)
    candidate.refresh_from_db()
    assert (candidate.stage, candidate.last_contacted_at) == ("contacting", None)

    at = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    with time_machine.travel(at, tick=False):
        candidate_call_log(candidate_id=candidate.pk, outcome="reached", by=advisor, note="wants 経理")
    candidate.refresh_from_db()
    assert candidate.stage == "contacted"
    assert candidate.last_contacted_at == at
    with pytest.raises(ValidationError):
        candidate_call_log(candidate_id=candidate.pk, outcome="shouted", by=advisor)


def _admin(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_actions_go_through_the_pipeline(candidate, advisor):
    boss = staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    client = _admin(boss)
    url = "/admin/leads/candidate/"

    client.post(url, {"action": "log_call_reached", "_selected_action": [candidate.pk]})
    client.post(url, {"action": "move_to_stage", "stage": "consulted", "_selected_action": [candidate.pk]})
    refused = client.post(
        url, {"action": "move_to_stage", "stage": "new", "_selected_action": [candidate.pk]}, follow=True
    )
    client.post(
        url, {"action": "close_with_reason", "reason": "declined", "_selected_action": [candidate.pk]}
    )

    candidate.refresh_from_db()
    assert (candidate.stage, candidate.is_closed, candidate.closed_reason) == ("consulted", True, "declined")
    shown = [str(m) for m in refused.context["messages"]]
    assert shown[-1] == "山田 太郎: 面談実施済み から 新規 へは移動できません。"
    actors = set(TimelineEvent.objects.values_list("actor__email", flat=True))
    assert actors == {"boss@urakata.example"}


def test_the_candidate_page_shows_the_timeline_without_n_plus_1(
    candidate, advisor, django_assert_max_num_queries
):
    for outcome in ("no_answer", "voicemail", "reached"):
        candidate_call_log(candidate_id=candidate.pk, outcome=outcome, by=advisor)
    client = _admin(
        staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    )

    # 22 at most: session, user, candidate, permissions (2), the Managers check, advisor and
    # certification choices (2), one per inline (applications, reveals, tasks, work history,
    # certifications, leads: 6), content type, the audit log's INSERT, the role catalogue
    # (unless cached), the credited lead, and one per timeline source (events, leads,
    # bookings, applications: 4). What matters is below: it does not grow with the data.
    with django_assert_max_num_queries(22) as few:
        page = client.get(f"/admin/leads/candidate/{candidate.pk}/change/")
    for _ in range(10):
        candidate_call_log(candidate_id=candidate.pk, outcome="no_answer", by=advisor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/admin/leads/candidate/{candidate.pk}/change/")

    text = page.content.decode()
    assert page.status_code == 200
    assert text.count('class="timeline-call"') == 3
    assert 'class="timeline-lead"' in text
    assert 'class="timeline-stage_changed"' in text
