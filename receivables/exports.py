"""The aging report and customer statements as JSON-ready dicts, CSV and XLSX (for the API), and
the list pages' downloads (invoices, customers, payments, FX rates, aging by customer).

Amounts stay Decimal until the edge: strings in JSON and CSV, numbers in the spreadsheet, each
beside its currency. Every file goes through tenancy.spreadsheet (formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from rest_framework.renderers import BaseRenderer

from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.models import Organization
from tenancy.money import quantize
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


# --- lists (the pages' CSV and XLSX downloads) -------------------------------------------------

EXPORT_FORMATS = ("csv", "xlsx")
CSV_CHUNK_ROWS = 2000  # rows read from the database per round trip while a CSV streams


@dataclass(frozen=True)
class Column:
    """One column of a list export: its header (translated) and how a row's cell is read."""

    header: str
    value: Callable[[Any], Any]


def choice_labels(choices) -> dict[str, str]:
    """Code -> label in the current language, looked up once per file: a model's get_FOO_display()
    hashes its lazy choices on every call (0.4 ms a row, most of a large export's time)."""
    return {value: str(label) for value, label in choices}


class ExportTooLarge(DomainError):
    """A download over settings.EXPORT_XLSX_MAX_ROWS / EXPORT_CSV_MAX_ROWS rows."""


def export_format(request: HttpRequest) -> str | None:
    """`?export=csv` or `?export=xlsx` (also a POSTed `export` of a bulk form), else None."""
    value = request.POST.get("export") if request.method == "POST" else request.GET.get("export")
    return value if value in EXPORT_FORMATS else None


def export_filename(organization: Organization, stem: str, extension: str) -> str:
    """`invoices-acme-2026-03-31.csv`: what, whose, and the day (organization's time zone) it was taken."""
    return f"{stem}-{organization.slug}-{local_today(organization.timezone).isoformat()}.{extension}"


def money_cell(amount: Decimal | None, currency: str) -> Decimal | None:
    """An amount as a number cell rounded to its currency's minor unit (the currency has its own column)."""
    return None if amount is None else quantize(amount, currency)


def _csv_lines(columns: Sequence[Column], objects: Iterable[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    # A byte order mark, so Excel opens the UTF-8 file with its Chinese names readable.
    writer.writerow(spreadsheet_row([str(column.header) for column in columns]))
    yield "\ufeff" + flush()
    for number, obj in enumerate(objects, start=1):
        writer.writerow(spreadsheet_row([column.value(obj) for column in columns]))
        if number % 200 == 0:
            yield flush()
    yield flush()


def _iterate(objects: Iterable[Any]) -> Iterable[Any]:
    return objects.iterator(chunk_size=CSV_CHUNK_ROWS) if isinstance(objects, QuerySet) else objects


def xlsx_list_bytes(title: str, columns: Sequence[Column], objects: Iterable[Any]) -> bytes:
    """A one-sheet .xlsx in openpyxl's write-only mode (rows go to disk as they come, memory stays flat)."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title[:31])
    for index, column in enumerate(columns, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = min(max(12, len(str(column.header)) + 4), 40)
    worksheet.append(spreadsheet_row([str(column.header) for column in columns]))
    for obj in _iterate(objects):
        worksheet.append(spreadsheet_row([column.value(obj) for column in columns]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def list_export_response(*, organization: Organization, stem: str, title: str, columns: Sequence[Column],
                         objects: Iterable[Any], fmt: str) -> HttpResponse:
    """The rows of a list page as a download: CSV streamed (up to settings.EXPORT_CSV_MAX_ROWS rows),
    XLSX built in write-only mode (up to settings.EXPORT_XLSX_MAX_ROWS, about ten times slower a row);
    past its limit, ExportTooLarge says so and nothing is written. Every cell goes through
    tenancy.spreadsheet, so text that would start a formula stays text."""
    filename = export_filename(organization, stem, fmt)
    count = objects.count() if isinstance(objects, QuerySet) else len(objects)
    if fmt == "csv":
        limit = settings.EXPORT_CSV_MAX_ROWS
        if count > limit:
            raise ExportTooLarge(_("%(count)s rows are more than a CSV export holds (%(limit)s): narrow the "
                                   "filters.") % {"count": count, "limit": limit})
        response = StreamingHttpResponse(_csv_lines(columns, _iterate(objects)), content_type="text/csv; charset=utf-8")
    else:
        limit = settings.EXPORT_XLSX_MAX_ROWS
        if count > limit:
            raise ExportTooLarge(_("%(count)s rows are more than an XLSX export holds (%(limit)s): narrow the "
                                   "filters, or download CSV.") % {"count": count, "limit": limit})
        response = HttpResponse(xlsx_list_bytes(title, columns, objects), content_type=XLSX_MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
