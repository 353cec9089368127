"""The list pages (invoices, customers, payments, FX rates) filter with the API's FilterSets and
download the filtered rows as CSV and XLSX: amounts as numbers beside a currency column, file
names with the organization and the day, formula-like text neutralized, XLSX capped."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from receivables import services
from tests.factories import CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def book(organization, customer):
    """Open invoices due at several dates, one paid, one voided; another customer's; a foreign one."""
    other = CustomerFactory(organization=organization, name="Beijing Parts Co", currency="CNY")
    usd = CustomerFactory(organization=organization, name="Boston Tools", currency="USD")
    rows = {
        "late": make_invoice(organization, customer, amount="1000.00", due_date=dt.date(2026, 1, 31), number="A-LATE"),
        "later": make_invoice(organization, other, amount="300.00", issue_date=dt.date(2025, 11, 1),
                              due_date=dt.date(2025, 12, 1), number="B-LATER"),
        "current": make_invoice(organization, customer, amount="2500.50", issue_date=dt.date(2026, 3, 1),
                                due_date=dt.date(2026, 4, 30), number="A-CURRENT"),
        "paid": make_invoice(organization, other, amount="50.00", issue_date=dt.date(2025, 9, 1),
                             due_date=dt.date(2025, 10, 1), number="B-PAID"),
        "usd": make_invoice(organization, usd, amount="99.99", due_date=dt.date(2026, 2, 28), number="U-1"),
    }
    make_payment(organization, other, amount="50.00", received_on=dt.date(2026, 1, 5), auto_allocate=False)
    payment = make_payment(organization, other, amount="50.00", received_on=dt.date(2026, 1, 6), auto_allocate=False)
    services.payment_allocate(organization=organization, actor=None, payment=payment,
                              allocations=[(rows["paid"], Decimal("50.00"))])
    return rows


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the UTF-8 (Chinese names) only with the BOM
    return list(csv.reader(io.StringIO(body[1:])))


def _xlsx(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def test_the_invoice_list_shows_open_invoices_first_the_most_overdue_first(member_client, book):
    page = member_client.get(reverse("invoice_list")).context["page"]
    assert [invoice.number for invoice in page] == ["B-LATER", "A-LATE", "U-1", "A-CURRENT", "B-PAID"]


def test_the_invoice_list_filters_with_the_api_filterset(member_client, book):
    def numbers(**params):
        return {invoice.number for invoice in member_client.get(reverse("invoice_list"), params).context["page"]}

    assert numbers(overdue="true") == {"A-LATE", "B-LATER", "U-1"}
    assert numbers(overdue="on") == {"A-LATE", "B-LATER", "U-1"}  # what a checkbox sends
    assert numbers(overdue="false") == {"A-CURRENT", "B-PAID"}
    assert numbers(search="beijing") == {"B-LATER", "B-PAID"}  # number or customer name
    assert numbers(search="late") == {"A-LATE", "B-LATER"}
    assert numbers(currency="USD") == {"U-1"}
    assert numbers(status="paid") == {"B-PAID"}
    assert numbers(status=["paid", "open"]) == {"A-LATE", "B-LATER", "A-CURRENT", "B-PAID", "U-1"}  # as the API
    html = member_client.get(reverse("invoice_list"), {"status": "paid"}).content.decode()
    assert '<select name="status" aria-describedby="id_status_helptext" id="id_status">' in html  # one drop-down
    assert '<option value="paid" selected>' in html
    assert numbers(due_date_from="2026-01-01", due_date_to="2026-02-28") == {"A-LATE", "U-1"}


def test_the_invoice_csv_holds_the_filtered_rows_amounts_as_numbers_with_a_currency(member_client, book):
    response = member_client.get(reverse("invoice_list"), {"overdue": "true", "export": "csv", "page": "2"})
    assert response["Content-Disposition"] == 'attachment; filename="invoices-acme-2026-03-31.csv"'
    header, *rows = _csv(response)
    assert header[:3] == ["Number", "Customer", "Customer external id"]
    at = {name: header.index(name) for name in ("Number", "Due", "Currency", "Total", "Balance", "Days overdue")}
    assert [row[at["Number"]] for row in rows] == ["B-LATER", "A-LATE", "U-1"]  # every row, not a page
    assert [(row[at["Currency"]], row[at["Total"]], row[at["Balance"]], row[at["Days overdue"]]) for row in rows] == [
        ("CNY", "300.00", "300.00", "120"), ("CNY", "1000.00", "1000.00", "59"), ("USD", "99.99", "99.99", "31")]
    assert rows[0][at["Due"]] == "2025-12-01"


def test_the_invoice_xlsx_holds_the_same_rows_with_number_and_date_cells(member_client, book):
    response = member_client.get(reverse("invoice_list"), {"overdue": "true", "export": "xlsx"})
    assert response["Content-Disposition"] == 'attachment; filename="invoices-acme-2026-03-31.xlsx"'
    header, *rows = _xlsx(response)
    at = {name: header.index(name) for name in ("Number", "Due", "Currency", "Total", "Balance")}
    assert [row[at["Number"]] for row in rows] == ["B-LATER", "A-LATE", "U-1"]
    assert [(row[at["Currency"]], row[at["Balance"]]) for row in rows] == [("CNY", 300), ("CNY", 1000),
                                                                          ("USD", 99.99)]
    assert all(isinstance(row[at["Total"]], int | float) for row in rows)  # numbers, not text
    assert rows[0][at["Due"]].date() == dt.date(2025, 12, 1)


def test_text_that_would_start_a_formula_stays_text_in_both_files(member_client, organization):
    evil = CustomerFactory(organization=organization, name='=HYPERLINK("http://x.example","click")')
    make_invoice(organization, evil, amount="10.00", number="@SUM(1+1)")
    header, row = _csv(member_client.get(reverse("invoice_list"), {"export": "csv"}))
    assert row[header.index("Customer")] == "'" + evil.name
    assert row[header.index("Number")] == "'@SUM(1+1)"
    workbook = openpyxl.load_workbook(io.BytesIO(member_client.get(reverse("invoice_list"), {"export": "xlsx"}).content))
    cells = {cell.value: cell.data_type for cell in workbook.active[2]}
    assert cells["'" + evil.name] == "s"  # a string cell, not a formula
    assert cells["'@SUM(1+1)"] == "s"


def test_an_xlsx_over_the_cap_is_refused_with_a_message_and_csv_still_streams(member_client, book, settings):
    settings.EXPORT_XLSX_MAX_ROWS = 2
    response = member_client.get(reverse("invoice_list"), {"export": "xlsx"})
    assert response["Content-Type"].startswith("text/html")
    assert "5 rows are more than an XLSX export holds (2)" in response.content.decode()
    assert len(_csv(member_client.get(reverse("invoice_list"), {"export": "csv"}))) == 6
    assert len(_xlsx(member_client.get(reverse("invoice_list"), {"export": "xlsx", "currency": "USD"}))) == 2


def test_a_csv_over_its_cap_is_refused_too(member_client, book, settings):
    settings.EXPORT_CSV_MAX_ROWS = 4
    response = member_client.get(reverse("invoice_list"), {"export": "csv"})
    assert response["Content-Type"].startswith("text/html")
    assert "5 rows are more than a CSV export holds (4): narrow the filters." in response.content.decode()
    assert len(_csv(member_client.get(reverse("invoice_list"), {"export": "csv", "overdue": "true"}))) == 4


def test_a_filter_that_does_not_validate_gives_no_download(member_client, book):
    response = member_client.get(reverse("invoice_list"), {"due_date_from": "yesterday", "export": "csv"})
    assert response["Content-Type"].startswith("text/html")
    assert "Correct the filters before downloading." in response.content.decode()
    assert "due_date_from" in response.context["filter_form"].errors


def test_another_organizations_invoices_are_never_exported(member_client, book, other_organization):
    stranger = CustomerFactory(organization=other_organization, currency="USD", name="Rival buyer")
    make_invoice(other_organization, stranger, amount="1.00", number="RIVAL-1")
    rows = _csv(member_client.get(reverse("invoice_list"), {"export": "csv"}))
    assert "RIVAL-1" not in {row[0] for row in rows}
    # naming the other organization's customer is a filter error: no download at all
    response = member_client.get(reverse("invoice_list"), {"export": "csv", "customer": stranger.pk})
    assert response["Content-Type"].startswith("text/html")
    assert "customer" in response.context["filter_form"].errors


def test_the_invoice_list_costs_the_same_queries_for_few_and_many_invoices(member_client, organization, customer):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get(reverse("invoice_list"), {"overdue": "true", "search": "INV"}).status_code == 200
        return len(captured)

    for n in range(3):
        make_invoice(organization, customer, amount="10.00", due_date=dt.date(2026, 1, 1), number=f"INV-{n}")
    few = queries()
    for n in range(3, 40):
        make_invoice(organization, customer, amount="10.00", due_date=dt.date(2026, 1, 1), number=f"INV-{n}")
    assert queries() == few


def test_the_customer_list_filters_sorts_by_outstanding_and_exports(member_client, book, customer):
    page = member_client.get(reverse("customer_list")).context["page"]
    assert [c.name for c in page] == [customer.name, "Beijing Parts Co", "Boston Tools"]  # largest balance first
    page = member_client.get(reverse("customer_list"), {"currency": "USD"}).context["page"]
    assert [c.name for c in page] == ["Boston Tools"]
    response = member_client.get(reverse("customer_list"), {"search": "bo", "export": "xlsx"})
    assert response["Content-Disposition"] == 'attachment; filename="customers-acme-2026-03-31.xlsx"'
    header, *rows = _xlsx(response)
    assert [(r[header.index("Name")], r[header.index("Currency")], r[header.index("Outstanding")]) for r in rows] == [
        ("Boston Tools", "USD", 99.99)]


def test_the_payment_list_filters_and_exports(member_client, book):
    response = member_client.get(reverse("payment_list"), {"unapplied": "1", "export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="payments-acme-2026-03-31.csv"'
    header, *rows = _csv(response)
    assert [(r[header.index("Received")], r[header.index("Currency")], r[header.index("Unapplied")]) for r in rows] == [
        ("2026-01-05", "CNY", "50.00")]
    page = member_client.get(reverse("payment_list"), {"received_on_from": "2026-01-06"}).context["page"]
    assert [p.received_on for p in page] == [dt.date(2026, 1, 6)]


def test_the_fx_rate_list_filters_and_exports(member_client, organization, admin_user):
    for currency, day, rate in (("USD", "2026-03-01", "7.1"), ("USD", "2026-03-15", "7.2"), ("EUR", "2026-03-01", "7.9")):
        services.fx_rate_set(organization=organization, actor=admin_user, currency=currency,
                             rate_date=dt.date.fromisoformat(day), rate=Decimal(rate))
    _header, *rows = _xlsx(member_client.get(reverse("fx_rate_list"), {"currency": "USD", "export": "xlsx"}))
    assert [(r[0], r[1].date().isoformat(), r[2], r[3]) for r in rows] == [
        ("USD", "2026-03-15", 7.2, "CNY"), ("USD", "2026-03-01", 7.1, "CNY")]


def test_a_viewer_can_download_but_sees_no_bulk_controls(client, viewer, book):
    client.force_login(viewer)
    html = client.get(reverse("invoice_list")).content.decode()
    assert 'data-testid="export-csv"' in html
    assert 'data-testid="bulk-form"' not in html and 'name="ids"' not in html
    assert len(_csv(client.get(reverse("invoice_list"), {"export": "csv"}))) == 6


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1",
            "\r=1+1"]


@pytest.mark.parametrize("url", ["invoice_list", "customer_list", "payment_list", "reporting:aging"])
def test_no_list_download_holds_a_formula(member_client, organization, url):
    for n, name in enumerate(FORMULAS):
        customer = CustomerFactory(organization=organization, name=name, legal_name=name)
        make_invoice(organization, customer, amount="10.00", number=f"{name[:10]}{n}")
        make_payment(organization, customer, amount="1.00", received_on=dt.date(2026, 1, 20), reference=name)
    cells = [cell for row in _csv(member_client.get(reverse(url), {"export": "csv"}))[1:] for cell in row]
    assert cells and not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    sheet = openpyxl.load_workbook(io.BytesIO(member_client.get(reverse(url), {"export": "xlsx"}).content)).active
    assert {cell.data_type for row in sheet.iter_rows() for cell in row} <= {"s", "inlineStr", "n", "d"}  # no "f"
    texts = [cell.value for row in sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert not any(text.startswith(("=", "+", "-", "@", "\t", "\r")) for text in texts)
    assert sum(text.startswith("'") for text in texts) >= len(FORMULAS)  # each name, kept as text


@pytest.mark.parametrize("url", ["customer_list", "payment_list"])
def test_the_customer_and_payment_lists_cost_the_same_queries_for_few_and_many_rows(member_client, organization, url):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get(reverse(url), {"currency": "CNY"}).status_code == 200
        return len(captured)

    def add(count: int) -> None:
        for _n in range(count):
            customer = CustomerFactory(organization=organization)
            make_invoice(organization, customer, amount="10.00")
            make_payment(organization, customer, amount="5.00", received_on=dt.date(2026, 1, 20))

    add(3)
    few = queries()
    add(30)
    assert queries() == few
