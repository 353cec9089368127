"""The browser's undo actions: the payment page's "Reverse payment" (credit manager and up) with a
confirmation listing the invoices that reopen, unapply and refund; the invoice page's history shows
reversals with who and why."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from receivables.models import Invoice, Payment
from tests.factories import make_invoice, make_payment


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def paid(organization, customer):
    invoice = make_invoice(organization, customer, number="INV-R1", amount="500.00", issue_date=dt.date(2026, 1, 5))
    payment = make_payment(organization, customer, amount="600.00", received_on=dt.date(2026, 2, 1),
                           reference="CHQ-9")
    return invoice, payment


def test_reverse_payment_confirms_the_reopening_invoices_then_reverses(client, credit_manager, paid):
    invoice, payment = paid
    client.force_login(credit_manager)
    detail = client.get(reverse("payment_detail", args=[payment.pk])).content.decode()
    assert 'data-testid="payment-reverse"' in detail and 'data-testid="refund-form"' in detail
    confirm = client.get(reverse("payment_reverse", args=[payment.pk])).content.decode()
    assert "These invoices reopen" in confirm and "INV-R1" in confirm

    response = client.post(reverse("payment_reverse", args=[payment.pk]),
                           {"reversed_on": "2026-02-20", "reason": "Cheque returned", "fee": "30.00"})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.status == "reversed" and Invoice.objects.get(pk=invoice.pk).status == "open"
    history = client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert "Payment reversed" in history and "Cheque returned" in history and credit_manager.username in history
    assert "Reversed on 2026-02-20: Cheque returned" in client.get(
        reverse("payment_detail", args=[payment.pk])).content.decode()


def test_a_bad_reversal_date_is_shown_on_the_form(client, credit_manager, paid):
    _invoice, payment = paid
    client.force_login(credit_manager)
    response = client.post(reverse("payment_reverse", args=[payment.pk]),
                           {"reversed_on": "2026-01-20", "reason": "Cheque returned"})
    assert response.status_code == 200
    assert "before the payment&#x27;s own date (2026-02-01)" in response.content.decode()
    assert Payment.objects.get(pk=payment.pk).status == "received"


def test_a_collector_sees_no_reverse_action_and_cannot_reverse(client, collector, paid):
    _invoice, payment = paid
    client.force_login(collector)
    assert 'data-testid="payment-reverse"' not in client.get(reverse("payment_detail", args=[payment.pk])).content.decode()
    client.post(reverse("payment_reverse", args=[payment.pk]), {"reversed_on": "2026-02-20", "reason": "x"})
    assert Payment.objects.get(pk=payment.pk).status == "received"


def test_unapply_and_refund_from_the_payment_page(client, credit_manager, paid):
    invoice, payment = paid
    client.force_login(credit_manager)
    client.post(reverse("payment_unapply", args=[payment.pk, invoice.pk]))
    payment.refresh_from_db()
    assert str(payment.unapplied_amount) == "600.0000"
    client.post(reverse("payment_refund", args=[payment.pk]), {"amount": "100.00", "reference": "TT-1"})
    payment.refresh_from_db()
    assert (str(payment.unapplied_amount), str(payment.refunded_amount)) == ("500.0000", "100.0000")
    page = client.get(reverse("payment_detail", args=[payment.pk])).content.decode()
    assert "Refunded" in page and "TT-1" in page and "undone" in page
