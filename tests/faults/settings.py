"""Settings of the worker, beat and command processes the fault tests start: the test
settings plus a fake, fast channel (tests.faults.sink) that records every delivery."""

from config.settings.test import *  # noqa: F403
from config.settings.test import INSTALLED_APPS, LINE_BACKEND, env
from core.knobs import parse_positive_int

INSTALLED_APPS = [*INSTALLED_APPS, "tests.faults.apps.FaultsConfig"]
# As in production: each sweep delivers on several threads.
REMINDER_SWEEP_THREADS = parse_positive_int(
    "REMINDER_SWEEP_THREADS", env("REMINDER_SWEEP_THREADS", default="8")
)
# The real consultation reminders' emails, countable across processes (tests.faults.mailsink).
EMAIL_BACKEND = "tests.faults.mailsink.EmailBackend"
# The LINE fault test points the workers at its fake LINE API (tests/faults/test_line_faults.py).
LINE_BACKEND = env("LINE_BACKEND", default=LINE_BACKEND)
