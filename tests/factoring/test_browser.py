"""The factoring flow in a real browser (Chromium): a credit manager picks eligible invoices and
drafts an assignment, submits it, exports the schedule, records the funding, imports the factor's
statement (a bad file first, refused with its row), repurchases an invoice; the pages fit a phone."""


import pytest

from factoring.models import Assignment, AssignmentStatus, LineState
from receivables.models import Invoice, InvoiceStatus
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(browser, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    context = browser.new_context(base_url=live_server.url, locale="en-US", accept_downloads=True)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def test_assign_export_fund_import_and_repurchase(browser_page, organization, buyer, credit_manager, tmp_path):
    page = browser_page
    credit_manager.set_password(PASSWORD)
    credit_manager.save()
    facility = facility_make(organization)
    first = invoice_make(organization, buyer, "10000", number="INV-F-1")
    second = invoice_make(organization, buyer, "5000", number="INV-F-2")
    sign_in(page, credit_manager.username, PASSWORD)

    page.goto(f"/factoring/facilities/{facility.pk}/")
    page.click("[data-testid=eligibility-link]")
    page.check("input[aria-label='INV-F-1']")
    page.check("input[aria-label='INV-F-2']")
    page.click("[data-testid=assign]")
    page.wait_for_url("**/factoring/assignments/*/")
    page.click("[data-testid=submit]")
    assert "Submitted" in page.inner_text("[data-testid=assignment-status]")
    with page.expect_download() as download:
        page.click("[data-testid=export-xlsx]")
    assert download.value.suggested_filename.endswith(".xlsx")
    page.fill("#id_funded_on", "2026-03-02")
    page.fill("#id_amount_received", "12562.50")
    page.click("[data-testid=fund]")
    assert "Funded" in page.inner_text("[data-testid=assignment-status]")

    bad = tmp_path / "bad.csv"
    bad.write_text("date,type,invoice,amount\n2026-03-20,collection,INV-F-1,10000\n2026-03-21,bonus,INV-F-2,1\n")
    page.goto(f"/factoring/facilities/{facility.pk}/statement/")
    page.set_input_files("#id_file", str(bad))
    page.click("[data-testid=statement-submit]")
    assert "bonus" in page.inner_text("[data-testid=row-errors]")
    good = tmp_path / "good.csv"
    good.write_text("date,type,invoice,amount,reference\n2026-03-20,collection,INV-F-1,10000,COL-1\n")
    page.set_input_files("#id_file", str(good))
    page.click("[data-testid=statement-submit]")
    page.wait_for_url(f"**/factoring/facilities/{facility.pk}/")
    assert Invoice.objects.get(pk=first.pk).status == InvoiceStatus.PAID

    assignment = Assignment.objects.get()
    page.goto(f"/factoring/assignments/{assignment.pk}/")
    row = page.locator("tr[data-invoice='INV-F-2']")
    row.locator("summary").click()
    row.locator("input[type=date]").fill("2026-04-01")
    row.locator("[data-testid=repurchase]").click()
    assert "Repurchased" in page.locator("tr[data-invoice='INV-F-2'] [data-testid=line-state]").inner_text()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.CLOSED
    assert {line.state for line in assignment.lines.all()} == {LineState.COLLECTED, LineState.REPURCHASED}
    assert second.pk in {line.invoice_id for line in assignment.lines.all()}

    # a phone: nothing wider than the screen but the scrolling tables
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (f"/factoring/facilities/{facility.pk}/", f"/factoring/assignments/{assignment.pk}/",
                f"/factoring/facilities/{facility.pk}/eligibility/", "/factoring/"):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right
            > document.documentElement.clientWidth + 1 && !e.closest('.table-wrap')).slice(0, 5)
            .map(e => e.tagName + '.' + e.className + ':' + e.textContent.slice(0, 40))""")
        assert overflow <= 1, (url, overflow, wide)
