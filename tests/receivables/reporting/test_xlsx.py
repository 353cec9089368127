"""The weekly XLSX, written by the same writer as the API's exports (receivables.exports)."""

import io

import openpyxl

from receivables.reporting.selectors import weekly_report_data
from receivables.reporting.xlsx import weekly_report_xlsx

from .conftest import AS_OF


def test_three_sheets_with_amounts_as_numbers_rounded_to_the_minor_unit(organization, customer, book):
    workbook = openpyxl.load_workbook(io.BytesIO(weekly_report_xlsx(weekly_report_data(organization, AS_OF), "en")))

    assert workbook.sheetnames == ["Summary", "Aging by customer", "Top overdue"]
    summary = dict(workbook["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["Organization"] == "Acme Trading" and summary["Currency"] == "CNY"
    assert summary["Total receivables"] == 142100.5  # a number cell, not text
    top = list(workbook["Top overdue"].iter_rows(values_only=True))
    assert top[0] == ("Invoice", "Customer", "Due date", "Days overdue", "Balance", "Currency", "Balance (CNY)")
    usd = next(row for row in top if row[0] == "INV-US-1")
    assert usd[4:] == (1000, "USD", 7100)  # 1,000.00 USD at 7.1
    assert workbook["Aging by customer"].column_dimensions["A"].width >= len("上海华东贸易有限公司")


def test_the_chinese_workbook_names_its_sheets_in_chinese(organization, customer, book):
    workbook = openpyxl.load_workbook(io.BytesIO(weekly_report_xlsx(weekly_report_data(organization, AS_OF),
                                                                    "zh-hans")))
    assert "Summary" not in workbook.sheetnames and len(workbook.sheetnames) == 3
