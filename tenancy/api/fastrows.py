"""Typing bulk rows without DRF's per-field machinery, for the rows that need none of it.

A bulk request carries up to 10,000 rows, and DRF spends more time walking its fields,
validators and error plumbing per row than the ledger spends writing it. `FastRows` reads a
row serializer's declared fields once and types a row directly when every value has the
plain, canonical shape (a trimmed string within its length, an ISO date, a decimal string,
a known choice). For anything else (a missing required value, a number where a string is
expected, a blank, a bad date...) it returns None and the caller runs the serializer, which
gives exactly DRF's result and error messages. tests/api/test_fastrows.py checks, over
generated rows, that whatever the fast path accepts, the serializer accepts with the same values."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core import validators as django_validators
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from tenancy.dates import date_supported

_SURROGATES_OR_NUL = re.compile("[\x00\ud800-\udfff]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KNOWN_VALIDATORS = (django_validators.MaxLengthValidator, django_validators.MinLengthValidator,
                     django_validators.MinValueValidator, django_validators.MaxValueValidator,
                     drf_fields.ProhibitNullCharactersValidator, drf_fields.ProhibitSurrogateCharactersValidator)

Converter = Callable[[Any], Any]  # raises _Slow when the value needs the serializer


class _Slow(Exception):
    pass


def _char(field: serializers.CharField) -> Converter:
    longest = field.max_length
    shortest = max(field.min_length or 0, 0 if field.allow_blank else 1)

    def convert(value: Any) -> str:
        if (type(value) is not str or len(value) < shortest or (longest is not None and len(value) > longest)
                or (value and (value[0].isspace() or value[-1].isspace())) or _SURROGATES_OR_NUL.search(value)):
            raise _Slow
        return value

    return convert


def _date(field: serializers.DateField) -> Converter:
    def convert(value: Any) -> dt.date:
        if type(value) is not str or not _ISO_DATE.match(value):
            raise _Slow
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise _Slow from None
        if not date_supported(day):  # the serializer's field says why (tenancy/bounds.py)
            raise _Slow
        return day

    return convert


def _decimal(field: serializers.DecimalField) -> Converter:
    places, digits = field.decimal_places, field.max_digits
    if places is None or digits is None:
        raise TypeError("unbounded decimal")
    # ASCII digits only (\d would take Arabic-Indic and full-width digits): tenancy.money.AMOUNT_TEXT's grammar.
    pattern = re.compile(rf"^[0-9]{{1,{digits - places}}}(?:\.[0-9]{{1,{places}}})?\Z")
    exponent = Decimal(1).scaleb(-places)
    low, high = field.min_value, field.max_value

    def convert(value: Any) -> Decimal:
        if type(value) is not str or not pattern.match(value):
            raise _Slow
        number = Decimal(value).quantize(exponent)
        if (low is not None and number < low) or (high is not None and number > high):
            raise _Slow
        return number

    return convert


def _choice(field: serializers.ChoiceField) -> Converter:
    choices = dict(field.choice_strings_to_values)

    def convert(value: Any) -> Any:
        if type(value) is not str or value not in choices:
            raise _Slow
        return choices[value]

    return convert


def _builder(field: serializers.Field) -> Callable[[Any], Converter] | None:
    """The fast converter's builder for the field kinds above, None for anything else. Subclasses
    of DecimalField (e.g. AmountField) may only narrow what they accept: the fast path takes
    decimal strings only."""
    if isinstance(field, serializers.DecimalField):
        return _decimal if not field.localize and field.rounding is None else None
    if type(field) is serializers.DateField:
        formats = getattr(field, "input_formats", api_settings.DATE_INPUT_FORMATS)
        return _date if list(formats) == [drf_fields.ISO_8601] else None
    if type(field) is serializers.CharField and field.trim_whitespace:
        return _char
    if type(field) is serializers.ChoiceField:
        return _choice
    return None


class FastRows:
    """`parse(row)` -> the validated values, or None when the serializer must decide."""

    def __init__(self, serializer: serializers.Serializer):
        self.converters: list[tuple[str, Converter, bool]] = []
        fields = serializer.fields
        overrides = any(hasattr(serializer, f"validate_{name}") for name in fields) or (
            type(serializer).validate is not serializers.Serializer.validate)
        self.enabled = not overrides
        for name, field in fields.items():
            if field.read_only:
                continue
            builder = _builder(field)
            plain = (builder is not None and field.source == name and field.default is empty
                     and not field.allow_null and all(isinstance(v, _KNOWN_VALIDATORS) for v in field.validators))
            if not plain:
                self.enabled = False
                return
            self.converters.append((name, builder(field), field.required))

    def parse(self, row: Any) -> dict[str, Any] | None:
        if not self.enabled or type(row) is not dict:
            return None
        values = {}
        try:
            for name, convert, required in self.converters:
                if name in row:
                    values[name] = convert(row[name])
                elif required:
                    return None
        except _Slow:
            return None
        return values
