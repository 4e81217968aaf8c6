"""The advisors' screens of leads/admin.py, driven through the admin as a superuser."""

import csv
import hashlib
import io
import uuid
from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from leads.intake.inputs import LeadInput
from leads.intake.services import lead_ingest
from leads.models import ApiKey, Candidate, Lead, Partner
from leads.partners.keys import api_key_issue, api_key_revoke, partner_create
from tests.db_text import tables_containing
from tests.leads.helpers_admin import (
    CONSENT,
    list_leads,
    messages_of,
    partner_with_key,
    person_body,
    post_lead,
    shown_keys,
    superuser_client,
)

pytestmark = pytest.mark.django_db

PARTNERS = "/admin/leads/partner/"
API_KEYS = "/admin/leads/apikey/"
LEADS = "/admin/leads/lead/"
CANDIDATES = "/admin/leads/candidate/"


def _action(client, url, action, *pks):
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True)


# --- partners and keys -------------------------------------------------------------------


def test_it_lists_partners_with_their_active_keys_and_leads():
    partner, key = partner_with_key()
    revoked, _ = api_key_issue(partner=partner)
    api_key_revoke(api_key=revoked)
    for n in range(3):
        assert post_lead(key, person_body(n)).status_code == 201
    quiet = partner_create(slug="quiet-media", name="Quiet Media")
    client = superuser_client()

    response = client.get(PARTNERS)

    assert response.status_code == 200
    rows = {p.slug: (p.active_key_count, p.lead_total) for p in response.context["cl"].result_list}
    assert rows == {"career-media": (1, 3), "quiet-media": (0, 0)}
    html = response.content.decode()
    assert '<th scope="col" class="sortable column-active_keys">' in html
    assert '<th scope="col" class="sortable column-lead_count">' in html
    assert html.count('<td class="field-active_keys">1</td>') == 1
    assert html.count('<td class="field-lead_count">3</td>') == 1
    assert html.count('<td class="field-active_keys">0</td>') == 1
    assert html.count('<td class="field-lead_count">0</td>') == 1
    assert quiet.name in html


def test_it_issues_an_additional_key_shown_once_and_stored_as_a_hash():
    partner, old_key = partner_with_key()
    client = superuser_client()

    response = _action(client, PARTNERS, "issue_key", partner.pk)

    assert response.status_code == 200
    [raw_key] = shown_keys(response)
    [message] = messages_of(response)
    assert message == (
        f"New API key for Career Media: <code>{raw_key}</code> — copy it now, it will not be shown again."
    )
    new = ApiKey.objects.exclude(key_hash=hashlib.sha256(old_key.encode()).hexdigest()).get()
    assert new.partner == partner
    assert new.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert new.prefix == raw_key.split("_")[1]
    assert new.revoked_at is None
    assert ApiKey.objects.filter(partner=partner, revoked_at__isnull=True).count() == 2  # the old one stays
    secret = raw_key.split("_", 2)[2]
    assert tables_containing(raw_key) == []
    assert tables_containing(secret) == []
    assert raw_key not in client.get(PARTNERS).content.decode()  # shown once, never again
    assert list_leads(raw_key).status_code == 200
    assert list_leads(old_key).status_code == 200


def test_it_rotates_keys_revoking_every_old_one():
    partner, first = partner_with_key()
    _, second = api_key_issue(partner=partner)
    other, other_key = partner_with_key(slug="other-media", name="Other Media")
    client = superuser_client()
    before = timezone.now()

    response = _action(client, PARTNERS, "rotate_keys", partner.pk)

    [raw_key] = shown_keys(response)
    keys = {k.key_hash: k for k in ApiKey.objects.filter(partner=partner)}
    assert len(keys) == 3
    new = keys.pop(hashlib.sha256(raw_key.encode()).hexdigest())
    assert new.revoked_at is None
    assert [k.revoked_at is not None and k.revoked_at >= before for k in keys.values()] == [True, True]
    assert ApiKey.objects.get(partner=other).revoked_at is None  # other partners untouched
    assert tables_containing(raw_key) == []
    assert list_leads(raw_key).status_code == 200
    for old in (first, second):
        refused = list_leads(old)
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"] == "Bearer"
        assert refused.json()["errors"][0]["code"] == "authentication_failed"
    assert list_leads(other_key).status_code == 200


def test_it_revokes_the_selected_keys_only():
    partner, first = partner_with_key()
    _, second = api_key_issue(partner=partner)
    third_key, third = api_key_issue(partner=partner)
    first_key = ApiKey.objects.get(key_hash=hashlib.sha256(first.encode()).hexdigest())
    client = superuser_client()

    response = _action(client, API_KEYS, "revoke", first_key.pk, third_key.pk)

    assert response.status_code == 200
    assert messages_of(response) == ["Revoked 2 key(s)."]
    revoked = set(ApiKey.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True))
    assert revoked == {first_key.pk, third_key.pk}
    assert list_leads(first).status_code == 401
    assert list_leads(third).status_code == 401
    assert list_leads(second).status_code == 200


def test_it_keeps_revocation_time_when_revoking_twice():
    partner, key = partner_with_key()
    api_key = ApiKey.objects.get(partner=partner)
    client = superuser_client()
    _action(client, API_KEYS, "revoke", api_key.pk)
    first_revoked_at = ApiKey.objects.get().revoked_at

    _action(client, API_KEYS, "revoke", api_key.pk)

    assert ApiKey.objects.get().revoked_at == first_revoked_at
    assert list_leads(key).status_code == 401


def test_it_never_lets_anyone_add_an_api_key_by_hand():
    client = superuser_client()

    assert client.get(f"{API_KEYS}add/").status_code == 403


# --- leads -------------------------------------------------------------------------------


def test_it_shows_a_lead_read_only():
    _, key = partner_with_key()
    lead_id = post_lead(key, person_body(1)).json()["id"]
    client = superuser_client()
    url = f"{LEADS}{lead_id}/change/"

    page = client.get(url)
    refused = client.post(url, {"family_name": "Changed"})

    assert page.status_code == 200
    assert client.get(LEADS).status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert 'name="_continue"' not in html
    assert page.context["has_change_permission"] is False
    assert dict(page.context["adminform"].form.fields) == {}  # every field read-only
    assert refused.status_code == 403
    assert Lead.objects.get().family_name == "山田"
    assert client.get(f"{LEADS}add/").status_code == 403
    assert client.post(f"{LEADS}{lead_id}/delete/", {"post": "yes"}).status_code == 403
    assert Lead.objects.count() == 1


def _csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_it_exports_third_party_provision_records_as_csv():
    _, key = partner_with_key()
    _, other_key = partner_with_key(slug="other-media", name="Other Media")
    with time_machine.travel(datetime.fromisoformat("2026-11-24T10:00:00+09:00"), tick=False):
        first = post_lead(key, person_body(1)).json()["id"]
    with time_machine.travel(datetime.fromisoformat("2026-11-24T10:05:30+09:00"), tick=False):
        body = person_body(
            2,
            family_name_kana="すずき",
            given_name_kana="ハナコ",
            birth_date="1990-04-01",
            prefecture="大阪府",
            desired_roles=[],
            message="経理に興味があります",
            consent={**CONSENT, "agreed_at": "2026-11-24T00:30:00Z", "privacy_policy_version": "2026-10"},
        )
        second = post_lead(other_key, body).json()["id"]
        assert post_lead(key, person_body(3)).status_code == 201  # not selected: not exported
    client = superuser_client()

    with time_machine.travel(datetime.fromisoformat("2026-11-25T09:07:00+09:00"), tick=False):
        response = client.post(
            LEADS, {"action": "export_provision_records", "_selected_action": [second, first]}
        )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="provision-records-20261125-0907.csv"'
    assert _csv_rows(response) == [
        [
            "received_at",
            "lead_id",
            "partner_slug",
            "partner_name",
            "person",
            "items_received",
            "privacy_policy_version",
            "consent_agreed_at",
            "third_party_provision",
        ],
        [
            "2026-11-24T10:00:00+09:00",
            first,
            "career-media",
            "Career Media",
            "山田 太郎1",
            "family_name given_name email phone",
            "2026-04",
            "2026-11-20T10:00:00+09:00",
            "yes",
        ],
        [
            "2026-11-24T10:05:30+09:00",
            second,
            "other-media",
            "Other Media",
            "山田 太郎2",
            "family_name given_name family_name_kana given_name_kana email phone birth_date prefecture "
            "message",
            "2026-10",
            "2026-11-24T09:30:00+09:00",
            "yes",
        ],
    ]


# --- candidates --------------------------------------------------------------------------


def test_it_shows_a_candidate_with_its_leads_inline():
    _, key = partner_with_key()
    _, other_key = partner_with_key(slug="other-media", name="Other Media")
    with time_machine.travel(datetime.fromisoformat("2026-11-24T10:00:00+09:00"), tick=False):
        first = post_lead(key, person_body(1, external_id="cm-1")).json()
    with time_machine.travel(datetime.fromisoformat("2026-11-24T11:00:00+09:00"), tick=False):
        second = post_lead(other_key, person_body(1, external_id="om-7")).json()
    candidate = Candidate.objects.get()
    client = superuser_client()

    response = client.get(f"{CANDIDATES}{candidate.pk}/change/")

    assert response.status_code == 200
    assert (first["existing_candidate"], second["existing_candidate"]) == (False, True)
    [inline] = response.context["inline_admin_formsets"]
    assert [form.original.pk for form in inline] == [uuid.UUID(first["id"]), uuid.UUID(second["id"])]
    html = response.content.decode()
    assert "cm-1" in html
    assert "om-7" in html
    assert "Career Media" in html
    assert "Other Media" in html


def _candidates(n, *, start=0):
    """n candidates through the intake service: a third direct, the rest from a partner,
    every other one with an advisor, so each column of the list has something to show."""
    partner = Partner.objects.first() or partner_create(slug="career-media", name="Career Media")
    advisor = User.objects.filter(email="advisor@example.com").first() or User.objects.create_user(
        email="advisor@example.com", display_name="Advisor", is_staff=True
    )
    for i in range(start, start + n):
        data = LeadInput(
            family_name="佐藤",
            given_name=f"花子{i}",
            family_name_kana="サトウ",
            given_name_kana="ハナコ",
            email=f"list{i}@example.com",
            phone=None,
            consent_policy_version="2026-04",
            consent_agreed_at=timezone.now(),
            consent_third_party_provision=True,
            raw_payload={},
        )
        result = lead_ingest(partner=None if i % 3 == 0 else partner, data=data)
        if i % 2:
            Candidate.objects.filter(pk=result.lead.candidate_id).update(advisor=advisor)


def _changelist_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CANDIDATES)
    assert response.status_code == 200
    return len(queries), response


def test_it_lists_candidates_in_a_constant_number_of_queries(django_assert_max_num_queries):
    client = superuser_client()
    _candidates(3)
    small, response = _changelist_queries(client)
    assert len(response.context["cl"].result_list) == 3
    _candidates(27, start=3)

    # 1 the session, 2 the logged-in user, 3-5 the advisors, partners and roles offered by
    # the filters and the action form, 6 count of the filtered list, 7 the page of
    # candidates joined with advisor, credited lead and its partner (no count of all:
    # show_full_result_count is off). Nothing per row.
    with django_assert_max_num_queries(7):
        client.get(CANDIDATES)

    large, response = _changelist_queries(client)
    assert len(response.context["cl"].result_list) == 30
    assert small == large == 7
    html = response.content.decode()
    assert html.count("Career Media") == 20  # the credited partner of 20 of the 30
    assert html.count('<td class="field-credited_partner">direct</td>') == 10


@pytest.mark.parametrize(
    "term", ["suzuki.hanako@example.com", "SUZUKI.HANAKO@EXAMPLE.COM", "スズキ", "ハナコ"]
)
def test_it_finds_candidates_by_email_and_katakana_name(term):
    _, key = partner_with_key()
    post_lead(
        key,
        person_body(
            1, email="suzuki.hanako@example.com", family_name_kana="すずき", given_name_kana="はなこ"
        ),
    )
    post_lead(key, person_body(2, family_name_kana="タナカ", given_name_kana="ジロウ"))
    wanted = Candidate.objects.get(email="suzuki.hanako@example.com")
    client = superuser_client()

    response = client.get(CANDIDATES, {"q": term})

    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [wanted.pk]


def _search(term):
    _, key = partner_with_key()
    post_lead(key, person_body(1, family_name_kana="すずき", phone="090-1234-5678"))
    post_lead(key, person_body(2, family_name_kana="タナカ"))
    response = superuser_client().get(CANDIDATES, {"q": term})
    assert response.status_code == 200
    return [c.email for c in response.context["cl"].result_list]


def test_it_finds_candidates_by_a_hiragana_name():
    assert _search("すずき") == ["person1@example.com"]


@pytest.mark.parametrize(
    "term",
    ["090-1234-5678", "09012345678", "０９０ １２３４ ５６７８"],
)
def test_it_finds_candidates_by_phone_in_a_usual_form(term):
    assert _search(term) == ["person1@example.com"]


def test_it_finds_candidates_by_phone_in_e164():
    assert _search("+819012345678") == ["person1@example.com"]


@pytest.mark.parametrize("term", ["090-1234", "0901234", "1234-5678", "5678"])
def test_it_finds_candidates_by_part_of_their_phone_as_dialled_at_home(term):
    assert _search(term) == ["person1@example.com"]


def test_a_leading_zero_of_a_partial_phone_is_its_start_not_any_part():
    # "345" is inside +819012345678, but "0345" is neither inside it nor its start (+81345)
    assert _search("0345") == []


def test_a_whole_phone_number_finds_that_number_only():
    _, key = partner_with_key()
    post_lead(key, person_body(1, phone="090-1000-0123"))
    post_lead(key, person_body(2, phone="090-1000-1000"))  # 090, 1000 and 0123 are all in it
    post_lead(key, person_body(3, phone="090-0123-1000"))

    response = superuser_client().get(CANDIDATES, {"q": "090 1000 0123"})

    assert [c.email for c in response.context["cl"].result_list] == ["person1@example.com"]
