"""Settings of the benchmarks (bench/lead_intake.py): the test settings (PostgreSQL, Redis,
DEBUG off) on a database and Redis numbers of their own, plus the naive baseline's model."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/urakata_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/10")

from config.settings.test import *  # noqa: F403
from config.settings.test import INSTALLED_APPS

DEBUG = False
ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
