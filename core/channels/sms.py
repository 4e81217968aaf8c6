"""SMS: an interface and the implementations that need no provider. SMS_BACKEND names the
class (empty: SMS is off and candidates who prefer it get email). A real provider is a
class with ``send(message)`` that raises ``core.outbox.TransientError`` for failures worth
retrying and ``core.channels.PermanentError`` for refusals."""

import json
import sys
from pathlib import Path

from django.conf import settings

from core.channels.base import Message

# What LocmemSms sent, for tests (like django.core.mail.outbox).
outbox: list[Message] = []


class ConsoleSms:
    """Prints each SMS to standard output (a developer's machine)."""

    def send(self, message: Message) -> None:
        sys.stdout.write(f"SMS to {message.to}:\n{message.body}\n{'-' * 40}\n")
        sys.stdout.flush()


class FileSms:
    """Appends each SMS as one JSON line to SMS_FILE_PATH."""

    def send(self, message: Message) -> None:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": message.to, "body": message.body}, ensure_ascii=False)
        with path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")


class LocmemSms:
    """Keeps each SMS in ``core.channels.sms.outbox`` (tests)."""

    def send(self, message: Message) -> None:
        outbox.append(message)
