"""`tables_containing`: which tables hold a string anywhere, on PostgreSQL and on SQLite.

Used to prove that something is stored nowhere (a raw API key, an erased person's name) or
somewhere. PostgreSQL casts a whole row to text, every column whatever its type. SQLite has
no row cast: every column is concatenated instead, and JSON columns are searched for the
string as Django writes it there too (json.dumps escapes non-ASCII: 山田 is \\u5c71\\u7530)."""

import json

from django.db import connection


def _row_text_sql(table: str, cursor) -> str:
    if connection.vendor == "postgresql":
        return "t::text"
    columns = connection.introspection.get_table_description(cursor, table)
    return " || '|' || ".join(
        f"coalesce(CAST(t.{connection.ops.quote_name(c.name)} AS TEXT), '')" for c in columns
    )


def _contains_sql(row: str, *, ignore_case: bool) -> str:
    if connection.vendor == "postgresql":
        return f"strpos(lower({row}), lower(%s)) > 0" if ignore_case else f"strpos({row}, %s) > 0"
    return f"instr(lower({row}), lower(%s)) > 0" if ignore_case else f"instr({row}, %s) > 0"


def tables_containing(text: str, *, ignore_case: bool = False) -> list[str]:
    """Every table with a row whose text contains `text` (lower() folds ASCII on SQLite,
    every letter on PostgreSQL)."""
    forms = list(dict.fromkeys([text, json.dumps(text)[1:-1]]))
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            row = _row_text_sql(table, cursor)
            condition = " OR ".join(_contains_sql(row, ignore_case=ignore_case) for _ in forms)
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT count(*) FROM {quoted} AS t WHERE {condition}", forms)  # noqa: S608
            if cursor.fetchone()[0]:
                found.append(table)
    return found
