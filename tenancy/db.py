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
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import connections, models, router
from django.db.models import Model

M = TypeVar("M", bound=Model)

# COPY's text format: these characters are escaped with a backslash; \N is NULL.
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).translate(_ESCAPES)  # int, Decimal, UUID


# Fields whose database value is their attribute's value as it stands (no adaptation on PostgreSQL).
_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BigIntegerField,
          models.PositiveIntegerField, models.PositiveBigIntegerField, models.SmallIntegerField,
          models.PositiveSmallIntegerField, models.DecimalField, models.BooleanField, models.DateField,
          models.UUIDField, models.ForeignKey)


def _converter(field: models.Field, connection) -> Callable[[Model], str]:
    """A function giving one field's COPY text for an object, as an INSERT would store it."""
    attname = field.attname
    if isinstance(field, models.JSONField):
        encode = (field.encoder or json.JSONEncoder)().encode  # what json.dumps(value, cls=encoder) does

        def json_text(obj: Model) -> str:
            value = getattr(obj, attname)
            return "\\N" if value is None else encode(value).translate(_ESCAPES)

        return json_text
    # An exact type match: a subclass (DateTimeField of DateField, say) may adapt its value.
    plain = type(field) in _PLAIN and not getattr(field, "auto_now", False) and not getattr(field, "auto_now_add", False)
    if plain:
        return lambda obj: _copy_text(getattr(obj, attname))
    return lambda obj: _copy_text(field.get_db_prep_save(field.pre_save(obj, True), connection))


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


def objects_insert(objects: Sequence[M], *, batch_size: int = 2000) -> Sequence[M]:
    """Insert new (unsaved) objects of one model; each gets its primary key. No signals are
    sent (as with bulk_create). Returns `objects`."""
    if not objects:
        return objects
    model = type(objects[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return model.objects.using(alias).bulk_create(objects, batch_size=batch_size)
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not getattr(f, "generated", False)]
    converters = [_converter(f, connection) for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, len(objects)])
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk
        lines = ("\t".join([convert(obj) for convert in converters]) + "\n" for obj in objects)
        with connection.wrap_database_errors:  # IntegrityError etc., as from an INSERT
            # Streamed: the server stores rows while the next ones are formatted here.
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", _LineReader(lines), COPY_CHUNK)
    for obj in objects:
        obj._state.adding = False
        obj._state.db = alias
    return objects
