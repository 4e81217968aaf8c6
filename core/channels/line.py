"""LINE Messaging API push through LINE's official SDK (line-bot-sdk, Messaging API v3;
https://developers.line.biz/en/reference/messaging-api/#send-push-message).

One push per message, with the channel access token (LINE_CHANNEL_ACCESS_TOKEN), separate
connect and read timeouts, no retry inside the SDK (the outbox retries, with backoff) and
``X-Line-Retry-Key`` = a UUID derived from the outbox row: when a worker dies after LINE
accepted the message but before the row was marked sent, the resend carries the same key
and LINE answers 409 instead of delivering it twice; a 409 therefore counts as sent.
Timeouts, connection errors, 429 and 5xx are transient (``core.outbox.TransientError``);
any other answer is a permanent refusal (the row fails with LINE's status and message).

A message with buttons goes as a Flex bubble (the text, then one button per link) whose
``altText`` is the plain text, which LINE shows in notifications and where Flex is not
supported. LINE_API_BASE_URL points the SDK elsewhere (the tests' loopback fake)."""

import json
import threading
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import urllib3
from django.conf import settings
from django.utils import timezone
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexMessage,
    FlexText,
    MessagingApi,
    PushMessageRequest,
    TextMessage,
    URIAction,
)
from linebot.v3.messaging.exceptions import ApiException

from core.channels.base import Message, PermanentError
from core.outbox import TransientError

MAX_TEXT = 5000  # LINE's limit for one text message
MAX_ALT_TEXT = 1500  # a Flex message's altText
MAX_LABEL = 40  # a Flex button's label

# What LocmemLine sent, for tests.
outbox: list[Message] = []

_apis = threading.local()  # one SDK client per thread and configuration (sweeps deliver on threads)


def _api(base_url: str, token: str) -> MessagingApi:
    cache: dict[tuple[str, str], MessagingApi] = _apis.__dict__.setdefault("cache", {})
    api = cache.get((base_url, token))
    if api is None:
        configuration = Configuration(host=base_url.rstrip("/"), access_token=token)
        # urllib3 would retry a failed connection three times by default: the outbox retries.
        configuration.retries = False
        api = cache[(base_url, token)] = MessagingApi(ApiClient(configuration))
    return api


def line_messages(message: Message) -> list[Any]:
    """The LINE message objects for ``message``: plain text, or a Flex bubble with buttons
    whose alt text is the plain text."""
    if not message.buttons:
        return [TextMessage(text=message.body[:MAX_TEXT])]
    buttons = [
        FlexButton(
            action=URIAction(label=button.label[:MAX_LABEL], uri=button.url),
            style="primary" if i == 0 else "secondary",
            height="sm",
        )
        for i, button in enumerate(message.buttons)
    ]
    bubble = FlexBubble(
        body=FlexBox(layout="vertical", contents=[FlexText(text=message.body[:MAX_TEXT], wrap=True)]),
        footer=FlexBox(layout="vertical", spacing="sm", contents=buttons),
    )
    return [FlexMessage(alt_text=message.body[:MAX_ALT_TEXT], contents=bubble)]


class LineMessagingApi:
    def send(self, message: Message) -> None:
        token = settings.LINE_CHANNEL_ACCESS_TOKEN
        if not token:
            raise PermanentError("LINE_CHANNEL_ACCESS_TOKEN is not set")
        request = PushMessageRequest(to=message.to, messages=line_messages(message))
        retry_key = str(message.idempotency_key) if message.idempotency_key is not None else None
        try:
            _api(settings.LINE_API_BASE_URL, token).push_message_with_http_info(
                request,
                x_line_retry_key=retry_key,
                _request_timeout=(settings.LINE_CONNECT_TIMEOUT, settings.LINE_READ_TIMEOUT),
            )
        except ApiException as exc:
            status = int(exc.status or 0)
            if status == 409 and retry_key is not None:
                return  # LINE already accepted this retry key: the message went out once
            detail = _detail(exc.body)
            if status == 0:  # TLS failure: the SDK's way of saying it never got an answer
                raise TransientError(f"LINE unreachable: {exc.reason}") from exc
            if status == 429 or status >= 500:
                retry_after = (exc.headers or {}).get("Retry-After")
                wait = f" (Retry-After: {retry_after})" if retry_after else ""
                raise TransientError(
                    f"LINE answered {status}: {detail}{wait}", retry_after=_retry_after(retry_after)
                ) from exc
            raise PermanentError(f"LINE answered {status}: {detail}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:  # timeouts, refused connections
            raise TransientError(f"LINE unreachable: {type(exc).__name__}") from exc


# A Retry-After longer than this is not believed: the row's own backoff takes over.
RETRY_AFTER_CAP = timedelta(hours=1)


def _retry_after(value: str | None) -> timedelta | None:
    """Retry-After as seconds or an HTTP date (RFC 9110), capped; None if absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            wait = parsedate_to_datetime(value) - timezone.now()
        except (TypeError, ValueError):
            return None
    return min(max(wait, timedelta(0)), RETRY_AFTER_CAP)


def _detail(reply: bytes | str | None) -> str:
    # LINE's error body names the problem ("Invalid reply token"), never the message text.
    if not reply:
        return ""
    try:
        return str(json.loads(reply).get("message", ""))[:300]
    except (ValueError, AttributeError):
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
        return text[:300]


class ConsoleLine:
    """Prints each LINE message to standard output (a developer's machine)."""

    def send(self, message: Message) -> None:
        links = "".join(f"\n[{button.label}] {button.url}" for button in message.buttons)
        print(f"LINE to {message.to}:\n{message.body}{links}\n{'-' * 40}", flush=True)  # noqa: T201


class LocmemLine:
    """Keeps each LINE message in ``core.channels.line.outbox`` (tests)."""

    def send(self, message: Message) -> None:
        outbox.append(message)
