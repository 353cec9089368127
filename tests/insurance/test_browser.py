"""Notify -> claim in a real browser (Chromium via Playwright), and the deadlines page at phone width."""

import datetime as dt

import pytest
import time_machine

from insurance.models import Claim, ClaimStatus
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHANGHAI_MORNING = dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 on 1 April in Shanghai


@pytest.fixture
def browser_context(browser, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    contexts = []

    def make(**kwargs):
        context = browser.new_context(base_url=live_server.url, locale="en-US", **kwargs)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def test_notify_then_claim(browser_context, credit_manager, policy, covered_buyer, three_invoices):
    credit_manager.set_password(PASSWORD)
    credit_manager.save()
    page = browser_context(viewport={"width": 1366, "height": 900})
    with time_machine.travel(SHANGHAI_MORNING, tick=True):
        sign_in(page, credit_manager.username, PASSWORD)
        page.goto("/insurance/deadlines/")
        a = three_invoices[0]
        assert page.locator(f"[data-testid=state-{a.pk}]").inner_text() == "Due soon"
        page.click(f"text={covered_buyer.name}")
        for number in "ABC":
            page.check(f"[data-testid=pick-{number}]")
        page.click("[data-testid=declare]")
        page.wait_for_selector("[data-testid=customer-declarations] li >> text=Overdue notification")
        assert page.locator(f"[data-testid=state-{a.pk}]").inner_text() == "Notified"
        for number in "ABC":
            page.check(f"[data-testid=pick-{number}]")
        page.fill("#id_recoveries", "12345.67")
        page.click("[data-testid=claim]")
        page.wait_for_selector("[data-testid=expected-indemnity]")
        assert page.locator("[data-testid=expected-indemnity]").inner_text() == "167,888.90 CNY"
        assert "Covered loss after recoveries" in page.locator("[data-testid=indemnity-steps]").inner_text()
        page.click("[data-testid=file-claim]")
        page.wait_for_selector("[data-testid=claim-status] >> text=Filed")
    claim = Claim.objects.get()
    assert (claim.status, claim.filed_on, claim.expected_indemnity) == (ClaimStatus.FILED, dt.date(2026, 4, 1),
                                                                        claim.expected_indemnity)


def test_deadlines_fit_a_phone(browser_context, credit_manager, policy, covered_buyer, three_invoices):
    credit_manager.set_password(PASSWORD)
    credit_manager.save()
    page = browser_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    with time_machine.travel(SHANGHAI_MORNING, tick=True):
        sign_in(page, credit_manager.username, PASSWORD)
        for url in ("/insurance/deadlines/", f"/insurance/customers/{covered_buyer.pk}/"):
            page.goto(url)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{url} scrolls sideways by {overflow}px at phone width"
