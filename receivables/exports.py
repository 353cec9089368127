"""The aging report and customer statements as JSON-ready dicts, CSV and XLSX (for the API).

Amounts stay Decimal until the edge: strings in JSON and CSV, numbers in the spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from rest_framework.renderers import BaseRenderer

from tenancy.spreadsheet import spreadsheet_row, spreadsheet_rows

from .selectors import AgingReport, Statement

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileRenderer(BaseRenderer):
    """Passes through the bytes a view built (CSV or XLSX); the view picks by `?format=`."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CsvRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XlsxRenderer(FileRenderer):
    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"


# --- aging -------------------------------------------------------------------------------------

def aging_data(report: AgingReport) -> dict[str, Any]:
    keys = [bucket.key for bucket in report.buckets]
    return {
        "as_of": report.as_of,
        "currency": report.currency,
        "buckets": [{"key": b.key, "label": b.label} for b in report.buckets],
        "rows": [{"customer_id": row.customer_id, "customer_name": row.customer_name,
                  "invoice_count": row.invoice_count, "amounts": dict(zip(keys, row.amounts, strict=True)),
                  "total": row.total, "overdue": row.overdue} for row in report.rows],
        "totals": dict(zip(keys, report.totals, strict=True)),
        "total": report.total,
        "overdue": report.overdue,
        "unrealized_fx": report.unrealized_fx,
        "unrealized_fx_unknown": report.unrealized_fx_unknown,
    }


def aging_table(report: AgingReport, *, currency_column: bool = False) -> tuple[list[str], list[list[Any]]]:
    """Header and rows (customers, then TOTAL); `currency_column` adds the report's currency to each
    row, for a report asked in one currency (so the file says what its amounts are in)."""
    header = ["customer_id", "customer", "invoices", *[b.label for b in report.buckets], "total"]
    rows = [[row.customer_id, row.customer_name, row.invoice_count, *row.amounts, row.total] for row in report.rows]
    rows.append(["", "TOTAL", sum(r.invoice_count for r in report.rows), *report.totals, report.total])
    if currency_column:
        header.append("currency")
        for row in rows:
            row.append(report.currency)
    return header, rows


# --- statement ---------------------------------------------------------------------------------

def statement_data(statement: Statement) -> dict[str, Any]:
    currencies = sorted(set(statement.lines_by_currency) | set(statement.unapplied_by_currency))
    return {
        "customer": statement.customer.pk,
        "customer_name": statement.customer.name,
        "as_of": statement.as_of,
        "currencies": [{
            "currency": currency,
            "balance": statement.balance(currency),
            "unapplied": statement.unapplied_by_currency.get(currency, 0),
            "lines": [line.__dict__ for line in statement.lines_by_currency.get(currency, [])],
        } for currency in currencies],
    }


def statement_table(statement: Statement) -> tuple[list[str], list[list[Any]]]:
    header = ["currency", "invoice", "issue_date", "due_date", "total", "balance", "running_balance", "days_overdue"]
    rows = [[line.currency, line.number, line.issue_date.isoformat(), line.due_date.isoformat(), line.total,
             line.balance, line.running_balance, line.days_overdue]
            for currency in sorted(statement.lines_by_currency) for line in statement.lines_by_currency[currency]]
    return header, rows


# --- files -------------------------------------------------------------------------------------

def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(spreadsheet_row(header))
    writer.writerows(spreadsheet_rows(rows))
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its title (Excel keeps 31 characters), a header row, then the rows."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


WIDTH_SAMPLE_ROWS = 200  # columns are sized to their longest value among the first rows


def xlsx_workbook(sheets: Iterable[Sheet]) -> bytes:
    """An .xlsx file with one worksheet per sheet, columns sized to their content. Decimals and
    ints become number cells (round amounts before: the cell keeps what it is given)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title[:31])
        worksheet.append(spreadsheet_row(sheet.header))
        for row in spreadsheet_rows(sheet.rows):
            worksheet.append(row)
        for column in worksheet.iter_cols(max_row=min(worksheet.max_row, WIDTH_SAMPLE_ROWS)):
            width = max(len(str(cell.value if cell.value is not None else "")) for cell in column)
            worksheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 50)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet .xlsx file."""
    return xlsx_workbook([Sheet(title, header, rows)])
