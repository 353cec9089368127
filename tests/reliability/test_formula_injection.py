"""Spreadsheet formula injection: text that starts a formula is written as text in every export
(aging and statement CSV/XLSX from the API, the weekly XLSX, the evidence bundle's CSV files)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from dunning.evidence import evidence_bundle
from receivables.reporting.selectors import weekly_report_data
from receivables.reporting.xlsx import weekly_report_xlsx
from tenancy.spreadsheet import spreadsheet_cell
from tests.api.conftest import key_client
from tests.factories import CustomerFactory, make_invoice

AS_OF = dt.date(2026, 3, 31)
NAMES = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
         "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", NAMES)
def test_formula_text_gets_a_leading_apostrophe(text):
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Acme", "上海华东", "", "1=1", "a-b", 5, None])
def test_other_values_are_unchanged(value):
    assert spreadsheet_cell(value) == value


def test_negative_amounts_stay_numbers():
    from decimal import Decimal

    assert spreadsheet_cell(Decimal("-12.50")) == Decimal("-12.50")


@pytest.fixture
def hostile_book(organization):
    customers = [CustomerFactory(organization=organization, name=name, currency="CNY") for name in NAMES]
    for i, customer in enumerate(customers):
        make_invoice(organization, customer, number=f"=1+{i}", amount="100.00", issue_date=dt.date(2026, 1, 1))
    return customers


def _dangerous(value) -> bool:
    return isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r"))


def _xlsx_cells(content: bytes):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            yield from row


def test_api_aging_and_statement_csv_and_xlsx_hold_no_formula(organization, hostile_book):
    api = key_client(organization)
    files = [f"/api/v1/reports/aging/?as_of={AS_OF}&format=%s"]
    files += [f"/api/v1/customers/{c.pk}/statement/?as_of={AS_OF}&format=%s" for c in hostile_book]
    for url in files:
        csv_response = api.get(url % "csv")
        assert csv_response.status_code == 200, csv_response.content
        cells = [v for row in csv.reader(io.StringIO(csv_response.content.decode())) for v in row]
        assert not [v for v in cells if _dangerous(v)]
        xlsx_response = api.get(url % "xlsx")
        assert xlsx_response.status_code == 200
        cells = list(_xlsx_cells(xlsx_response.content))
        assert not [c.value for c in cells if c.data_type == "f" or _dangerous(c.value)]
    # the names are there, as text
    aging = api.get(f"/api/v1/reports/aging/?as_of={AS_OF}&format=csv").content.decode()
    assert "'=HYPERLINK" in aging and "'@SUM(A1:A9)" in aging


def test_weekly_xlsx_holds_no_formula(organization, hostile_book):
    content = weekly_report_xlsx(weekly_report_data(organization, AS_OF), "en")
    cells = list(_xlsx_cells(content))
    assert not [c.value for c in cells if c.data_type == "f" or _dangerous(c.value)]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in [c.value for c in cells]


def test_evidence_csv_files_hold_no_formula(organization, hostile_book):
    bundle = zipfile.ZipFile(io.BytesIO(evidence_bundle(organization, hostile_book[0])))
    for name in ("invoices.csv", "timeline.csv"):
        text = bundle.read(name).decode("utf-8-sig")
        cells = [v for row in csv.reader(io.StringIO(text)) for v in row]
        assert not [v for v in cells if _dangerous(v)], name
    assert "'=1+0" in bundle.read("invoices.csv").decode("utf-8-sig")
