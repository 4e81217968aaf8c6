"""What every channel shares: the message, the errors, the interface."""

import uuid
from dataclasses import dataclass, field
from typing import Protocol

# Derives each outbox row's idempotency key for providers that take one (LINE's
# X-Line-Retry-Key): the same row always gets the same UUID, so a resend after a crash is
# recognised by the provider. Never change this value.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c2b5e-8d3a-4e7b-9a10-2c4d6e8f0a1b")


def idempotency_key_for(outbox_key: str) -> uuid.UUID:
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, outbox_key)


class PermanentError(Exception):
    """The provider refused the message for good (bad address, blocked, malformed): retrying
    cannot help, so the outbox row fails at once and shows the error to advisors."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str | bytes
    mimetype: str


@dataclass(frozen=True)
class Button:
    """A link shown as a button where the channel has buttons (LINE); the text channels
    carry the link in the body instead."""

    label: str
    url: str


@dataclass(frozen=True)
class Message:
    """One rendered message to one address. ``subject`` and ``attachments`` are used by
    email only; SMS and LINE carry ``body`` (a short text); LINE also shows ``buttons``,
    with ``body`` as the plain-text fallback (alt text)."""

    to: str
    body: str
    subject: str = ""
    attachments: tuple[Attachment, ...] = field(default=())
    idempotency_key: uuid.UUID | None = None
    buttons: tuple[Button, ...] = field(default=())


class Channel(Protocol):
    """Delivers one message or raises: ``core.outbox.TransientError`` (or a timeout /
    connection error) when a retry may succeed, ``PermanentError`` when it cannot."""

    def send(self, message: Message) -> None: ...
