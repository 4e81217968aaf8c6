"""A developer's machine: `make run`. SQLite and the serverless broker unless told otherwise."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# Webhook receivers on this machine (http, loopback) may be tried out; never in production.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE", "true")

from .base import *  # noqa: F403
from .base import VAR_DIR, env

# A fresh clone has no var/ (it is git-ignored): the default SQLite database, the filesystem
# broker and beat's schedule file (always, whatever the database and broker) live in it, and
# neither SQLite nor beat creates a missing folder. So `manage.py migrate` or `celery beat`
# run before `make run` would fail with "unable to open database file" or a FileNotFoundError.
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Only ever used on a developer's machine; production has no default (production.py).
SECRET_KEY = env("SECRET_KEY", default="local-dev-only-not-secret-8f3a1c9e2b7d4a6f0e5c3b1a9d8e7f6c")

# runserver serves static files from the app folders; collectstatic is for production only.
STATIC_ROOT = None  # type: ignore[assignment]
WHITENOISE_USE_FINDERS = True

# SMS and LINE messages are printed by the worker unless a provider is configured.
SMS_BACKEND = env("SMS_BACKEND", default="") or "core.channels.sms.ConsoleSms"
LINE_BACKEND = env("LINE_BACKEND", default="") or (
    "core.channels.line.LineMessagingApi"
    if env("LINE_CHANNEL_ACCESS_TOKEN", default="")
    else "core.channels.line.ConsoleLine"
)

# The console email and SMS backends print the messages the worker sends; Celery logs what a
# task prints at WARNING by default, which made every demo email look like a problem.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
