"""A column mapping: which column of their file feeds which of our fields, and how to read it.

Stored as JSON (ImportMapping, ImportJob.mapping, the files in docs/mappings/):

    {"kind": "invoices",
     "columns": {"number": "invoiceNumber",
                 "net_amount": {"column": "converted_usd", "round": 2},
                 "external_id": {"column": "doc_id", "strip_suffix": ".0"},
                 "issue_date": {"column": "posting_date", "not_after": "due_date"}},
     "date_format": "%m/%d/%Y", "decimal_separator": ".", "default_currency": "USD",
     "defaults": {"method": "bank_transfer"}}

A column is a name, or an object with options: `round` (amounts: round half-up to that many
decimals before the 4-decimal check, for sources with float artifacts), `strip_suffix` (text:
drop a trailing ".0" a spreadsheet added), `not_after` (dates: never later than another date
field, e.g. issue date = min(posting date, due date)).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from tenancy.errors import DomainError
from tenancy.money import validate_currency

from .errors import HEADER_ROW, RowError
from .fields import FieldType, fields_for

DECIMAL_SEPARATORS = (".", ",")


@dataclass(frozen=True)
class ColumnSpec:
    column: str
    round: int | None = None
    strip_suffix: str = ""
    not_after: str = ""

    def as_json(self) -> str | dict[str, Any]:
        options = {k: v for k, v in (("round", self.round), ("strip_suffix", self.strip_suffix),
                                     ("not_after", self.not_after)) if v not in (None, "")}
        return {"column": self.column, **options} if options else self.column


@dataclass
class Mapping:
    kind: str
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d"
    decimal_separator: str = "."
    default_currency: str = ""
    defaults: dict[str, str] = field(default_factory=dict)

    def column_of(self, field_name: str | None) -> str:
        """Their column behind one of our fields ("" when unmapped)."""
        spec = self.columns.get(field_name or "")
        return spec.column if spec else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "columns": {name: spec.as_json() for name, spec in self.columns.items()},
            "date_format": self.date_format,
            "decimal_separator": self.decimal_separator,
            "default_currency": self.default_currency,
            "defaults": dict(self.defaults),
        }


def _column_spec(raw: Any) -> ColumnSpec:
    if isinstance(raw, str):
        return ColumnSpec(column=raw)
    if isinstance(raw, dict) and isinstance(raw.get("column"), str):
        unknown = set(raw) - {"column", "round", "strip_suffix", "not_after"}
        if unknown:
            raise DomainError(_("Unknown column options: %(names)s.") % {"names": ", ".join(sorted(unknown))})
        rounding = raw.get("round")
        if rounding is not None and (not isinstance(rounding, int) or isinstance(rounding, bool)
                                     or not 0 <= rounding <= 4):
            raise DomainError(_("The round option must be a whole number of decimals from 0 to 4."))
        return ColumnSpec(column=raw["column"], round=rounding, strip_suffix=str(raw.get("strip_suffix") or ""),
                          not_after=str(raw.get("not_after") or ""))
    raise DomainError(_("A column must be a column name or an object with a \"column\" key."))


def mapping_from_dict(data: dict[str, Any], *, kind: str | None = None) -> Mapping:
    """Build a Mapping from its JSON form; raises DomainError for a malformed document."""
    if not isinstance(data, dict):
        raise DomainError(_("A mapping must be a JSON object."))
    kind = kind or data.get("kind")
    if data.get("kind") and kind != data["kind"]:
        raise DomainError(_("This mapping is for %(theirs)s, not %(ours)s.") % {"theirs": data["kind"], "ours": kind})
    try:
        fields_for(kind)
    except KeyError:
        raise DomainError(_("Unknown import kind %(kind)r: use customers, invoices or payments.")
                          % {"kind": kind}) from None
    columns = data.get("columns") or {}
    defaults = data.get("defaults") or {}
    if not isinstance(columns, dict) or not isinstance(defaults, dict):
        raise DomainError(_("\"columns\" and \"defaults\" must be JSON objects."))
    for setting in ("date_format", "decimal_separator", "default_currency"):
        if data.get(setting) and not isinstance(data[setting], str):  # a number here was a 500 (uploaded files)
            raise DomainError(_("\"%(setting)s\" must be text.") % {"setting": setting})
    return Mapping(
        kind=kind,
        columns={name: _column_spec(raw) for name, raw in columns.items() if raw not in ("", None)},
        date_format=data.get("date_format") or "%Y-%m-%d",
        decimal_separator=data.get("decimal_separator") or ".",
        default_currency=(data.get("default_currency") or "").strip().upper(),
        defaults={name: str(value) for name, value in defaults.items() if value not in ("", None)},
    )


def _check_formats(mapping: Mapping) -> list[str]:
    problems = []
    if mapping.decimal_separator not in DECIMAL_SEPARATORS:
        problems.append(_("The decimal separator must be \".\" or \",\"."))
    try:
        sample = dt.date(2031, 12, 24)
        if "%" not in mapping.date_format or dt.datetime.strptime(  # noqa: DTZ007 - a date, no zone
                sample.strftime(mapping.date_format), mapping.date_format).date() != sample:
            raise ValueError
    except ValueError:
        problems.append(_("The date format %(format)s cannot read a full date; use e.g. %%Y-%%m-%%d or %%m/%%d/%%Y.")
                        % {"format": mapping.date_format})
    if mapping.default_currency:
        try:
            validate_currency(mapping.default_currency)
        except DomainError as exc:
            problems.append(exc.message)
    return problems


def _check_columns(mapping: Mapping, header: list[str]) -> list[RowError]:
    specs = fields_for(mapping.kind)
    errors = []
    for name, column in mapping.columns.items():
        spec = specs.get(name)
        if spec is None:
            errors.append(RowError(HEADER_ROW, column.column, _("%(field)s is not a %(kind)s field.")
                                   % {"field": name, "kind": mapping.kind}))
            continue
        if column.column not in header:
            message = _("Column %(column)s (for %(field)s) is not in the file; its columns are: %(header)s.")
            errors.append(RowError(HEADER_ROW, column.column, message % {
                "column": column.column, "field": spec.label, "header": ", ".join(header)}))
        if column.round is not None and spec.type != FieldType.AMOUNT:
            errors.append(RowError(HEADER_ROW, column.column, _("Only amounts can be rounded.")))
        if column.not_after and (spec.type != FieldType.DATE or specs.get(column.not_after, spec).type != FieldType.DATE
                                 or column.not_after == name):
            errors.append(RowError(HEADER_ROW, column.column,
                                   _("not_after must name another date field, e.g. due_date.")))
    for name, spec in specs.items():
        if spec.required and name not in mapping.columns and name not in mapping.defaults:
            errors.append(RowError(HEADER_ROW, "", _("Choose the column for %(field)s (required).")
                                   % {"field": spec.label}))
    for name in mapping.defaults:
        if name not in specs:
            errors.append(RowError(HEADER_ROW, "", _("%(field)s is not a %(kind)s field.")
                                   % {"field": name, "kind": mapping.kind}))
    if mapping.kind == "invoices" and not ({"net_amount", "total_amount"} & set(mapping.columns)):
        errors.append(RowError(HEADER_ROW, "", _("Choose the column for the net amount or the total amount.")))
    return errors


def mapping_check(mapping: Mapping, header: list[str]) -> list[RowError]:
    """Every problem of the mapping against the file's header (all reported on row 1)."""
    errors = [RowError(HEADER_ROW, "", message) for message in _check_formats(mapping)]
    return errors + _check_columns(mapping, header)
