"""A manager in a real browser (Japanese): the partner's page with its payout rules, an
issued statement with its lines, and the dashboard's chart of what each partner's outcomes
cost. Screenshots: test-output/admin-partner-rules.png, admin-statement.png,
admin-dashboard-roi.png."""

from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.models import PartnerStatement
from leads.payouts.services import previous_month, statements_issue
from tests.browser.conftest import screenshot
from tests.leads.payouts.helpers import move, rule, send_lead

pytestmark = pytest.mark.django_db(transaction=True)

VIEWING = ["view_partner", "change_partner", "view_partnerstatement", "view_payoutline", "view_payoutrule"]


def _managers_group() -> None:
    """Earlier transactional tests empty every table, the groups' grants included."""
    group, _ = Group.objects.get_or_create(name=Groups.MANAGERS)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="leads",
            codename__in=[*VIEWING, "view_candidate", "add_payoutrule", "mark_paid_partnerstatement"],
        )
    )


def test_a_manager_sees_rules_a_statement_and_what_partners_cost(live_server, page, make_partner):
    _managers_group()
    Group.objects.get_or_create(name=Groups.ADVISORS)
    manager = staff_user_create(
        email="kato@urakata.example", display_name="加藤", group=Groups.MANAGERS, password="correct-horse-42"
    )
    media = make_partner("career-media", name="キャリアメディア", placement_licence_number="13-ユ-123456")
    rule(media.partner, "lead_accepted", 3000)
    rule(media.partner, "consultation_held", 8000)
    rule(media.partner, "placement", 50000)
    last_month = previous_month(timezone.now())
    with time_machine.travel(timezone.now() - timedelta(days=timezone.localdate().day + 5), tick=True):
        leads = [send_lead(media, external_id=f"cm-{n}") for n in range(4)]
        move(manager, leads[0], "consulted")
        move(manager, leads[1], "placed")
    statements_issue(month=last_month)
    statement = PartnerStatement.objects.get()

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "kato@urakata.example")
    page.fill("#id_password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/leads/partner/{media.partner.pk}/change/")
    expect(page.locator("#payout_rules-group")).to_contain_text("成約")
    screenshot(page, "admin-partner-rules")

    page.goto(f"{live_server.url}/admin/leads/partnerstatement/{statement.pk}/change/")
    expect(page.locator("#content")).to_contain_text(statement.number)
    expect(page.locator("#content")).to_contain_text("77,000")  # (4 x 3,000 + 8,000 + 50,000) x 1.1
    screenshot(page, "admin-statement")

    page.goto(f"{live_server.url}/admin/leads/candidate/dashboard/")
    roi = page.locator("#dashboard-roi")
    expect(roi).to_contain_text("キャリアメディア")
    screenshot(page, "admin-dashboard-roi")
    assert statement.month == date(last_month.year, last_month.month, 1)
