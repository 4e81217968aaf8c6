"""Shared fixtures. The suite runs against the real PostgreSQL and Redis of this machine:
if either does not answer, the run stops at once with a message, never a skip.

`DATABASE_URL=sqlite:///...` (`make test-sqlite`) runs it on the embedded default instead:
every test but those marked `postgresql("why")`, which are deselected and counted in the
report's summary; it and the moved-clock pass also leave out what `redundant_in(passes,
"why")` names as checked by another pass.
Redis is still required (the cache and the broker of the tests)."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from core import tasks as core_tasks
from leads.partners import keys as partners
from roles.selectors import catalogue_local_forget

# Partner fixtures (make_partner, partner) for every app's tests.
pytest_plugins = [
    "tests.clock",
    "tests.partners",
    "tests.fake_line",
    "tests.fake_twilio",
    "tests.webhook_receiver",
]


POSTGRESQL = "django.db.backends.postgresql"
# The reason of every test that races real concurrent sessions: row locks, SKIP LOCKED and
# constraints decide between them on PostgreSQL, while SQLite lets one writer in at a time.
RACES = "races real concurrent sessions (row locks, constraints); SQLite has one writer at a time"
SQLITE = "django.db.backends.sqlite3"


def on_sqlite() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"] == SQLITE)


def _require_services() -> None:
    db = settings.DATABASES["default"]
    if db["ENGINE"] not in {POSTGRESQL, SQLITE}:
        pytest.exit(
            f"The tests need PostgreSQL (or SQLite); DATABASE_URL points to {db['ENGINE']}.", returncode=3
        )
    if db["ENGINE"] == POSTGRESQL:
        _require_postgresql(db)
    _require_redis()


def _require_postgresql(db: dict[str, Any]) -> None:
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


def _require_redis() -> None:
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every `postgresql` and `redundant_in` mark says why. On SQLite the `postgresql` tests
    are deselected (not skipped: they are not this run's to pass); in the SQLite and the
    moved-clock passes, so are the tests marked `redundant_in` that pass (what they would
    check there, another pass checks: CI's fifteen minutes). The summary counts both."""
    from tests.clock import moved_to  # a plugin (pytest_plugins): imported once registered

    passes = {"sqlite", "moved"}
    for item in items:
        for mark in item.iter_markers("postgresql"):
            if not (mark.args and isinstance(mark.args[0], str) and mark.args[0].strip()):
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.postgresql needs the reason as its argument"
                )
        for mark in item.iter_markers("redundant_in"):
            named, why = (*mark.args, None, None)[:2]
            if not (
                isinstance(named, tuple) and set(named) <= passes and named and isinstance(why, str) and why
            ):
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.redundant_in needs a tuple of passes ('sqlite', "
                    "'moved') and the reason"
                )
    current = {name for name, active in (("sqlite", on_sqlite()), ("moved", moved_to(config))) if active}
    postgresql = [item for item in items if on_sqlite() and item.get_closest_marker("postgresql")]
    redundant = [
        item
        for item in items
        if item not in postgresql
        and (
            any(current & set(mark.args[0]) for mark in item.iter_markers("redundant_in"))
            or ("moved" in current and _fixes_the_clock(item))
        )
    ]
    if postgresql or redundant:
        config.hook.pytest_deselected(items=[*postgresql, *redundant])
        items[:] = [item for item in items if item not in postgresql and item not in redundant]
    if current:
        config.stash[_DESELECTED] = (len(postgresql), len(redundant))


_DESELECTED = pytest.StashKey[tuple[int, int]]()


def _fixes_the_clock(item: pytest.Item) -> bool:
    """A test under tests.clock.clock_at: it runs at its own instant in every pass, as if
    marked redundant_in(("moved",), ...)."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return any(
        getattr(definition.func, "fixes_the_clock", False)
        for defs in definitions.values()
        for definition in defs
    )


def pytest_report_header(config: pytest.Config) -> str:
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {engine}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _DESELECTED in config.stash:
        postgresql, redundant = config.stash[_DESELECTED]
        if on_sqlite():
            terminalreporter.write_line(
                f"SQLite pass: {postgresql} PostgreSQL-only tests deselected (each marked "
                "postgresql with its reason)"
            )
        terminalreporter.write_line(
            f"{redundant} tests deselected as checked by another pass (each marked redundant_in "
            "with its reason, or, under the moved clock, at its own instant by clock_at)"
        )


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # Rate-limit counters and cached catalogue codes live in the shared Redis cache, and
    # the catalogue codes also in a few seconds of per-process memory.
    cache.clear()
    catalogue_local_forget()
    partners._marked.clear()
    # The after-commit kick is limited to one a second per process, on a connection kept
    # between kicks: an earlier test's kick must neither swallow this one's nor lend it a
    # connection to another broker.
    core_tasks._next_kick = 0.0
    if core_tasks._kick_connection.connection is not None:
        core_tasks._kick_connection.connection.release()
    core_tasks._kick_connection = core_tasks._KickConnection()
    yield
    cache.clear()
    catalogue_local_forget()
