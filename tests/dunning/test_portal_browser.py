"""The demo path in a real browser: a collector previews today, runs dunning, the email in the
outbox carries a portal link, the customer disputes an invoice there, and dunning pauses."""

import datetime as dt
import re

import pytest
import time_machine

from dunning import services
from dunning.models import Dispute, DunningNotice
from tenancy.models import OutboxMessage
from tests.dunning.conftest import at_local
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, make_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(browser, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "tenancy.mail.OutboxEmailBackend"
    settings.SITE_URL = live_server.url
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_collector_runs_dunning_and_the_customer_disputes_in_the_portal(
        browser_page, organization, english, collector):
    page = browser_page
    collector.set_password(PASSWORD)
    collector.save()
    disputed = make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                            due_date=dt.date(2026, 3, 1), number="INV-PORTAL-1")
    other = make_invoice(organization, english, amount="300.00", issue_date=dt.date(2026, 1, 1),
                         due_date=dt.date(2026, 3, 2), number="INV-PORTAL-2")

    with time_machine.travel(at_local(dt.date(2026, 3, 4)), tick=True):
        sign_in(page, collector.username, PASSWORD)
        page.goto("/dunning/")
        assert "INV-PORTAL-1" in page.locator("[data-testid=preview-table]").inner_text()
        page.click("[data-testid=dunning-run]")
        page.wait_for_selector("[data-testid=run-messages]")
        assert "Acme Trading: payment reminder" in page.locator("[data-testid=run-messages]").inner_text()

        outbox = OutboxMessage.objects.get(organization=organization)
        link = re.search(r"https?://\S+/portal/\S+/", outbox.body).group(0)

        context = page.context.browser.new_context(locale="en-US")  # the customer: no session
        customer_page = context.new_page()
        customer_page.goto(link)
        row = customer_page.locator("tr[data-invoice='INV-PORTAL-1']")
        row.locator("summary", has_text="Dispute").click()
        row.locator("select").select_option("quality")
        row.locator("textarea").fill("Parts arrived broken")
        row.locator("[data-testid=portal-dispute-submit]").click()
        customer_page.wait_for_selector("[data-testid=portal-done]")
        assert "Your dispute was recorded" in customer_page.locator("[data-testid=portal-done]").inner_text()
        assert "Disputed" in customer_page.locator("tr[data-invoice='INV-PORTAL-1']").inner_text()
        tampered = customer_page.goto(link[:-4] + "abc/")
        assert tampered.status == 403
        context.close()

    assert Dispute.objects.get().invoice == disputed
    # the next run: the disputed invoice is paused, the other one goes on
    services.dunning_run(organization=organization, today=dt.date(2026, 4, 3))
    assert not DunningNotice.objects.filter(invoice=disputed, step_days=30).exists()
    assert DunningNotice.objects.filter(invoice=other, step_days=30).exists()
