"""An email backend for the fault tests' processes: each message "accepted" appends
"<recipient> <pid>" to FAULT_MAIL_SINK, one write(2) with O_APPEND per line (lines from
several processes never interleave). The real consultation-reminder handler sends through
it, so a reminder's copies can be counted per candidate across worker processes."""

import os
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        fd = os.open(os.environ["FAULT_MAIL_SINK"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            for message in email_messages:
                os.write(fd, f"{','.join(message.to)} {os.getpid()}\n".encode())
        finally:
            os.close(fd)
        return len(email_messages)
