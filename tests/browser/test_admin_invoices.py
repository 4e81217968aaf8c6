"""A manager in a real browser: the invoice list (an overdue invoice marked), the invoice's
page, its PDF opened from the page, and the payment recorded with the list's action.
Screenshots: test-output/admin-invoices.png, admin-invoice.png; the PDF: test-output/invoice.pdf."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.models import Invoice
from tests.browser.conftest import OUTPUT, screenshot
from tests.leads.invoices.helpers import employer_with_terms, place

pytestmark = pytest.mark.django_db(transaction=True)


def _managers_group() -> None:
    """Earlier transactional tests empty every table, the groups' grants included."""
    group, _ = Group.objects.get_or_create(name=Groups.MANAGERS)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="leads", codename__in=["view_invoice", "mark_paid_invoice"]
        )
    )


def test_a_manager_sees_an_invoice_opens_its_pdf_and_records_the_payment(live_server, page):
    _managers_group()
    Group.objects.get_or_create(name=Groups.ADVISORS)
    manager = staff_user_create(
        email="kato@urakata.example", display_name="加藤", group=Groups.MANAGERS, password="correct-horse-42"
    )
    today = timezone.localdate()
    # Recorded 40 days ago with a start that day, on 30-day terms: overdue for 10 days.
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        place(
            by=manager,
            employer=employer_with_terms(effective_from=today - timedelta(days=400)),
            start_date=today - timedelta(days=40),
        )
    invoice = Invoice.objects.get()
    assert invoice.due_on == today - timedelta(days=10)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "kato@urakata.example")
    page.fill("#id_password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/leads/invoice/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(invoice.number)
    expect(rows.first).to_contain_text("期限切れ")
    screenshot(page, "admin-invoices")

    rows.first.locator("th a").click()
    page.wait_for_url(f"**/admin/leads/invoice/{invoice.pk}/change/")
    expect(page.locator("#content")).to_contain_text("T1234567890123")
    screenshot(page, "admin-invoice")

    pdf = page.request.get(f"{live_server.url}/admin/leads/invoice/{invoice.pk}/pdf/")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
    (OUTPUT / "invoice.pdf").write_bytes(pdf.body())  # to look at: pdftoppm -png invoice.pdf

    page.goto(f"{live_server.url}/admin/leads/invoice/")
    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "mark_paid_today")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("1 件の請求書を入金済みとして記録しました。")
    invoice.refresh_from_db()
    assert invoice.paid_on == today
