"""The partner's statements through its API: its own only, lines without personal data,
the CSV as Excel opens it, a statement's detail in a fixed number of queries."""

import csv
import io
from datetime import date, datetime

import pytest
import time_machine

from leads.models import Lead, PartnerStatement
from leads.payouts.services import statements_issue
from tests.leads.payouts.helpers import rule, send_lead

pytestmark = pytest.mark.django_db


def _issued(partner, *, leads: int = 2, external_ids: bool = True) -> tuple[PartnerStatement, list[Lead]]:
    rule(partner.partner, "lead_accepted", 1500)
    sent = []
    with time_machine.travel(datetime.fromisoformat("2027-01-10T10:00:00+09:00"), tick=True):
        for n in range(leads):
            fields = {"external_id": f"ext-{n}"} if external_ids else {}
            sent.append(send_lead(partner, family_name="佐藤", **fields))
    with time_machine.travel(datetime.fromisoformat("2027-02-01T09:00:00+09:00"), tick=False):
        (statement,) = statements_issue(month=date(2027, 1, 1)).issued
    return statement, sent


def test_a_partner_lists_and_reads_its_own_statements(partner, make_partner):
    statement, sent = _issued(partner)
    other = make_partner("other-site")
    _issued(other)

    listing = partner.get("/api/v1/partner/statements/")
    assert listing.status_code == 200
    assert listing.json()["results"] == [
        {
            "number": statement.number,
            "month": "2027-01",
            "subtotal_jpy": 3000,
            "tax_rate_percent": 10,
            "tax_jpy": 300,
            "total_jpy": 3300,
            "line_count": 2,
            "issued_at": "2027-02-01T09:00:00+09:00",
            "paid_on": None,
        }
    ]
    detail = partner.get(f"/api/v1/partner/statements/{statement.number}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["total_jpy"] == 3300
    lines = statement.lines.order_by("occurred_at", "pk")
    assert body["lines"] == [
        {
            "id": line.pk,
            "kind": "event",
            "event": "lead_accepted",
            "lead_id": str(lead.pk),
            "external_id": lead.external_id,
            "date": "2027-01-10",
            "amount_jpy": 1500,
            "adjusts": None,
            "reason": "",
        }
        for line, lead in zip(lines, sent, strict=True)
    ]
    text = detail.content.decode()
    for personal in ("佐藤", "太郎", "@example.com", "+8190"):
        assert personal not in text


def test_another_partners_statement_is_not_found(partner, make_partner):
    other = make_partner("other-site")
    theirs, _ = _issued(other)
    response = partner.get(f"/api/v1/partner/statements/{theirs.number}/")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert partner.get("/api/v1/partner/statements/").json()["results"] == []


def test_statements_need_a_partner_key(client):
    response = client.get("/api/v1/partner/statements/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_the_csv_opens_in_excel_with_a_bom_crlf_and_the_totals(partner):
    statement, sent = _issued(partner)
    response = partner.get(f"/api/v1/partner/statements/{statement.number}/", {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{statement.number}.csv"'
    raw = response.content
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert text.count("\r\n") == len(text.splitlines()) == 6
    rows = list(csv.reader(io.StringIO(text)))
    lines = list(statement.lines.order_by("occurred_at", "pk"))
    assert rows == [
        ["line", "kind", "event", "lead_id", "external_id", "date", "amount_jpy", "adjusts", "reason"],
        *[
            [
                str(line.pk),
                "event",
                "lead_accepted",
                str(lead.pk),
                lead.external_id,
                "2027-01-10",
                "1500",
                "",
                "",
            ]
            for line, lead in zip(lines, sent, strict=True)
        ],
        ["subtotal_jpy", "", "", "", "", "", "3000", "", ""],
        ["tax_jpy", "", "", "", "", "", "300", "", ""],
        ["total_jpy", "", "", "", "", "", "3300", "", ""],
    ]


def test_a_missing_statement_asked_as_csv_answers_json(partner):
    response = partner.get("/api/v1/partner/statements/PS-2027-999999/", {"format": "csv"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("leads", [1, 30])
def test_a_statements_detail_costs_the_same_queries_whatever_its_size(
    partner, leads, django_assert_num_queries
):
    statement, _ = _issued(partner, leads=leads, external_ids=False)
    url = f"/api/v1/partner/statements/{statement.number}/"
    partner.get(url)  # the key's cache and usage counters warmed
    # The key, the statement, its lines.
    with django_assert_num_queries(3):
        response = partner.get(url)
    assert len(response.json()["lines"]) == leads
