"""The weekly report's data as a spreadsheet, one sheet per section (receivables.exports writes it).

Amounts are written as Decimals rounded to the currency's minor unit; openpyxl stores them as
number cells."""

from __future__ import annotations

from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from receivables.exports import Sheet, xlsx_workbook
from tenancy.money import quantize

from .pdf import bucket_labels
from .selectors import WeeklyReportData


def _number(value, currency: str) -> Decimal:
    # Decimal all the way: openpyxl writes it as a number cell, rounded once to the minor unit.
    return quantize(value, currency)


def _sheets(data: WeeklyReportData) -> list[Sheet]:
    currency = data.currency
    labels = bucket_labels(data.aging)
    customer, total = _("Customer"), _("Total")
    aging_rows = [[row.customer_name, *(_number(a, currency) for a in row.amounts), _number(row.total, currency)]
                  for row in data.aging.rows]
    aging_rows.append([_("Total receivables"), *(_number(a, currency) for a in data.aging.totals),
                       _number(data.aging.total, currency)])
    summary = [
        (_("Organization"), data.organization.name),
        (_("As of"), data.as_of.isoformat()),
        (_("Currency"), currency),
        (_("Total receivables"), _number(data.aging.total, currency)),
        (_("Overdue"), _number(data.aging.overdue, currency)),
        (_("Overdue %"), data.aging.overdue_ratio),
        (_("DSO"), data.dso.standard),
        (_("DSO last week"), data.previous_dso.standard),
        (_("Newly overdue (still open)"), _number(data.changes.new_overdue.amount, currency)),
        (_("Collected"), _number(data.changes.collected.amount, currency)),
        (_("Invoiced"), _number(data.changes.invoiced.amount, currency)),
    ]
    if data.customers_over_limit is not None:
        summary.append((_("Customers over limit"), data.customers_over_limit))
    top = [[i.number, i.customer_name, i.due_date.isoformat(), i.days_overdue, _number(i.balance, i.currency),
            i.currency, _number(i.balance_base, currency)] for i in data.top_overdue]
    return [
        Sheet(_("Summary"), [_("Item"), _("Value")], summary),
        Sheet(_("Aging by customer"), [customer, *labels, total], aging_rows),
        Sheet(_("Top overdue"), [_("Invoice"), customer, _("Due date"), _("Days overdue"), _("Balance"),
                                 _("Currency"), f"{_('Balance')} ({currency})"], top),
    ]


def weekly_report_xlsx(data: WeeklyReportData, language: str) -> bytes:
    """The report's figures as an .xlsx workbook in `language`."""
    with translation.override(language):
        return xlsx_workbook(_sheets(data))
