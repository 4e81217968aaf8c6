"""The advisors' workspace through the admin: the candidate profile, the list (columns,
filters, actions, query budget) and who may change what."""

import csv
import importlib
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.candidates.followups import followup_task_create
from leads.candidates.merge import candidate_merge
from leads.candidates.pipeline import candidate_call_log, candidate_close
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import Candidate, CandidateCertification, FollowUpTask, Lead, Partner, TimelineEvent
from leads.partners.keys import api_key_issue, partner_create
from roles.models import Certification, Role
from tests.leads.conftest import lead_body
from tests.leads.helpers_admin import messages_of

pytestmark = pytest.mark.django_db

CANDIDATES = "/admin/leads/candidate/"
JST = timezone.get_fixed_timezone(9 * 60)
_numbers = iter(range(10_000))


def _candidate(*, partner=None, advisor=None, **fields):
    n = next(_numbers)
    data = LeadInput(
        family_name=fields.pop("family_name", "佐藤"),
        given_name=fields.pop("given_name", f"花子{n}"),
        family_name_kana=fields.pop("family_name_kana", "サトウ"),
        given_name_kana=fields.pop("given_name_kana", f"ハナコ{'ア' * (n % 5 + 1)}"),
        email=fields.pop("email", f"ws{n}@example.com"),
        phone=fields.pop("phone", None),
        consent_policy_version="2026-04",
        consent_agreed_at=timezone.now(),
        consent_third_party_provision=True,
        raw_payload={"secret_note": "partner payload"},
        message="partner message",
        **fields,
    )
    candidate = Candidate.objects.get(pk=lead_ingest(partner=partner, data=data).lead.candidate_id)
    if advisor is not None:
        Candidate.objects.filter(pk=candidate.pk).update(advisor=advisor)
        candidate.refresh_from_db()
    return candidate


def _login(user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def advisor():
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


@pytest.fixture
def other_advisor():
    return staff_user_create(email="ito@urakata.example", display_name="Ito", group=Groups.ADVISORS)


@pytest.fixture
def manager():
    return staff_user_create(email="mori@urakata.example", display_name="Mori", group=Groups.MANAGERS)


def _rows(response):
    return [c.pk for c in response.context["cl"].result_list]


def _action(client, action, *candidates, **extra):
    """Posted, as the browser does, to the list as shown: everyone's candidates (an
    advisor's list otherwise holds only their own, and only shown rows can be acted on)."""
    data = {"action": action, "_selected_action": [str(c.pk) for c in candidates], **extra}
    return client.post(f"{CANDIDATES}?advisor=all", data, follow=True)


def _form_data(response):
    """The POST body a browser would send back from a change page, unchanged."""
    data: dict[str, Any] = {}

    def put(form, name):
        value = form[name].value()
        key = form.add_prefix(name)
        if isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = str(value)

    form = response.context["adminform"].form
    for name in form.fields:
        put(form, name)
    for admin_formset in [
        *response.context["profile_inline_formsets"],
        *response.context["inline_admin_formsets"],
    ]:
        formset = admin_formset.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = str(value)
        for inline_form in formset.forms:
            for name in inline_form.fields:
                put(inline_form, name)
    return data


# --- the profile ---------------------------------------------------------------------------


def test_it_edits_the_profile_and_normalises_contacts_like_intake(advisor):
    candidate = _candidate(advisor=advisor)
    client = _login(advisor)
    url = f"{CANDIDATES}{candidate.pk}/change/"
    data = _form_data(client.get(url))
    data.update(
        phone="090-1234-5678",
        given_name_kana="はなこ",
        strengths=["following_procedures", "teamwork"],
        motivation="土日休みで長く働きたい",
        word_level="basic",
        excel_level="intermediate",
        desired_prefectures=["13", "14"],
        min_annual_salary="3200000",
        wants_weekends_off="on",
        max_overtime_hours="20",
        remote_wish="partial",
        contact_channel="line",
        language="en",
        prefecture="13",
        current_occupation="factory",
        birth_date="2000-01-02",
    )
    # Meanwhile a booking moves the candidate on: saving the form must not undo it.
    Candidate.objects.filter(pk=candidate.pk).update(stage="consultation_booked")

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    candidate.refresh_from_db()
    assert (candidate.phone, candidate.given_name_kana) == ("+819012345678", "ハナコ")
    assert candidate.strengths == ["following_procedures", "teamwork"]
    assert candidate.desired_prefectures == ["13", "14"]
    assert (candidate.word_level, candidate.excel_level, candidate.remote_wish) == (
        "basic",
        "intermediate",
        "partial",
    )
    assert (candidate.min_annual_salary, candidate.max_overtime_hours, candidate.wants_weekends_off) == (
        3_200_000,
        20,
        True,
    )
    assert (candidate.contact_channel, candidate.language, candidate.has_desk_experience) == (
        "line",
        "en",
        False,
    )
    assert candidate.stage == "consultation_booked"


def test_it_refuses_a_phone_that_is_not_japanese(advisor):
    candidate = _candidate(advisor=advisor)
    client = _login(advisor)
    url = f"{CANDIDATES}{candidate.pk}/change/"
    data = _form_data(client.get(url)) | {"phone": "12345"}

    response = client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone"] == ["Enter a Japanese phone number."]
    candidate.refresh_from_db()
    assert candidate.phone is None


def test_it_adds_work_history_and_certifications_inline(advisor):
    candidate = _candidate(advisor=advisor, certifications=["boki-3"])
    boki = Certification.objects.create(
        code="boki-x", name="簿記", name_en="Bookkeeping", issuer="日商", family="boki"
    )
    client = _login(advisor)
    url = f"{CANDIDATES}{candidate.pk}/change/"
    data = _form_data(client.get(url))
    data.update(
        {
            "work_history-TOTAL_FORMS": "1",
            "work_history-0-occupation": "factory",
            "work_history-0-job_title": "ライン作業",
            "work_history-0-years": "3",
            "work_history-0-months": "6",
            "work_history-0-is_current": "on",
            "certification_records-TOTAL_FORMS": "1",
            "certification_records-0-certification": str(boki.pk),
            "certification_records-0-status": "exam_booked",
            "certification_records-0-exam_date": "2027-02-23",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302
    [job] = candidate.work_history.all()
    assert (job.occupation, job.job_title, job.years, job.months, job.is_current) == (
        "factory",
        "ライン作業",
        3,
        6,
        True,
    )
    [record] = candidate.certification_records.all()
    assert (record.certification, record.status, record.exam_date) == (boki, "exam_booked", date(2027, 2, 23))
    candidate.refresh_from_db()
    assert candidate.certifications == ["boki-3"]  # the raw list as received is left alone


def test_an_exam_date_goes_with_a_booked_exam_only():
    candidate = _candidate()
    cert = Certification.objects.create(code="mos-x", name="MOS", name_en="MOS", issuer="MS", family="mos")
    missing_date = CandidateCertification(candidate=candidate, certification=cert, status="exam_booked")
    with pytest.raises(Exception, match=r"Give an exam date exactly when the exam is booked\."):
        missing_date.full_clean()

    with pytest.raises(IntegrityError), transaction.atomic():
        CandidateCertification.objects.create(
            candidate=candidate, certification=cert, status="held", exam_date=date(2027, 1, 1)
        )


# --- the list ------------------------------------------------------------------------------


def _list_queries(client, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CANDIDATES, params or {})
    assert response.status_code == 200
    return len(queries), response


def _populate(n, *, advisor, partner, start=0):
    for i in range(start, start + n):
        candidate = _candidate(
            partner=partner if i % 3 else None,
            advisor=advisor,
            birth_date=date(2000, 1, 1),
            desired_roles=["accounting"],
            prefecture="13",
        )
        followup_task_create(
            candidate_id=candidate.pk,
            advisor_id=advisor.pk,
            due_at=timezone.now() + timedelta(hours=i - n),
            title="電話する",
        )


def test_the_advisors_list_runs_a_constant_number_of_queries(advisor, django_assert_max_num_queries):
    partner = partner_create(slug="career-media", name="Career Media")
    client = _login(advisor)
    _populate(3, advisor=advisor, partner=partner)
    small, response = _list_queries(client)
    assert len(_rows(response)) == 3
    _populate(27, advisor=advisor, partner=partner, start=3)

    # 1 session, 2 user, 3-4 the user's permissions (user, groups), 5 is the user a manager,
    # 6-8 advisors, partners and roles of the filters and action form (once per request),
    # 9 count of the filtered list, 10 the page with advisor, credited partner, next
    # follow-up and duplicate flag as subqueries. No count of all (show_full_result_count
    # off). Nothing per row.
    with django_assert_max_num_queries(10):
        large, response = _list_queries(client, {"overdue": "yes", "role": "accounting", "prefecture": "13"})
    assert large == small
    searched, response = _list_queries(client, {"q": "さとう はなこ"})  # kana search, two words
    assert (searched, len(_rows(response))) == (small, 30)
    large, response = _list_queries(client)
    assert len(_rows(response)) == 30
    assert small == large == 10


def test_it_shows_source_partner_next_followup_and_age_in_jst(manager):
    partner = partner_create(slug="career-media", name="Career Media")
    candidate = _candidate(partner=partner, advisor=manager, birth_date=date(2000, 11, 25))
    with time_machine.travel(datetime(2026, 11, 24, 16, 0, tzinfo=JST), tick=False):
        followup_task_create(
            candidate_id=candidate.pk,
            advisor_id=manager.pk,
            due_at=datetime(2026, 11, 26, 10, 0, tzinfo=JST),
            title="求人を送る",
        )
    client = _login(manager)

    # 2026-11-24 15:30 UTC is already the 25th in Tokyo: the birthday has come.
    with time_machine.travel(datetime(2026, 11, 24, 15, 30, tzinfo=UTC), tick=False):
        html = client.get(CANDIDATES).content.decode()

    assert '<td class="field-age">26</td>' in html
    assert '<td class="field-credited_partner">Career Media</td>' in html
    assert '<td class="field-next_followup">2026-11-26 10:00</td>' in html


def test_advisors_land_on_their_own_candidates_and_can_see_everyone(advisor, other_advisor):
    mine = _candidate(advisor=advisor)
    theirs = _candidate(advisor=other_advisor)
    unassigned = _candidate()
    client = _login(advisor)

    assert _rows(client.get(CANDIDATES)) == [mine.pk]
    assert set(_rows(client.get(CANDIDATES, {"advisor": "all"}))) == {mine.pk, theirs.pk, unassigned.pk}
    assert _rows(client.get(CANDIDATES, {"advisor": "none"})) == [unassigned.pk]
    assert _rows(client.get(CANDIDATES, {"advisor": str(other_advisor.pk)})) == [theirs.pk]


def test_managers_land_on_everyone(manager, advisor):
    one, two = _candidate(advisor=advisor), _candidate()

    assert set(_rows(_login(manager).get(CANDIDATES))) == {one.pk, two.pk}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"partner": "P"}, {"from_partner"}),
        ({"role": "accounting"}, {"wants_accounting"}),
        ({"role": "hr"}, set()),
        ({"prefecture": "27"}, {"in_osaka"}),
        ({"overdue": "yes"}, {"overdue"}),
        ({"consultation": "yes"}, {"booked"}),
        ({"duplicate": "yes"}, {"in_osaka", "twin"}),
        ({"is_closed__exact": "1"}, {"closed"}),
        ({"stage__exact": "contacted"}, {"closed"}),
    ],
)
def test_the_list_filters(manager, params, expected):
    Role.objects.get_or_create(
        slug="accounting",
        defaults={
            "name_ja": "経理",
            "name_en": "Accounting",
            "summary": "-",
            "annual_salary_min": 1,
            "annual_salary_max": 2,
        },
    )
    partner = partner_create(slug="career-media", name="Career Media")
    other_partner = partner_create(slug="other-media", name="Other Media")
    named = {
        "from_partner": _candidate(partner=other_partner),
        "wants_accounting": _candidate(desired_roles=["accounting", "general_admin"]),
        "in_osaka": _candidate(
            prefecture="27", family_name_kana="タナカ", given_name_kana="ユイ", birth_date=date(1999, 5, 5)
        ),
        "twin": _candidate(family_name_kana="タナカ", given_name_kana="ユイ", birth_date=date(1999, 5, 5)),
        "overdue": _candidate(),
        "booked": _candidate(),
        "closed": _candidate(partner=partner),
    }
    # The partner filter also finds a candidate whose *other* lead came from the partner.
    lead_ingest(
        partner=other_partner,
        data=LeadInput(
            family_name="佐藤",
            given_name="x",
            email=named["from_partner"].email,
            consent_policy_version="v",
            consent_agreed_at=timezone.now(),
            consent_third_party_provision=True,
            raw_payload={},
        ),
    )
    followup_task_create(
        candidate_id=named["overdue"].pk,
        advisor_id=manager.pk,
        due_at=timezone.now() - timedelta(minutes=5),
        title="t",
    )
    followup_task_create(
        candidate_id=named["booked"].pk,
        advisor_id=manager.pk,
        due_at=timezone.now() + timedelta(hours=1),
        title="t",
    )
    _booking(named["booked"], manager, start=timezone.now() + timedelta(days=1))
    _booking(named["overdue"], manager, start=timezone.now() - timedelta(days=1))  # past: not upcoming
    candidate_call_log(candidate_id=named["closed"].pk, outcome="reached", by=manager)
    candidate_close(candidate_id=named["closed"].pk, reason="not_interested", by=manager)
    if params.get("partner") == "P":
        params = {"partner": str(other_partner.pk)}

    rows = _rows(_login(manager).get(CANDIDATES, params))

    assert {name for name, c in named.items() if c.pk in rows} == expected
    assert len(rows) == len(expected)


def _booking(candidate, advisor, *, start):
    booking_model = apps.get_model("consultations", "Booking")
    return booking_model.objects.create(
        candidate=candidate,
        advisor=advisor,
        kind="career",
        mode="online",
        start_at=start,
        end_at=start + timedelta(minutes=45),
        blocked_until=start + timedelta(hours=1),
        manage_token_hash=uuid.uuid4().hex,
        manage_token_salt="s",
    )


# --- actions -------------------------------------------------------------------------------


def test_assign_to_me_takes_unassigned_and_own_but_refuses_others(advisor, other_advisor):
    unassigned = _candidate(family_name="空")
    theirs = _candidate(advisor=other_advisor, family_name="他")
    client = _login(advisor)

    response = _action(client, "assign_to_me", unassigned, theirs)

    unassigned.refresh_from_db()
    theirs.refresh_from_db()
    assert (unassigned.advisor, theirs.advisor) == (advisor, other_advisor)
    assert messages_of(response) == [
        "Updated 1 candidate(s).",
        f"Not changed, they are another advisor's candidates: {theirs}",
    ]
    event = TimelineEvent.objects.get(kind="assigned")
    assert (event.candidate_id, event.actor, event.data) == (
        unassigned.pk,
        advisor,
        {"from": "-", "to": "Aoki"},
    )


def test_assign_to_the_chosen_advisor(manager, advisor, other_advisor):
    candidate = _candidate(advisor=advisor)
    client = _login(manager)

    refused = _action(client, "assign_to_advisor", candidate)
    response = _action(client, "assign_to_advisor", candidate, advisor=str(other_advisor.pk))

    candidate.refresh_from_db()
    assert candidate.advisor == other_advisor
    assert messages_of(refused) == ["Choose an advisor first."]
    assert messages_of(response) == ["Updated 1 candidate(s)."]
    html = client.get(CANDIDATES).content.decode()
    assert f'<option value="{other_advisor.pk}">Ito</option>' in html


def test_an_advisor_cannot_move_anothers_candidate_in_bulk(advisor, other_advisor):
    theirs = _candidate(advisor=other_advisor)

    response = _action(_login(advisor), "log_call_reached", theirs)

    theirs.refresh_from_db()
    assert theirs.stage == "new"
    assert TimelineEvent.objects.count() == 0
    assert messages_of(response) == [f"Not changed, they are another advisor's candidates: {theirs}"]


def test_actions_apply_to_the_ticked_rows_only_never_select_across(manager):
    ticked, other = _candidate(), _candidate()

    response = _action(_login(manager), "assign_to_me", ticked, select_across="1")

    assert messages_of(response) == ["Select the candidates on this page."]
    assert Candidate.objects.filter(advisor__isnull=False).count() == 0
    assert other.advisor is None


def test_it_exports_the_selected_candidates_as_csv_for_excel(manager):
    partner = partner_create(slug="career-media", name="Career Media")
    chosen = _candidate(partner=partner, advisor=manager, birth_date=date(2000, 1, 1), desired_roles=["hr"])
    _candidate()  # not selected

    response = _action(_login(manager), "export_csv", chosen)

    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["candidate_id", "family_name", "given_name"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["candidate_id"], row["advisor"], row["source_partner"], row["desired_roles"]) == (
        str(chosen.pk),
        "Mori",
        "career-media",
        "hr",
    )
    assert "partner payload" not in body
    assert "partner message" not in body
    assert response["Content-Type"] == "text/csv; charset=utf-8"


# --- permissions ---------------------------------------------------------------------------


def test_an_advisor_cannot_edit_anothers_candidate(advisor, other_advisor):
    theirs = _candidate(advisor=other_advisor)
    url = f"{CANDIDATES}{theirs.pk}/change/"
    data = _form_data(_login(other_advisor).get(url)) | {"motivation": "hijacked"}
    client = _login(advisor)

    page = client.get(url)
    response = client.post(url, data)

    assert page.status_code == 200  # advisors see every candidate...
    assert page.context["has_change_permission"] is False  # ...read-only
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.motivation == ""


def test_managers_edit_any_candidate(manager, advisor):
    candidate = _candidate(advisor=advisor)
    url = f"{CANDIDATES}{candidate.pk}/change/"
    client = _login(manager)

    response = client.post(url, _form_data(client.get(url)) | {"motivation": "経理志望"})

    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.motivation == "経理志望"


def test_consent_and_payloads_stay_read_only(manager):
    candidate = _candidate(partner=partner_create(slug="career-media", name="Career Media"))
    lead = candidate.leads.get()
    client = _login(manager)

    lead_page = client.get(f"/admin/leads/lead/{lead.pk}/change/")
    response = client.post(f"/admin/leads/lead/{lead.pk}/change/", {"raw_payload": "{}"})

    assert lead_page.context["has_change_permission"] is False
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.raw_payload == {"secret_note": "partner payload"}


@pytest.mark.parametrize("path", ["/admin/", CANDIDATES, "/admin/leads/followuptask/", "/admin/leads/lead/"])
def test_a_partner_api_key_gets_nothing_from_the_admin(path):
    partner = partner_create(slug="career-media", name="Career Media")
    _, raw_key = api_key_issue(partner=partner)
    _candidate(partner=partner, family_name="秘密")

    response = Client().get(path, headers={"Authorization": f"Bearer {raw_key}"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "秘密" not in response.content.decode()
    assert Partner.objects.count() == 1


def test_the_candidate_page_stays_constant_as_the_profile_grows(manager, django_assert_max_num_queries):
    candidate = _candidate(advisor=manager)
    certs = [
        Certification.objects.create(
            code=f"c{i}", name=f"資格{i}", name_en=f"C{i}", issuer="x", family=f"f{i}"
        )
        for i in range(5)
    ]
    client = _login(manager)
    url = f"{CANDIDATES}{candidate.pk}/change/"

    def grow(i):
        candidate.work_history.create(occupation="retail", job_title=f"店員{i}", years=1)
        candidate.certification_records.create(certification=certs[i], status="held")
        followup_task_create(
            candidate_id=candidate.pk, advisor_id=manager.pk, due_at=timezone.now(), title=f"t{i}"
        )

    grow(0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(1, 5):
        grow(i)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)

    html = page.content.decode()
    assert html.count('value="店員') == 5
    assert FollowUpTask.objects.count() == 5


# --- duplicates ----------------------------------------------------------------------------


def test_merging_moves_everything_onto_the_oldest_and_closes_the_other(manager):
    partner = partner_create(slug="career-media", name="Career Media")
    twin = {"family_name_kana": "タナカ", "given_name_kana": "ユイ", "birth_date": date(1999, 5, 5)}
    keep = _candidate(advisor=manager, desired_roles=["hr"], **twin)
    other = _candidate(partner=partner, desired_roles=["accounting", "hr"], **twin)
    cert = Certification.objects.create(code="mos-m", name="MOS", name_en="MOS", issuer="MS", family="mos")
    other.certification_records.create(certification=cert, status="held")
    other.work_history.create(occupation="care", job_title="介護")
    task = followup_task_create(
        candidate_id=other.pk, advisor_id=manager.pk, due_at=timezone.now(), title="t"
    )
    candidate_call_log(candidate_id=other.pk, outcome="no_answer", by=manager)
    client = _login(manager)
    assert set(_rows(client.get(CANDIDATES, {"duplicate": "yes"}))) == {keep.pk, other.pk}

    response = _action(client, "merge_duplicates", other, keep)

    assert messages_of(response) == [f"Merged 1 candidate(s) into {keep}."]
    keep.refresh_from_db()
    other.refresh_from_db()
    assert keep.leads.count() == 2
    assert keep.desired_roles == ["hr", "accounting"]
    assert keep.credited_lead is not None
    assert [r.certification for r in keep.certification_records.all()] == [cert]
    assert [j.job_title for j in keep.work_history.all()] == ["介護"]
    task.refresh_from_db()
    assert task.candidate_id == keep.pk
    assert (other.is_closed, other.closed_reason, other.partner_status) == (True, "duplicate", "closed")
    kept_kinds = sorted(keep.timeline.values_list("kind", flat=True))
    assert kept_kinds == ["call", "merged", "stage_changed"]
    assert sorted(other.timeline.values_list("kind", flat=True)) == ["closed", "merged"]
    # The partner's lead now follows the kept candidate.
    assert keep.leads.filter(partner=partner).exists()

    again = _action(client, "merge_duplicates", other, keep)
    assert messages_of(again) == [f"{other} has already been merged."]


def test_a_later_lead_with_a_merged_duplicates_contacts_goes_to_the_kept_candidate(manager, partner):
    twin = {"family_name_kana": "タナカ", "given_name_kana": "ユイ", "birth_date": date(1999, 5, 5)}
    keep = _candidate(email="yui@example.com", **twin)
    other = _candidate(email="yui.work@example.com", phone="+819011110000", **twin)
    client = _login(manager)
    _action(client, "merge_duplicates", other, keep)
    other.refresh_from_db()
    assert (other.merged_into_id, other.email) == (keep.pk, "yui.work@example.com")  # it keeps its contacts
    # The duplicate's page links to the record kept.
    page = client.get(f"{CANDIDATES}{other.pk}/change/").content.decode()
    assert f'<a href="{CANDIDATES}{keep.pk}/change/">{keep}</a>' in page

    by_email = partner.post(lead_body(email="yui.work@example.com", phone=None))
    by_phone = partner.post(lead_body(email=None, phone="090-1111-0000"))

    assert [r.status_code for r in (by_email, by_phone)] == [201, 201]
    assert [r.json()["existing_candidate"] for r in (by_email, by_phone)] == [True, True]
    # The partner's status is the kept candidate's, not the duplicate's "closed".
    assert [r.json()["status"] for r in (by_email, by_phone)] == ["received", "received"]
    for response in (by_email, by_phone):
        assert Lead.objects.get(pk=response.json()["id"]).candidate_id == keep.pk
    assert Candidate.objects.filter(is_closed=True).get() == other


def test_merging_a_kept_candidate_again_keeps_the_way_one_step_long(manager):
    twin = {"family_name_kana": "タナカ", "given_name_kana": "ユイ", "birth_date": date(1999, 5, 5)}
    first, second, third = (_candidate(**twin) for _ in range(3))
    candidate_merge(keep_id=second.pk, duplicate_id=first.pk, by=manager)
    candidate_merge(keep_id=third.pk, duplicate_id=second.pk, by=manager)

    merged = dict(Candidate.objects.filter(merged_into__isnull=False).values_list("pk", "merged_into"))
    assert merged == {first.pk: third.pk, second.pk: third.pk}


def test_the_migration_fills_merged_into_from_the_timeline_of_earlier_merges(manager):
    twin = {"family_name_kana": "タナカ", "given_name_kana": "ユイ", "birth_date": date(1999, 5, 5)}
    first, second, third = (_candidate(**twin) for _ in range(3))
    candidate_merge(keep_id=second.pk, duplicate_id=first.pk, by=manager)
    candidate_merge(keep_id=third.pk, duplicate_id=second.pk, by=manager)
    Candidate.objects.update(merged_into=None)  # as before the migration

    importlib.import_module("leads.migrations.0016_candidate_merged_into").backfill(apps, None)

    merged = dict(Candidate.objects.filter(merged_into__isnull=False).values_list("pk", "merged_into"))
    assert merged == {first.pk: third.pk, second.pk: third.pk}


def test_merging_refuses_people_who_differ(manager):
    one = _candidate(family_name_kana="タナカ", given_name_kana="ユイ", birth_date=date(1999, 5, 5))
    two = _candidate(family_name_kana="タナカ", given_name_kana="ユイ", birth_date=date(1999, 5, 6))

    response = _action(_login(manager), "merge_duplicates", one, two)

    assert messages_of(response) == ["Select two or more candidates with the same reading and birth date."]
    assert Candidate.objects.filter(is_closed=True).count() == 0
