"""The credit manager's day in the browser (issue 14): find a customer by name, request a limit and
have another credit manager approve it (four eyes: whoever proposes a limit may not decide it), put
the customer on hold, and see the customer page and the invoice form say so. Screenshots at 1280
and 390 px in English and Chinese go to /tmp/inflow-shots (INFLOW_SCREENSHOTS overrides), and none
of these pages scrolls sideways at 390 px."""

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from credit.models import CreditProfile, LimitRequest, LimitRequestStatus
from receivables.models import Invoice
from tenancy.dates import local_today
from tenancy.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, make_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("INFLOW_SCREENSHOTS") or "/tmp/inflow-shots")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"credit-manager-{name}.png"), full_page=True)


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def book(organization, credit_manager):
    today = local_today(organization.timezone)
    huadong = CustomerFactory(organization=organization, name="华东贸易 Huadong Trading", currency="CNY",
                              legal_name="上海华东贸易有限公司", contact_emails=["ap@huadong.example"])
    make_invoice(organization, huadong, number="HD-201", amount="30000.00",
                 issue_date=today - dt.timedelta(days=40), due_date=today - dt.timedelta(days=10))
    make_invoice(organization, huadong, number="HD-202", amount="12000.00",
                 issue_date=today - dt.timedelta(days=5), due_date=today + dt.timedelta(days=25))
    for name in ("Beijing Parts Co", "深圳光学 Shenzhen Optics", "Hubei Steel"):
        CustomerFactory(organization=organization, name=name, currency="CNY")
    approver = MembershipFactory(organization=organization, role=Role.CREDIT_MANAGER).user
    return today, huadong, approver


def _second_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_a_credit_managers_day(page, browser, live_server, organization, credit_manager, book):
    today, huadong, approver = book
    sign_in(page, credit_manager.username, PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Find the customer by name in the credit customer list, open its page: the hub.
    page.goto("/credit/")
    page.fill("#id_credit_search", "Huadong")
    page.locator("[data-testid=credit-customers] button[type=submit]").click()
    rows = page.locator("[data-testid=credit-customer-table] tbody tr")
    assert rows.count() == 1 and "华东贸易 Huadong Trading" in rows.first.inner_text()
    _shot(page, "search-1280-en")
    rows.first.locator("a").first.click()
    page.wait_for_url(re.compile(rf"/customers/{huadong.pk}/$"))
    assert page.locator("[data-testid=customer-status]").inner_text() == "Active"
    assert "42,000.00" in page.inner_text("[data-testid=customer-figures]")
    assert "30,000.00" in page.inner_text("[data-testid=figure-overdue-CNY]")
    assert "None set" in page.inner_text("[data-testid=credit-limit]")
    _shot(page, "customer-1280-en")

    # Request a limit from the credit file (a tab of the hub).
    page.locator("[data-testid=customer-tab-credit]").click()
    page.wait_for_url(re.compile(rf"/credit/customers/{huadong.pk}/$"))
    page.fill("#id_requested_limit", "100000")
    page.fill("#id_requested_terms_days", "45")
    page.fill("form[action$='/limit/'] #id_reason", "Annual contract signed")
    _shot(page, "limit-request-1280-en")
    page.get_by_role("button", name="Send for approval").click()
    page.wait_for_load_state()
    assert "Limit request sent for approval." in page.inner_text(".messages")
    request = LimitRequest.objects.get(customer=huadong)
    assert request.status == LimitRequestStatus.PENDING
    page.goto(f"/customers/{huadong.pk}/")
    assert "waiting for approval" in page.inner_text("[data-testid=credit-pending-request]")

    # Four eyes: the proposer cannot approve; another credit manager does, from the inbox.
    page.goto("/credit/approvals/")
    row = page.locator("[data-testid=approvals] tbody tr", has_text="Huadong")
    assert "someone else decides" in row.inner_text() and row.locator("form").count() == 0

    context, other = _second_page(browser, live_server)
    try:
        sign_in(other, approver.username, PASSWORD)
        other.goto("/credit/approvals/")
        row = other.locator("[data-testid=approvals] tbody tr", has_text="Huadong")
        row.locator("select[name=decision]").select_option("approve")
        row.locator("input[name=comment]").fill("Within policy")
        _shot(other, "approvals-1280-en")
        row.get_by_role("button", name="Decide").click()
        other.wait_for_load_state()
        assert "Approved." in other.inner_text(".messages")
    finally:
        context.close()
    assert LimitRequest.objects.get(pk=request.pk).status == LimitRequestStatus.APPROVED
    assert CreditProfile.objects.get(customer=huadong).credit_limit == Decimal("100000")
    page.goto(f"/customers/{huadong.pk}/")
    assert "100,000.00" in page.inner_text("[data-testid=credit-limit]")
    assert "42%" in page.inner_text("[data-testid=credit-exposure]")

    # Put the customer on hold (the blacklist, on the credit file).
    page.goto(f"/credit/customers/{huadong.pk}/")
    page.check("#id_blacklisted")
    page.fill("form[action$='/blacklist/'] #id_reason", "Cheque returned twice")
    page.locator("form[action$='/blacklist/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "Blacklist updated." in page.inner_text(".messages")

    # The customer page says so beside the buttons, and never "Active".
    page.goto(f"/customers/{huadong.pk}/")
    assert page.locator("[data-testid=customer-hold-badge]").inner_text() == "Blacklisted"
    assert page.locator("[data-testid=customer-status]").count() == 0
    assert page.locator("[data-testid=new-invoice]").count() == 0
    assert page.locator("[data-testid=new-invoice-refused]").inner_text() == "New invoices refused"
    assert "Cheque returned twice" in page.inner_text("[data-testid=customer-hold]")
    _shot(page, "customer-on-hold-1280-en")

    # So does the invoice form for this customer, and it refuses the invoice.
    page.goto(f"/invoices/new/?customer={huadong.pk}")
    notice = page.inner_text("[data-testid=invoice-form-hold]")
    assert "Blacklisted" in notice and "will be refused" in notice
    _shot(page, "invoice-form-on-hold-1280-en")
    page.fill("#id_number", "HD-203")
    page.fill("#id_net_amount", "500.00")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state()
    assert "is on credit hold" in page.inner_text("body")
    assert not Invoice.objects.filter(number="HD-203").exists()
    assert page.locator("[data-testid=invoice-form-hold]").count() == 1


PAGES = (
    ("search", "/credit/?search=Huadong"),
    ("customer", "/customers/{customer}/"),
    ("credit-file", "/credit/customers/{customer}/"),
    ("approvals", "/credit/approvals/"),
    ("invoice-form", "/invoices/new/?customer={customer}"),
    ("invoice", "/invoices/{invoice}/"),
)


def test_the_credit_managers_pages_in_both_languages_at_desktop_and_phone_width(page, organization,
                                                                                credit_manager, book):
    from credit import services as credit_services

    _today, huadong, _approver = book
    credit_services.limit_request_create(organization=organization, actor=credit_manager, customer=huadong,
                                         requested_limit=Decimal("100000"), requested_terms_days=45,
                                         reason="Annual contract signed")
    credit_services.blacklist_set(organization=organization, actor=credit_manager, customer=huadong,
                                  blacklisted=True, reason="Cheque returned twice")
    invoice = Invoice.objects.get(number="HD-201")
    sign_in(page, credit_manager.username, PASSWORD)
    for language in ("en", "zh-hans"):
        page.goto("/credit/")
        if page.locator("html").get_attribute("lang") != language:
            with page.expect_navigation():
                page.select_option("[data-testid=language-switch]", language)
        assert page.locator("html").get_attribute("lang") == language
        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            for name, url in PAGES:
                response = page.goto(url.format(customer=huadong.pk, invoice=invoice.pk))
                assert response.status == 200, url
                _shot(page, f"{name}-{width}-{language}")
                if width == 390:
                    assert _no_sideways_scroll(page), f"{url} at 390 px in {language}"
        if language == "zh-hans":
            page.goto(f"/customers/{huadong.pk}/")
            badge = page.inner_text("[data-testid=customer-hold-badge]")
            assert badge == "已列入黑名单", badge
            body = page.inner_text("body")
            assert "信用额度" in body and "Blacklisted" not in body and "New invoices refused" not in body
