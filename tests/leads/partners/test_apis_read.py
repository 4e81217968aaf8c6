"""GET /api/v1/leads/, /api/v1/leads/{id}/ and /api/v1/partner/stats/: a partner sees its
own leads' partner-safe status and nothing personal."""

import re
import uuid

import pytest
import time_machine
from django.utils import timezone

from leads.candidates.pipeline import candidate_advance_to, candidate_close
from leads.models import Candidate, Lead
from tests.leads.conftest import lead_body

pytestmark = pytest.mark.django_db

PERSONAL = ("山田", "太郎", "@example.com", "+8190", "090", "ヤマダ")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _personal_in(text: str) -> list[str]:
    """The personal fragments in a response, its UUIDs left out: a random id holds "090"
    about once in two hundred."""
    without_ids = UUID_RE.sub("<id>", text)
    return [fragment for fragment in PERSONAL if fragment in without_ids]


def _set_stage(lead_id: str, stage: str, *, closed: bool = False, status: str, at: str) -> None:
    candidate_id = Candidate.objects.get(leads__id=lead_id).pk
    with time_machine.travel(at, tick=False):
        candidate_advance_to(candidate_id=candidate_id, stage=stage)
        if closed:
            candidate_close(candidate_id=candidate_id, reason="unreachable", by=None)
    assert Candidate.objects.get(pk=candidate_id).partner_status == status


def test_it_lists_only_the_partners_own_leads_without_personal_data(partner, make_partner):
    other = make_partner("job-news")
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        mine = partner.post(lead_body(external_id="m-1", family_name_kana="ヤマダ")).json()
    theirs = other.post(lead_body()).json()

    response = partner.get("/api/v1/leads/")

    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": mine["id"],
                "external_id": "m-1",
                "status": "received",
                "status_changed_at": "2026-11-24T10:00:00+09:00",
                "created_at": "2026-11-24T10:00:00+09:00",
            }
        ],
    }
    text = response.content.decode()
    assert theirs["id"] not in text
    assert _personal_in(text) == []


def test_another_partners_lead_is_404(partner, make_partner):
    theirs = make_partner("job-news").post(lead_body()).json()

    response = partner.get(f"/api/v1/leads/{theirs['id']}/")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert partner.get(f"/api/v1/leads/{uuid.uuid4()}/").status_code == 404
    assert partner.get("/api/v1/leads/not-a-uuid/").status_code == 404


def test_it_shows_one_lead_with_its_partner_safe_status(partner):
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        lead = partner.post(lead_body()).json()
    _set_stage(lead["id"], "consulted", status="consultation_held", at="2026-11-26T15:00:00+09:00")

    response = partner.get(f"/api/v1/leads/{lead['id']}/")

    assert response.json() == {
        "id": lead["id"],
        "external_id": None,
        "status": "consultation_held",
        "status_changed_at": "2026-11-26T15:00:00+09:00",
        "created_at": "2026-11-24T10:00:00+09:00",
    }
    assert _personal_in(response.content.decode()) == []


def test_it_filters_by_status_and_times(partner):
    with time_machine.travel("2026-11-20T10:00:00+09:00", tick=False):
        old = partner.post(lead_body()).json()
    with time_machine.travel("2026-11-24T10:00:00+09:00", tick=False):
        new = partner.post(lead_body()).json()
    _set_stage(old["id"], "contacted", status="contacted", at="2026-11-25T09:00:00+09:00")

    def ids(**query):
        response = partner.get("/api/v1/leads/", query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(status="contacted") == [old["id"]]
    assert ids(status="received") == [new["id"]]
    assert ids(created_after="2026-11-22T00:00:00+09:00") == [new["id"]]
    assert ids(updated_after="2026-11-24T12:00:00+09:00") == [old["id"]]
    assert ids(updated_after="2026-11-19T00:00:00Z") == [new["id"], old["id"]]
    bad = partner.get("/api/v1/leads/", {"status": "hired"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "status"


def test_it_pages_with_a_cursor(partner):
    for _ in range(5):
        partner.post(lead_body())

    first = partner.get("/api/v1/leads/", {"page_size": 2}).json()
    second = partner.client.get(first["next"], headers=partner.headers()).json()
    third = partner.client.get(second["next"], headers=partner.headers()).json()

    seen = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert len(seen) == len(set(seen)) == 5
    assert third["next"] is None
    assert seen == [str(pk) for pk in Lead.objects.order_by("-created_at").values_list("id", flat=True)]


def test_a_closed_candidate_reads_closed(partner):
    lead = partner.post(lead_body()).json()
    _set_stage(lead["id"], "contacted", closed=True, status="closed", at=timezone.now().isoformat())

    assert partner.get(f"/api/v1/leads/{lead['id']}/").json()["status"] == "closed"


def test_the_list_costs_two_queries_whatever_its_length(partner, django_assert_num_queries):
    for _ in range(3):
        partner.post(lead_body())
    # 1 API key + partner; 2 the page of leads joined with their candidates' status.
    with django_assert_num_queries(2):
        assert len(partner.get("/api/v1/leads/").json()["results"]) == 3
    for _ in range(7):
        partner.post(lead_body())
    with django_assert_num_queries(2):
        assert len(partner.get("/api/v1/leads/").json()["results"]) == 10


def test_stats_count_the_funnel_by_the_credit_rule(partner, make_partner):
    other = make_partner("job-news")
    with time_machine.travel("2026-11-10T10:00:00+09:00", tick=False):
        a = partner.post(lead_body(email="a@example.com")).json()
        b = partner.post(lead_body(email="b@example.com")).json()
        partner.post(lead_body(email="c@example.com"))
        # The same person as `a`, sent later by another partner: credit stays with us.
        other.post(lead_body(email="a@example.com"))
    with time_machine.travel("2026-12-02T10:00:00+09:00", tick=False):
        partner.post(lead_body(email="d@example.com"))
    _set_stage(a["id"], "placed", status="placed", at="2026-11-30T10:00:00+09:00")
    _set_stage(b["id"], "consultation_booked", closed=True, status="closed", at="2026-11-20T10:00:00+09:00")

    mine = partner.get("/api/v1/partner/stats/", {"from": "2026-11-01", "to": "2026-11-30"}).json()
    theirs = other.get("/api/v1/partner/stats/", {"from": "2026-11-01", "to": "2026-11-30"}).json()

    zero = dict.fromkeys(Candidate.PartnerStatus.values, 0)
    assert mine == {
        "from": "2026-11-01",
        "to": "2026-11-30",
        "leads": 3,
        "by_status": {**zero, "placed": 1, "closed": 1, "received": 1},
        "credited": {"leads": 3, "by_status": {**zero, "placed": 1, "closed": 1, "received": 1}},
        "conversion": {
            "contacted": 0.6667,
            "consultation_booked": 0.6667,
            "consultation_held": 0.3333,
            "applied": 0.3333,
            "placed": 0.3333,
        },
    }
    assert theirs["leads"] == 1
    assert theirs["by_status"]["placed"] == 1
    assert theirs["credited"] == {"leads": 0, "by_status": zero}
    assert theirs["conversion"] == dict.fromkeys(
        ["contacted", "consultation_booked", "consultation_held", "applied", "placed"]
    )


def test_stats_reject_bad_dates(partner):
    response = partner.get("/api/v1/partner/stats/", {"from": "2026-12-01", "to": "2026-11-01"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "from"
    assert partner.get("/api/v1/partner/stats/", {"from": "yesterday"}).status_code == 400


@pytest.mark.parametrize("value", ["0233-04-09T00:41:53.614-19:18", "2026-11-24T10:00:00+23:59"])
def test_an_offset_postgresql_refuses_still_filters(partner, value):
    # Python accepts offsets up to 24 h, PostgreSQL only to about 16 h (found by schemathesis).
    partner.post(lead_body())

    for name in ("created_after", "updated_after"):
        response = partner.get("/api/v1/leads/", {name: value})
        assert response.status_code == 200, response.json()


def test_a_date_time_pushed_out_of_range_is_a_400(partner):
    response = partner.get("/api/v1/leads/", {"created_after": "0001-01-01T00:00:00+01:00"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "created_after"
