"""Shared fixtures. The suite runs against the real PostgreSQL and Redis of this machine:
if either does not answer, the run stops at once with a message, never a skip."""

from collections.abc import Iterator
from urllib.parse import urlparse

import psycopg
import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from leads.services import partners
from roles.selectors import catalogue_local_forget

# Partner fixtures (make_partner, partner) for every app's tests.
pytest_plugins = ["tests.partners", "tests.fake_line"]


def _require_services() -> None:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit(f"The tests need PostgreSQL; DATABASE_URL points to {db['ENGINE']}.", returncode=3)
    try:
        psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=int(db["PORT"] or 5432),
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
        ).close()
    except psycopg.Error as exc:
        pytest.exit(f"PostgreSQL at {db['HOST']}:{db['PORT']} is unreachable: {exc}", returncode=3)
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = getattr(settings, name)
        if urlparse(url).scheme != "redis":
            pytest.exit(f"The tests need Redis; {name} is {url!r}.", returncode=3)
        try:
            redis.Redis.from_url(url, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            pytest.exit(f"Redis at {url} ({name}) is unreachable: {exc}", returncode=3)


def pytest_sessionstart(session: pytest.Session) -> None:
    _require_services()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # Rate-limit counters and cached catalogue codes live in the shared Redis cache, and
    # the catalogue codes also in a few seconds of per-process memory.
    cache.clear()
    catalogue_local_forget()
    partners._marked.clear()
    yield
    cache.clear()
    catalogue_local_forget()
