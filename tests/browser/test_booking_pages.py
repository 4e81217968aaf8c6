"""A candidate on a phone: opens the booking link from a lead, books, then cancels."""

from datetime import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import Browser, ViewportSize, expect

from accounts.models import Groups
from consultations.models import Booking
from consultations.services import advisor_onboard
from tests.browser.conftest import screenshot
from tests.clock import clock_at
from tests.partners import lead_body

pytestmark = pytest.mark.django_db(transaction=True)
PHONE: ViewportSize = {"width": 390, "height": 844}
# A plain Tuesday at 09:00 JST: the first free time is known, whatever the day of the run (the
# live server runs in this process, on this clock; the pages are rendered there).
_clock = clock_at("2026-11-24T09:00:00+09:00")


def test_a_candidate_books_and_cancels_on_a_phone(live_server, browser: Browser, make_partner):
    for name in (Groups.ADVISORS, Groups.MANAGERS):
        Group.objects.get_or_create(name=name)
    advisor_onboard(email="sato@urakata.example", display_name="佐藤 美咲")
    booking_url = make_partner().post(lead_body()).json()["booking_url"]
    path = booking_url.removeprefix("https://urakata.test")
    context = browser.new_context(locale="ja-JP", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}{path}")
    expect(page.locator("h1")).to_have_text("面談を予約する")
    first_slot = page.locator("input[name=start]").first
    chosen = first_slot.get_attribute("value")
    first_slot.check()
    page.locator("input[name=mode][value=phone]").check()
    screenshot(page, "phone-booking-form")
    page.get_by_role("button", name="この時間で予約する").click()

    page.wait_for_url("**/consultations/*")
    expect(page.locator("dl")).to_contain_text("佐藤 美咲")
    screenshot(page, "phone-booking-confirmed")
    booking = Booking.objects.get()
    assert chosen is not None
    assert booking.start_at == datetime.fromisoformat(chosen)
    # The first time offered: two hours' notice from 09:00 and a few seconds, on the quarter.
    assert timezone.localtime(booking.start_at).isoformat() == "2026-11-24T11:15:00+09:00"

    page.fill("#reason", "都合が悪くなりました")
    page.get_by_role("button", name="この面談をキャンセルする").click()
    expect(page.locator("p.notice")).to_have_text("面談をキャンセルしました。")
    screenshot(page, "phone-booking-cancelled")
    context.close()

    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "都合が悪くなりました")
