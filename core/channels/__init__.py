"""Channels: how a message reaches a person, behind one interface (base.Channel).

- ``email``: Django's email backend (EMAIL_URL / EMAIL_BACKEND).
- ``sms``: the class named by SMS_BACKEND: "twilio" (core.channels.twilio_sms), "console",
  "file", "memory", or a dotted path. Empty: SMS is off.
- ``line``: the class named by LINE_BACKEND; by default the Messaging API push
  (line-bot-sdk) when LINE_CHANNEL_ACCESS_TOKEN is set, otherwise off.

A channel that is off is passed over for the next one (email); ``channels_check`` says so
once, when a process starts (CoreConfig.ready), never per message.

``message_send`` picks the channel from the recipient's preferred channel and the addresses
and channels that exist, renders the templates in the recipient's language, and sends.
Templates follow one convention, for a name such as ``consultations/booking_reminder``:
email uses ``consultations/email/booking_reminder_subject.txt`` and ``..._body.txt``; SMS and
LINE use the short text ``consultations/short/booking_reminder.txt``.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.module_loading import import_string

from core.channels.base import Attachment, Button, Channel, Message, PermanentError, idempotency_key_for
from core.channels.email import EmailChannel

__all__ = [
    "Attachment",
    "Button",
    "Channel",
    "Message",
    "PermanentError",
    "Recipient",
    "channel_choose",
    "message_send",
]

logger = logging.getLogger(__name__)

EMAIL, SMS, LINE, PHONE = "email", "sms", "line", "phone"

# Preferred channel -> the order in which channels are tried (the first one that is on and
# for which the person has an address wins). "phone" means "call me": written messages go
# by email (it carries the calendar file), else SMS.
FALLBACKS: dict[str, tuple[str, ...]] = {
    EMAIL: (EMAIL, SMS),
    SMS: (SMS, EMAIL),
    LINE: (LINE, EMAIL, SMS),
    PHONE: (EMAIL, SMS),
}


@dataclass(frozen=True)
class Recipient:
    email: str | None
    phone: str | None  # E.164
    line_user_id: str | None
    preferred: str  # email, sms, line or phone
    language: str  # ja or en


# SMS_BACKEND's short names.
SMS_BACKENDS = {
    "twilio": "core.channels.twilio_sms.TwilioSms",
    "console": "core.channels.sms.ConsoleSms",
    "file": "core.channels.sms.FileSms",
    "memory": "core.channels.sms.LocmemSms",
}


@cache
def _backend(path: str) -> Channel:
    backend: Channel = import_string(SMS_BACKENDS.get(path, path))()
    return backend


def channel_get(name: str) -> Channel | None:
    """The configured channel, or None when it is off."""
    if name == EMAIL:
        return EmailChannel()
    path = settings.SMS_BACKEND if name == SMS else settings.LINE_BACKEND if name == LINE else ""
    return _backend(path) if path else None


def channels_check() -> list[str]:
    """What is off or half configured, one line each, logged once at start-up: without
    LINE or SMS settings candidates who prefer them get email, and nobody is told per
    message."""
    notes = []
    if not settings.LINE_BACKEND:
        notes.append("LINE is off (no LINE_CHANNEL_ACCESS_TOKEN): candidates who prefer LINE get email")
    elif settings.LINE_BACKEND == "core.channels.line.LineMessagingApi" and not settings.LINE_CHANNEL_SECRET:
        notes.append(
            "LINE_CHANNEL_SECRET is not set: /line/webhook refuses every request, nobody can link LINE"
        )
    if not settings.SMS_BACKEND:
        notes.append("SMS is off (no SMS_BACKEND): candidates who prefer SMS get email")
    elif SMS_BACKENDS.get(settings.SMS_BACKEND) == SMS_BACKENDS["twilio"] and not (
        settings.TWILIO_ACCOUNT_SID
        and settings.TWILIO_AUTH_TOKEN
        and (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID)
    ):
        notes.append(
            "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER"
            " (or TWILIO_MESSAGING_SERVICE_SID): SMS will fail"
        )
    for note in notes:
        logger.warning("channels: %s", note)
    return notes


def channel_choose(recipient: Recipient) -> tuple[str, str] | None:
    """(channel name, address) for this person, or None when no channel reaches them."""
    addresses = {EMAIL: recipient.email, SMS: recipient.phone, LINE: recipient.line_user_id}
    for name in FALLBACKS.get(recipient.preferred, FALLBACKS[PHONE]):
        address = addresses[name]
        if address and channel_get(name) is not None:
            return name, address
    return None


def message_send(
    *,
    recipient: Recipient,
    template: str,
    context: dict[str, object],
    outbox_key: str,
    attachments: Callable[[], Sequence[Attachment]] | None = None,
    buttons: Sequence[tuple[object, str]] = (),
) -> str | None:
    """Render and send one message; return the channel used, or None when none reaches the
    person (nothing is sent). Raises what the channel raises (transient or permanent).
    ``buttons`` are (label, URL): LINE shows them as buttons (labels translated in the
    person's language), the short text still carries the links for SMS."""
    choice = channel_choose(recipient)
    if choice is None:
        return None
    name, address = choice
    app, _sep, base = template.partition("/")
    subject, body = "", ""
    with translation.override(recipient.language):
        if name == EMAIL:
            subject = render_to_string(f"{app}/email/{base}_subject.txt", context).strip()
            body = render_to_string(f"{app}/email/{base}_body.txt", context)
        else:
            body = render_to_string(f"{app}/short/{base}.txt", context).strip()
        shown = (
            tuple(Button(label=str(label), url=url) for label, url in buttons if url) if name == LINE else ()
        )
    message = Message(
        to=address,
        subject=subject,
        body=body,
        attachments=tuple(attachments()) if attachments is not None and name == EMAIL else (),
        idempotency_key=idempotency_key_for(outbox_key),
        buttons=shown,
    )
    channel = channel_get(name)
    assert channel is not None
    channel.send(message)
    logger.debug("message sent by %s for %s", name, outbox_key)  # ids only, no personal data
    return name
