"""The browser UI end to end: sign-in, language, the dashboard's figures, tenancy."""

import datetime as dt
import os
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from receivables import selectors
from tenancy.money import quantize
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, OrganizationFactory, make_invoice, make_payment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AS_OF = dt.date(2026, 3, 31)
# Screenshots for a human to look at; outside the repository.
SCREENSHOTS = Path(os.environ.get("INFLOW_SCREENSHOTS", tempfile.gettempdir()))


def _number(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


@pytest.fixture
def ledger(organization, admin_user):
    """A small book over several buckets and two currencies (USD converted at a stored rate)."""
    from receivables import services

    admin_user.set_password(PASSWORD)
    admin_user.save()
    east = CustomerFactory(organization=organization, name="上海华东贸易有限公司")
    north = CustomerFactory(organization=organization, name="Beijing Parts Co")
    usd = CustomerFactory(organization=organization, name="Pacific Imports LLC", currency="USD")
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 1, 1),
                         rate=Decimal("7.1234"))
    make_invoice(organization, east, amount="12500.00", issue_date=dt.date(2026, 3, 1), due_date=dt.date(2026, 4, 30))
    make_invoice(organization, east, amount="8000.00", issue_date=dt.date(2026, 1, 10), due_date=dt.date(2026, 2, 9))
    make_invoice(organization, north, amount="3300.33", issue_date=dt.date(2025, 11, 1), due_date=dt.date(2025, 12, 1))
    make_invoice(organization, north, amount="990.00", issue_date=dt.date(2026, 2, 1), due_date=dt.date(2026, 3, 3))
    make_invoice(organization, usd, amount="1000.55", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 1, 31))
    make_payment(organization, east, amount="3000.00", received_on=dt.date(2026, 3, 15))
    return {"east": east, "north": north, "usd": usd}


def test_login_rejects_a_bad_password_then_lands_on_the_dashboard(page, admin_user, ledger):
    sign_in(page, admin_user.username, "wrong-password")
    error = page.locator("[data-testid=login-error]")
    assert "Please enter a correct username and password" in error.inner_text()
    assert page.url.endswith("/login/")

    sign_in(page, admin_user.username, PASSWORD)
    page.wait_for_selector("[data-testid=aging-table]")
    assert page.locator("h1").first.inner_text() == "Dashboard"
    assert page.url.endswith(reverse("dashboard"))
    assert page.locator("[data-testid=org-switch] option:checked").inner_text() == "Acme Trading"


def test_language_switch_to_chinese_and_back(page, admin_user, ledger):
    sign_in(page, admin_user.username, PASSWORD)
    page.wait_for_selector("[data-testid=aging-table]")
    with page.expect_navigation():
        page.select_option("[data-testid=language-switch]", "zh-hans")
    assert page.locator("h1").first.inner_text() == "概览"
    page.screenshot(path=SCREENSHOTS / "inflow-dashboard-zh.png")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "应收账款总额" in page.locator(".kpis").inner_text()
    assert "客户" in page.locator("#sidenav").inner_text()

    page.goto("/invoices/")  # the choice is kept on the user, not only on one page
    assert page.locator("h1").first.inner_text() == "发票"

    with page.expect_navigation():
        page.select_option("[data-testid=language-switch]", "en")
    assert page.locator("h1").first.inner_text() == "Invoices"


def test_language_switch_on_the_login_page(page):
    page.goto("/login/")
    with page.expect_navigation():
        page.select_option("[data-testid=language-switch]", "zh-hans")
    assert page.locator("h1").first.inner_text() == "登录"


def test_dashboard_aging_table_equals_the_aging_report(page, organization, admin_user, ledger):
    report = selectors.aging_report(organization, AS_OF)
    assert len(report.rows) == 3  # the book spans three customers and several buckets

    sign_in(page, admin_user.username, PASSWORD)
    page.goto(f"/?as_of={AS_OF.isoformat()}")
    page.wait_for_selector("[data-testid=aging-table]")
    page.screenshot(path=SCREENSHOTS / "inflow-dashboard.png", full_page=True)

    for bucket, total in zip(report.buckets, report.totals, strict=True):
        shown = page.get_by_test_id(f"aging-total-{bucket.key}").inner_text()
        assert _number(shown) == quantize(total, report.currency), bucket.key
    assert _number(page.get_by_test_id("aging-total-all").inner_text()) == quantize(report.total, "CNY")
    for row in report.rows:
        for bucket, amount in zip(report.buckets, row.amounts, strict=True):
            shown = page.get_by_test_id(f"aging-{row.customer_id}-{bucket.key}").inner_text()
            assert _number(shown) == quantize(amount, "CNY"), (row.customer_name, bucket.key)
    # the KPI cards agree with the same report
    assert page.get_by_test_id("kpi-total").inner_text().startswith(f"{quantize(report.total, 'CNY'):,}")
    assert f"{report.overdue_ratio}%" in page.get_by_test_id("kpi-overdue-ratio").inner_text()


def test_a_user_of_another_organization_gets_404_for_an_invoice(page, organization, ledger):
    invoice = selectors.invoice_list(organization).first()
    other = OrganizationFactory(name="Rival Corp", slug="rival-e2e")
    outsider = MembershipFactory(organization=other).user
    sign_in(page, outsider.username, PASSWORD)
    page.wait_for_selector("[data-testid=aging-table]")
    response = page.goto(f"/invoices/{invoice.pk}/")
    assert response.status == 404
    assert invoice.number not in page.content()


def test_phone_width_layout(page, admin_user, ledger):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, admin_user.username, PASSWORD)
    page.goto(f"/?as_of={AS_OF.isoformat()}")
    page.wait_for_selector("[data-testid=aging-table]")
    assert not page.locator("#sidenav").is_visible()  # folded away behind the menu button
    page.click(".nav-toggle")
    assert page.locator("#sidenav").is_visible()
    # the page itself does not scroll sideways; wide tables scroll inside their own box
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=SCREENSHOTS / "inflow-dashboard-phone.png", full_page=True)
