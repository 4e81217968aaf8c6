"""Indexes for the advisors' candidate list with 100,000 candidates (bench/candidate_list.py).

Trigram indexes for the search (leads.selectors_workspace.candidate_search), on PostgreSQL
only. The search is `icontains` on names, which Django writes as `UPPER(col::text) LIKE
UPPER('%term%')`, and `contains` (a plain LIKE) on readings, email and phone digits:
without an index, a sequential scan over every candidate. A GIN trigram index on exactly
those expressions lets PostgreSQL answer a selective term from the index. pg_trgm reads
Japanese characters as word characters when the database's LC_CTYPE is a UTF-8 locale
(C.UTF-8, ja_JP.UTF-8...), as here; terms under three characters cannot use a trigram
index and scan as before.

Two plain indexes for the list's most used filters, on every database: candidates by stage
and closed flag (the count of a stage filter becomes an index-only scan instead of a
sequential scan), and leads by partner and candidate (the partner filter's subquery reads the
index alone).

Raw SQL kept out of the migration state (and out of the models' Meta) on purpose: SQLite
has neither the extension nor GIN, and the plain indexes live with them here so that
this migration is the one place the list's performance indexes are made. pg_trgm is a
trusted extension (PostgreSQL 13+): the database owner may create it without superuser;
going back leaves the extension in place (other objects may use it). (On SQLite a later
table rebuild drops the plain indexes: only a development database's speed depends on them.)
"""

from django.db import migrations

# column -> the indexed expression, as the search's lookups write it.
EXPRESSIONS = {
    "family_name": "(UPPER(family_name::text))",
    "given_name": "(UPPER(given_name::text))",
    "family_name_kana": "family_name_kana",
    "given_name_kana": "given_name_kana",
    "email": "email",
    "phone": "phone",
}


# name -> (table, columns): plain B-tree indexes, PostgreSQL and SQLite alike.
PLAIN = {
    "candidate_stage_closed_idx": ("leads_candidate", "stage, is_closed"),
    "lead_partner_candidate_idx": ("leads_lead", "partner_id, candidate_id"),
}


def _name(column: str) -> str:
    return f"candidate_{column}_trgm"


def add(apps, schema_editor):  # type: ignore[no-untyped-def]
    for name, (table, columns) in PLAIN.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column, expression in EXPRESSIONS.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_name(column)} ON leads_candidate "
            f"USING gin ({expression} gin_trgm_ops)"
        )


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    for name in PLAIN:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in EXPRESSIONS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {_name(column)}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0012_application_permissions")]

    operations = [
        migrations.RunPython(add, drop, elidable=False),
    ]
