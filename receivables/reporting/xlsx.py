"""The weekly report's data as a spreadsheet (pandas + openpyxl), one sheet per section.

Amounts are written as Decimals rounded to the currency's minor unit; openpyxl stores them as
number cells."""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd
from django.utils import translation
from django.utils.translation import gettext as _

from tenancy.money import quantize

from .pdf import bucket_labels
from .selectors import WeeklyReportData


def _number(value, currency: str) -> Decimal:
    # Decimal all the way: openpyxl writes it as a number cell, rounded once to the minor unit.
    return quantize(value, currency)


def _sheets(data: WeeklyReportData) -> dict[str, pd.DataFrame]:
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
    return {
        _("Summary"): pd.DataFrame(summary, columns=[_("Item"), _("Value")]),
        _("Aging by customer"): pd.DataFrame(aging_rows, columns=[customer, *labels, total]),
        _("Top overdue"): pd.DataFrame(top, columns=[_("Invoice"), customer, _("Due date"), _("Days overdue"),
                                                      _("Balance"), _("Currency"), f"{_('Balance')} ({currency})"]),
    }


def weekly_report_xlsx(data: WeeklyReportData, language: str) -> bytes:
    """The report's figures as an .xlsx workbook in `language`."""
    buffer = io.BytesIO()
    with translation.override(language):
        sheets = _sheets(data)
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            for name, frame in sheets.items():
                frame.to_excel(writer, sheet_name=name[:31], index=False)
                sheet = writer.sheets[name[:31]]
                for column in sheet.columns:
                    width = max(len(str(cell.value or "")) for cell in column[:200])
                    sheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 50)
    return buffer.getvalue()
