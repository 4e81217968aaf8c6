"""Which database constraint an IntegrityError broke, for services that turn a known
violation into a domain answer (a race decided by a unique or exclusion constraint)."""

from django.db import IntegrityError


def violated_constraint(exc: IntegrityError) -> str | None:
    """The constraint's name as PostgreSQL reports it (psycopg's diagnostics); None where the
    database does not say (SQLite names the columns of a failed unique index instead)."""
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return str(name) if name else None
