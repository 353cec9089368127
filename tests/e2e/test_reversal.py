"""A credit manager reverses a bounced payment in the browser: the confirmation lists the invoices that
reopen; afterwards the invoice's history shows the reversal with who and why. Desktop and phone width
(390 px) without sideways scrolling."""

import datetime as dt
import os
from pathlib import Path

import pytest

from receivables.models import Payment
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, make_invoice, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_credit_manager_reverses_a_bounced_cheque(page, organization, customer, credit_manager, tmp_path):
    shots = Path(os.environ.get("INFLOW_SCREENSHOTS") or tmp_path)
    invoice = make_invoice(organization, customer, number="INV-B1", amount="1130.00", issue_date=dt.date(2026, 1, 5))
    payment = make_payment(organization, customer, amount="1130.00", received_on=dt.date(2026, 2, 1),
                           reference="CHQ-778")
    sign_in(page, credit_manager.username, PASSWORD)

    page.goto(f"/payments/{payment.pk}/")
    page.click("[data-testid=payment-reverse]")
    assert "INV-B1" in page.inner_text("[data-testid=reopening]")
    page.screenshot(path=str(shots / "payment_reverse_desktop.png"), full_page=True)
    page.fill("#id_reversed_on", "2026-02-10")
    page.fill("#id_reason", "Cheque returned: account closed")
    page.fill("#id_fee", "50.00")
    page.click("[data-testid=reverse-confirm]")
    page.wait_for_selector("[data-testid=payment-reversed]")
    assert Payment.objects.get(pk=payment.pk).status == "reversed"
    page.screenshot(path=str(shots / "payment_reversed_desktop.png"), full_page=True)

    page.goto(f"/invoices/{invoice.pk}/")
    history = page.inner_text("[data-testid=invoice-ledger]")
    assert "Payment reversed" in history and "Cheque returned: account closed" in history
    page.screenshot(path=str(shots / "invoice_history_desktop.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    for url, name in ((f"/invoices/{invoice.pk}/", "invoice_history_390"), (f"/payments/{payment.pk}/", "payment_390"),
                      (f"/payments/{payment.pk}/reverse/", "payment_reverse_390")):
        page.goto(url)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        assert _no_sideways_scroll(page), url
