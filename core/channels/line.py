"""LINE Messaging API push (https://developers.line.biz/en/reference/messaging-api/#send-push-message).

One HTTP POST per message with separate connect and read timeouts and the channel access
token from LINE_CHANNEL_ACCESS_TOKEN. ``X-Line-Retry-Key`` is a UUID derived from the
outbox row, so when a worker dies after LINE accepted the message but before the row was
marked sent, the resend is recognised by LINE (409) instead of reaching the person twice.
Timeouts, connection errors, 429 and 5xx are transient (retried with backoff); any other
4xx is a permanent refusal (the row fails with LINE's status and message)."""

import http.client
import json
from urllib.parse import urlsplit

from django.conf import settings

from core.channels.base import Message, PermanentError
from core.outbox import TransientError

PUSH_PATH = "/v2/bot/message/push"
MAX_TEXT = 5000  # LINE's limit for one text message

# What LocmemLine sent, for tests.
outbox: list[Message] = []


class LineMessagingApi:
    def send(self, message: Message) -> None:
        token = settings.LINE_CHANNEL_ACCESS_TOKEN
        if not token:
            raise PermanentError("LINE_CHANNEL_ACCESS_TOKEN is not set")
        body = json.dumps(
            {"to": message.to, "messages": [{"type": "text", "text": message.body[:MAX_TEXT]}]},
            ensure_ascii=False,
        ).encode()
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json; charset=utf-8",
        }
        if message.idempotency_key is not None:
            headers["X-Line-Retry-Key"] = str(message.idempotency_key)
        status, reply = _post(settings.LINE_API_BASE_URL, PUSH_PATH, body, headers)
        if status == 200:
            return
        if status == 409 and message.idempotency_key is not None:
            return  # LINE already accepted this retry key: the message went out once
        detail = _detail(reply)
        if status == 429 or status >= 500:
            raise TransientError(f"LINE answered {status}: {detail}")
        raise PermanentError(f"LINE answered {status}: {detail}")


def _post(base_url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    url = urlsplit(base_url)
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(url.hostname or "", url.port, timeout=settings.LINE_CONNECT_TIMEOUT)
    try:
        connection.connect()  # TCP (and TLS) within the connect timeout
        assert connection.sock is not None
        connection.sock.settimeout(settings.LINE_READ_TIMEOUT)
        connection.request("POST", url.path.rstrip("/") + path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:  # timeouts are OSError too
        raise TransientError(f"LINE unreachable: {type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()


def _detail(reply: bytes) -> str:
    # LINE's error body names the problem ("Invalid reply token"), never the message text.
    try:
        return str(json.loads(reply).get("message", ""))[:300]
    except (ValueError, AttributeError):
        return reply[:300].decode(errors="replace")


class ConsoleLine:
    """Prints each LINE message to standard output (a developer's machine)."""

    def send(self, message: Message) -> None:
        print(f"LINE to {message.to}:\n{message.body}\n{'-' * 40}", flush=True)  # noqa: T201


class LocmemLine:
    """Keeps each LINE message in ``core.channels.line.outbox`` (tests)."""

    def send(self, message: Message) -> None:
        outbox.append(message)
