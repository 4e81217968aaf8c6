"""A candidate on a phone links LINE from their booking's page ("LINEで受け取る"): the page
gives a code, the code reaches our webhook as LINE would send it (signed), and the page
then says that messages come on LINE, with the way back to email."""

import json
import re
import urllib.request

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Browser, ViewportSize, expect

from accounts.models import Groups
from consultations.services import advisor_onboard
from leads.models import Candidate
from tests.browser.conftest import screenshot
from tests.clock import clock_at
from tests.fake_line import LINE_USER, line_signature
from tests.partners import lead_body

pytestmark = pytest.mark.django_db(transaction=True)
PHONE: ViewportSize = {"width": 390, "height": 844}
_clock = clock_at("2026-11-24T09:00:00+09:00")


def _send_to_webhook(live_server, text: str, secret: str) -> int:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": 1795000000000,
        "source": {"type": "user", "userId": LINE_USER},
        "webhookEventId": "01JBROWSER00000000000000001",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": "r-token",
        "message": {"type": "text", "id": "1", "quoteToken": "q", "text": text},
    }
    body = json.dumps({"destination": "U" + "f" * 32, "events": [event]}).encode()
    request = urllib.request.Request(
        f"{live_server.url}/line/webhook",
        data=body,
        headers={"Content-Type": "application/json", "X-Line-Signature": line_signature(body, secret)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_a_candidate_links_line_from_the_booking_page_on_a_phone(
    live_server, browser: Browser, make_partner, settings
):
    settings.LINE_BOT_BASIC_ID = "@urakata"
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    advisor_onboard(email="sato@urakata.example", display_name="佐藤 美咲")
    booking_url = make_partner().post(lead_body()).json()["booking_url"]
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}{booking_url.removeprefix('https://urakata.test')}")
    page.locator("input[name=start]").first.check()
    page.locator("input[name=mode][value=phone]").check()
    page.get_by_role("button", name="この時間で予約する").click()
    page.wait_for_url("**/consultations/*")

    page.get_by_role("button", name="LINEで受け取る").click()

    code = page.locator("#line-code").inner_text()
    assert re.fullmatch(r"URK-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    send = page.get_by_role("link", name="LINEを開いてコードを送る")
    expect(send).to_have_attribute("href", f"https://line.me/R/oaMessage/%40urakata/?{code}")
    expect(page.get_by_role("link", name="LINEで友だち追加")).to_have_attribute(
        "href", "https://line.me/R/ti/p/%40urakata"
    )
    page.locator("#line-heading").scroll_into_view_if_needed()
    screenshot(page, "phone-line-link-code")

    assert _send_to_webhook(live_server, code, settings.LINE_CHANNEL_SECRET) == 200
    page.reload()

    expect(page.locator("section.line p.notice")).to_have_text("リマインダーやお知らせはLINEで届きます。")
    screenshot(page, "phone-line-linked")
    candidate = Candidate.objects.get()
    assert (candidate.contact_channel, candidate.line_user_id) == ("line", LINE_USER)

    page.get_by_role("button", name="メールで受け取るように戻す").click()
    expect(page.locator("p.notice").first).to_have_text("メッセージは再びメールで届きます。")
    expect(page.get_by_role("button", name="LINEで受け取る")).to_be_visible()
    context.close()
    candidate.refresh_from_db()
    assert (candidate.contact_channel, candidate.line_user_id) == ("email", "")
