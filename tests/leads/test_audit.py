"""The audit log of personal data: entries for views, changes and exports in the admin, the
managers' read-only list, and the table's append-only guarantee on PostgreSQL."""

import csv
import io
import uuid
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.audit import audit_record
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import AuditEntry, Candidate

pytestmark = pytest.mark.django_db

CANDIDATES = "/admin/leads/candidate/"
LOG = "/admin/leads/auditentry/"


@pytest.fixture
def advisor():
    return staff_user_create(email="aoki@urakata.example", display_name="Aoki", group=Groups.ADVISORS)


@pytest.fixture
def manager():
    return staff_user_create(email="mori@urakata.example", display_name="Mori", group=Groups.MANAGERS)


_numbers = iter(range(10_000))


def _candidate(*, advisor=None) -> Candidate:
    n = next(_numbers)
    data = LeadInput(
        family_name="佐藤",
        given_name=f"花子{n}",
        email=f"audit{n}@example.com",
        phone=None,
        consent_policy_version="2026-04",
        consent_agreed_at=timezone.now(),
        consent_third_party_provision=True,
        raw_payload={},
    )
    candidate = Candidate.objects.get(pk=lead_ingest(partner=None, data=data).lead.candidate_id)
    if advisor is not None:
        Candidate.objects.filter(pk=candidate.pk).update(advisor=advisor)
        candidate.refresh_from_db()
    return candidate


def _login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _entries() -> list[tuple[Any, ...]]:
    return list(
        AuditEntry.objects.order_by("id").values_list(
            "candidate_id", "action", "actor__email", "channel", "fields"
        )
    )


def _form_data(response) -> dict[str, Any]:
    """The POST body a browser sends back from the change page, unchanged."""
    data: dict[str, Any] = {}

    def put(form, name):
        value, key = form[name].value(), form.add_prefix(name)
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


def test_it_records_a_view_each_time_the_candidate_page_is_shown(advisor):
    candidate = _candidate(advisor=advisor)
    client = _login(advisor)

    assert client.get(f"{CANDIDATES}{candidate.pk}/change/").status_code == 200
    assert client.get(f"{CANDIDATES}{candidate.pk}/change/").status_code == 200

    view: tuple[Any, ...] = (candidate.pk, "view", "aoki@urakata.example", "admin", [])
    assert _entries() == [view, view]


def test_no_view_is_recorded_for_a_page_not_shown(advisor):
    client = _login(advisor)

    missing = client.get(f"{CANDIDATES}{uuid.uuid4()}/change/")  # redirects to the index
    client.get(f"{CANDIDATES}not-a-uuid/change/")

    assert missing.status_code == 302
    assert _entries() == []


def test_a_saved_change_records_the_changed_field_names_and_no_values(advisor):
    candidate = _candidate(advisor=advisor)
    client = _login(advisor)
    url = f"{CANDIDATES}{candidate.pk}/change/"
    data = _form_data(client.get(url))
    data.update(
        {
            "phone": "090-1234-5678",
            "motivation": "土日休みで長く働きたい",
            "work_history-TOTAL_FORMS": "1",
            "work_history-0-occupation": "factory",
            "work_history-0-employer_name": "北倉庫株式会社",
            "work_history-0-years": "2",
            "work_history-0-months": "0",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    view: tuple[Any, ...] = (candidate.pk, "view", "aoki@urakata.example", "admin", [])
    change: tuple[Any, ...] = (
        candidate.pk,
        "change",
        "aoki@urakata.example",
        "admin",
        ["motivation", "phone", "workhistoryentry.added"],
    )
    assert _entries() == [view, change]
    stored = str(list(AuditEntry.objects.values_list("fields", flat=True)))
    for value in ("+819012345678", "土日休み", "北倉庫"):
        assert value not in stored


def test_a_save_that_changes_nothing_records_no_change(advisor):
    candidate = _candidate(advisor=advisor)
    client = _login(advisor)
    url = f"{CANDIDATES}{candidate.pk}/change/"

    assert client.post(url, _form_data(client.get(url))).status_code == 302

    assert [action for _, action, *_ in _entries()] == ["view"]


def test_the_csv_export_records_one_export_per_candidate_with_the_columns(manager):
    first, second, not_selected = _candidate(), _candidate(), _candidate()
    client = _login(manager)

    response = client.post(
        f"{CANDIDATES}?advisor=all",
        {"action": "export_csv", "_selected_action": [str(first.pk), str(second.pk)]},
    )

    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert sorted(row[0] for row in rows[1:]) == sorted([str(first.pk), str(second.pk)])
    entries = _entries()
    assert sorted(str(candidate_id) for candidate_id, *_ in entries) == sorted(
        [str(first.pk), str(second.pk)]
    )
    assert {(action, actor, channel) for _, action, actor, channel, _ in entries} == {
        ("export", "mori@urakata.example", "admin_csv")
    }
    assert entries[0][4] == rows[0]  # the field names are the CSV's columns
    assert not AuditEntry.objects.filter(candidate_id=not_selected.pk).exists()


def test_managers_see_the_log_filtered_and_searched_by_candidate(manager):
    one, other = _candidate(), _candidate()
    audit_record(candidate_id=one.pk, action="view", by=manager, channel="admin")
    audit_record(candidate_id=one.pk, action="export", by=None, channel="command", fields=["profile"])
    audit_record(candidate_id=other.pk, action="view", by=manager, channel="api")
    client = _login(manager)

    def shown(query: dict[str, str]) -> list[tuple[Any, str]]:
        response = client.get(LOG, query)
        assert response.status_code == 200
        return [(entry.candidate_id, entry.action) for entry in response.context["cl"].result_list]

    assert shown({}) == [(other.pk, "view"), (one.pk, "export"), (one.pk, "view")]  # newest first
    assert shown({"action": "export"}) == [(one.pk, "export")]
    assert shown({"q": str(one.pk)}) == [(one.pk, "export"), (one.pk, "view")]
    assert shown({"q": "佐藤"}) == []  # not an id: nothing, and no error
    assert shown({"candidate_id": str(other.pk)}) == [(other.pk, "view")]  # the candidate page's link


def test_the_candidate_page_links_to_its_log_for_managers_only(manager, advisor):
    candidate = _candidate(advisor=advisor)
    link = f'href="{LOG}?candidate_id={candidate.pk}"'

    managers_page = _login(manager).get(f"{CANDIDATES}{candidate.pk}/change/").content.decode()
    advisors_page = _login(advisor).get(f"{CANDIDATES}{candidate.pk}/change/").content.decode()

    assert link in managers_page
    assert "audit log for this candidate" in managers_page
    assert link not in advisors_page  # advisors may not read the log: the link would be a 403
    assert "consent withdrawn at" in advisors_page.lower()


def test_the_log_is_read_only_in_the_admin(manager, advisor):
    candidate = _candidate()
    entry = audit_record(candidate_id=candidate.pk, action="view", by=manager, channel="admin")
    client = _login(manager)

    assert client.get(f"{LOG}{entry.pk}/change/").status_code == 200  # the read-only view
    assert client.post(f"{LOG}{entry.pk}/change/", {"channel": "x"}).status_code == 403
    assert client.get(f"{LOG}add/").status_code == 403
    assert client.post(f"{LOG}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert _login(advisor).get(LOG).status_code == 403
    entry.refresh_from_db()
    assert entry.channel == "admin"


@pytest.mark.postgresql("the append-only trigger is PostgreSQL's (migration leads 0009)")
def test_the_table_refuses_update_and_delete_on_postgresql(manager):
    candidate = _candidate()
    entry = audit_record(candidate_id=candidate.pk, action="view", by=manager, channel="admin")

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(channel="api")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.action = "change"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        entry.save()

    # The one change allowed: a deleted account's entries keep everything but the actor.
    manager.delete()
    entry.refresh_from_db()  # (the unsaved "change" above is reloaded away)
    assert (entry.actor_id, entry.action, entry.channel) == (None, "view", "admin")


def test_the_log_list_runs_a_constant_number_of_queries(manager, django_assert_num_queries):
    candidate = _candidate()
    for _ in range(30):
        audit_record(candidate_id=candidate.pk, action="view", by=manager, channel="admin")
    client = _login(manager)
    client.get(LOG)  # content types and the like are cached from here on

    # Session, user, the user's and the groups' permissions, the COUNT of the (filtered)
    # log, the page with the actors joined. The filters' choices come from code.
    with django_assert_num_queries(6):
        response = client.get(LOG, {"channel": "admin"})

    assert len(response.context["cl"].result_list) == 30
