"""Someone who came from no partner, on a phone, in Japanese: the catalogue, a role, the free
consultation page with the role already chosen, the message with the confirmation link,
the link, the booking."""

import importlib
import io
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Browser, ViewportSize, expect

from accounts.models import Groups
from consultations.models import Booking
from consultations.services import advisor_onboard
from leads.models import Lead
from tests.browser.conftest import screenshot
from tests.clock import clock_at

pytestmark = pytest.mark.django_db(transaction=True)
PHONE: ViewportSize = {"width": 390, "height": 844}
_clock = clock_at("2026-11-24T09:00:00+09:00")  # a plain Tuesday morning
CONFIRM = re.compile(r"https://urakata\.test(/consultations/confirm/[0-9a-f]{64})")


@pytest.fixture
def catalogue() -> None:
    """The role catalogue as migration roles 0002 loads it: a transactional test that ran
    before this one emptied the tables."""
    importlib.import_module("roles.migrations.0002_catalogue").load_catalogue(apps, None)


@pytest.mark.usefixtures("catalogue")
def test_from_the_catalogue_to_a_confirmed_booking_on_a_phone(live_server, browser: Browser):
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    advisor_onboard(email="sato@urakata.example", display_name="佐藤 美咲")
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/roles/")
    expect(page.locator("h1")).to_have_text("バックオフィスの仕事")
    screenshot(page, "phone-roles-index")
    page.get_by_role("link", name=re.compile("^経理")).click()
    expect(page.locator("h1")).to_have_text("経理")
    screenshot(page, "phone-role-accounting")
    page.get_by_role("link", name="相談を予約する").click()

    page.wait_for_url("**/book/?role=accounting")
    expect(page.locator("h1")).to_have_text("無料キャリア相談")
    expect(page.get_by_label("経理")).to_be_checked()
    page.locator("input[name=start]").first.check()
    page.get_by_role("radio", name="電話").check()
    page.get_by_label(re.compile("^姓")).fill("佐々木")
    page.get_by_label(re.compile("^名")).fill("陽菜")
    page.get_by_label("セイ（ふりがな）").fill("ささき")
    page.get_by_label("メイ（ふりがな）").fill("ひな")
    page.get_by_label("メールアドレス").fill("hina@example.com")
    page.get_by_label("現在のお仕事").select_option("factory")
    page.get_by_label(re.compile("プライバシーポリシー")).check()
    screenshot(page, "phone-direct-booking-form")
    page.get_by_role("button", name="この時間で申し込む").click()

    page.wait_for_url("**/book/held/*")
    expect(page.locator("p.notice")).to_contain_text("09:30（日本時間）までにリンクを開いて確認すると")
    screenshot(page, "phone-direct-booking-held")
    booking = Booking.objects.get()
    assert booking.status == "held"
    assert Lead.objects.get().desired_roles == ["accounting"]

    # The message the person receives (the sweep sends it; here at once, by hand).
    call_command("send_due_reminders", stdout=io.StringIO())
    (message,) = [m for m in mail.outbox if m.to == ["hina@example.com"]]
    assert message.subject.startswith("【ご確認ください】キャリア相談 2026-11-24 ")
    match = CONFIRM.search(str(message.body))
    assert match is not None
    page.goto(f"{live_server.url}{match[1]}")
    expect(page.locator("h1")).to_have_text("予約を確定する")
    screenshot(page, "phone-direct-booking-confirm")
    page.get_by_role("button", name="この内容で予約を確定する").click()

    page.wait_for_url(re.compile(r".*/consultations/[0-9a-f]{64}$"))
    expect(page.locator("dl")).to_contain_text("佐藤 美咲")
    expect(page.locator("dl")).to_contain_text("予約済み")
    screenshot(page, "phone-direct-booking-manage")
    context.close()
    booking.refresh_from_db()
    assert (booking.status, booking.mode) == ("booked", "phone")
