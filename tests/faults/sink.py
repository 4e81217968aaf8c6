"""A fake provider: "accepting" a message appends "<outbox id> <pid>" to FAULT_SINK, after
FAULT_DELAY seconds of pretend network time. One write(2) with O_APPEND per line, so lines
from several processes never interleave. While the file FAULT_PAUSE exists, a delivery
stops right after the provider accepted it, before the row is marked sent: the instant in
which a killed worker causes a second copy."""

import os
import time

from core.models import OutboxMessage
from core.outbox import Outcome, outbox_handler

KIND = "fault.reminder"


@outbox_handler(KIND)
def fault_reminder_send(message: OutboxMessage) -> Outcome:
    time.sleep(float(os.environ.get("FAULT_DELAY", "0")))
    fd = os.open(os.environ["FAULT_SINK"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{message.pk} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    pause = os.environ.get("FAULT_PAUSE")
    while pause and os.path.exists(pause):
        time.sleep(0.005)
    return Outcome.SENT
