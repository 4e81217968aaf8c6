from django.db import connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


def insert_or_ignore(obj: Model) -> bool:
    """INSERT one row with ON CONFLICT DO NOTHING; True if this call inserted it.

    One statement, no savepoint: a unique constraint decides a race instead of a
    check-then-insert. The primary key must be set by the caller (UUIDs are). The affected
    row count tells the outcome, the same way on PostgreSQL and SQLite."""
    model = type(obj)
    using = router.db_for_write(model, instance=obj)
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [obj])
    (statement, params), *_ = query.get_compiler(using=using).as_sql()
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        return bool(cursor.rowcount == 1)
