"""A developer's machine: `make run`. SQLite and the serverless broker unless told otherwise."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

from .base import *  # noqa: F403
from .base import env

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
