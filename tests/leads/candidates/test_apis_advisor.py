"""The advisors' candidate API (/api/v1/candidates/): search as in the admin, filters,
cursor pages, detail with the timeline, the everyday changes, and who gets nothing."""

import uuid
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import Groups, User
from accounts.services import staff_user_create
from consultations.models import Booking
from leads.candidates.followups import followup_task_create
from leads.candidates.pipeline import candidate_call_log, candidate_close
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import AuditEntry, Candidate, TimelineEvent
from leads.partners.keys import api_key_issue, partner_create

pytestmark = pytest.mark.django_db

API = "/api/v1/candidates/"
JST = timezone.get_fixed_timezone(9 * 60)
_numbers = iter(range(10_000))


def _candidate(*, advisor=None, partner=None, **fields):
    n = next(_numbers)
    data = LeadInput(
        family_name=fields.pop("family_name", "佐藤"),
        given_name=fields.pop("given_name", f"花子{n}"),
        family_name_kana=fields.pop("family_name_kana", "サトウ"),
        given_name_kana=fields.pop("given_name_kana", "ハナコ"),
        email=fields.pop("email", f"api{n}@example.com"),
        phone=fields.pop("phone", None),
        consent_policy_version="2026-04",
        consent_agreed_at=timezone.now(),
        consent_third_party_provision=True,
        raw_payload={"secret_note": "partner payload"},
        **fields,
    )
    candidate = Candidate.objects.get(pk=lead_ingest(partner=partner, data=data).lead.candidate_id)
    if advisor is not None:
        Candidate.objects.filter(pk=candidate.pk).update(advisor=advisor)
        candidate.refresh_from_db()
    return candidate


def _client(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def advisor():
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


@pytest.fixture
def other_advisor():
    return staff_user_create(email="ito@urakata.example", display_name="Ito", group=Groups.ADVISORS)


@pytest.fixture
def manager():
    return staff_user_create(email="mori@urakata.example", display_name="Mori", group=Groups.MANAGERS)


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    [
        "やまだ",
        "ヤマダ",
        "ﾔﾏﾀﾞ",
        "やまだ たろう",
        "山田",
        "山田 太郎",
        "090 1234 5678",
        "090-1234-5678",
        "+81 90 1234 5678",
        "YAMADA@EXAMPLE",
        "5678",
        "1234-5678",
    ],
)
def test_it_searches_like_the_admin_kana_in_either_script_and_phones_in_any_form(advisor, term):
    wanted = _candidate(
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        phone="+819012345678",
        email="yamada@example.com",
    )
    _candidate(
        family_name="山本", family_name_kana="ヤマモト", given_name_kana="タロウ", phone="+819012345679"
    )

    assert _ids(_client(advisor).get(API, {"q": term})) == [str(wanted.pk)]


def test_the_admin_list_uses_the_same_search(advisor):
    wanted = _candidate(family_name="山田", family_name_kana="ヤマダ", phone="+819012345678")
    _candidate(family_name="山本", family_name_kana="ヤマモト")
    client = _client(advisor)

    for term in ("やまだ", "090 1234 5678"):
        response = client.get("/admin/leads/candidate/", {"q": term, "advisor": "all"})
        assert [c.pk for c in response.context["cl"].result_list] == [wanted.pk]


# --- filters and pages -----------------------------------------------------------------------


def test_it_filters_like_the_admin_list(advisor, other_advisor):
    partner = partner_create(slug="career-media", name="Career Media")
    mine = _candidate(advisor=advisor, desired_roles=["accounting"], prefecture="13")
    theirs = _candidate(advisor=other_advisor, partner=partner, prefecture="27")
    unassigned = _candidate()
    closed = _candidate(advisor=advisor)
    candidate_call_log(candidate_id=closed.pk, outcome="reached", by=advisor)
    candidate_close(candidate_id=closed.pk, reason="not_interested", by=advisor)
    followup_task_create(
        candidate_id=theirs.pk,
        advisor_id=other_advisor.pk,
        due_at=timezone.now() - timedelta(hours=1),
        title="t",
    )
    start = timezone.now() + timedelta(days=2)
    Booking.objects.create(
        candidate=unassigned,
        advisor=advisor,
        kind="career",
        mode="online",
        start_at=start,
        end_at=start + timedelta(minutes=45),
        blocked_until=start + timedelta(hours=1),
        manage_token_hash=uuid.uuid4().hex,
        manage_token_salt="s",
    )
    client = _client(advisor)

    def ids(**params):
        return set(_ids(client.get(API, params)))

    assert ids() == {str(c.pk) for c in (mine, theirs, unassigned, closed)}
    assert ids(advisor="me") == {str(mine.pk), str(closed.pk)}
    assert ids(advisor="none") == {str(unassigned.pk)}
    assert ids(advisor=str(other_advisor.pk)) == {str(theirs.pk)}
    assert ids(closed="true") == {str(closed.pk)}
    assert ids(closed="false", advisor="me") == {str(mine.pk)}
    assert ids(stage="contacted") == {str(closed.pk)}
    assert ids(partner=str(partner.pk)) == {str(theirs.pk)}
    assert ids(role="accounting") == {str(mine.pk)}
    assert ids(prefecture="27") == {str(theirs.pk)}
    assert ids(overdue="true") == {str(theirs.pk)}
    assert ids(consultation="true") == {str(unassigned.pk)}


def test_a_bad_filter_is_a_400_in_the_contract_format(advisor):
    response = _client(advisor).get(API, {"stage": "hired", "advisor": "someone"})

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert sorted((e["attr"], e["code"]) for e in body["errors"]) == [
        ("advisor", "invalid"),
        ("stage", "invalid"),
    ]


def test_it_pages_with_a_cursor_newest_first_in_constant_queries(advisor, django_assert_num_queries):
    created = []
    for day in range(5):
        with time_machine.travel(datetime(2026, 11, 1 + day, 10, 0, tzinfo=JST), tick=False):
            created.append(_candidate(advisor=advisor, birth_date=date(2000, 1, 1)))
    client = _client(advisor)
    client.get(API)  # the session's first touch

    # 1 session, 2 user, 3 is the user an advisor (groups), 4 the page with the advisor,
    # credited partner, next follow-up and duplicate flag joined or as subqueries.
    with django_assert_num_queries(4):
        first = client.get(API, {"page_size": "2"})
    body = first.json()
    assert [row["id"] for row in body["results"]] == [str(created[4].pk), str(created[3].pk)]
    assert body["previous"] is None
    with django_assert_num_queries(4):
        second = client.get(body["next"])
    assert _ids(second) == [str(created[2].pk), str(created[1].pk)]
    row = second.json()["results"][0]
    assert (row["age"], row["advisor"], row["stage"], row["source_partner"]) == (
        timezone.localdate().year - 2000,  # born on 1 January 2000: the birthday has passed
        {"id": advisor.pk, "display_name": "Aoki"},
        "new",
        None,
    )


# --- detail and timeline ---------------------------------------------------------------------


def test_the_detail_has_the_profile_and_the_timeline_newest_first(advisor):
    partner = partner_create(slug="career-media", name="Career Media")
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=JST), tick=False):
        candidate = _candidate(advisor=advisor, partner=partner, birth_date=date(2001, 4, 1))
    with time_machine.travel(datetime(2026, 11, 20, 11, 0, tzinfo=JST), tick=False):
        candidate_call_log(candidate_id=candidate.pk, outcome="voicemail", by=advisor, note="留守電に伝言")
    candidate.work_history.create(occupation="factory", job_title="ライン作業", years=2)

    with time_machine.travel(datetime(2026, 11, 21, 9, 0, tzinfo=JST), tick=False):
        response = _client(advisor).get(f"{API}{candidate.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["family_name"], body["age"], body["source_partner"], body["stage"]) == (
        "佐藤",
        25,
        "career-media",
        "contacting",
    )
    assert body["work_history"] == [
        {
            "occupation": "factory",
            "employer_name": "",
            "job_title": "ライン作業",
            "years": 2,
            "months": 0,
            "is_current": False,
            "description": "",
        }
    ]
    assert [(e["kind"], e["actor"], e["detail"]) for e in body["timeline"]] == [
        ("stage_changed", "Aoki", "New → Contacting"),
        ("call", "Aoki", "Voicemail left 留守電に伝言"),
        ("lead", "Career Media", ""),
    ]
    assert body["timeline"][1]["at"] == "2026-11-20T11:00:00+09:00"
    assert "raw_payload" not in body
    assert "partner payload" not in response.content.decode()
    # Reading a person's data through the API is in the audit log.
    assert list(AuditEntry.objects.values_list("candidate_id", "action", "channel", "actor")) == [
        (candidate.pk, "view", "api", advisor.pk)
    ]


def test_an_unknown_candidate_is_a_404(advisor):
    response = _client(advisor).get(f"{API}{uuid.uuid4()}/")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert AuditEntry.objects.count() == 0


# --- changes ---------------------------------------------------------------------------------


def test_an_advisor_notes_calls_and_moves_their_own_candidate(advisor):
    candidate = _candidate(advisor=advisor)
    client = _client(advisor)
    url = f"{API}{candidate.pk}/"

    note = client.post(f"{url}notes/", {"note": " 夜に電話希望 "}, content_type="application/json")
    call = client.post(f"{url}calls/", {"outcome": "reached"}, content_type="application/json")
    stage = client.post(f"{url}stage/", {"stage": "documents"}, content_type="application/json")
    back = client.post(f"{url}stage/", {"stage": "new"}, content_type="application/json")

    assert note.status_code == 201
    assert (note.json()["kind"], note.json()["detail"], note.json()["actor"]) == (
        "note",
        "夜に電話希望",
        "Aoki",
    )
    assert (call.status_code, call.json()["stage"]) == (200, "contacted")
    assert (stage.status_code, stage.json()["stage"]) == (200, "documents")
    assert back.status_code == 400
    assert back.json()["errors"] == [
        {"code": "invalid", "detail": "A candidate cannot move from Documents to New.", "attr": "stage"}
    ]
    candidate.refresh_from_db()
    assert (candidate.stage, candidate.last_contacted_at is not None) == ("documents", True)
    kinds = list(
        TimelineEvent.objects.filter(candidate=candidate).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["note", "call", "stage_changed", "stage_changed"]


def test_an_advisor_cannot_change_anothers_candidate(advisor, other_advisor):
    theirs = _candidate(advisor=other_advisor)
    client = _client(advisor)
    url = f"{API}{theirs.pk}/"

    responses = [
        client.post(f"{url}notes/", {"note": "x"}, content_type="application/json"),
        client.post(f"{url}calls/", {"outcome": "reached"}, content_type="application/json"),
        client.post(f"{url}stage/", {"stage": "contacted"}, content_type="application/json"),
        client.post(f"{url}assign/", {"advisor": "me"}, content_type="application/json"),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert responses[0].json()["errors"][0]["code"] == "permission_denied"
    theirs.refresh_from_db()
    assert (theirs.stage, theirs.advisor) == ("new", other_advisor)
    assert TimelineEvent.objects.count() == 0
    assert client.get(url).status_code == 200  # everyone in the workspace reads


def test_assigning_takes_unassigned_work_and_managers_assign_anyone(advisor, other_advisor, manager):
    unassigned = _candidate()
    theirs = _candidate(advisor=other_advisor)

    taken = _client(advisor).post(
        f"{API}{unassigned.pk}/assign/", {"advisor": "me"}, content_type="application/json"
    )
    given = _client(manager).post(
        f"{API}{theirs.pk}/assign/", {"advisor": str(advisor.pk)}, content_type="application/json"
    )
    nobody = _client(manager).post(
        f"{API}{theirs.pk}/assign/", {"advisor": "999999"}, content_type="application/json"
    )

    assert (taken.status_code, taken.json()["advisor"]["id"]) == (200, advisor.pk)
    assert (given.status_code, given.json()["advisor"]["display_name"]) == (200, "Aoki")
    assert nobody.status_code == 400
    assert nobody.json()["errors"][0]["attr"] == "advisor"
    assert set(Candidate.objects.values_list("advisor", flat=True)) == {advisor.pk}


# --- who gets nothing ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "{pk}/"])
def test_a_partner_key_and_anonymous_callers_get_nothing(suffix):
    partner = partner_create(slug="career-media", name="Career Media")
    _, raw_key = api_key_issue(partner=partner)
    candidate = _candidate(partner=partner, family_name="秘密")
    url = API + suffix.format(pk=candidate.pk)

    with_key = Client().get(url, headers={"Authorization": f"Bearer {raw_key}"})
    anonymous = Client().get(url)
    note = Client().post(
        f"{API}{candidate.pk}/notes/",
        {"note": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw_key}"},
    )

    for response in (with_key, anonymous, note):
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "not_authenticated"
        assert "秘密" not in response.content.decode()
    assert TimelineEvent.objects.count() == 0


def test_staff_outside_the_workspace_groups_get_403(advisor):
    outsider = User.objects.create_user(
        email="x@urakata.example", password="x", display_name="X", is_staff=True
    )
    _candidate(advisor=advisor)

    response = _client(outsider).get(API)

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
