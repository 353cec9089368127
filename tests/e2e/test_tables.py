"""The tables in a browser (issue 14 item 6): filter the invoice list and download exactly the
filtered rows as CSV and XLSX, select customers and assign them a collector, page through aging by
customer with totals over every customer; no list wider than a phone. Screenshots at 1280 and
390 px go to /tmp/inflow-shots/tables/ (not the repository)."""

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from dunning.models import CustomerDunning
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, make_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/inflow-shots/tables")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def book(organization):
    """30 customers, each with an invoice; the odd ones overdue (by 10 x n days), the even ones current."""
    today = dt.date.today()
    customers = []
    for n in range(1, 31):
        customer = CustomerFactory(organization=organization, name=f"Kunde {n:02d} 贸易有限公司")
        due = today - dt.timedelta(days=10 * n) if n % 2 else today + dt.timedelta(days=n)
        make_invoice(organization, customer, amount=f"{1000 + n}.50", issue_date=min(due, today) - dt.timedelta(days=30),
                     due_date=due, number=f"T-{n:02d}")
        customers.append(customer)
    return customers


@pytest.fixture
def manager(organization):
    return MembershipFactory(organization=organization, role="credit_manager").user


@pytest.fixture
def collector(organization):
    return MembershipFactory(organization=organization, role="collector").user


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def _fits_a_phone(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]


def _table_numbers(page) -> list[str]:
    return [text.strip() for text in page.locator("[data-testid=invoice-table] tbody tr td:nth-child(2) > a").all_inner_texts()]


def test_the_filtered_invoice_list_downloads_as_the_same_rows(page, manager, book):
    sign_in(page, manager.username, PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto("/invoices/")
    page.select_option("#id_overdue", "true")
    page.fill("#id_search", "T-1")
    page.click("[data-testid=invoice-filters] button[type=submit]")
    page.wait_for_url("**/invoices/?*")
    shown = _table_numbers(page)
    assert shown == ["T-19", "T-17", "T-15", "T-13", "T-11"]  # the overdue ones, the most overdue first
    _shot(page, "invoice-list-1280")

    with page.expect_download() as csv_download:
        page.click("[data-testid=export-csv]")
    assert csv_download.value.suggested_filename.startswith("invoices-acme-")
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in rows] == shown
    assert {row[header.index("Currency")] for row in rows} == {"CNY"}
    assert rows[0][header.index("Balance")] == "1019.50"

    with page.expect_download() as xlsx_download:
        page.click("[data-testid=export-xlsx]")
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows] == shown
    assert rows[0][header.index("Balance")] == 1019.5  # a number cell

    page.set_viewport_size(PHONE)
    page.reload()
    _shot(page, "invoice-list-390")
    _fits_a_phone(page)


def test_select_customers_and_assign_a_collector(page, manager, collector, book):
    sign_in(page, manager.username, PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto("/customers/?search=Kunde 0")
    chosen = book[:2]
    for customer in chosen:
        page.check(f"[data-testid=select-customer-{customer.pk}]")
    page.select_option("[data-testid=bulk-collector]", str(collector.pk))
    _shot(page, "customer-list-bulk-1280")
    page.click("[data-testid=bulk-assign_collector]")
    page.wait_for_selector(".alert")
    assert "2 customers assigned to" in page.content()
    assert page.url.endswith("/customers/?search=Kunde%200") or "search=Kunde" in page.url
    assert dict(CustomerDunning.objects.values_list("customer_id", "collector_id")) == {
        customer.pk: collector.pk for customer in chosen}

    # "select all on this page" ticks every row of the page
    page.check("[data-testid=select-all]")
    assert page.locator("input[name=ids]:checked").count() == page.locator("input[name=ids]").count() == 9

    page.set_viewport_size(PHONE)
    page.reload()
    _shot(page, "customer-list-bulk-390")
    _fits_a_phone(page)


def test_a_viewer_sees_no_selection(page, organization, book):
    viewer = MembershipFactory(organization=organization, role="viewer").user
    sign_in(page, viewer.username, PASSWORD)
    page.goto("/customers/")
    assert page.locator("[data-testid=bulk-form]").count() == 0
    assert page.locator("input[name=ids]").count() == 0
    assert page.locator("[data-testid=export-csv]").count() == 1


def test_aging_by_customer_pages_with_totals_over_everyone(page, manager, book):
    sign_in(page, manager.username, PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto("/reports/aging/")
    rows = page.locator("[data-testid=aging-table] tbody tr")
    assert rows.count() == 25
    total = page.get_by_test_id("aging-total-all").inner_text()
    assert total.replace(",", "") == f"{sum(1000 + n for n in range(1, 31)) + 15:.2f}"  # 30 x .50
    first = page.locator("[data-testid=aging-table] tbody tr td:first-child a").first.inner_text()
    assert first.startswith("Kunde 29")  # the most overdue first
    _shot(page, "aging-1280")

    page.click("nav.pagination a[rel=next]")
    page.wait_for_url("**page=2*")
    assert rows.count() == 5
    assert page.get_by_test_id("aging-total-all").inner_text() == total

    page.set_viewport_size(PHONE)
    page.goto("/reports/aging/")
    _shot(page, "aging-390")
    _fits_a_phone(page)
