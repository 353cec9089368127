"""Cells written to CSV and XLSX files, made safe to open in a spreadsheet.

A text cell beginning with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before reading a formula) is run as a formula by Excel, LibreOffice and Google
Sheets: a customer named `=HYPERLINK(...)` or `=cmd|' /C calc'!A0` would act on the machine of
whoever opens the export. Such text gets a leading apostrophe, the spreadsheet's own mark for
"this is text" (OWASP "CSV Injection"). Numbers stay numbers: only `str` values are touched."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_cell(value: Any) -> Any:
    """The value as a spreadsheet should store it: text that would start a formula stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def spreadsheet_row(row: Iterable[Any]) -> list[Any]:
    return [spreadsheet_cell(value) for value in row]


def spreadsheet_rows(rows: Iterable[Sequence[Any]]) -> Iterable[list[Any]]:
    return (spreadsheet_row(row) for row in rows)
