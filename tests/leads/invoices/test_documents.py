"""The PDF (its text read back with pypdf), `manage.py invoice_pdf`, the admin's download, the
paid-date action, and the month's journal CSV for the accounting software."""

import io
from datetime import date

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from pypdf import PdfReader

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.invoices.exports import invoices_journal_csv, invoices_of_month
from leads.invoices.pdf import invoice_pdf
from leads.models import Invoice
from leads.placements.fees import placement_record_leaving
from tests.clock import clock_at
from tests.leads.invoices.helpers import employer_with_terms, place

pytestmark = pytest.mark.django_db

_clock = clock_at("2027-03-01T10:00:00+09:00")


@pytest.fixture
def advisor():
    return staff_user_create(email="docs@urakata.example", display_name="Docs", group=Groups.ADVISORS)


@pytest.fixture
def manager():
    return staff_user_create(email="boss@urakata.example", display_name="Boss", group=Groups.MANAGERS)


@pytest.fixture
def invoiced(advisor):
    """An invoice of 1,080,000 + 108,000, and its credit note (day 10: 80% back)."""
    placement = place(by=advisor, employer=employer_with_terms(), start_date=date(2027, 3, 1))
    with time_machine.travel("2027-03-12T10:00:00+09:00", tick=False):
        placement_record_leaving(placement_id=placement.pk, left_on=date(2027, 3, 10), by=advisor)
    return Invoice.objects.get(kind="invoice"), Invoice.objects.get(kind="credit_note")


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    return reader.pages[0].extract_text()


def test_the_invoice_pdf_is_a_qualified_invoice(invoiced):
    invoice, _note = invoiced

    text = _text(invoice_pdf(invoice=invoice))

    for expected in (
        "請求書（適格請求書）",
        "株式会社テスト商事",
        "御中",
        "株式会社ウラカタキャリア（デモ）",
        "登録番号：T1234567890123",
        "INV-2027-000001",
        "2027年03月01日",  # issued
        "お支払期日",
        "2027年03月31日",  # due: 30 days
        "人材紹介手数料（経理アシスタント",
        "10%対象 小計（税抜）",
        "¥1,080,000",
        "消費税（10%）",
        "¥108,000",
        "合計（税込）",
        "¥1,188,000",
        "切り捨て",
    ):
        assert expected in text, expected


def test_the_credit_note_pdf_names_the_invoice_it_refunds(invoiced):
    _invoice, note = invoiced

    text = _text(invoice_pdf(invoice=note))

    for expected in (
        "返還インボイス（適格返還請求書）",
        "CN-2027-000001",
        "対象の請求書",
        "INV-2027-000001",
        "登録番号：T1234567890123",
        "2027年03月12日",
        "¥864,000",
        "消費税（10%）",
        "¥86,400",
        "¥950,400",
    ):
        assert expected in text, expected
    assert "お支払期日" not in text


def test_the_command_writes_the_pdf(invoiced, tmp_path):
    out = io.StringIO()
    target = tmp_path / "invoice.pdf"

    call_command("invoice_pdf", "INV-2027-000001", "-o", str(target), stdout=out)

    assert out.getvalue() == f"INV-2027-000001: {target}\n"
    assert "¥1,188,000" in _text(target.read_bytes())


def test_the_command_refuses_an_unknown_number(invoiced):
    with pytest.raises(CommandError, match="No invoice or credit note numbered 'INV-2027-999999'"):
        call_command("invoice_pdf", "INV-2027-999999")


def test_advisors_download_the_pdf_from_the_admin(client: Client, advisor, invoiced):
    invoice, _note = invoiced
    client.force_login(advisor)

    page = client.get(f"/admin/leads/invoice/{invoice.pk}/change/")
    response = client.get(f"/admin/leads/invoice/{invoice.pk}/pdf/")

    assert page.status_code == 200
    assert f'href="/admin/leads/invoice/{invoice.pk}/pdf/"' in page.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="INV-2027-000001.pdf"'
    assert "登録番号：T1234567890123" in _text(response.content)


def test_a_manager_records_the_payment_and_an_advisor_cannot(client: Client, advisor, manager, invoiced):
    invoice, note = invoiced
    data = {"action": "mark_paid_today", "_selected_action": [str(invoice.pk)]}

    client.force_login(advisor)
    refused = client.post("/admin/leads/invoice/", data)
    invoice.refresh_from_db()
    assert invoice.paid_on is None
    assert refused.status_code == 200  # the action is not offered: "No action selected"

    with time_machine.travel("2027-03-25T10:00:00+09:00", tick=False):
        client.force_login(manager)  # sessions expire: log in on the day
        response = client.post(
            "/admin/leads/invoice/", {**data, "_selected_action": [str(invoice.pk), str(note.pk)]}
        )

    assert response.status_code == 302
    paid = dict(Invoice.objects.values_list("number", "paid_on"))
    assert paid == {"INV-2027-000001": date(2027, 3, 25), "CN-2027-000001": None}


def test_the_months_journal_is_in_yayois_import_format(client: Client, manager, invoiced):
    client.force_login(manager)

    response = client.get("/admin/leads/invoice/journal/", {"month": "2027-03"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="invoices-2027-03-yayoi.csv"'
    lines = response.content.decode("cp932").split("\r\n")
    assert lines == [
        "2000,,,2027/03/01,売掛金,株式会社テスト商事,,対象外,1188000,0,売上高,,,課税売上10%,1188000,108000,"
        "請求 INV-2027-000001 株式会社テスト商事,INV-2027-000001,2027/03/31,0,,,0,0,no",
        "2000,,,2027/03/12,売上高,,,課税売上10%,950400,86400,売掛金,株式会社テスト商事,,対象外,950400,0,"
        "返還 CN-2027-000001（INV-2027-000001） 株式会社テスト商事,CN-2027-000001,,0,,,0,0,no",
        "",
    ]
    assert all(len(line.split(",")) == 25 for line in lines if line)
    assert invoices_journal_csv(invoices=invoices_of_month(year=2027, month=2)) == b""


def test_the_journal_form_refuses_a_bad_month(client: Client, manager):
    client.force_login(manager)

    assert client.get("/admin/leads/invoice/journal/").status_code == 200
    assert client.get("/admin/leads/invoice/journal/", {"month": "2027-13"}).status_code == 400
