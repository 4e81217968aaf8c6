"""A manager in a real browser (Japanese) registers a partner's webhook endpoint, sees its
secret once, sends a test event, and reads the delivery log with its attempts.
Screenshots: test-output/admin-webhook-endpoint.png, admin-webhook-deliveries.png,
admin-webhook-delivery.png."""

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Groups
from accounts.services import staff_user_create
from leads.models import WebhookDelivery, WebhookEndpoint
from leads.partners.webhook_delivery import webhook_dispatch
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

GRANTED = [
    "view_partner",
    "view_webhookendpoint",
    "add_webhookendpoint",
    "change_webhookendpoint",
    "delete_webhookendpoint",
    "view_webhookdelivery",
    "view_webhookattempt",
]


def test_a_manager_registers_an_endpoint_tests_it_and_reads_the_log(
    live_server, page, make_partner, webhook_receiver
):
    group, _ = Group.objects.get_or_create(name=Groups.MANAGERS)  # emptied by earlier tests
    group.permissions.add(*Permission.objects.filter(content_type__app_label="leads", codename__in=GRANTED))
    staff_user_create(
        email="kato@urakata.example", display_name="加藤", group=Groups.MANAGERS, password="correct-horse-42"
    )
    media = make_partner("career-media", name="キャリアメディア")
    answers = iter([503])
    webhook_receiver.answer = lambda _request: next(answers, 204)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "kato@urakata.example")
    page.fill("#id_password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/leads/webhookendpoint/add/")
    page.select_option("#id_partner", str(media.partner.pk))
    page.fill("#id_url", webhook_receiver.url("/hooks"))
    page.click("input[name=_save]")
    warning = page.locator(".messagelist .warning")
    expect(warning).to_contain_text("署名シークレット")
    shown = re.search(r"whsec_\S+", warning.inner_text())
    endpoint = WebhookEndpoint.objects.get()
    assert shown is not None
    assert shown[0] == endpoint.secret
    webhook_receiver.secrets.append(endpoint.secret)

    # The test event: refused once (503), delivered on its retry.
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", "send_test_event")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("テストイベント")
    webhook_dispatch(time_budget=5, wait_for_due=False)
    WebhookDelivery.objects.update(due_at=timezone.now())  # the retry, without waiting 5 s
    webhook_dispatch(time_budget=5, wait_for_due=False)
    first, retry = webhook_receiver.received
    assert first.webhook_id == retry.webhook_id

    page.goto(f"{live_server.url}/admin/leads/webhookendpoint/{endpoint.pk}/change/")
    expect(page.locator(".field-latest")).to_contain_text("成功")
    screenshot(page, "admin-webhook-endpoint")

    page.goto(f"{live_server.url}/admin/leads/webhookdelivery/")
    expect(page.locator("#result_list")).to_contain_text("テストイベント")
    screenshot(page, "admin-webhook-deliveries")

    delivery = WebhookDelivery.objects.get()
    page.goto(f"{live_server.url}/admin/leads/webhookdelivery/{delivery.pk}/change/")
    attempts = page.locator("#attempt_log-group")
    expect(attempts).to_contain_text("503")
    expect(attempts).to_contain_text("204")
    screenshot(page, "admin-webhook-delivery")
