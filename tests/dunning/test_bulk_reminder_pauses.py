"""The customer list's "Send reminders" keeps dunning's pauses: a customer excluded from dunning, or
whose overdue invoices are all under an open promise, an active payment plan or a dispute in full, gets
no reminder from a bulk send and is named with the reason (one customer's reminder page, with its
preview, is where a collector writes to such a customer on purpose)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from dunning import services
from dunning.models import CustomerDunning, DunningMessage
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai


def _owing(organization, name):
    customer = CustomerFactory(organization=organization, name=name, contact_emails=[f"ap@{name[:4].lower()}.example"])
    invoice = make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 1, 1),
                           due_date=dt.date(2026, 2, 1), number=f"INV-{name[:4]}")
    return customer, invoice


def test_a_bulk_send_skips_customers_whose_dunning_is_paused(client, organization, collector):
    with time_machine.travel(TODAY, tick=False):
        plain, _ = _owing(organization, "Plain Buyer")
        promised, promised_invoice = _owing(organization, "Promised Buyer")
        services.promise_create(organization=organization, actor=collector, customer=promised,
                                invoices=[promised_invoice], amount=Decimal("500.00"),
                                promised_date=dt.date(2026, 3, 31))
        disputed, disputed_invoice = _owing(organization, "Disputed Buyer")
        services.dispute_open(organization=organization, actor=collector, invoice=disputed_invoice, reason="price")
        excluded, _ = _owing(organization, "Excluded Buyer")
        CustomerDunning.objects.create(organization=organization, customer=excluded, excluded=True)
        client.force_login(collector)
        response = client.post(reverse("dunning:customers_send_reminders"), {
            "ids": [plain.pk, promised.pk, disputed.pk, excluded.pk],
            "batch": "0123456789abcdef0123456789abcdef"}, follow=True)
    page = response.content.decode()
    assert list(DunningMessage.objects.values_list("customer_id", flat=True)) == [plain.pk]
    assert "Reminders sent to 1 customers." in page
    for name in ("Promised Buyer", "Disputed Buyer", "Excluded Buyer"):
        assert f"No reminder to {name}" in page
