"""The worklist's priority compares customers in the base currency, not raw amounts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from dunning import selectors
from dunning.models import CollectionTask
from receivables import services as ledger
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 4)


def task_for(organization, customer):
    return CollectionTask.objects.create(organization=organization, customer=customer, title=f"Call {customer.name}",
                                         due_on=TODAY, created_at=timezone.now())


@pytest.fixture
def dollars_and_yuan(organization):
    dollars = CustomerFactory(organization=organization, name="Dollar Buyer", currency="USD")
    yuan = CustomerFactory(organization=organization, name="Yuan Buyer", currency="CNY")
    for customer, amount in ((dollars, "100.00"), (yuan, "500.00")):
        make_invoice(organization, customer, amount=amount, issue_date=dt.date(2026, 1, 1),
                     due_date=dt.date(2026, 2, 2))
        task_for(organization, customer)
    return dollars, yuan


def test_priority_converts_overdue_amounts_to_the_base_currency(organization, dollars_and_yuan):
    dollars, yuan = dollars_and_yuan
    ledger.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 3, 1),
                       rate=Decimal("7.2000"))
    rows = selectors.worklist(organization, TODAY)
    # 100 USD is 720 CNY: ahead of 500 CNY overdue as long, though 100 < 500.
    assert [r.task.customer for r in rows] == [dollars, yuan]
    assert [(r.overdue_base, r.priority) for r in rows] == [(Decimal("720.00"), Decimal(720 * 30)),
                                                           (Decimal("500.00"), Decimal(500 * 30))]
    assert rows[0].overdue == {"USD": Decimal("100.0000")}


def test_a_currency_without_a_rate_is_named_and_left_out_of_the_priority(organization, dollars_and_yuan):
    dollars, yuan = dollars_and_yuan
    rows = selectors.worklist(organization, TODAY)
    assert [r.task.customer for r in rows] == [yuan, dollars]
    assert (rows[1].fx_missing, rows[1].priority) == (["USD"], Decimal(0))


def test_the_worklist_shows_credit_on_account_and_the_hold_it_causes(client, organization, collector,
                                                                     dollars_and_yuan):
    from django.urls import reverse

    from tests.dunning.conftest import travel
    from tests.factories import make_payment

    _dollars, yuan = dollars_and_yuan
    make_payment(organization, yuan, amount="600.00", received_on=dt.date(2026, 2, 10), currency="CNY",
                 auto_allocate=False)
    rows = {r.task.customer_id: r for r in selectors.worklist(organization, TODAY)}
    assert (rows[yuan.pk].on_account, rows[yuan.pk].held) == ({"CNY": Decimal("600.0000")}, True)
    client.force_login(collector)
    with travel(TODAY):
        page = client.get(reverse("dunning:worklist")).content.decode()
    assert "Dunning held: credit on account covers the overdue amount" in page
