"""Retention: candidates closed, or never reached, for longer than RETENTION_PERIOD (3 years
by default) are anonymised through the erasure, after a dry run that changes nothing; the
daily beat task does the same; partners' counts stay right."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import TypeVar

import pytest
import time_machine
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client

from accounts.models import Groups
from accounts.services import staff_user_create
from config.celery import _beat_schedule
from core.knobs import parse_duration_at_least
from leads.candidates.pipeline import candidate_advance_to, candidate_call_log, candidate_close
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import AuditEntry, Candidate, ErasureRecord, Lead
from leads.privacy import records as privacy
from leads.privacy import retention
from leads.tasks import retention_anonymise_task
from tests.leads.privacy.test_privacy import _tables_containing

pytestmark = pytest.mark.django_db
T = TypeVar("T")

AS_OF = "2026-11-24T12:00:00+09:00"  # cutoff with 1095 days: 2023-11-25 12:00 JST
OLD = "2022-03-01T10:00:00+09:00"


def _at(moment: str, make: Callable[[], T]) -> T:
    with time_machine.travel(moment, tick=False):
        return make()


def _person(partner, name: str, *, when: str = OLD, email: str | None = None) -> Candidate:
    def ingest() -> Candidate:
        data = LeadInput(
            family_name="保管",
            given_name=name,
            email=email or f"{name}@example.com",
            phone=None,
            consent_policy_version="2021-10",
            consent_agreed_at=datetime(2021, 10, 1, tzinfo=UTC),
            consent_third_party_provision=True,
            raw_payload={"given_name": name},
            message=f"{name}の相談希望",
        )
        return Candidate.objects.get(pk=lead_ingest(partner=partner.partner, data=data).lead.candidate_id)

    return _at(when, ingest)


@pytest.fixture
def people(partner):
    """Who is due at AS_OF and who is not."""
    due_closed = _person(partner, "closedold")
    _at(
        "2022-04-01T10:00:00+09:00",
        lambda: candidate_close(candidate_id=due_closed.pk, reason="unreachable", by=None),
    )
    # A minute apart: the list is oldest first.
    due_new = _person(partner, "neverreached", when="2022-03-01T10:01:00+09:00")
    due_contacting = _person(partner, "noanswer", when="2022-03-01T10:02:00+09:00")
    _at(OLD, lambda: candidate_call_log(candidate_id=due_contacting.pk, outcome="no_answer", by=None))

    fresh_lead = _person(partner, "freshlead")
    _at(
        "2022-04-01T10:00:00+09:00",
        lambda: candidate_close(candidate_id=fresh_lead.pk, reason="declined", by=None),
    )
    _person(partner, "freshlead", when="2025-06-01T10:00:00+09:00")  # signed up again: recent data
    reached = _person(partner, "reached")
    _at(OLD, lambda: candidate_call_log(candidate_id=reached.pk, outcome="reached", by=None))
    placed = _person(partner, "placed")
    _at(OLD, lambda: candidate_advance_to(candidate_id=placed.pk, stage=Candidate.Stage.PLACED))
    closed_lately = _person(partner, "closedlately")
    _at(
        "2024-01-10T10:00:00+09:00",
        lambda: candidate_close(candidate_id=closed_lately.pk, reason="declined", by=None),
    )
    young = _person(partner, "young", when="2024-02-01T10:00:00+09:00")
    return {
        "due": [due_closed, due_new, due_contacting],
        "kept": [fresh_lead, reached, placed, closed_lately, young],
    }


def _run(*args: str) -> list[str]:
    out = StringIO()
    call_command("privacy_retention", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_dry_run_lists_ids_and_counts_and_changes_nothing(people):
    due_closed, due_new, due_contacting = people["due"]

    printed = _run("--dry-run", "--as-of", AS_OF)

    assert printed == [
        "as of 2026-11-24T12:00:00+09:00: RETENTION_PERIOD=1095d, cutoff 2023-11-25T12:00:00+09:00",
        f"{due_closed.pk} closed since 2022-04-01",
        f"{due_new.pk} never_reached since 2022-03-01",
        f"{due_contacting.pk} never_reached since 2022-03-01",
        "would anonymise 3 (closed=1 never_reached=2); dry run, nothing changed",
    ]
    assert not ErasureRecord.objects.exists()
    assert not AuditEntry.objects.exists()
    assert not Candidate.objects.filter(erased_at__isnull=False).exists()


def test_the_run_anonymises_the_due_ones_through_the_erasure_and_keeps_the_counts(people, partner):
    stats_before = partner.get("/api/v1/partner/stats/").json()
    due_ids = {c.pk for c in people["due"]}
    items_before = {
        lead.pk: privacy.provision_items(lead=lead) for lead in Lead.objects.filter(candidate_id__in=due_ids)
    }
    for name in ("closedold", "neverreached", "noanswer"):
        assert _tables_containing(name), name

    printed = _run("--as-of", AS_OF, "--batch-size", "2")

    assert printed[1:] == ["2/3 done", "3/3 done", "anonymised=3 skipped=0"]
    for name in ("closedold", "neverreached", "noanswer"):
        assert _tables_containing(name) == [], name  # no personal data left anywhere
    for name in ("freshlead", "reached", "placed", "closedlately", "young"):
        assert _tables_containing(name), name
    records = ErasureRecord.objects.order_by("candidate_id")
    assert {r.candidate_id for r in records} == due_ids
    assert {(r.kind, r.requested_by, r.erased_by) for r in records} == {
        ("retention", "retention period over (RETENTION_PERIOD=1095d)", None)
    }
    assert sorted(AuditEntry.objects.values_list("action", "channel")) == [("erase", "command")] * 3
    # The never-reached ones are closed as erased; the closed one keeps its reason.
    reasons = Candidate.objects.filter(pk__in=due_ids).values_list("closed_reason", flat=True)
    assert sorted(reasons) == ["erased", "erased", "unreachable"]
    # The provision records keep partner, date, consent and the items received.
    leads = Lead.objects.filter(candidate_id__in=due_ids).select_related("partner")
    assert {lead.pk: privacy.provision_items(lead=lead) for lead in leads} == items_before
    assert {(lead.partner and lead.partner.slug, lead.consent_policy_version) for lead in leads} == {
        ("career-media", "2021-10")
    }
    # Partners see the same number of leads and the same funnel; the anonymised are closed.
    stats_after = partner.get("/api/v1/partner/stats/").json()
    assert stats_after["leads"] == stats_before["leads"]
    assert stats_after["by_status"]["received"] == stats_before["by_status"]["received"] - 2
    assert stats_after["by_status"]["closed"] == stats_before["by_status"]["closed"] + 2

    assert _run("--as-of", AS_OF)[1:] == ["anonymised=0 skipped=0"]  # a second run: nothing left
    assert ErasureRecord.objects.count() == 3


def test_the_daily_task_does_the_same_as_the_command(people):
    with time_machine.travel(AS_OF, tick=False):
        assert retention_anonymise_task() == "anonymised=3 skipped=0"
        assert retention_anonymise_task() == "anonymised=0 skipped=0"

    entries: list[object] = list(AuditEntry.objects.values_list("action", "channel", "actor_id"))
    assert entries == [("erase", "retention", None)] * 3
    assert ErasureRecord.objects.filter(kind="retention").count() == 3


def test_nobody_is_due_before_the_period_is_over(people):
    assert _run("--dry-run", "--as-of", "2025-02-01T12:00:00+09:00")[-1] == (
        "would anonymise 0 (closed=0 never_reached=0); dry run, nothing changed"
    )


def test_a_candidate_no_longer_due_when_its_turn_comes_is_skipped(people, monkeypatch):
    due_closed = people["due"][0]
    # A new lead for the first one arrives after the list was made, before its turn (the
    # second call is the check under its lock).
    original_due = retention.retention_due
    calls = {"n": 0}

    def due(*, as_of):
        calls["n"] += 1
        if calls["n"] == 2:
            Lead.objects.filter(candidate=due_closed).update(created_at=datetime(2026, 11, 1, tzinfo=UTC))
        return original_due(as_of=as_of)

    monkeypatch.setattr(retention, "retention_due", due)

    printed = _run("--as-of", AS_OF)

    assert printed[-1] == "anonymised=2 skipped=1"
    due_closed.refresh_from_db()
    assert due_closed.erased_at is None


def test_the_period_is_a_knob_with_a_floor_of_two_years():
    assert parse_duration_at_least("RETENTION_PERIOD", "1095d", timedelta(days=730)) == timedelta(days=1095)
    with pytest.raises(
        ImproperlyConfigured, match="RETENTION_PERIOD='30d' is shorter than the minimum of 730d"
    ):
        parse_duration_at_least("RETENTION_PERIOD", "30d", timedelta(days=730))
    with pytest.raises(ImproperlyConfigured, match="RETENTION_PERIOD='3 years' is not a duration"):
        parse_duration_at_least("RETENTION_PERIOD", "3 years", timedelta(days=730))


def test_beat_runs_the_task_daily():
    entry = _beat_schedule()["privacy-retention"]
    schedule = entry["schedule"]
    assert entry["task"] == "leads.tasks.retention_anonymise_task"
    assert isinstance(schedule, crontab)
    assert schedule == crontab(hour=3, minute=30)


def test_managers_see_the_dry_run_in_the_admin(people, django_assert_num_queries):
    boss = staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    advisor = staff_user_create(email="adv@urakata.example", display_name="Adv", group=Groups.ADVISORS)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(boss)

    # Session, user, manager check, the user's and the groups' permissions (for the menu),
    # then the report itself: one query, however many are due.
    with time_machine.travel(AS_OF, tick=False), django_assert_num_queries(6):
        page = client.get("/admin/leads/erasurerecord/retention/")
    with time_machine.travel(AS_OF, tick=False):
        records = client.get("/admin/leads/erasurerecord/")

    assert page.status_code == 200
    html = page.content.decode()
    assert [row.id for row in page.context["due"]] == [c.pk for c in people["due"]]
    for candidate in people["due"]:
        assert f"/admin/leads/candidate/{candidate.pk}/change/" in html
    for candidate in people["kept"]:
        assert str(candidate.pk) not in html
    assert "closedold" not in html  # ids only, no names
    assert "3 candidates would be anonymised." in html
    assert not ErasureRecord.objects.exists()
    assert 'href="/admin/leads/erasurerecord/retention/"' in records.content.decode()
    client.force_login(advisor)
    assert client.get("/admin/leads/erasurerecord/retention/").status_code == 403


def test_a_run_starts_no_batch_once_its_time_budget_is_spent(people, monkeypatch):
    clock = iter([0.0, 10.0, 181.0])  # the start, before batch 1, before batch 2
    monkeypatch.setattr(retention, "monotonic", lambda: next(clock))

    with time_machine.travel(AS_OF, tick=False):
        result = retention.retention_anonymise(
            as_of=datetime.fromisoformat(AS_OF), batch_size=2, time_budget=180.0
        )

    assert (result.due, result.anonymised, result.ids) == (3, 2, [c.pk for c in people["due"][:2]])
    assert _run("--dry-run", "--as-of", AS_OF)[1:] == [
        f"{people['due'][2].pk} never_reached since 2022-03-01",
        "would anonymise 1 (closed=0 never_reached=1); dry run, nothing changed",
    ]
