"""The test suite: the real PostgreSQL and Redis of this machine unless told otherwise.

tests/conftest.py checks that both answer before anything runs and stops the run loudly
when they do not: constraints, row locks and the broker behave only there.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/urakata")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
# Not the test client's host (testserver): a link built from the request instead of
# SITE_URL shows up as a wrong address in the tests.
os.environ.setdefault("SITE_URL", "https://urakata.test")

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env("SECRET_KEY", default="test-only-not-secret-4b1d9e7a2c6f8e0d3a5b7c9e1f2a4d6b")
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STATIC_ROOT = None  # type: ignore[assignment]  # static files come from the app folders (WhiteNoise finders); no collectstatic here
WHITENOISE_USE_FINDERS = True
# SMS and LINE are on and kept in memory (core.channels.sms.outbox, core.channels.line.outbox);
# the LINE SDK and Twilio clients are tested against local fake servers (tests/fake_line.py,
# tests/fake_twilio.py), chosen by LINE_API_BASE_URL / TWILIO_API_BASE_URL.
SMS_BACKEND = "core.channels.sms.LocmemSms"
LINE_BACKEND = "core.channels.line.LocmemLine"
LINE_CHANNEL_SECRET = "test-channel-secret"  # noqa: S105 - the webhook's; tests sign with it as LINE does
# Sweeps deliver on the test's own thread, inside its transaction (tests/faults use threads).
REMINDER_SWEEP_THREADS = 1
# Webhook receivers in the tests listen on loopback over plain HTTP; the SSRF tests turn
# the guard back on.
WEBHOOK_ALLOW_PRIVATE = True
