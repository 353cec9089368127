"""Inserting many rows of one model fast: COPY on PostgreSQL, bulk_create elsewhere.

`bulk_create` compiles one INSERT ... VALUES with a parameter per cell, which costs more in
Python than the database spends storing the rows. On PostgreSQL `objects_insert` instead
draws the primary keys from the table's sequence (so every object has its id, as after
bulk_create) and streams the rows with COPY. The database checks them exactly as it checks an
INSERT: NOT NULL, CHECK, unique and foreign-key constraints and row triggers all apply, and the
caller's transaction covers the rows as usual. Field values go through each field's own
`pre_save` (auto_now_add and friends) and `get_db_prep_save`, as an INSERT's would."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter
from typing import TypeVar

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections, models, router
from django.db.models import F, Lookup, Model, QuerySet, signals
from django.db.models.base import ModelState
from django.utils import timezone

M = TypeVar("M", bound=Model)


def _copy_escape(value: str) -> str:
    """A string in COPY's text format: backslash, newline, carriage return and tab escaped (the
    membership tests are much faster than str.translate, and most values need nothing)."""
    if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return value


def _copy_text(value: object) -> str:
    """One value in COPY's text format; \\N is NULL."""
    if type(value) is str:  # the common case first
        return _copy_escape(value)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return _copy_escape(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return _copy_escape(str(value))  # int, Decimal, UUID


def _copy_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    for row in rows:
        yield "\t".join(map(_copy_text, row)) + "\n"


class RawJson(str):
    """JSON text already encoded, for a JSONField column in rows_insert: stored as the database
    parses it (what the column would hold had the decoded value been saved)."""

    __slots__ = ()


# Fields whose database value is their attribute's value as it stands (no adaptation on PostgreSQL).
_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BigIntegerField,
          models.PositiveIntegerField, models.PositiveBigIntegerField, models.SmallIntegerField,
          models.PositiveSmallIntegerField, models.DecimalField, models.BooleanField, models.DateField,
          models.UUIDField, models.ForeignKey)


def _converter(field: models.Field, connection) -> Callable[[Model], object] | None:
    """None when an object's attribute is the field's database value as it stands; else a function
    giving the value an INSERT would store (JSON as its text)."""
    if isinstance(field, models.JSONField):
        encode = (field.encoder or json.JSONEncoder)().encode  # what json.dumps(value, cls=encoder) does
        attname = field.attname
        last: list = [None, None]  # the previous row's value and its text

        def json_text(obj: Model) -> str | None:
            value = getattr(obj, attname)
            if value is None:
                return None
            # Rows often share one object (every score of a re-scoring stores the policy's weights):
            # encoded once, not once per row.
            if value is not last[0]:
                last[0], last[1] = value, encode(value)
            return last[1]

        return json_text
    # An exact type match: a subclass (DateTimeField of DateField, say) may adapt its value.
    if type(field) in _PLAIN and not getattr(field, "auto_now", False) and not getattr(field, "auto_now_add", False):
        return None
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)


COPY_CHUNK = 64 * 1024  # characters handed to the connection at a time


class _LineReader(io.TextIOBase):
    """A file for COPY FROM STDIN that formats its lines only as they are read."""

    def __init__(self, lines):
        self._lines = lines
        self._pending = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        parts, length = [self._pending], len(self._pending)
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        text = "".join(parts)
        if size < 0 or len(text) <= size:
            self._pending = ""
            return text
        self._pending = text[size:]
        return text[:size]


def _copy(connection, meta, columns: Sequence[str], count: int, lines: Callable[[list[int]], Iterable[str]]) -> list[int]:
    """Draw `count` primary keys from the table's sequence, then COPY the lines made for them."""
    names = ", ".join(connection.ops.quote_name(column) for column in (meta.pk.column, *columns))
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, count])
        pks = [pk for (pk,) in cursor.fetchall()]
        with connection.wrap_database_errors:  # IntegrityError etc., as from an INSERT
            # Streamed: the server stores rows while the next ones are formatted here.
            cursor.copy_expert(f"COPY {connection.ops.quote_name(meta.db_table)} ({names}) FROM STDIN",
                               _LineReader(_copy_lines(lines(pks))), COPY_CHUNK)
    return pks


def rows_insert(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[object]], *,
                count: int | None = None, batch_size: int = 2000) -> list[int]:
    """Insert rows given as tuples of values for `fields` (attribute names, the primary key
    excepted), without building model objects; returns the new primary keys in row order.

    The values are what the columns store, as an INSERT would send them: str, int, Decimal, date,
    aware datetime, bool, UUID or None, and for a JSONField its JSON text as RawJson. Nothing is
    defaulted: every column without a database default must be among `fields`.

    With `count`, `rows` may be lazy (a generator of exactly `count` rows): on PostgreSQL each row
    is then made while the database stores the ones before it, the work of both sides overlapping.
    Making a row must not use the database then: the COPY holds the connection."""
    if count is None:
        rows = list(rows)
        count = len(rows)
    if not count:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        json_fields = {f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField)}
        objects = [model(**{name: json.loads(value) if name in json_fields and value is not None else value
                            for name, value in zip(fields, row, strict=True)}) for row in rows]
        return [obj.pk for obj in model.objects.using(alias).bulk_create(objects, batch_size=batch_size)]
    columns = [model._meta.get_field(name).column for name in fields]
    return _copy(connection, model._meta, columns, count,
                 lambda pks: ((pk, *row) for pk, row in zip(pks, rows, strict=True)))


def columns_insert(model: type[Model], columns: dict[str, Sequence[object]], *, count: int) -> None:
    """Insert `count` rows given column by column (attribute name -> a sequence of `count` values, or
    one value for every row), the primary key left to the database. The values are text or numbers
    as the columns store them (dates as ISO text, JSON as RawJson text, None for NULL).

    On PostgreSQL the columns become one CSV text built by pandas in C and sent with COPY, where
    rows_insert formats each cell in Python (for 133,694 predictions that formatting took longer than
    the database's storing of them). Elsewhere the rows go through rows_insert."""
    if not count:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    full = _full_columns(columns, count)
    if connection.vendor != "postgresql":
        plain = [values.tolist() if hasattr(values, "tolist") else values for values in full.values()]
        rows_insert(model, list(full), zip(*plain, strict=True), count=count)
        return
    _csv_copy(connection, model._meta.db_table, [model._meta.get_field(name).column for name in full], full)


def columns_copy(table: str, columns: dict[str, Sequence[object]], *, count: int, using: str = "default") -> None:
    """columns_insert into a table the models do not describe (a temporary table), PostgreSQL only:
    `columns` maps the table's column names to `count` values each, or one value for every row."""
    full = _full_columns(columns, count)
    if count:
        _csv_copy(connections[using], table, list(full), full)


def _full_columns(columns: dict[str, object], count: int) -> dict[str, Sequence[object]]:
    """A sequence (list, numpy array) is a column; anything else (a str too) is every row's value."""
    full = {name: [values] * count if isinstance(values, str) or not hasattr(values, "__len__") else values
            for name, values in columns.items()}
    if any(len(values) != count for values in full.values()):
        raise ValueError(f"every column needs {count} values")
    return full


def _csv_copy(connection, table: str, names: list[str], columns: dict[str, Sequence[object]]) -> None:
    import pandas as pd

    text = io.StringIO()
    pd.DataFrame(columns).to_csv(text, header=False, index=False, na_rep="\\N")  # NULL is \N: '' stays ''
    text.seek(0)
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                           text)


# The kinds query_columns gives back: a numpy dtype each ("day": a date as its ordinal, NaN for NULL).
_KINDS = {"int": "int64", "float": "float64", "day": "float64", "bool": "bool", "text": "object"}


def query_columns(sql: str, params: dict[str, object], kinds: dict[str, str], *, using: str = "default"
                  ) -> dict[str, object]:
    """The rows of `sql` as one numpy array per column (name -> kind, in the query's column order:
    "int", "float", "day", "bool", "text"). NULL is NaN for float and day, False for bool.

    On PostgreSQL the rows come back by COPY as CSV, the server turning dates into ordinals and
    numerics into floats, and pandas parses them in C: for 1,000,000 rows that is several times
    faster than building a Python date and Decimal per cell. Elsewhere fetchall and convert.
    COPY takes no bind parameters: psycopg2 quotes them into the text (its client-side binding)."""
    import numpy as np

    connection = connections[using]
    names = list(kinds)
    if connection.vendor == "postgresql":
        import pandas as pd

        def cast(name: str, kind: str) -> str:
            column = f"q.{connection.ops.quote_name(name)}"
            return {"day": f"{column} - DATE '0001-01-01' + 1", "float": f"{column}::float8",
                    "bool": f"{column}::int"}.get(kind, column)

        select = ", ".join(cast(name, kind) for name, kind in kinds.items())
        buffer = io.StringIO()
        with connection.cursor() as cursor:
            # NULL as \N, so an empty text stays '' (a text that is literally \N reads as NULL).
            copy = f"COPY (SELECT {select} FROM ({sql}) q) TO STDOUT WITH (FORMAT csv, NULL '\\N')"  # noqa: S608
            statement = cursor.cursor.mogrify(copy, params)
            cursor.cursor.copy_expert(statement, buffer)
        buffer.seek(0)
        dtypes = {name: {"bool": "float64", "int": "int64", "text": "object"}.get(kind, "float64")
                  for name, kind in kinds.items()}
        frame = pd.read_csv(buffer, header=None, names=names, dtype=dtypes, keep_default_na=False,
                            na_values={name: ["\\N"] for name in names})
        return {name: (frame[name].fillna(0).to_numpy() > 0) if kind == "bool"
                else frame[name].astype(object).where(frame[name].notna(), None).to_numpy() if kind == "text"
                else frame[name].to_numpy()
                for name, kind in kinds.items()}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    def day(value: object) -> float:
        if value is None:
            return np.nan
        # An aggregate of a date column comes back as text on SQLite: no declared type.
        return (dt.date.fromisoformat(value) if isinstance(value, str) else value).toordinal()

    convert = {"int": int, "float": lambda v: np.nan if v is None else float(v), "day": day, "bool": bool,
               "text": lambda v: v}
    return {name: np.array([convert[kind](row[n]) for row in rows], dtype=_KINDS[kind])
            for n, (name, kind) in enumerate(kinds.items())}


def _stamped(field: models.Field) -> bool:
    return isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add)


def objects_insert(objects: Sequence[M], *, batch_size: int = 2000,
                   meanwhile: Callable[[M], object] | None = None) -> Sequence[M]:
    """Insert new (unsaved) objects of one model; each gets its primary key. No signals are
    sent (as with bulk_create). Returns `objects`.

    auto_now/auto_now_add datetimes are set as pre_save sets them, to one instant for the whole
    insert (bulk_create's would differ by the microseconds it takes to reach each object).

    `meanwhile(obj)` is called for each object once it has its primary key and timestamps, in
    order. On PostgreSQL that is as its row is handed to the database, so what it does overlaps
    the storing of the rows before it (the caller's own follow-up work: audit entries, say). It
    must not use the database: the COPY holds the connection."""
    if not objects:
        return objects
    model = type(objects[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        model.objects.using(alias).bulk_create(objects, batch_size=batch_size)
        for obj in objects if meanwhile is not None else ():
            meanwhile(obj)
        return objects
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not getattr(f, "generated", False) and f is not meta.pk]
    names = [f.attname for f in fields]
    values = attrgetter(*names) if len(names) > 1 else lambda obj: (getattr(obj, names[0]),)  # one C call per object
    now = timezone.now()
    stamped = [field.attname for field in fields if _stamped(field)]
    now_text = now.isoformat()
    adapted = []  # (index, the value's function) for the fields whose value is not the attribute as it stands
    for index, field in enumerate(fields):
        convert = (lambda obj: now_text) if _stamped(field) else _converter(field, connection)
        if convert is not None:
            adapted.append((index, convert))

    def lines(pks: list[int]) -> Iterator[list[object]]:
        for obj, pk in zip(objects, pks, strict=True):
            obj.pk = pk
            for name in stamped:
                setattr(obj, name, now)
            row = [pk, *values(obj)]
            for index, convert in adapted:
                row[index + 1] = convert(obj)
            yield row
            if meanwhile is not None:
                meanwhile(obj)

    _copy(connection, meta, [f.column for f in fields], len(objects), lines)
    for obj in objects:
        obj._state.adding = False
        obj._state.db = alias
    return objects


class _AnyOf(Lookup):
    """`column = ANY(%s)` with the values as one array parameter (not registered: used as an expression)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field  # values as the field prepares them ("4" for an id is 4), as __in does
        return f"{lhs} = ANY(%s)", (*params, [field.get_db_prep_value(v, connection, prepared=False) for v in self.rhs])


def filter_in(queryset: QuerySet[M], field: str, values: Sequence[object]) -> QuerySet[M]:
    """`queryset.filter(<field>__in=values)`. On PostgreSQL the values go as one array parameter:
    compiling IN (%s, %s, ...) costs Django and psycopg2 a few microseconds per value, and the plan
    (an index scan per value) is the same. Elsewhere the values are bound one by one, so keep them
    under the database's parameter limit."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(**{f"{field}__in": values})
    return queryset.filter(_AnyOf(F(field), list(values)))


def object_builder(model: type[M], names: Sequence[str]) -> Callable[..., M]:
    """A fast constructor for new objects of `model`: `build(*values)` gives values to the
    attributes `names` (attnames: `customer_id`, not `customer`) in that order, every other field
    its default, and returns what `model(**dict(zip(names, values)))` returns (the tests compare
    every field and the object's state). A request of 10,000 invoices builds 10,000 of them.

    When nothing listens to the model's pre_init/post_init signals (Django's own ImageField
    would), the object is made as `__init__` leaves it, without running it: its state and every
    field's value set directly, a fifth of the keyword constructor's cost. Otherwise Django's
    positional constructor is used. Related objects are not cached: set them with
    `field.set_cached_value` if needed."""
    fields = model._meta.concrete_fields
    position = {field.attname: index for index, field in enumerate(fields)}
    unknown = set(names) - set(position)
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
    slots = [position[name] for name in names]
    given = set(slots)
    # A callable default (list, uuid4...) gives each object its own value.
    fresh = [(field.attname, field.get_default) for index, field in enumerate(fields)
             if index not in given and field.has_default() and callable(field.default)]
    fixed = {field.attname: field.get_default() for index, field in enumerate(fields) if index not in given}
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        attnames = [field.attname for field in fields]

        def build_with_init(*values: object) -> M:
            row = {**fixed, **dict(zip(names, values, strict=True))}
            row.update((name, default()) for name, default in fresh)
            return model(*[row[name] for name in attnames])

        return build_with_init
    new = model.__new__

    def build(*values: object) -> M:
        obj = new(model)
        obj._state = ModelState()
        attributes = obj.__dict__
        attributes.update(fixed)
        attributes.update(zip(names, values, strict=True))
        for name, default in fresh:
            attributes[name] = default()
        return obj

    return build


def objects_update(queryset: QuerySet[M], objects: Sequence[M], fields: Sequence[str], *,
                   batch_size: int = 2000) -> None:
    """`queryset.bulk_update(objects, fields)`: save these fields of objects already stored, only
    where the row also matches `queryset`'s filter (its organization, say: another's row is left
    untouched).

    On PostgreSQL it is one UPDATE ... FROM unnest(one array per column): bulk_update's
    CASE WHEN id = ... THEN ... per row and field costs Django ~100 µs a row to build, and the
    database more to evaluate. Values are prepared by each field as a save would (JSON as text)."""
    if not objects:
        return
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        queryset.bulk_update(objects, fields, batch_size=batch_size)
        return
    query = queryset.query
    if sum(1 for count in query.alias_refcount.values() if count) > 1:
        raise ValueError("objects_update filters on the model's own columns only (no joins)")
    meta = queryset.model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns, arrays, types = [], [], []
    for field in [meta.pk, *model_fields]:
        if isinstance(field, models.JSONField):
            encode = (field.encoder or json.JSONEncoder)().encode
            values = [None if (v := getattr(obj, field.attname)) is None else encode(v) for obj in objects]
            array_type = "jsonb[]"
        else:
            values = [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objects]
            db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
            # Text as text: an explicit cast to varchar(n) would cut a long value short; assigning
            # text to the column refuses it instead, as an UPDATE of that value would.
            array_type = f"{'text' if db_type.startswith('varchar') else db_type}[]"
        columns.append(connection.ops.quote_name(field.column))
        arrays.append(values)
        types.append(array_type)
    table = connection.ops.quote_name(meta.db_table)
    names = [f"c{index}" for index in range(len(columns))]
    assignments = ", ".join(f"{column} = v.{name}" for column, name in zip(columns[1:], names[1:], strict=True))
    try:
        where, where_params = query.get_compiler(queryset.db).compile(query.where)
    except FullResultSet:  # no filter at all
        where, where_params = "", []
    except EmptyResultSet:  # .none(), an empty __in...: no row to update
        return
    unnest = ", ".join(f"%s::{array_type}" for array_type in types)
    # Identifiers are the model's quoted names, types its fields' own; every value is a parameter.
    sql = (f"UPDATE {table} SET {assignments} FROM unnest({unnest}) AS v({', '.join(names)}) "  # noqa: S608
           f"WHERE {table}.{columns[0]} = v.{names[0]}" + (f" AND {where}" if where else ""))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arrays, *where_params])
