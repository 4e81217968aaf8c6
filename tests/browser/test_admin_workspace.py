"""An advisor in a real browser: logs in, finds a candidate by kana typed in hiragana,
moves the stage with the list's action, and sees the change on the candidate's timeline."""

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.models import Candidate
from tests.browser.conftest import screenshot
from tests.leads.conftest import lead_body

pytestmark = pytest.mark.django_db(transaction=True)


def _advisors_group() -> None:
    """Earlier transactional tests empty every table, the staff groups and their grants
    (made by migrations) included: give the Advisors group back what it needs here."""
    group, _ = Group.objects.get_or_create(name=Groups.ADVISORS)
    needed = ["view_candidate", "change_candidate", "view_lead", "view_partner", "view_timelineevent"]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="leads", codename__in=needed))


def test_an_advisor_finds_a_candidate_by_kana_and_moves_the_stage(live_server, page, make_partner):
    _advisors_group()
    advisor = staff_user_create(
        email="sato@urakata.example", display_name="佐藤", group=Groups.ADVISORS, password="correct-horse-42"
    )
    make_partner().post(lead_body(family_name="山田", family_name_kana="ヤマダ", given_name_kana="タロウ"))
    make_partner("other").post(lead_body(family_name="鈴木", family_name_kana="スズキ"))
    candidate = Candidate.objects.get(family_name="山田")
    Candidate.objects.filter(pk=candidate.pk).update(advisor=advisor)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "sato@urakata.example")
    page.fill("#id_password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/leads/candidate/")
    page.fill("#searchbar", "やまだ")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**/admin/leads/candidate/?q=*")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    assert "山田" in rows.first.inner_text()

    rows.first.locator("input.action-select").check()
    page.select_option("select[name=action]", "move_to_stage")
    page.select_option("select[name=stage]", "contacted")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_have_text("1 件の求職者を更新しました。")

    page.goto(f"{live_server.url}/admin/leads/candidate/{candidate.pk}/change/")
    timeline = page.locator("table.timeline")
    assert "ステージ変更" in timeline.inner_text()
    assert "佐藤" in timeline.locator("tr.timeline-stage_changed").first.inner_text()
    screenshot(page, "admin-candidate-timeline")

    candidate.refresh_from_db()
    assert candidate.stage == "contacted"


def test_an_advisor_opens_the_dashboard_from_the_top_bar(live_server, page, make_partner):
    _advisors_group()
    advisor = staff_user_create(
        email="sato@urakata.example", display_name="佐藤", group=Groups.ADVISORS, password="correct-horse-42"
    )
    make_partner().post(lead_body(family_name="山田", family_name_kana="ヤマダ", given_name_kana="タロウ"))
    make_partner("other").post(lead_body(family_name="鈴木", family_name_kana="スズキ"))
    Candidate.objects.update(advisor=advisor)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "sato@urakata.example")
    page.fill("#id_password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.click("#nav-dashboard")
    page.wait_for_url("**/admin/leads/candidate/dashboard/")

    # Both new leads wait for a first contact, each with its SLA clock; the funnel is drawn
    # (inline SVG, no script) with its figures as text.
    expect(page.locator("#dashboard-new-leads tbody tr")).to_have_count(2)
    expect(page.locator("svg.funnel-chart rect")).to_have_count(len(Candidate.Stage.values))
    expect(page.locator(".funnel-table tr.funnel-new td").nth(1)).to_have_text("2")
    screenshot(page, "admin-dashboard")
