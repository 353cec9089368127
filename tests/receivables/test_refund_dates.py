"""A refund is never dated before the cash it pays back was unapplied (review of issue 11): otherwise a
statement as of a day in between shows negative cash on account, and the past would read wrong."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from receivables import selectors, services
from receivables.models import Refund
from tenancy.errors import DomainError
from tests.factories import make_invoice, make_payment

D = Decimal


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_a_refund_dated_before_the_unapply_that_freed_its_cash_is_refused(organization, customer, credit_manager):
    # given: 100.00 paid on 01-15 and applied in full; unapplied on 02-20 (back on account)
    invoice = make_invoice(organization, customer, number="INV-R", amount="100.00", issue_date=dt.date(2026, 1, 2))
    payment = make_payment(organization, customer, amount="100.00", received_on=dt.date(2026, 1, 15))
    services.payment_unapply(organization=organization, actor=credit_manager, payment=payment, invoice=invoice,
                             on=dt.date(2026, 2, 20))
    payment.refresh_from_db()
    assert payment.unapplied_amount == D("100.00")
    # when: the refund is dated 02-01, before the cash was on account
    with pytest.raises(DomainError) as raised:
        services.payment_refund(organization=organization, actor=credit_manager, payment=payment,
                                amount=D("100.00"), refunded_on=dt.date(2026, 2, 1))
    # then: refused, naming the date; nothing written; a refund on 02-20 is fine
    assert raised.value.field == "refunded_on"
    assert not Refund.objects.filter(organization=organization).exists()
    services.payment_refund(organization=organization, actor=credit_manager, payment=payment, amount=D("100.00"),
                            refunded_on=dt.date(2026, 2, 20))
    for day in (dt.date(2026, 2, 1), dt.date(2026, 2, 10), dt.date(2026, 2, 20)):
        unapplied = selectors.customer_statement(organization, customer, day).unapplied_by_currency.get("CNY") or 0
        assert unapplied >= 0
