"""List pages straight from database rows, without DRF's field-by-field machinery.

DRF serializes a list page one field of one model instance at a time, which is most of the
cost of a page of 1,000 rows. A read serializer can opt in to a faster path:

- `values_columns`: the columns `.values_list(named=True)` selects (related ones as
  `customer__external_id`);
- `values_rows(self, rows)`: a plain function from those named rows to the exact dicts the
  serializer gives for the same objects (formatting with the helpers below);
- `Meta.list_serializer_class = ValuesListSerializer`, which uses it for a list of named rows
  and DRF's own path for anything else (model instances, nested managers).

`ValuesListModelMixin.list` hands such serializers named rows. Both paths must agree to the
byte: tests/api/test_fast_representation.py compares them on generated rows."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rest_framework import mixins, serializers
from rest_framework.response import Response
from rest_framework.settings import ISO_8601, api_settings

from tenancy.money import AMOUNT_DIGITS, AMOUNT_PLACES


def amount_format(*, max_digits: int = AMOUNT_DIGITS, decimal_places: int = AMOUNT_PLACES) -> Callable[[Any], Any]:
    """What a DecimalField(coerce_to_string=True) renders, e.g. "1250.0000" (AmountField by default)."""
    context = decimal.getcontext().copy()
    context.prec = max_digits
    quantum = Decimal(".1") ** decimal_places
    longest = max_digits + 1  # digits and the point

    def amount(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is Decimal:
            # A value with at most `decimal_places` places that fits `max_digits` (every value of a
            # numeric(max_digits, decimal_places) column, every parsed amount) quantizes to its str()
            # padded with zeros: no rounding can happen, and string work is much faster.
            text = str(value)
            if decimal_places and "E" not in text and value.is_finite():
                point = text.find(".")
                if point < 0:
                    text += "." + "0" * decimal_places
                elif (places := len(text) - point - 1) <= decimal_places:
                    text += "0" * (decimal_places - places)
                else:
                    text = ""
                if 0 < len(text) <= longest:
                    return text
        else:
            value = Decimal(str(value).strip())
        return f"{value.quantize(quantum, context=context):f}"

    return amount


def stored_amount_format(model, *names: str) -> Callable[[Any], Any]:
    """amount_format for values read from these columns of `model`, as fast as str() when it can be.

    A NOT NULL DecimalField with the amount's digits and places (numeric(20, 4)) only ever reads
    back in its quantized form: PostgreSQL returns the column's scale, and Django quantizes on
    SQLite. Its str() is then exactly what AmountField renders."""
    for name in names:
        column = model._meta.get_field(name)
        if column.null or (column.max_digits, column.decimal_places) != (AMOUNT_DIGITS, AMOUNT_PLACES):
            return amount_format()
    return str


def date_format() -> Callable[[Any], Any]:
    """What a DateField renders (ISO 8601 under the API's settings)."""
    field = serializers.DateField()
    if (api_settings.DATE_FORMAT or "").lower() != ISO_8601:
        return field.to_representation

    def date(value: Any) -> Any:
        return value.isoformat() if value is not None else None

    return date


def instant_format() -> Callable[[Any], Any]:
    """What a DateTimeField renders: in the current time zone, ISO 8601, UTC as "Z"."""
    field = serializers.DateTimeField()
    zone = field.default_timezone()
    if (api_settings.DATETIME_FORMAT or "").lower() != ISO_8601 or zone is None:
        return field.to_representation
    # PostgreSQL gives datetimes in UTC; in a UTC zone converting them changes nothing.
    utc = dt.UTC if getattr(zone, "key", None) == "UTC" or zone is dt.UTC else object()

    def instant(value: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is utc:
            return value.isoformat()[:-6] + "Z"
        if value.utcoffset() is None:  # naive: DRF's rules (never from PostgreSQL with USE_TZ)
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return instant


class ValuesListSerializer(serializers.ListSerializer):
    """many=True: rows of `.values_list(named=True)` through the child's `values_rows`, the rest through DRF."""

    def to_representation(self, data):
        if isinstance(data, list) and data and isinstance(data[0], tuple):
            return self.child.values_rows(data)
        return super().to_representation(data)


# ListModelMixin that pages named rows when the serializer has a values representation. (No
# docstring: drf-spectacular would publish it as the description of every operation of the view.)
class ValuesListModelMixin(mixins.ListModelMixin):

    def list(self, request, *args, **kwargs):
        columns = getattr(self.get_serializer_class(), "values_columns", None)
        if not columns:
            return super().list(request, *args, **kwargs)
        # The keyset cursor reads the ordering column of the last row.
        extra = [name for name in getattr(self, "ordering_fields", ()) if name not in columns]
        queryset = self.filter_queryset(self.get_queryset()).prefetch_related(None).values_list(
            *columns, *extra, named=True)
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self.get_serializer(list(queryset), many=True).data)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
