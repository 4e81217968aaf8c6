"""Failures injected in the database, for the tests that prove a change and its effects are
written in one transaction (tests/leads/intake/test_atomicity.py, tests/consultations/test_atomicity.py):
the database refuses the second write, whichever statement carries it."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from core.models import OutboxMessage

REFUSED = "outbox row refused by the test"
_TRIGGER = "urakata_test_refuse_outbox"


@contextmanager
def outbox_insert_fails(kind: str) -> Iterator[None]:
    """While open, the database refuses (raises on) every INSERT of an outbox row of ``kind``,
    whatever statement carries it. ``kind`` is one of our constants, never input."""
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE FUNCTION {_TRIGGER}() RETURNS trigger LANGUAGE plpgsql"
                f" AS $$ BEGIN RAISE EXCEPTION '{REFUSED}: %', NEW.kind; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {_TRIGGER} BEFORE INSERT ON {table} FOR EACH ROW"
                f" WHEN (NEW.kind = '{kind}') EXECUTE FUNCTION {_TRIGGER}()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER {_TRIGGER} BEFORE INSERT ON {table} WHEN NEW.kind = '{kind}'"
                f" BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER {_TRIGGER} ON {table}")
                cursor.execute(f"DROP FUNCTION {_TRIGGER}()")
            else:
                cursor.execute(f"DROP TRIGGER {_TRIGGER}")


def assert_refused(response: Any) -> None:
    """A 500 with the contract's error body, caused by the injected refusal and nothing else."""
    assert response.status_code == 500
    assert response.json() == {
        "type": "server_error",
        "errors": [{"code": "error", "detail": "Server Error (500)", "attr": None}],
    }
    assert REFUSED in str(response.exc_info[1])
