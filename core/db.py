import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import DateTimeField, Field, ForeignKey, JSONField, Model
from django.db.models.constants import OnConflict
from django.db.models.expressions import DatabaseDefault
from django.db.models.sql import InsertQuery
from django.utils import timezone
from psycopg.types.json import Jsonb


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


@dataclass(frozen=True)
class JsonRow:
    """One new row of a model for a hand-written PostgreSQL INSERT that reads it from a single
    jsonb parameter: ``INSERT INTO {table} ({columns}) SELECT {columns} FROM
    jsonb_populate_record(NULL::{table}, %s::jsonb)`` (or ``jsonb_populate_recordset`` for
    several rows of one model). One parameter per row, not one per column: the statement stays
    short, and psycopg and PostgreSQL handle one value instead of dozens (psycopg caches the
    parsing of a statement only up to 50 parameters). Built by ``json_row_new``."""

    table: str  # quoted
    columns: str  # quoted, comma-separated
    values: dict[str, Any]  # column name -> value (json_dumps turns it into JSON)


# Per field: the Python types whose value the ORM would send unchanged (get_db_prep_save is
# the identity for them), so they go into the JSON as they are; anything else goes through
# get_db_prep_save. (JSON-native by kind: a string to a text column, a bool to a boolean one.)
_UNCHANGED_BY_KIND: dict[str, frozenset[type]] = {
    "CharField": frozenset({str}),
    "TextField": frozenset({str}),
    "SlugField": frozenset({str}),
    "BooleanField": frozenset({bool}),
    "IntegerField": frozenset({int}),
    "BigIntegerField": frozenset({int}),
    "SmallIntegerField": frozenset({int}),
    "PositiveIntegerField": frozenset({int}),
    "PositiveSmallIntegerField": frozenset({int}),
    "PositiveBigIntegerField": frozenset({int}),
    "AutoField": frozenset({int}),
    "BigAutoField": frozenset({int}),
    "DateField": frozenset({date}),
    "UUIDField": frozenset({uuid.UUID}),
}
_Rule = tuple[bool, frozenset[type], bool]
_UNCHANGED: dict[Field[Any, Any], _Rule] = {}


def _unchanged_rule(
    f: Field[Any, Any], connection: BaseDatabaseWrapper
) -> tuple[bool, frozenset[type], bool]:
    """(any value, these types, an aware datetime) pass unchanged for this field."""
    if isinstance(f, JSONField):
        return f.encoder is None, frozenset({type(None)}), False  # its value is JSON already
    target = f.target_field if isinstance(f, ForeignKey) else f  # a foreign key sends its target's value
    kind = target.get_internal_type()
    if kind == "UUIDField" and not connection.features.has_native_uuid_field:
        return False, frozenset({type(None)}), False
    return False, _UNCHANGED_BY_KIND.get(kind, frozenset()) | {type(None)}, kind == "DateTimeField"


def _prepared(f: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    rule = _UNCHANGED.get(f)
    if rule is None:
        rule = _UNCHANGED[f] = _unchanged_rule(f, connection)
    return _prepared_by(rule, f, value, connection)


def _prepared_by(rule: _Rule, f: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    anything, types, aware_datetime = rule
    if (
        anything
        or type(value) in types
        or (aware_datetime and type(value) is datetime and value.tzinfo is not None)
    ):
        return value
    return f.get_db_prep_save(value, connection=connection)


# One column of a template: (column, field, its _Rule).
_Column = tuple[str, Field[Any, Any], _Rule]


@dataclass(frozen=True)
class _Template:
    table: str
    columns: str
    static: dict[str, Any]  # column -> prepared default, the same for every row
    dynamic: list[_Column]  # callable defaults (list, dict, uuid4, ...)
    stamped: list[tuple[_Column, bool]]  # auto_now / auto_now_add, (column, a DateTimeField)
    fields: dict[str, _Column]  # by attname


_TEMPLATES: dict[tuple[type[Model], str], _Template] = {}


def _template(model: type[Model], using: str) -> _Template:
    template = _TEMPLATES.get((model, using))
    if template is None:
        connection = connections[using]
        meta = model._meta
        static: dict[str, Any] = {}
        dynamic, stamped, columns = [], [], []
        fields: dict[str, _Column] = {}
        for f in meta.local_concrete_fields:
            column = cast(str, f.column)
            fields[f.attname] = (column, f, _unchanged_rule(f, connection))
            if f.generated or f is meta.auto_field or isinstance(f.get_default(), DatabaseDefault):
                continue  # left to the database, as Model() then save() leaves them
            columns.append(column)
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                stamped.append((fields[f.attname], isinstance(f, DateTimeField)))
            elif f.has_default() and callable(f.default):
                dynamic.append(fields[f.attname])
            else:
                static[column] = _prepared(f, f.get_default(), connection)
        template = _TEMPLATES[(model, using)] = _Template(
            table=connection.ops.quote_name(meta.db_table),
            columns=", ".join(connection.ops.quote_name(c) for c in columns),
            static=static,
            dynamic=dynamic,
            stamped=stamped,
            fields=fields,
        )
    return template


def json_row_new(model: type[Model], values: dict[str, Any], *, using: str = DEFAULT_DB_ALIAS) -> JsonRow:
    """The row that ``model(**values).save()`` would INSERT (values by attname: ``partner_id``,
    not ``partner``), without building the instance: the other fields take their defaults
    (``Field.get_default``, as ``Model()`` does) and auto_now(_add) fields the current time
    (as ``pre_save`` does). For hot paths that only write the row. The auto-increment key
    and database defaults are left to the database."""
    connection = connections[using]
    template = _template(model, using)
    row = template.static.copy()
    for column, f, rule in template.dynamic:
        row[column] = _prepared_by(rule, f, f.get_default(), connection)
    if template.stamped:
        now = timezone.now()
        for (column, f, rule), is_datetime in template.stamped:
            # DateField.pre_save takes date.today(), so does this
            stamp = now if is_datetime else date.today()  # noqa: DTZ011
            row[column] = _prepared_by(rule, f, stamp, connection)
    fields = template.fields
    for attname, value in values.items():
        column, f, rule = fields[attname]
        row[column] = _prepared_by(rule, f, value, connection)
    return JsonRow(template.table, template.columns, row)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # PostgreSQL reads ISO 8601, offset included
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, Jsonb):  # a JSONField's value, adapted by Django with its encoder
        return json.loads((value.dumps or json.dumps)(value.obj))
    raise TypeError(f"{type(value).__name__} has no JSON form for jsonb_populate_record")


def json_dumps(values: Any) -> str:
    """JSON text of one JsonRow's values (or a list of them) for jsonb_populate_record(set).
    A JSON null becomes SQL NULL there, as None does in the ORM."""
    return json.dumps(values, default=_json_default, separators=(",", ":"))


@cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor  # PostgreSQL only

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kw: Any) -> Any:
            prepare = True if prepare is None else prepare
            return super().execute(query, params, prepare=prepare, **kw)  # type: ignore[misc]

    return PreparingCursor


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[CursorWrapper]:
    """PostgreSQL: a cursor for a few hot, fixed statements, which the server parses and plans
    once per connection (a named prepared statement with server-side parameters) instead of on
    every request. Django's wrappers stay in place: query logging and counting, execute
    wrappers, error translation. Django's ordinary cursors bind parameters on the client and
    never prepare; DATABASES' `prepare_threshold` must be set (config/settings/base.py) for
    this one to prepare, otherwise it only binds on the server. Not for SQLite."""
    connection = connections[using]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = _preparing_cursor_class()(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor


@dataclass(frozen=True)
class JoinedRead:
    """A hot, fixed read of one row of a model joined to some of its required foreign keys,
    as ``Model.objects.select_related(*related).only(...).get(...)`` would read it, in SQL
    written once (``joined_read_new``) and run as a prepared statement (``joined_read``):
    the ORM's compilation of such a query costs more CPU than PostgreSQL's answer to it.
    Columns not read are deferred, as with ``only()``. PostgreSQL only."""

    sql: str
    parts: tuple["_JoinedPart", ...]  # the model's own columns first, then each relation's


@dataclass(frozen=True)
class _JoinedPart:
    relation: str | None  # None: the model itself
    model: type[Model]
    attnames: tuple[str, ...]  # in the model's field order, as from_db wants them
    converters: tuple[tuple[int, Callable[..., Any]], ...]  # (position, Field.from_db_value)
    columns: tuple[str, ...]


def joined_read_new(
    model: type[Model],
    *,
    fields: Sequence[str],
    related: Mapping[str, Sequence[str]],
    where: str,
) -> JoinedRead:
    """``fields``: names of ``model``'s concrete fields (its primary key is always read);
    ``related``: the name of a non-null foreign key of ``model`` -> the fields of its model
    to read; ``where``: the condition on the row, on the alias ``t`` (``"t.id = %s"``)."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = model._meta

    def part(relation: str | None, m: type[Model], names: Sequence[str]) -> _JoinedPart:
        # The key and ``names``, in the order of the model's fields (as from_db wants them).
        wanted = {"pk", *names}
        read = [f for f in m._meta.concrete_fields if {f.name, f.attname} & wanted or f.primary_key]
        unknown = wanted - {"pk"} - {f.name for f in read} - {f.attname for f in read}
        if unknown:
            raise ValueError(f"{m.__name__} has no column {sorted(unknown)}")
        converters = tuple((i, f.from_db_value) for i, f in enumerate(read) if hasattr(f, "from_db_value"))
        return _JoinedPart(
            relation, m, tuple(f.attname for f in read), converters, tuple(cast(str, f.column) for f in read)
        )

    parts = [part(None, model, fields)]
    joins, columns = [], []
    for index, (name, names) in enumerate(related.items()):
        fk = meta.get_field(name)
        if not isinstance(fk, ForeignKey) or fk.null:
            raise ValueError(f"{model.__name__}.{name} is not a required foreign key")
        target = fk.related_model
        alias = f"r{index}"
        target_column = quote(cast(str, fk.target_field.column))
        joins.append(
            f"JOIN {quote(target._meta.db_table)} {alias} ON {alias}.{target_column} = t.{quote(fk.column)}"
        )
        parts.append(part(name, target, names))
    for index, p in enumerate(parts):
        alias = "t" if index == 0 else f"r{index - 1}"
        columns += [f"{alias}.{quote(column)}" for column in p.columns]
    sql = f"SELECT {', '.join(columns)} FROM {quote(meta.db_table)} t {' '.join(joins)} WHERE {where}"  # noqa: S608 - our names only
    return JoinedRead(sql=sql, parts=tuple(parts))


def joined_read(read: JoinedRead, params: Sequence[Any], *, using: str = DEFAULT_DB_ALIAS) -> Any:
    """The row of ``read`` for ``params`` (its model's instance, the related ones attached as
    select_related attaches them), or None. Values go through each field's ``from_db_value``
    where it has one, as the ORM's do."""
    connection = connections[using]
    with prepared_cursor(using) as cursor:
        cursor.execute(read.sql, list(params))
        row = cursor.fetchone()
    if row is None:
        return None
    instance: Any = None
    offset = 0
    for part in read.parts:
        values = list(row[offset : offset + len(part.attnames)])
        offset += len(part.attnames)
        for i, from_db_value in part.converters:  # called for NULL too, as the ORM calls it
            values[i] = from_db_value(values[i], None, connection)
        obj = part.model.from_db(using, list(part.attnames), values)
        if part.relation is None:
            instance = obj
        else:
            setattr(instance, part.relation, obj)
    return instance
