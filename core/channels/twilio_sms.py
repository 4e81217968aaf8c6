"""SMS through Twilio's REST API with Twilio's official client (``twilio``):
``SMS_BACKEND=twilio``.

Twilio takes no idempotency key, so the message SID it returns is recorded per outbox row
(``core.models.SmsDelivery``, keyed by the row's idempotency key) the moment Twilio accepted
the message, and a row that has one is never sent again (a retry after a crash, a resend
from the admin). The one window left is a kill between Twilio's answer and that insert,
the same instant the outbox logs for every channel (CONTRACT section 6).

429 and 5xx, timeouts and connection errors are transient; any other refusal (400: a bad
number, 21610: the person replied STOP) is permanent. Twilio reports what became of each
message to ``SITE_URL/sms/twilio/status`` (core.views_sms), checked with Twilio's request
validator. TWILIO_API_BASE_URL points the client elsewhere (the tests' loopback fake)."""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from core.channels.base import Message, PermanentError
from core.models import SmsDelivery
from core.outbox import TransientError

PROVIDER = "twilio"


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's HTTP client with every request sent to TWILIO_API_BASE_URL's host (the
    path, query and authentication unchanged), and no retries of its own."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout, max_retries=0)
        self.base_url = urlsplit(base_url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        prefix = self.base_url.path.rstrip("/")
        url = urlunsplit((self.base_url.scheme, self.base_url.netloc, prefix + parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


def twilio_client() -> Client:
    http_client = BaseUrlHttpClient(settings.TWILIO_API_BASE_URL, settings.TWILIO_TIMEOUT)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def status_callback_url() -> str:
    return f"{settings.SITE_URL}{reverse('sms-twilio-status')}"


class TwilioSms:
    def send(self, message: Message) -> None:
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise PermanentError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
        key = message.idempotency_key
        if key is not None and SmsDelivery.objects.filter(idempotency_key=key).exists():
            return  # Twilio accepted this row's message before: never twice
        sender: dict[str, str] = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        try:
            sent = twilio_client().messages.create(
                to=message.to, body=message.body, status_callback=status_callback_url(), **sender
            )
        except TwilioRestException as exc:
            text = f"Twilio answered {exc.status}: {exc.code or ''} {exc.msg}".replace("  ", " ")[:300]
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(text) from exc
            raise PermanentError(text) from exc
        except requests.RequestException as exc:  # timeouts, refused connections
            raise TransientError(f"Twilio unreachable: {type(exc).__name__}") from exc
        if key is not None:
            SmsDelivery.objects.create(
                idempotency_key=key, provider=PROVIDER, provider_id=sent.sid, status=sent.status or ""
            )
