"""Aging by customer as its own page: paginated (a 699-customer book is 28 pages, not one 27,000 px
table), the most overdue first, searchable by name, with CSV/XLSX of every matching row. The totals
are always over every customer, whatever the page and the search."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from receivables import selectors
from receivables.exports import Column, money_cell
from receivables.views.common import as_of_from
from receivables.views.lists import list_download
from tenancy.errors import DomainError
from tenancy.views import organization_required, paginate

AGING_SORTS = {
    "-overdue": lambda row: (-row.overdue, -row.total, row.customer_name.casefold(), row.customer_id),
    "-total": lambda row: (-row.total, row.customer_name.casefold(), row.customer_id),
    "name": lambda row: (row.customer_name.casefold(), row.customer_id),
}


def _bucket_header(bucket) -> str:
    return bucket.label if bucket.key == "current" else _("%(range)s days") % {"range": bucket.label}


def aging_columns(report) -> list[Column]:
    """Customer, invoice count, one column per bucket, total and overdue (numbers), the currency."""
    currency = report.currency

    def bucket_column(index: int, bucket) -> Column:
        return Column(_bucket_header(bucket), lambda row: money_cell(row.amounts[index], currency))

    return [
        Column(_("Customer id"), lambda row: row.customer_id),
        Column(_("Customer"), lambda row: row.customer_name),
        Column(_("Invoices"), lambda row: row.invoice_count),
        *[bucket_column(i, bucket) for i, bucket in enumerate(report.buckets)],
        Column(_("Total"), lambda row: money_cell(row.total, currency)),
        Column(_("Overdue"), lambda row: money_cell(row.overdue, currency)),
        Column(_("Currency"), lambda row: currency),
    ]


@organization_required
def aging_by_customer(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    as_of, as_of_form = as_of_from(request)
    try:
        report = selectors.aging_report(organization, as_of, lenient=True)
    except DomainError as exc:  # an as-of date the report refuses (e.g. year 1): said, not a 500
        return render(request, "receivables/reporting/aging.html", {
            "as_of": as_of, "as_of_form": as_of_form, "report_error": exc.message}, status=400)
    search = request.GET.get("search", "").strip()
    sort = request.GET.get("sort") if request.GET.get("sort") in AGING_SORTS else "-overdue"
    rows = [row for row in report.rows if not search or search.casefold() in row.customer_name.casefold()]
    rows.sort(key=AGING_SORTS[sort])
    download = list_download(request, rows, stem=f"aging-{as_of.isoformat()}", title=_("Aging by customer"),
                             columns=aging_columns(report))
    if download is not None:
        return download
    page = paginate(request, rows)
    return render(request, "receivables/reporting/aging.html", {
        "as_of": as_of, "as_of_form": as_of_form, "report": report, "search": search, "sort": sort,
        "page": page, "rows": [(row, list(zip(report.buckets, row.amounts, strict=True))) for row in page],
        "totals": list(zip(report.buckets, report.totals, strict=True)),
    })
