"""Keyset ("cursor") pagination: stable order, no gaps or repeats, constant cost per page.

Rows are ordered by (field, id), ascending or descending; the cursor is the last row's
(field, id), so a page is `WHERE (field, id) > cursor LIMIT n` on an index whatever the depth.
The default order is (updated_at, id): with `updated_since`, that is incremental sync."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BooleanField, Expression, F, QuerySet, Value
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

# The cursor after a row updated 2026-03-31T04:00:00Z with id 42, in the default order (documentation).
EXAMPLE_CURSOR = "WyJ1cGRhdGVkX2F0IiwiMjAyNi0wMy0zMVQwNDowMDowMCswMDowMCIsNDJd"


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _nullable(model, name: str) -> bool:
    """A NULL has no place in `(field, id) > cursor` (NULL compares as unknown): rows with it would
    be skipped, and a cursor holding it could not be read back. Such a field cannot order pages."""
    try:
        return bool(model._meta.get_field(name).null)
    except FieldDoesNotExist:
        return False


def _orderable(view, model) -> list[str]:
    return [name for name in view.ordering_fields if not _nullable(model, name)]


class _RowAfter(Expression):
    """`(field, id) > (value, pk)`, or `<` when descending: one row comparison. An index on
    (organization, field, id) seeks straight to the cursor and reads on in order until the page is
    full. The equivalent `field > value OR (field = value AND id > pk)` is no single index range:
    PostgreSQL reads every row after the cursor and sorts them, on every page (a full sync of a
    million invoices would read half a billion rows)."""

    conditional = True

    def __init__(self, field: str, value: Any, pk: int, *, model, descending: bool):
        super().__init__(output_field=BooleanField())
        self.descending = descending
        self.parts = [F(field), F("pk"), Value(value, output_field=model._meta.get_field(field)),
                      Value(pk, output_field=model._meta.pk)]

    def get_source_expressions(self):
        return self.parts

    def set_source_expressions(self, exprs):
        self.parts = list(exprs)

    def as_sql(self, compiler, connection):
        sqls, params = [], []
        for part in self.parts:
            sql, part_params = compiler.compile(part)
            sqls.append(sql)
            params.extend(part_params)
        return f"({sqls[0]}, {sqls[1]}) {'<' if self.descending else '>'} ({sqls[2]}, {sqls[3]})", params


class KeysetPagination(BasePagination):
    cursor_param = "cursor"
    page_size_param = "page_size"
    ordering_param = "ordering"

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_param)
        if raw is None:
            return settings.API_PAGE_SIZE
        if not raw.isdigit() or not 1 <= int(raw) <= settings.API_MAX_PAGE_SIZE:
            raise exceptions.ValidationError({self.page_size_param: [
                _("A whole number from 1 to %(max)s.") % {"max": settings.API_MAX_PAGE_SIZE}]})
        return int(raw)

    def _ordering(self, request, view, model) -> tuple[str, bool]:
        raw = request.query_params.get(self.ordering_param) or view.default_ordering
        name = raw.removeprefix("-")
        if name not in view.ordering_fields:
            raise exceptions.ValidationError({self.ordering_param: [
                _("Order by one of: %(fields)s (prefix - for descending).") % {"fields": ", ".join(view.ordering_fields)}]})
        if _nullable(model, name):
            raise exceptions.ValidationError({self.ordering_param: [
                _("%(field)s can be empty, so it cannot order pages. Order by one of: %(fields)s "
                  "(prefix - for descending).") % {"field": name, "fields": ", ".join(_orderable(view, model))}]})
        return name, raw.startswith("-")

    def _cursor(self, request, model, field: str, ordering: str) -> tuple[Any, int] | None:
        raw = request.query_params.get(self.cursor_param)
        if raw is None:
            return None
        invalid = exceptions.ValidationError({self.cursor_param: [_("Invalid cursor: use the next_cursor of a page.")]})
        try:
            cursor_ordering, value, pk = json.loads(base64.urlsafe_b64decode(raw.encode() + b"==="))
            if cursor_ordering != ordering or not isinstance(pk, int):
                raise invalid
            return (None if field == "id" else model._meta.get_field(field).to_python(value)), pk
        except (ValueError, TypeError, binascii.Error, DjangoValidationError):
            raise invalid from None

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        self.request = request
        page_size = self._page_size(request)
        field, descending = self._ordering(request, view, queryset.model)
        self.ordering = ("-" if descending else "") + field
        sign = "-" if descending else ""
        queryset = queryset.order_by(f"{sign}{field}", f"{sign}pk") if field != "id" else queryset.order_by(f"{sign}pk")
        cursor = self._cursor(request, queryset.model, field, self.ordering)
        if cursor is not None:
            value, pk = cursor
            if field == "id":
                queryset = queryset.filter(**{f"pk__{'lt' if descending else 'gt'}": pk})
            else:
                queryset = queryset.filter(_RowAfter(field, value, pk, model=queryset.model, descending=descending))
        rows = list(queryset[: page_size + 1])
        self.next_cursor = None
        if len(rows) > page_size:
            rows = rows[:page_size]
            last = rows[-1]
            # Rows are model instances, or named rows of `.values_list()` (tenancy.api.representation).
            pk = last.id if isinstance(last, tuple) else last.pk
            token = json.dumps([self.ordering, _encode(getattr(last, field)), pk], separators=(",", ":"))
            self.next_cursor = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
        return rows

    def get_paginated_response(self, data) -> Response:
        next_url = None
        if self.next_cursor:
            next_url = replace_query_param(self.request.build_absolute_uri(), self.cursor_param, self.next_cursor)
        return Response({"next_cursor": self.next_cursor, "next": next_url, "results": data})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["next_cursor", "next", "results"],
            "properties": {
                "next_cursor": {"type": "string", "nullable": True, "example": EXAMPLE_CURSOR,
                                "description": "Pass as `cursor` for the next page; null on the last page."},
                "next": {"type": "string", "format": "uri", "nullable": True,
                         "example": f"https://inflow.example.com/api/v1/invoices/?cursor={EXAMPLE_CURSOR}"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        orderable = _orderable(view, view.get_queryset().model)
        fields = ", ".join(orderable)
        params = [
            OpenApiParameter(self.cursor_param, OpenApiTypes.STR, description="The `next_cursor` of the previous page."),
            OpenApiParameter(self.page_size_param, OpenApiTypes.INT,
                             description=f"Rows per page (default {settings.API_PAGE_SIZE}, "
                                         f"at most {settings.API_MAX_PAGE_SIZE})."),
            OpenApiParameter(self.ordering_param, OpenApiTypes.STR,
                             description=f"Order by one of: {fields}; prefix `-` for descending. "
                                         f"Default `{view.default_ordering}`. Ties are broken by id."),
        ]
        dicts = [self._param_dict(param) for param in params]
        dicts[2]["schema"]["enum"] = [f"{sign}{name}" for name in orderable for sign in ("", "-")]
        return dicts

    @staticmethod
    def _param_dict(param: OpenApiParameter) -> dict:
        schema = {"type": "string"} if param.type == OpenApiTypes.STR else {"type": "integer"}
        if param.name == "page_size":
            schema.update({"minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE})
        return {"name": param.name, "required": False, "in": "query", "description": param.description,
                "schema": schema}
