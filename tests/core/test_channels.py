"""Channels (core.channels): which one a person gets, and the LINE push client against a
fake LINE server on 127.0.0.1 (no network)."""

import json
import logging
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from core.channels import (
    Attachment,
    Button,
    Message,
    PermanentError,
    Recipient,
    channel_choose,
    channels_check,
    message_send,
)
from core.channels import line as line_channel
from core.channels import sms as sms_channel
from core.channels.base import idempotency_key_for
from core.channels.line import LineMessagingApi
from core.models import OutboxMessage
from core.outbox import OutboxItem, Outcome, TransientError, outbox_enqueue, outbox_handler
from core.outbox_sweep import outbox_sweep
from tests.fake_line import ACCEPTED, LINE_USER

ROOT = Path(__file__).resolve().parents[2]
TEN = datetime.fromisoformat("2026-11-24T10:00:00+09:00")


@pytest.fixture(autouse=True)
def _empty_outboxes():
    sms_channel.outbox.clear()
    line_channel.outbox.clear()


def _recipient(preferred, *, email="a@example.com", phone="+819012345678", line=LINE_USER, language="ja"):
    return Recipient(email=email, phone=phone, line_user_id=line, preferred=preferred, language=language)


@pytest.mark.parametrize(
    ("preferred", "email", "phone", "line", "expected"),
    [
        ("email", "a@example.com", "+819012345678", LINE_USER, ("email", "a@example.com")),
        ("email", None, "+819012345678", LINE_USER, ("sms", "+819012345678")),
        ("sms", "a@example.com", "+819012345678", LINE_USER, ("sms", "+819012345678")),
        ("sms", "a@example.com", None, LINE_USER, ("email", "a@example.com")),
        ("line", "a@example.com", "+819012345678", LINE_USER, ("line", LINE_USER)),
        ("line", "a@example.com", "+819012345678", None, ("email", "a@example.com")),
        ("line", None, "+819012345678", None, ("sms", "+819012345678")),
        # "phone" is "call me": written messages go by email (with the .ics), else SMS.
        ("phone", "a@example.com", "+819012345678", LINE_USER, ("email", "a@example.com")),
        ("phone", None, "+819012345678", LINE_USER, ("sms", "+819012345678")),
        ("phone", None, None, LINE_USER, None),
    ],
)
def test_the_preferred_channel_decides_then_what_reaches_the_person(preferred, email, phone, line, expected):
    assert channel_choose(_recipient(preferred, email=email, phone=phone, line=line)) == expected


@override_settings(SMS_BACKEND="", LINE_BACKEND="")
def test_a_channel_that_is_off_is_passed_over():
    assert channel_choose(_recipient("line")) == ("email", "a@example.com")
    assert channel_choose(_recipient("sms", email=None)) is None


def _templates(tmp_path, settings):
    (tmp_path / "demo" / "email").mkdir(parents=True)
    (tmp_path / "demo" / "short").mkdir()
    (tmp_path / "demo" / "email" / "hello_subject.txt").write_text("{% load i18n %}{{ greeting }} subject\n")
    (tmp_path / "demo" / "email" / "hello_body.txt").write_text("{{ greeting }} body\n")
    (tmp_path / "demo" / "short" / "hello.txt").write_text(
        "{% load i18n %}{% get_current_language as lang %}{{ greeting }} short ({{ lang }})\n"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]


def test_email_gets_subject_body_and_attachments(tmp_path, settings):
    _templates(tmp_path, settings)

    used = message_send(
        recipient=_recipient("email"),
        template="demo/hello",
        context={"greeting": "Hi"},
        outbox_key="k:1",
        attachments=lambda: [Attachment("a.ics", "BEGIN:VCALENDAR", "text/calendar")],
    )

    assert used == "email"
    (sent,) = mail.outbox
    assert (sent.subject, sent.body, sent.to) == ("Hi subject", "Hi body\n", ["a@example.com"])
    assert sent.attachments == [("a.ics", "BEGIN:VCALENDAR", "text/calendar")]


def test_sms_and_line_get_the_short_text_in_the_persons_language(tmp_path, settings):
    _templates(tmp_path, settings)
    attachments_built = []

    message_send(
        recipient=_recipient("sms", language="en"),
        template="demo/hello",
        context={"greeting": "Hi"},
        outbox_key="k:1",
        attachments=lambda: attachments_built.append(1) or [],  # type: ignore[func-returns-value]
    )
    message_send(
        recipient=_recipient("line"), template="demo/hello", context={"greeting": "やあ"}, outbox_key="k:2"
    )

    assert sms_channel.outbox == [
        Message(to="+819012345678", body="Hi short (en)", idempotency_key=idempotency_key_for("k:1"))
    ]
    assert line_channel.outbox == [
        Message(to=LINE_USER, body="やあ short (ja)", idempotency_key=idempotency_key_for("k:2"))
    ]
    assert attachments_built == []  # the .ics is built for email only
    assert mail.outbox == []


def test_the_file_sms_backend_appends_json_lines(tmp_path, settings):
    settings.SMS_FILE_PATH = str(tmp_path / "sms" / "out.jsonl")
    backend = sms_channel.FileSms()

    backend.send(Message(to="+819012345678", body="一通目"))
    backend.send(Message(to="+819012345679", body="second"))

    lines = (tmp_path / "sms" / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"to": "+819012345678", "body": "一通目"},
        {"to": "+819012345679", "body": "second"},
    ]


def test_the_console_sms_backend_prints(capsys):
    sms_channel.ConsoleSms().send(Message(to="+819012345678", body="hello"))

    assert capsys.readouterr().out == f"SMS to +819012345678:\nhello\n{'-' * 40}\n"


def test_the_idempotency_key_is_stable_per_outbox_row():
    assert idempotency_key_for("booking.reminder:booking:x:1:3600s") == idempotency_key_for(
        "booking.reminder:booking:x:1:3600s"
    )
    assert idempotency_key_for("a") != idempotency_key_for("b")
    assert idempotency_key_for("a").version == 5


# --- LINE Messaging API push (line-bot-sdk), against a fake LINE server -------------------


def _push(key="row-key", buttons=()):
    LineMessagingApi().send(
        Message(
            to=LINE_USER, body="明日10:00 ご相談", idempotency_key=idempotency_key_for(key), buttons=buttons
        )
    )


def test_a_push_is_one_post_with_the_token_and_a_retry_key(fake_line):
    _push()

    (request,) = fake_line.requests
    assert request["path"] == "/v2/bot/message/push"
    assert request["headers"]["Authorization"] == "Bearer test-channel-token"
    assert request["headers"]["X-Line-Retry-Key"] == str(idempotency_key_for("row-key"))
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {
        "to": LINE_USER,
        "messages": [{"type": "text", "text": "明日10:00 ご相談"}],
        "notificationDisabled": False,
    }


def test_buttons_go_as_a_flex_bubble_with_the_text_as_alt_text(fake_line):
    _push(
        buttons=(
            Button("予約を開く", "https://urakata.test/consultations/t"),
            Button("カレンダー", "https://urakata.test/x.ics"),
        )
    )

    (request,) = fake_line.requests
    (flex,) = request["json"]["messages"]
    assert flex["type"] == "flex"
    assert flex["altText"] == "明日10:00 ご相談"
    assert flex["contents"]["body"]["contents"] == [
        {"type": "text", "text": "明日10:00 ご相談", "wrap": True}
    ]
    assert [b["action"] for b in flex["contents"]["footer"]["contents"]] == [
        {"type": "uri", "label": "予約を開く", "uri": "https://urakata.test/consultations/t"},
        {"type": "uri", "label": "カレンダー", "uri": "https://urakata.test/x.ics"},
    ]


def test_a_retry_key_line_already_accepted_counts_as_sent_and_is_delivered_once(fake_line):
    _push()
    _push()  # the same row again (a worker died before marking it): LINE answers 409

    assert len(fake_line.requests) == 2
    assert len(fake_line.delivered) == 1


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        ((500, {"message": "Internal error"}, {}), TransientError, "LINE answered 500: Internal error"),
        ((503, {}, {}), TransientError, "LINE answered 503: "),
        (
            (429, {"message": "Too many requests"}, {"Retry-After": "30"}),
            TransientError,
            "LINE answered 429: Too many requests (Retry-After: 30)",
        ),
        (
            (400, {"message": "The request body has 1 error(s)"}, {}),
            PermanentError,
            "LINE answered 400: The request body has 1 error(s)",
        ),
        (
            (401, {"message": "Authentication failed"}, {}),
            PermanentError,
            "LINE answered 401: Authentication failed",
        ),
        ((403, {"message": "Not authorized"}, {}), PermanentError, "LINE answered 403: Not authorized"),
    ],
)
def test_5xx_and_429_are_transient_other_4xx_permanent(fake_line, answer, error, text):
    status, reply, headers = answer
    fake_line.script = [(status, reply, 0, headers)]

    with pytest.raises(error) as raised:
        _push()

    assert str(raised.value) == text
    assert fake_line.delivered == []


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("120", timedelta(seconds=120)),
        ("Sun, 06 Dec 2026 10:02:00 GMT", timedelta(minutes=2)),  # an HTTP date, 2 minutes on
        ("86400", timedelta(hours=1)),  # not believed beyond an hour
        ("soon", None),
    ],
)
def test_lines_retry_after_tells_the_outbox_when_to_try_again(fake_line, header, wait):
    fake_line.script = [(429, {"message": "Too many requests"}, 0, {"Retry-After": header})]

    with (
        time_machine.travel(datetime(2026, 12, 6, 10, 0, tzinfo=UTC), tick=False),
        pytest.raises(TransientError) as raised,
    ):
        _push()

    assert raised.value.retry_after == wait


def test_a_slow_answer_times_out_as_transient(fake_line):
    # The server answers 200 after 2 s: only a read timeout shorter than that (0.5 s) turns
    # the push into an error, and the request did reach it (not a connect timeout).
    fake_line.script = [(200, ACCEPTED, 2.0)]

    with pytest.raises(TransientError, match=r"^LINE unreachable: ReadTimeoutError$"):
        _push()

    assert len(fake_line.requests) == 1


def test_an_unreachable_server_is_transient(fake_line, settings):
    fake_line.close()
    settings.LINE_API_BASE_URL = fake_line.url  # nothing listens there any more

    with pytest.raises(TransientError, match=r"^LINE unreachable: NewConnectionError$"):
        _push()


def test_without_a_token_line_fails_permanently(fake_line, settings):
    settings.LINE_CHANNEL_ACCESS_TOKEN = ""

    with pytest.raises(PermanentError, match="LINE_CHANNEL_ACCESS_TOKEN is not set"):
        _push()
    assert fake_line.requests == []


@outbox_handler("test.line")
def _line_message(message):
    used = message_send(
        recipient=_recipient("line"),
        template="demo/hello",
        context={"greeting": "Hi"},
        outbox_key=message.key,
    )
    return Outcome.SENT if used else Outcome.SKIPPED


@pytest.mark.django_db
def test_through_the_outbox_a_5xx_is_retried_with_the_same_retry_key_then_a_4xx_fails(
    fake_line, tmp_path, settings
):
    _templates(tmp_path, settings)
    outbox_enqueue(items=[OutboxItem(kind="test.line", subject="s", due_at=TEN)])
    fake_line.script = [(500, {"message": "Internal error"}, 0), (400, {"message": "Invalid to"}, 0)]

    outbox_sweep(now=TEN)
    row = OutboxMessage.objects.get()
    assert (row.state, row.attempts, row.last_error) == (
        "pending",
        1,
        "TransientError: LINE answered 500: Internal error",
    )
    outbox_sweep(now=row.due_at)

    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (
        "failed",
        2,
        "PermanentError: LINE answered 400: Invalid to",
    )
    keys = [r["headers"]["X-Line-Retry-Key"] for r in fake_line.requests]
    assert keys == [str(idempotency_key_for("test.line:s:1"))] * 2
    assert uuid.UUID(keys[0]).version == 5


# --- Start-up: what is off is said once --------------------------------------------------


@override_settings(LINE_BACKEND="", SMS_BACKEND="")
def test_the_start_up_check_says_once_that_line_and_sms_are_off(caplog):
    assert channels_check() == [
        "LINE is off (no LINE_CHANNEL_ACCESS_TOKEN): candidates who prefer LINE get email",
        "SMS is off (no SMS_BACKEND): candidates who prefer SMS get email",
    ]
    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING"]


@override_settings(
    LINE_BACKEND="core.channels.line.LineMessagingApi",
    LINE_CHANNEL_SECRET="",
    SMS_BACKEND="twilio",
    TWILIO_ACCOUNT_SID="",
)
def test_the_start_up_check_names_missing_provider_settings():
    assert channels_check() == [
        "LINE_CHANNEL_SECRET is not set: /line/webhook refuses every request, nobody can link LINE",
        "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER"
        " (or TWILIO_MESSAGING_SERVICE_SID): SMS will fail",
    ]


@override_settings(LINE_BACKEND="", SMS_BACKEND="")
def test_without_line_a_line_candidate_gets_email_and_nothing_is_logged_per_message(
    tmp_path, settings, caplog
):
    _templates(tmp_path, settings)

    for n in range(3):
        assert (
            message_send(recipient=_recipient("line"), template="demo/hello", context={}, outbox_key=f"k:{n}")
            == "email"
        )

    assert len(mail.outbox) == 3
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_process_without_line_or_sms_settings_says_so_once_at_start_up():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LINE_", "SMS_", "TWILIO_", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="start-up-test-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
        DATABASE_URL="postgres://check@127.0.0.1:5432/check",
        ALLOWED_HOSTS="urakata.example",
        SITE_URL="https://urakata.example",
        INVOICE_ISSUER_NAME="check",
        INVOICE_REGISTRATION_NUMBER="T1234567890123",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr.count("LINE is off (no LINE_CHANNEL_ACCESS_TOKEN)") == 1
    assert done.stderr.count("SMS is off (no SMS_BACKEND)") == 1
