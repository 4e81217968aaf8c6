"""Query expressions that mean the same on PostgreSQL and SQLite (the embedded default)."""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Func
from django.db.models.sql.compiler import SQLCompiler


class UUIDText(Func):
    """A UUID column as its canonical text, ``8-4-4-4-12`` in lower case, as ``str(uuid)``
    writes it in Python. PostgreSQL casts a uuid so; SQLite stores Django's UUIDField as 32
    hex digits without dashes, which a plain Cast returns as they are."""

    arity = 1
    output_field = CharField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql})::text", tuple(params)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.source_expressions[0])
        groups = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        parts = [f"substr({sql}, {start}, {length})" for start, length in groups]
        dashed = " || '-' || ".join(parts)
        return f"lower({dashed})", tuple(params) * len(parts)
