"""Issue 12 item 12, the rest of "everywhere money enters": write-offs, allocation lines, reversal fees,
unapply, refunds, write-off reversals, disputes and promises refuse amounts finer than the currency's
minor unit, name the rule, and write nothing."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from dunning import services as dunning
from receivables import services
from receivables.models import Allocation, Refund, WriteOff
from tenancy.errors import DomainError
from tests.factories import make_invoice, make_payment

D = Decimal


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def book(organization, customer):
    invoice = make_invoice(organization, customer, number="INV-1", amount="1000.00", issue_date=dt.date(2026, 1, 5),
                           due_date=dt.date(2026, 2, 4))
    other = make_invoice(organization, customer, number="INV-2", amount="500.00", issue_date=dt.date(2026, 1, 6),
                         due_date=dt.date(2026, 2, 5))
    payment = make_payment(organization, customer, amount="1200.00", received_on=dt.date(2026, 2, 1))
    invoice.refresh_from_db()
    other.refresh_from_db()
    payment.refresh_from_db()
    return invoice, other, payment


def _refused(call, **kwargs):
    allocations, refunds, write_offs = Allocation.objects.count(), Refund.objects.count(), WriteOff.objects.count()
    with pytest.raises(DomainError) as refused:
        call(**kwargs)
    assert "CNY amounts have at most 2 decimal places" in refused.value.message
    assert (Allocation.objects.count(), Refund.objects.count(), WriteOff.objects.count()) == (
        allocations, refunds, write_offs)


def test_ledger_entry_points_refuse_sub_cent_amounts(organization, customer, credit_manager, book):
    invoice, other, payment = book
    _refused(services.invoice_write_off, organization=organization, actor=credit_manager, invoice=other,
             amount=D("10.005"), reason="uncollectable")
    _refused(services.payment_unapply, organization=organization, actor=credit_manager, payment=payment,
             invoice=invoice, amount=D("0.001"))
    _refused(services.payment_reverse, organization=organization, actor=credit_manager, payment=payment,
             reversed_on=dt.date(2026, 3, 1), reason="bounced", fee=D("25.0001"))
    services.payment_unapply(organization=organization, actor=credit_manager, payment=payment, invoice=invoice,
                             amount=D("100.00"))
    payment.refresh_from_db()
    _refused(services.payment_refund, organization=organization, actor=credit_manager, payment=payment,
             amount=D("50.009"))
    _refused(services.payment_allocate, organization=organization, actor=credit_manager, payment=payment,
             allocations=[(invoice, D("10.001"))])


def test_a_write_off_reversal_refuses_sub_cent_amounts(organization, customer, credit_manager, book):
    _invoice, other, _payment = book
    write_off = services.invoice_write_off(organization=organization, actor=credit_manager, invoice=other,
                                           amount=D("100.00"), reason="uncollectable")
    write_off = write_off if isinstance(write_off, WriteOff) else WriteOff.objects.get(invoice=other)
    with pytest.raises(DomainError, match="CNY amounts have at most 2 decimal places"):
        services.write_off_reverse(organization=organization, actor=credit_manager, write_off=write_off,
                                   reversed_on=dt.date(2026, 3, 2), reason="recovered", amount=D("1.005"))
    write_off.refresh_from_db()
    assert write_off.reversed_amount == 0


def test_disputes_and_promises_refuse_sub_cent_amounts(organization, customer, collector, book):
    _invoice, other, _payment = book
    with pytest.raises(DomainError, match="CNY amounts have at most 2 decimal places"):
        dunning.dispute_open(organization=organization, actor=collector, invoice=other, reason="price",
                             amount=D("12.345"))
    with pytest.raises(DomainError, match="CNY amounts have at most 2 decimal places"):
        dunning.promise_create(organization=organization, actor=collector, customer=customer, invoices=[other],
                               amount=D("99.999"), promised_date=dt.date(2026, 3, 20))
