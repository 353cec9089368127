"""Strict cell parsers and the row parser: text in, typed values or row errors out.

No float ever: amounts go from text straight to Decimal. A value that does not match the
mapping's rules (date format, decimal separator, 4 decimals, known currency...) is an error,
never a guess."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from tenancy.dates import date_range_message, date_supported
from tenancy.errors import DomainError
from tenancy.money import parse_amount, validate_currency

from .errors import RowError
from .fields import FieldSpec, FieldType, fields_for
from .mapping import ColumnSpec, Mapping
from .reader import Table

# How pandas writes a date cell of an Excel sheet when everything is read as text.
EXCEL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$")
COUNTRY = re.compile(r"^[A-Za-z]{2}$")
MAX_TERMS_DAYS = 3650


class CellError(ValueError):
    """A cell's value is not acceptable; the message is for the user."""


def date_parse(raw: str, date_format: str, *, excel: bool = False) -> dt.date:
    try:
        day = dt.datetime.strptime(raw, date_format).date()  # noqa: DTZ007 - calendar date, no zone
    except ValueError:
        match = EXCEL_DATE.match(raw) if excel else None
        if not match:
            raise CellError(_("%(value)r is not a date in the format %(format)s.")
                            % {"value": raw, "format": date_format}) from None
        day = dt.date.fromisoformat(match.group(1))
    if not date_supported(day):
        raise CellError(_("%(value)r: %(problem)s") % {"value": raw, "problem": date_range_message()})
    return day


def _amount_pattern(decimal_separator: str) -> re.Pattern:
    dec = re.escape(decimal_separator)
    thousands = "[ '\u00a0.]" if decimal_separator == "," else "[ '\u00a0,]"
    # [0-9], not \d: \d also matches Arabic-Indic and full-width digits, which Decimal() would read.
    return re.compile(rf"^(?:[0-9]{{1,3}}(?:{thousands}[0-9]{{3}})+|[0-9]+)(?:{dec}[0-9]+)?$")


AMOUNT_PATTERNS = {sep: _amount_pattern(sep) for sep in (".", ",")}


def amount_parse(raw: str, decimal_separator: str, *, rounding: int | None = None, allow_zero: bool = False) -> Decimal:
    text = raw.strip()
    if text.startswith("-") or (text.startswith("(") and text.endswith(")")):
        raise CellError(_("%(value)r is negative; amounts must be zero or more.") % {"value": raw})
    if not AMOUNT_PATTERNS[decimal_separator].match(text):
        raise CellError(_("%(value)r is not an amount with %(sep)r as the decimal separator.")
                        % {"value": raw, "sep": decimal_separator})
    integer, _sep, fraction = text.rpartition(decimal_separator) if decimal_separator in text else (text, "", "")
    digits = re.sub(r"\D", "", integer) + ("." + fraction if fraction else "")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        raise CellError(_("%(value)r is not an amount.") % {"value": raw}) from None
    if rounding is not None:
        value = value.quantize(Decimal(1).scaleb(-rounding), rounding=ROUND_HALF_UP)
    try:
        return parse_amount(value, field="amount", allow_zero=allow_zero)
    except DomainError as exc:
        problem = exc.message.split(": ", 1)[-1]  # drop parse_amount's "amount: " prefix
        raise CellError(_("%(value)r: %(problem)s") % {"value": raw, "problem": problem}) from None


ASCII_DIGITS = re.compile(r"^[0-9]+$")


def integer_parse(raw: str) -> int:
    # [0-9] only: str.isdigit() also accepts "²" and other digits int() refuses.
    if not ASCII_DIGITS.match(raw):
        raise CellError(_("%(value)r is not a whole number of days.") % {"value": raw})
    value = int(raw)
    if value > MAX_TERMS_DAYS:
        raise CellError(_("%(value)s days is more than %(max)s.") % {"value": value, "max": MAX_TERMS_DAYS})
    return value


def choice_parse(raw: str, spec: FieldSpec) -> str:
    wanted = raw.casefold()
    for value, label in spec.choices:
        if wanted in (value.casefold(), label.casefold()):
            return value
    raise CellError(_("%(value)r is not one of: %(choices)s.")
                    % {"value": raw, "choices": ", ".join(value for value, _label in spec.choices)})


def emails_parse(raw: str) -> list[str]:
    emails = [part for part in re.split(r"[;,\s]+", raw) if part]
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            raise CellError(_("%(value)r is not an email address.") % {"value": email}) from None
    return emails


def value_parse(raw: str, spec: FieldSpec, column: ColumnSpec | None, mapping: Mapping, *, excel: bool) -> Any:
    """One cell (already stripped, not empty) to the value our services take."""
    if spec.type == FieldType.DATE:
        return date_parse(raw, mapping.date_format, excel=excel)
    if spec.type == FieldType.AMOUNT:
        return amount_parse(raw, mapping.decimal_separator, rounding=column.round if column else None,
                            allow_zero=spec.allow_zero)
    if spec.type == FieldType.INTEGER:
        return integer_parse(raw)
    if spec.type == FieldType.CURRENCY:
        try:
            return validate_currency(raw)
        except DomainError as exc:
            raise CellError(exc.message) from None
    if spec.type == FieldType.COUNTRY:
        if not COUNTRY.match(raw):
            raise CellError(_("%(value)r is not a 2-letter ISO 3166 country code.") % {"value": raw})
        return raw.upper()
    if spec.type == FieldType.CHOICE:
        return choice_parse(raw, spec)
    if spec.type == FieldType.EMAILS:
        return emails_parse(raw)
    if spec.max_length and len(raw) > spec.max_length:
        raise CellError(_("%(value)r is longer than %(max)s characters.") % {"value": raw, "max": spec.max_length})
    return raw


@dataclass
class ParsedRow:
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)  # our field -> the raw text read, for the preview

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(cells: list[str], index: int | None, column: ColumnSpec) -> str:
    raw = cells[index].strip() if index is not None and index < len(cells) else ""
    if column.strip_suffix and raw.endswith(column.strip_suffix):
        raw = raw[: -len(column.strip_suffix)]
    return raw


def row_parse(number: int, cells: list[str], mapping: Mapping, indexes: dict[str, int | None], *,
              excel: bool) -> ParsedRow:
    """Parse one data row: every mapped field, then the constant defaults for what is empty."""
    row = ParsedRow(number)
    for name, spec in fields_for(mapping.kind).items():
        column = mapping.columns.get(name)
        raw = _cell(cells, indexes.get(name), column) if column else ""
        row.cells[name] = raw
        from_default = not raw and name in mapping.defaults
        if from_default:
            raw = mapping.defaults[name].strip()
        if not raw:
            if spec.required:
                row.errors.append(RowError(number, mapping.column_of(name), _("A value is required (%(field)s).")
                                           % {"field": spec.label}))
            elif spec.type == FieldType.TEXT and column:
                row.values[name] = ""
            continue
        try:
            row.values[name] = value_parse(raw, spec, column, mapping, excel=excel)
        except CellError as exc:
            where = mapping.column_of(name) if not from_default else _("default for %(field)s") % {"field": name}
            row.errors.append(RowError(number, where, str(exc)))
    if "currency" not in row.values and mapping.default_currency:
        row.values["currency"] = mapping.default_currency
    for name, column in mapping.columns.items():
        other = row.values.get(column.not_after)
        if column.not_after and name in row.values and other is not None and row.values[name] > other:
            row.values[name] = other
    return row


def rows_parse(table: Table, mapping: Mapping, progress: Callable[[int], None] | None = None) -> list[ParsedRow]:
    """Every data row of the table, parsed under the mapping; `progress` hears the rows done."""
    indexes = {name: table.column_index(column.column) for name, column in mapping.columns.items()}
    if progress is None:
        return [row_parse(number, cells, mapping, indexes, excel=table.excel) for number, cells in table.rows]
    rows = []
    for number, cells in table.rows:
        rows.append(row_parse(number, cells, mapping, indexes, excel=table.excel))
        progress(len(rows))
    return rows
