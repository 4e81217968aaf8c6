"""LINE for candidates, through HTTP: "LINEで受け取る" on the booking's page gives a one-time
code; the code sent to our official account (a signed webhook event, built as LINE signs
them) links the candidate; reminders then go on LINE with buttons (the fake LINE API on
127.0.0.1); ``unfollow`` and the page's "receive by email" go back to email. Webhook
events are handled once each (``webhookEventId``), and an unsigned or wrongly signed
request records nothing."""

import json
import re
from datetime import timedelta
from itertools import count

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from core.models import OutboxMessage
from core.outbox_sweep import outbox_sweep
from leads.candidates.timeline import candidate_timeline
from leads.models import Candidate, LineLinkCode, LineWebhookEvent, TimelineEvent
from tests.consultations.conftest import FRIDAY_MORNING, make_lead, token_for
from tests.fake_line import LINE_USER, line_signature

pytestmark = pytest.mark.django_db
TEN = "2026-11-24T10:00:00+09:00"
SECRET = "test-channel-secret"
OTHER_USER = "U" + "b" * 32
_ids = count(1)


@pytest.fixture(autouse=True)
def _friday_morning():
    with time_machine.travel(FRIDAY_MORNING, tick=False):
        yield


@pytest.fixture
def line_on(settings):
    settings.LINE_BOT_BASIC_ID = "@urakata"
    settings.LINE_CHANNEL_SECRET = SECRET


def _book(lead, client=None) -> str:
    client = client or Client()
    booked = client.post(f"/book/{token_for(lead)}", {"kind": "career", "start": TEN, "mode": "online"})
    assert booked.status_code == 302, booked.content.decode()[:300]
    return str(booked["Location"])


def _code(page) -> str:
    found = re.search(r'id="line-code">(URK-[A-Z0-9]{4}-[A-Z0-9]{4})<', page.content.decode())
    assert found, page.content.decode()
    return found.group(1)


def _event(kind: str, user: str = LINE_USER, event_id: str | None = None, **fields) -> dict[str, object]:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": 1795000000000,
        "source": {"type": "user", "userId": user},
        "webhookEventId": event_id or f"01JFAKE{next(_ids):019d}",
        "deliveryContext": {"isRedelivery": False},
        **fields,
    }


def _text(text: str, **kw) -> dict[str, object]:
    message = {"type": "text", "id": "468789577898262530", "quoteToken": "q-token", "text": text}
    return _event("message", replyToken="r-token", message=message, **kw)


def _deliver(*events, secret: str = SECRET, signature: str | None = None):
    body = json.dumps({"destination": "U" + "f" * 32, "events": list(events)}).encode()
    signed = signature if signature is not None else line_signature(body, secret)
    return Client().post("/line/webhook", body, content_type="application/json", HTTP_X_LINE_SIGNATURE=signed)


def _candidate(lead) -> Candidate:
    return Candidate.objects.get(leads__id=lead.pk)


def test_without_line_settings_the_page_offers_no_line(advisors, lead, settings):
    settings.LINE_BOT_BASIC_ID = ""

    page = Client().get(_book(lead))

    assert page.status_code == 200
    assert "LINEで受け取る" not in page.content.decode()


def test_a_candidate_links_line_with_the_code_from_the_booking_page(advisors, lead, line_on):
    client = Client()
    manage = _book(lead, client)
    page = client.get(manage).content.decode()
    assert "LINEで受け取る" in page

    asked = client.post(manage, {"action": "line_link"})

    code = _code(asked)
    text = asked.content.decode()
    assert 'href="https://line.me/R/ti/p/%40urakata"' in text  # add the official account
    assert f'href="https://line.me/R/oaMessage/%40urakata/?{code}"' in text  # the code typed in
    assert "09:30" in text  # valid 30 minutes, said in Japan time
    assert _deliver(_event("follow"), _text(f"  {code}  ")).status_code == 200

    candidate = _candidate(lead)
    assert (candidate.contact_channel, candidate.line_user_id) == ("line", LINE_USER)
    assert list(LineWebhookEvent.objects.values_list("event_type", flat=True).order_by("id")) == [
        "follow",
        "message",
    ]
    linked_page = client.get(manage).content.decode()
    assert "リマインダーやお知らせはLINEで届きます。" in linked_page
    assert "LINEで受け取る" not in linked_page


@pytest.mark.parametrize("typed", ["urk-{a}-{b}", "{a}{b}", "ＵＲＫ－{a}－{b}", "URK {a} {b}"])
def test_the_code_may_be_typed_in_any_case_width_or_spacing(advisors, lead, line_on, typed):
    client = Client()
    manage = _book(lead, client)
    code = _code(client.post(manage, {"action": "line_link"}))
    a, b = code.split("-")[1:]
    if typed.startswith("urk"):
        a, b = a.lower(), b.lower()
    if "Ｕ" in typed:
        a = "".join(chr(ord(ch) + 0xFEE0) for ch in a)

    _deliver(_text(typed.format(a=a, b=b)))

    assert _candidate(lead).line_user_id == LINE_USER


def test_a_code_works_once_and_not_after_it_expired(advisors, line_on):
    first, second = make_lead(), make_lead()
    client = Client()
    manage_first, manage_second = _book(first, client), None
    code_first = _code(client.post(manage_first, {"action": "line_link"}))
    _deliver(_text(code_first))
    _deliver(_text(code_first, user=OTHER_USER))  # the same code again, from someone else

    assert _candidate(first).line_user_id == LINE_USER
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        manage_second = _book_other(second)
        code_second = _code(client.post(manage_second, {"action": "line_link"}))
    with time_machine.travel(timezone.now() + timedelta(minutes=32), tick=False):
        _deliver(_text(code_second, user=OTHER_USER))

    assert (_candidate(second).contact_channel, _candidate(second).line_user_id) == ("phone", "")
    assert LineLinkCode.objects.filter(used_at__isnull=False).count() == 1


def _book_other(lead) -> str:
    booked = Client().post(
        f"/book/{token_for(lead)}", {"kind": "career", "start": "2026-11-24T11:00:00+09:00", "mode": "online"}
    )
    assert booked.status_code == 302
    return str(booked["Location"])


def test_a_new_code_replaces_the_old_one(advisors, lead, line_on):
    client = Client()
    manage = _book(lead, client)
    old = _code(client.post(manage, {"action": "line_link"}))
    new = _code(client.post(manage, {"action": "line_link"}))

    _deliver(_text(old))
    assert _candidate(lead).line_user_id == ""
    _deliver(_text(new))
    assert _candidate(lead).line_user_id == LINE_USER


def test_lines_account_link_flow_links_by_its_nonce(advisors, lead, line_on):
    client = Client()
    manage = _book(lead, client)
    code = _code(client.post(manage, {"action": "line_link"}))

    _deliver(_event("accountLink", link={"result": "failed", "nonce": code}))
    assert _candidate(lead).line_user_id == ""
    _deliver(_event("accountLink", replyToken="r", link={"result": "ok", "nonce": code}))

    assert (_candidate(lead).contact_channel, _candidate(lead).line_user_id) == ("line", LINE_USER)


def test_unfollow_falls_back_to_email_and_a_redelivered_event_is_ignored(advisors, lead, line_on):
    client = Client()
    manage = _book(lead, client)
    _deliver(_text(_code(client.post(manage, {"action": "line_link"}))))
    unfollow = _event("unfollow", event_id="01JUNFOLLOW0000000000000001")

    assert _deliver(unfollow).status_code == 200
    candidate = _candidate(lead)
    assert (candidate.contact_channel, candidate.line_user_id) == ("email", "")
    assert "LINEで受け取る" in client.get(manage).content.decode()

    # Linked again, then LINE redelivers the old unfollow: handled already, nothing changes.
    _deliver(_text(_code(client.post(manage, {"action": "line_link"}))))
    redelivered = {**unfollow, "deliveryContext": {"isRedelivery": True}}
    assert _deliver(redelivered).status_code == 200

    assert _candidate(lead).line_user_id == LINE_USER
    assert LineWebhookEvent.objects.filter(webhook_event_id=unfollow["webhookEventId"]).count() == 1
    # The advisor sees each change on the candidate's timeline.
    changes = TimelineEvent.objects.filter(kind="channel_changed").order_by("occurred_at", "pk")
    assert [event.data for event in changes] == [
        {"from": "phone", "to": "line", "why": "line_linked"},
        {"from": "line", "to": "email", "why": "line_unfollowed"},
        {"from": "email", "to": "line", "why": "line_linked"},
    ]


def test_the_candidate_switches_back_to_email_from_the_page(advisors, lead, line_on):
    client = Client()
    manage = _book(lead, client)
    _deliver(_text(_code(client.post(manage, {"action": "line_link"}))))

    page = client.post(manage, {"action": "line_unlink"})

    assert page.status_code == 200
    assert "メッセージは再びメールで届きます。" in page.content.decode()
    assert (_candidate(lead).contact_channel, _candidate(lead).line_user_id) == ("email", "")


@pytest.mark.parametrize(
    ("signature", "secret"),
    [("", SECRET), ("bm90LWEtc2lnbmF0dXJl", SECRET), (None, "another-channel-secret")],
)
def test_a_request_without_lines_signature_is_401_and_records_nothing(
    advisors, lead, line_on, signature, secret
):
    client = Client()
    manage = _book(lead, client)
    code = _code(client.post(manage, {"action": "line_link"}))

    response = _deliver(_event("follow"), _text(code), secret=secret, signature=signature)

    assert response.status_code == 401
    assert not LineWebhookEvent.objects.exists()
    assert _candidate(lead).line_user_id == ""
    assert LineLinkCode.objects.get().used_at is None


def test_without_a_channel_secret_the_webhook_refuses_everything(settings):
    settings.LINE_CHANNEL_SECRET = ""

    assert _deliver(_event("follow")).status_code == 401
    assert not LineWebhookEvent.objects.exists()


def test_the_webhook_takes_only_post():
    assert Client().get("/line/webhook").status_code == 405


def test_other_events_and_messages_are_recorded_and_change_nothing(advisors, lead, line_on):
    response = _deliver(_event("follow"), _text("こんにちは"), _event("postback", postback={"data": "x"}))

    assert response.status_code == 200
    assert LineWebhookEvent.objects.count() == 3
    assert not Candidate.objects.exclude(line_user_id="").exists()


@pytest.mark.parametrize(
    "texts",
    [
        ("ja", "予約を開く", "カレンダーに追加", "裏方："),
        ("en", "Open my booking", "Add to calendar", "Urakata: a reminder"),
    ],
)
def test_once_linked_reminders_come_on_line_with_buttons_and_a_plain_fallback(
    advisors, lead, line_on, fake_line, texts
):
    language, open_label, calendar_label, text_start = texts
    client = Client()
    manage = _book(lead, client)
    _deliver(_text(_code(client.post(manage, {"action": "line_link"}))))
    token = manage.rsplit("/", 1)[1]
    lead.candidate.bookings.update(language=language)
    OutboxMessage.objects.exclude(kind="booking.reminder").update(state="cancelled")

    with time_machine.travel("2026-11-23T10:00:00+09:00", tick=False):
        outbox_sweep()

    (push,) = fake_line.requests
    assert push["json"]["to"] == LINE_USER
    (flex,) = push["json"]["messages"]
    assert flex["altText"].startswith(text_start)
    assert flex["altText"].endswith(f"https://urakata.test/consultations/{token}")
    assert [button["action"] for button in flex["contents"]["footer"]["contents"]] == [
        {"type": "uri", "label": open_label, "uri": f"https://urakata.test/consultations/{token}"},
        {
            "type": "uri",
            "label": calendar_label,
            "uri": f"https://urakata.test/api/v1/consultations/manage/{token}/ics",
        },
    ]
    assert mail.outbox == []


def test_after_unfollow_the_reminder_goes_by_email(advisors, lead, line_on, fake_line):
    client = Client()
    manage = _book(lead, client)
    _deliver(_text(_code(client.post(manage, {"action": "line_link"}))))
    _deliver(_event("unfollow"))
    OutboxMessage.objects.exclude(kind="booking.reminder").update(state="cancelled")

    with time_machine.travel("2026-11-23T10:00:00+09:00", tick=False):
        outbox_sweep()

    assert fake_line.requests == []
    (email,) = mail.outbox
    assert email.to == [lead.candidate.email]


def test_the_timeline_says_how_the_channel_changed(advisors, lead, line_on):
    client = Client()
    manage = _book(lead, client)
    _deliver(_text(_code(client.post(manage, {"action": "line_link"}))))
    client.post(manage, {"action": "line_unlink"})

    with translation.override("ja"):
        entries = [
            e for e in candidate_timeline(candidate_id=_candidate(lead).pk) if e.kind == "channel_changed"
        ]
        assert [(str(e.label), e.detail) for e in entries] == [  # newest first
            ("連絡手段の変更", "LINE → メール 本人がLINEでの受け取りをやめた"),
            ("連絡手段の変更", "電話 → LINE 本人がLINEを連携"),
        ]


def test_an_erased_persons_link_code_no_longer_links_anyone(advisors, lead, line_on):
    from leads.privacy.records import person_erase

    client = Client()
    code = _code(client.post(_book(lead, client), {"action": "line_link"}))
    record = person_erase(candidate=_candidate(lead), requested_by="本人", by=None)

    assert record.counts["line_link_codes"] == 1
    assert _deliver(_event("follow"), _text(code)).status_code == 200
    candidate = _candidate(lead)
    assert (candidate.line_user_id, candidate.erased_at is not None) == ("", True)
    assert LineLinkCode.objects.count() == 0
