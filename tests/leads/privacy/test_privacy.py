"""Disclosure and erasure of a person's data (APPI): privacy_export, privacy_erase, the admin
actions, and a scan of every table for what must be gone."""

import json
import uuid
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from core.models import OutboxMessage
from leads.candidates.followups import followup_task_create
from leads.candidates.merge import candidate_merge
from leads.candidates.pipeline import candidate_call_log, candidate_close, candidate_stage_change
from leads.models import (
    Application,
    ApplicationEvent,
    AuditEntry,
    Candidate,
    ErasureRecord,
    FollowUpTask,
    Lead,
    WorkHistoryEntry,
)
from leads.privacy import records as privacy
from tests.db_text import tables_containing
from tests.leads.conftest import lead_body
from tests.roles.factories import JobPostingFactory

pytestmark = pytest.mark.django_db

# Everything personal the erased person (鈴木 一郎) ever gave or was written about them.
ICHIRO = {
    "family_name": "鈴木",
    "given_name": "一郎",
    "family_name_kana": "すずき",  # sent in hiragana, stored in katakana: both must go
    "given_name_kana": "イチロウ",
    "email": "Ichiro.Suzuki@Example.com",
    "phone": "090-1111-2222",
    "birth_date": "1990-05-01",
    "message": "経理の仕事に興味があります",
    "source_url": "https://media.example/lp/ichiro-campaign",
    "utm_campaign": "ichiro-autumn",
}
ICHIRO_STRINGS = [
    "鈴木",
    "一郎",
    "すずき",
    "スズキ",
    "イチロウ",
    "ichiro.suzuki@example.com",
    "+819011112222",
    "09011112222",
    "090-1111-2222",
    "1990-05-01",
    "経理の仕事に興味があります",
    "ichiro-campaign",
    "夜勤明けの面接を希望",  # an advisor's note on an application
    "一次面接は駅前の支社で",  # on an interview round
    "ichiro-autumn",
    "夜間の連絡を希望",  # a timeline note
    "北倉庫株式会社",  # work history
    "フォークリフトで入出庫",
    "求人票を三件送る",  # a follow-up title
]
HANAKO = {
    "family_name": "佐藤",
    "given_name": "花子",
    "family_name_kana": "サトウ",
    "given_name_kana": "ハナコ",
    "email": "hanako@example.net",
    "phone": "080-3333-4444",
    "message": "事務職を希望します",
}
HANAKO_STRINGS = [
    "佐藤",
    "花子",
    "サトウ",
    "ハナコ",
    "hanako@example.net",
    "+818033334444",
    "事務職を希望します",
]


@pytest.fixture
def advisor():
    return staff_user_create(
        email="adv@urakata.example", display_name="担当アドバイザー", group=Groups.ADVISORS
    )


@pytest.fixture
def people(partner, make_partner, advisor):
    """Ichiro (two leads from two partners, a timeline, work history, a follow-up, an admin
    history entry) and Hanako, created alongside with the same partner."""
    first = partner.post(lead_body(**ICHIRO, utm_source="newsletter")).json()
    other = make_partner("other-media")
    second = other.post(lead_body(email=None, phone="09011112222")).json()
    assert second["existing_candidate"] is True
    partner.post(lead_body(**HANAKO))
    ichiro = Candidate.objects.get(leads__id=first["id"])
    Candidate.objects.filter(pk=ichiro.pk).update(advisor=advisor)
    candidate_call_log(candidate_id=ichiro.pk, outcome="reached", by=advisor, note="夜間の連絡を希望")
    candidate_stage_change(candidate_id=ichiro.pk, to=Candidate.Stage.CONSULTED, by=advisor)
    WorkHistoryEntry.objects.create(
        candidate=ichiro,
        occupation="logistics",
        employer_name="北倉庫株式会社",
        job_title="倉庫スタッフ",
        years=3,
        description="フォークリフトで入出庫",
    )
    followup_task_create(
        candidate_id=ichiro.pk,
        advisor_id=advisor.pk,
        due_at=timezone.now() + timedelta(days=1),
        title="求人票を三件送る",
    )
    # An application written directly (the pipeline's effects are tested elsewhere; here
    # the candidate's stage must stay where the stats assertions expect it).
    application = Application.objects.create(
        candidate=ichiro,
        posting=JobPostingFactory.create(),
        advisor=advisor,
        stage=Application.Stage.INTERVIEW,
        stage_changed_at=timezone.now(),
        note="夜勤明けの面接を希望",
    )
    ApplicationEvent.objects.create(
        application=application,
        candidate=ichiro,
        kind=ApplicationEvent.Kind.INTERVIEW_SCHEDULED,
        note="夜勤明けの面接を希望",
        occurred_at=timezone.now(),
    )
    application.interview_rounds.create(number=1, scheduled_at=timezone.now(), note="一次面接は駅前の支社で")
    LogEntry.objects.log_actions(
        user_id=advisor.pk,
        queryset=Candidate.objects.filter(pk=ichiro.pk),
        action_flag=CHANGE,
        change_message="x",
    )
    return ichiro


def _audit(*columns: str) -> list[Any]:
    return list(AuditEntry.objects.order_by("id").values_list(*columns))


def _export(**who: str) -> dict[str, Any]:
    out = StringIO()
    call_command("privacy_export", stdout=out, **who)
    exported: dict[str, Any] = json.loads(out.getvalue())
    return exported


def _erase(**who: str) -> str:
    out = StringIO()
    call_command("privacy_erase", stdout=out, **who)
    return out.getvalue()


def _tables_containing(text: str) -> list[str]:
    """Every table of the database whose rows contain `text` (any case)."""
    return tables_containing(text, ignore_case=True)


def test_it_exports_everything_about_the_person_and_nothing_of_anyone_else(people):
    exported = _export(email="ICHIRO.suzuki@example.com")

    text = json.dumps(exported, ensure_ascii=False)
    for value in ICHIRO_STRINGS:
        if value not in ("09011112222", "スズキ"):  # stored forms: +81..., katakana
            assert value in text or value.lower() in text, value
    assert "スズキ" in text  # the stored reading
    for value in HANAKO_STRINGS:
        assert value not in text
    assert exported["profile"]["email"] == "ichiro.suzuki@example.com"
    assert exported["profile"]["phone"] == "+819011112222"
    assert exported["profile"]["advisor"] == "担当アドバイザー"
    # Every column of the candidate is disclosed, including ones added after this test.
    columns = {f.name for f in Candidate._meta.concrete_fields} - {
        *("advisor", "credited_lead", "merged_into", "erased_at")
    }
    assert columns <= set(exported["profile"])
    first, second = exported["leads"]
    assert first["partner"] == {"slug": "career-media", "name": "Career-Media"}
    assert first["consent"] == {
        "privacy_policy_version": "2026-04",
        "agreed_at": "2026-01-10T10:00:00+09:00",
        "third_party_provision": True,
    }
    assert first["raw_payload"]["family_name_kana"] == "すずき"  # as received
    assert (first["utm_source"], first["message"]) == ("newsletter", ICHIRO["message"])
    assert second["partner"]["slug"] == "other-media"
    assert [e["kind"] for e in exported["timeline"]] == ["call", "stage_changed", "stage_changed"]
    assert exported["timeline"][0]["by"] == "担当アドバイザー"
    assert exported["work_history"][0]["employer_name"] == "北倉庫株式会社"
    assert exported["followup_tasks"][0]["title"] == "求人票を三件送る"
    (application,) = exported["applications"]
    assert (application["stage"], application["note"], application["advisor"]) == (
        "interview",
        "夜勤明けの面接を希望",
        "担当アドバイザー",
    )
    assert [(e["kind"], e["note"]) for e in application["history"]] == [
        ("interview_scheduled", "夜勤明けの面接を希望")
    ]
    assert application["interview_rounds"][0]["note"] == "一次面接は駅前の支社で"
    assert (application["placement"], exported["employer_reveals"]) == (None, [])
    # Found by phone in any form, and by a lead's copy of the contact only.
    assert _export(phone="+81 90 1111 2222")["profile"]["id"] == str(people.pk)
    # Each disclosure is in the audit log: the parts handed out, by the command.
    parts = sorted(exported)
    assert _audit("candidate_id", "action", "actor", "channel", "fields") == [
        (people.pk, "export", None, "command", parts),
        (people.pk, "export", None, "command", parts),
    ]
    Candidate.objects.filter(pk=people.pk).update(email="new-address@example.org")
    assert _export(email="ichiro.suzuki@example.com")["profile"]["id"] == str(people.pk)


def test_it_includes_what_other_apps_register(people, monkeypatch):
    monkeypatch.setitem(privacy.PRIVACY_EXPORTERS, "bookings", lambda c: [{"notes": f"booked by {c.pk}"}])

    exported = _export(phone="09011112222")

    assert exported["bookings"] == [{"notes": f"booked by {people.pk}"}]


def test_an_unknown_person_is_exit_1_with_a_message(people):
    for command in ("privacy_export", "privacy_erase"):
        with pytest.raises(CommandError, match="Nobody with this email or phone") as refused:
            call_command(command, email="nobody@example.com")
        assert refused.value.returncode == 1
    with pytest.raises(CommandError):
        call_command("privacy_export", email="a@example.com", phone="09011112222")  # exactly one


def test_erasure_leaves_no_personal_string_anywhere_and_keeps_the_counts(people, partner):
    stats_before = partner.get("/api/v1/partner/stats/").json()
    leads_before = partner.get("/api/v1/leads/").json()["results"]
    pending = OutboxMessage.objects.filter(subject__startswith="lead:", state="pending")
    ichiro_subjects = [
        f"lead:{pk}" for pk in Lead.objects.filter(candidate=people).values_list("pk", flat=True)
    ]
    # Per lead: assignment and the contact SLA (the later follow-ups are written by it).
    assert pending.filter(subject__in=ichiro_subjects).count() == 4
    hanako_pending = pending.exclude(subject__in=ichiro_subjects).count()
    for value in ICHIRO_STRINGS:  # the scan does find what is there
        assert _tables_containing(value), value
    items_before = {
        lead.pk: privacy.provision_items(lead=lead) for lead in Lead.objects.filter(candidate=people)
    }

    printed = _erase(email="ichiro.suzuki@example.com", requested_by="本人からの請求 2026-11-20")

    assert printed.splitlines()[0] == f"Erased the personal data of candidate {people.pk}."
    assert "leads=2" in printed.splitlines()
    for value in ICHIRO_STRINGS:
        assert _tables_containing(value) == [], value
    for value in HANAKO_STRINGS:
        assert _tables_containing(value), value
    with pytest.raises(CommandError) as gone:
        _export(email="ichiro.suzuki@example.com")
    assert gone.value.returncode == 1
    with pytest.raises(CommandError):
        _export(phone="090-1111-2222")

    # Partners see the same leads and the same funnel; the erased person's lead is closed.
    stats_after = partner.get("/api/v1/partner/stats/").json()
    moved = {"consultation_held": -1, "closed": +1}
    for key in ("by_status",):
        for status, count in stats_before[key].items():
            assert stats_after[key][status] == count + moved.get(status, 0)
    for status, count in stats_before["credited"]["by_status"].items():
        assert stats_after["credited"]["by_status"][status] == count + moved.get(status, 0)
    assert (stats_after["leads"], stats_after["conversion"]) == (
        stats_before["leads"],
        stats_before["conversion"],
    )
    leads_after = partner.get("/api/v1/leads/").json()["results"]
    assert [lead["id"] for lead in leads_after] == [lead["id"] for lead in leads_before]
    assert [lead["status"] for lead in leads_after] == [
        "closed" if lead["status"] == "consultation_held" else lead["status"] for lead in leads_before
    ]

    people.refresh_from_db()
    assert (people.stage, people.is_closed, people.partner_status) == ("consulted", True, "closed")
    assert people.closed_reason == "erased"
    # The provision records keep partner, date, consent and the names of the items received.
    erased_leads = Lead.objects.filter(candidate=people).select_related("partner").order_by("created_at")
    assert {lead.pk: privacy.provision_items(lead=lead) for lead in erased_leads} == items_before
    assert items_before[erased_leads[0].pk] == [
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "email",
        "phone",
        "birth_date",
        "message",
    ]
    assert items_before[erased_leads[1].pk] == ["family_name", "given_name", "phone"]
    assert [
        (lead.partner and lead.partner.slug, lead.consent_policy_version, lead.consent_third_party_provision)
        for lead in erased_leads
    ] == [("career-media", "2026-04", True), ("other-media", "2026-04", True)]
    assert _audit("candidate_id", "action", "actor", "channel") == [(people.pk, "erase", None, "command")]
    assert people.erased_at is not None
    assert people.email == f"erased-{people.pk.hex}@erased.invalid"
    assert people.phone is None
    assert Lead.objects.filter(candidate=people).count() == 2
    assert not FollowUpTask.objects.filter(candidate=people, done_at__isnull=True).exists()
    assert pending.filter(subject__in=ichiro_subjects).count() == 0
    assert OutboxMessage.objects.filter(subject__in=ichiro_subjects, state="cancelled").count() == 4
    assert pending.exclude(subject__in=ichiro_subjects).count() == hanako_pending

    record = ErasureRecord.objects.get()
    assert (record.candidate_id, record.requested_by, record.erased_by, record.kind) == (
        people.pk,
        "本人からの請求 2026-11-20",
        None,
        "request",
    )
    assert record.counts == {
        "admin_log_entries": 1,
        "candidate": 1,
        "leads": 2,
        "line_link_codes": 0,
        "timeline_events": 4,
        "work_history": 1,
        "followup_tasks": 1,
        "outbox_cancelled": 4,
        "bookings": 0,  # the consultations app's eraser: this person booked nothing
        "applications": 1,
    }


def test_erasing_twice_is_harmless(people):
    first = privacy.person_erase(candidate=people, requested_by="本人からの請求", by=None)
    people.refresh_from_db()
    snapshot = (people.updated_at, people.erased_at, people.closed_reason)

    again = privacy.person_erase(candidate=people, requested_by="再請求", by=None)

    people.refresh_from_db()
    assert again.pk == first.pk
    assert ErasureRecord.objects.count() == 1
    assert (people.updated_at, people.erased_at, people.closed_reason) == snapshot


def _merged_twin(people: Candidate, advisor: Any) -> Candidate:
    """A second record of Ichiro (another email, made later), merged into the first."""
    twin = Candidate.objects.get(pk=people.pk)
    twin.pk = None
    twin.__dict__.update(id=uuid.uuid4(), email="ichiro.private@example.com", phone=None, credited_lead=None)
    twin.save(force_insert=True)
    candidate_merge(keep_id=people.pk, duplicate_id=twin.pk, by=advisor)
    twin.refresh_from_db()
    return twin


def test_a_merged_persons_export_covers_both_records_whichever_contact_is_given(people, advisor):
    twin = _merged_twin(people, advisor)

    by_twin = _export(email="ichiro.private@example.com")
    by_kept = _export(email="ichiro.suzuki@example.com")

    for exported in (by_twin, by_kept):
        assert exported["profile"]["id"] == str(people.pk)
        assert [r["id"] for r in exported["merged_records"]] == [str(twin.pk)]
        assert exported["merged_records"][0]["email"] == "ichiro.private@example.com"


def test_erasing_a_merged_person_erases_every_record_of_them(people, advisor):
    twin = _merged_twin(people, advisor)

    printed = _erase(email="ichiro.private@example.com", requested_by="本人からの請求")

    assert printed.splitlines()[:2] == [
        f"Erased the personal data of candidate {people.pk}.",
        f"Also erased candidate {twin.pk}, a record of the same person merged into it.",
    ]

    assert set(ErasureRecord.objects.values_list("candidate_id", flat=True)) == {people.pk, twin.pk}
    assert _tables_containing("ichiro.private") == []
    twin.refresh_from_db()
    assert twin.erased_at is not None
    assert (twin.closed_reason, twin.merged_into_id) == ("duplicate", people.pk)


def test_registered_erasers_run_in_the_erasure_and_are_counted(people, monkeypatch):
    seen = []

    def erase_bookings(candidate: Candidate) -> int:
        seen.append(candidate.pk)
        return 3

    monkeypatch.setitem(privacy.PRIVACY_ERASERS, "bookings", erase_bookings)

    record = privacy.person_erase(candidate=people, requested_by="本人からの請求", by=None)

    assert seen == [people.pk]
    assert record.counts["bookings"] == 3


def test_a_second_registration_under_one_name_is_refused(monkeypatch):
    monkeypatch.setattr(privacy, "PRIVACY_EXPORTERS", {})

    def one(c: Candidate) -> list[dict[str, Any]]:
        return []

    privacy.privacy_register(name="bookings", exporter=one)
    privacy.privacy_register(name="bookings", exporter=one)  # the same function again: harmless
    with pytest.raises(RuntimeError, match="bookings"):
        privacy.privacy_register(name="bookings", exporter=lambda _candidate: [])


def _admin(user):
    client = Client()
    client.force_login(user)
    return client


def test_managers_export_and_erase_from_the_candidate_list(people):
    boss = staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)
    client = _admin(boss)
    url = "/admin/leads/candidate/"

    exported = client.post(url, {"action": "export_personal_data", "_selected_action": [people.pk]})
    assert exported["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(exported.content)["profile"]["family_name"] == "鈴木"

    confirm = client.post(url, {"action": "erase_personal_data", "_selected_action": [people.pk]})
    assert confirm.status_code == 200
    assert 'name="requested_by"' in confirm.content.decode()
    people.refresh_from_db()
    assert people.erased_at is None  # nothing happens before the confirmation

    done = client.post(
        url,
        {
            "action": "erase_personal_data",
            "_selected_action": [people.pk],
            "confirm": "yes",
            "requested_by": "本人からの電話 2026-11-20",
        },
        follow=True,
    )
    assert done.status_code == 200
    people.refresh_from_db()
    assert people.erased_at is not None
    record = ErasureRecord.objects.get()
    assert (record.erased_by, record.requested_by) == (boss, "本人からの電話 2026-11-20")
    entries = AuditEntry.objects.order_by("id").values_list("candidate_id", "action", "actor", "channel")
    assert list(entries) == [(people.pk, "export", boss.pk, "admin"), (people.pk, "erase", boss.pk, "admin")]
    assert client.get(f"/admin/leads/erasurerecord/{record.pk}/change/").status_code == 200


def test_advisors_cannot_export_or_erase(people, advisor):
    client = _admin(advisor)
    Candidate.objects.filter(pk=people.pk).update(advisor=advisor)

    page = client.get("/admin/leads/candidate/")
    assert "erase_personal_data" not in page.content.decode()
    for action in ("export_personal_data", "erase_personal_data"):
        client.post(
            "/admin/leads/candidate/",
            {"action": action, "_selected_action": [people.pk], "confirm": "yes", "requested_by": "x"},
        )
    people.refresh_from_db()
    assert people.erased_at is None
    assert not ErasureRecord.objects.exists()


def test_the_log_entry_content_type_is_the_candidates(people):
    # The admin history entry the fixture wrote is the one the erasure blanks.
    entry = LogEntry.objects.get()
    assert entry.content_type == ContentType.objects.get_for_model(Candidate)
    privacy.person_erase(candidate=people, requested_by="本人からの請求", by=None)
    entry.refresh_from_db()
    assert (entry.object_repr, entry.change_message) == ("-", "")


def test_an_already_closed_candidate_keeps_its_reason_when_erased(people):
    candidate_close(candidate_id=people.pk, reason="placed_elsewhere", by=None)

    privacy.person_erase(candidate=people, requested_by="本人からの請求", by=None)

    people.refresh_from_db()
    assert (people.is_closed, people.closed_reason, people.partner_status) == (
        True,
        "placed_elsewhere",
        "closed",
    )
