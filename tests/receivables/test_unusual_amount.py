"""A confirmation for amounts far above the customer's usual, on the invoice and payment forms only
(issue 14 item 9; the rule: receivables.unusual)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from receivables.models import Invoice, Payment
from tests.api.conftest import key_client
from tests.factories import make_invoice

TODAY = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def usual(organization, customer):
    """Three invoices of 1,000, 2,000 and 3,000 CNY in the last year: the median is 2,000."""
    for amount, day in (("1000.00", 10), ("2000.00", 11), ("3000.00", 12)):
        make_invoice(organization, customer, amount=amount, issue_date=dt.date(2026, 2, day),
                     due_date=dt.date(2026, 3, day))


@pytest.fixture
def member_client(client, admin_user):
    client.force_login(admin_user)
    return client


def invoice_post(client, customer, net, **extra):
    return client.post(reverse("invoice_create"), {
        "customer": customer.pk, "number": "INV-BIG", "issue_date": "2026-03-10", "net_amount": net,
        "tax_amount": "0", **extra})


def test_an_invoice_ten_times_the_usual_asks_to_confirm_and_writes_nothing(member_client, customer, usual):
    # when: 20,000.01 CNY against a median of 2,000.00
    response = invoice_post(member_client, customer, "20000.01")
    # then: the amount field says why, the box appears, nothing is written
    assert response.status_code == 200
    assert response.context["form"].errors["net_amount"] == [
        "CN¥20,000.01 is more than 10 times this customer's usual invoice (the median of its 3 invoices in CNY "
        "over the last year is CN¥2,000.00). If the amount is right, tick \"Yes, this amount is right\" and "
        "save again."]
    page = response.content.decode()
    assert 'type="checkbox" name="confirm_unusual"' in page
    assert page.count("is more than 10 times") == 1  # beside the field, not also in a message
    assert not Invoice.objects.filter(number="INV-BIG").exists()


def test_ticking_the_box_creates_the_invoice(member_client, customer, usual):
    response = invoice_post(member_client, customer, "20000.01", confirm_unusual="on")
    assert response.status_code == 302
    assert Invoice.objects.get(number="INV-BIG").total_amount == Decimal("20000.01")


def test_exactly_ten_times_the_usual_needs_no_confirmation(member_client, customer, usual):
    assert invoice_post(member_client, customer, "20000.00").status_code == 302


def test_with_fewer_than_three_invoices_in_the_year_nothing_is_unusual(member_client, customer, organization):
    make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 2, 1), due_date=dt.date(2026, 3, 1))
    make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2025, 2, 1), due_date=dt.date(2025, 3, 1))
    make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2025, 1, 1), due_date=dt.date(2025, 2, 1))
    # two of the three are older than 365 days before the issue date
    assert invoice_post(member_client, customer, "99999.00").status_code == 302


def test_the_box_is_hidden_until_an_amount_is_unusual(member_client):
    page = member_client.get(reverse("invoice_create")).content.decode()
    assert 'type="checkbox" name="confirm_unusual"' not in page


def test_a_payment_above_ten_times_the_usual_and_above_what_is_owed_asks_to_confirm(member_client, customer, usual):
    # given: the customer owes 6,000.00; when: 60,000.00 arrives
    data = {"customer": customer.pk, "received_on": "2026-03-14", "amount": "60000.00", "method": "bank_transfer",
            "allocation": "none"}
    response = member_client.post(reverse("payment_record"), data)
    assert response.status_code == 200
    assert "is more than 10 times" in response.context["form"].errors["amount"][0]
    assert not Payment.objects.filter(customer=customer).exists()
    # then: confirmed, it is recorded
    assert member_client.post(reverse("payment_record"), {**data, "confirm_unusual": "on"}).status_code == 302
    assert Payment.objects.get(customer=customer).amount == Decimal("60000.00")


def test_a_payment_of_everything_owed_is_not_unusual(member_client, customer, organization, usual):
    for day in range(13, 28):  # 15 more invoices of 2,000: owed 36,000, median 2,000
        make_invoice(organization, customer, amount="2000.00", issue_date=dt.date(2026, 2, day),
                     due_date=dt.date(2026, 3, day))
    response = member_client.post(reverse("payment_record"), {
        "customer": customer.pk, "received_on": "2026-03-14", "amount": "36000.00", "method": "bank_transfer",
        "allocation": "auto"})
    assert response.status_code == 302


def test_the_api_never_asks(organization, customer, usual):
    client = key_client(organization)
    response = client.post("/api/v1/invoices/", {
        "customer": customer.pk, "number": "INV-API-BIG", "issue_date": "2026-03-10", "net_amount": "90000.00",
        "tax_amount": "0"}, format="json")
    assert response.status_code == 201, response.content
