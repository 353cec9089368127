"""Reversals, unapply, reassign, refunds: worked examples to the cent, the as-of rule, bad input.

The clock is frozen on 2026-03-02 (Asia/Shanghai), so "today" and "the future" are fixed."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from receivables import selectors, services
from receivables.models import (
    Allocation,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Refund,
)
from tenancy.errors import DomainError, ErrorCode, PermissionDenied
from tenancy.models import AuditEntry, WebhookEvent
from tests.factories import CustomerFactory, make_invoice, make_payment

D = Decimal
TODAY = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def book(organization, customer):
    """INV-A 1,130.00 (due 02-04) and INV-B 500.00 (due 02-20); a payment of 1,400.00 on 02-01
    pays INV-A in full and 270.00 of INV-B (oldest due first)."""
    a = make_invoice(organization, customer, number="INV-A", amount="1130.00", issue_date=dt.date(2026, 1, 5),
                     due_date=dt.date(2026, 2, 4))
    b = make_invoice(organization, customer, number="INV-B", amount="500.00", issue_date=dt.date(2026, 1, 21),
                     due_date=dt.date(2026, 2, 20))
    payment = make_payment(organization, customer, amount="1400.00", received_on=dt.date(2026, 2, 1),
                           reference="CHQ-778")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.applied_amount, payment.unapplied_amount) == (InvoiceStatus.PAID, D("270.00"), D("0.00"))
    return a, b, payment


def _aging_total(organization, on):
    report = selectors.aging_report(organization, on)
    return report.total, [list(r.amounts) for r in report.rows]


def test_a_bounced_cheque_reopens_its_invoices_from_the_reversal_date_and_bills_the_fee(
        organization, customer, credit_manager, book):
    a, b, payment = book
    before = {day: _aging_total(organization, day) for day in (dt.date(2026, 2, 1), dt.date(2026, 2, 9))}
    statement_before = selectors.customer_statement(organization, customer, dt.date(2026, 2, 9))

    # when: the cheque bounces, reversed on 02-10 with a 50.00 CNY returned-cheque fee
    reversed_payment = services.payment_reverse(organization=organization, actor=credit_manager, payment=payment,
                                                reversed_on=dt.date(2026, 2, 10), reason="Cheque returned unpaid",
                                                fee=D("50.00"))

    # then: the payment is out of the ledger, both invoices are open again
    assert (reversed_payment.status, reversed_payment.reversed_on) == (PaymentStatus.REVERSED, dt.date(2026, 2, 10))
    payment.refresh_from_db()
    assert payment.unapplied_amount == D("0.00") and payment.status == "reversed"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.applied_amount, a.status) == (D("0.00"), InvoiceStatus.OPEN)
    assert (b.applied_amount, b.status) == (D("0.00"), InvoiceStatus.OPEN)
    undo = list(Allocation.objects.filter(organization=organization, reverses__isnull=False).order_by("invoice_id")
                .values_list("invoice__number", "amount", "applied_on", "reason"))
    assert undo == [("INV-A", D("-1130.0000"), dt.date(2026, 2, 10), "Cheque returned unpaid"),
                    ("INV-B", D("-270.0000"), dt.date(2026, 2, 10), "Cheque returned unpaid")]
    fee = payment.reversal_fee_invoice
    assert (fee.kind, fee.total_amount, fee.issue_date, fee.status) == (
        InvoiceKind.CHARGES, D("50.0000"), dt.date(2026, 2, 10), InvoiceStatus.OPEN)
    # reports as of a day before the reversal are exactly what they were; from it on, 1,630.00 + 50.00 is open
    for day, figures in before.items():
        assert _aging_total(organization, day) == figures
    assert selectors.customer_statement(organization, customer, dt.date(2026, 2, 9)).lines_by_currency == \
        statement_before.lines_by_currency
    assert selectors.aging_report(organization, dt.date(2026, 2, 10)).total == D("1680.00")
    # events and audit
    types = list(WebhookEvent.objects.filter(organization=organization).values_list("type", flat=True))
    assert types.count("invoice.reopened") == 2 and types.count("payment.reversed") == 1
    entry = AuditEntry.objects.get(organization=organization, action="payment.reversed")
    assert entry.after["invoices_reopened"] == ["INV-A", "INV-B"] and entry.after["reason"] == "Cheque returned unpaid"


def test_a_reversed_payment_cannot_be_reversed_again_allocated_refunded_or_corrected(
        organization, customer, credit_manager, book):
    _a, b, payment = book
    services.payment_reverse(organization=organization, actor=credit_manager, payment=payment,
                             reversed_on=dt.date(2026, 2, 10), reason="Bounced")
    count = Allocation.objects.count()

    with pytest.raises(DomainError, match="already reversed on 2026-02-10") as twice:
        services.payment_reverse(organization=organization, actor=credit_manager, payment=payment,
                                 reversed_on=dt.date(2026, 2, 11), reason="Again")
    assert twice.value.code == ErrorCode.INVALID
    with pytest.raises(DomainError, match="reversed on 2026-02-10; it cannot be used again"):
        services.payment_allocate(organization=organization, actor=credit_manager, payment=payment,
                                  allocations=[(b, D("10.00"))])
    with pytest.raises(DomainError, match="reversed on 2026-02-10"):
        services.payment_refund(organization=organization, actor=credit_manager, payment=payment, amount=D("1.00"))
    with pytest.raises(DomainError, match="reversed on 2026-02-10"):
        services.payment_update(organization=organization, actor=credit_manager, payment=payment, reference="X")
    assert Allocation.objects.count() == count


@pytest.mark.parametrize(("on", "message"), [
    (dt.date(2026, 1, 31), "cannot be before the payment's own date \\(2026-02-01\\)"),
    (dt.date(2026, 3, 3), "cannot be in the future \\(today is 2026-03-02\\)"),
])
def test_a_reversal_date_outside_the_payments_life_is_refused_and_writes_nothing(
        organization, credit_manager, book, on, message):
    _a, _b, payment = book
    count = Allocation.objects.count()
    with pytest.raises(DomainError, match=message) as error:
        services.payment_reverse(organization=organization, actor=credit_manager, payment=payment, reversed_on=on,
                                 reason="Bounced")
    assert error.value.field == "reversed_on"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.RECEIVED and Allocation.objects.count() == count


def test_reversal_needs_a_reason_and_the_credit_manager_role(organization, collector, credit_manager, book):
    _a, _b, payment = book
    with pytest.raises(PermissionDenied):
        services.payment_reverse(organization=organization, actor=collector, payment=payment, reversed_on=TODAY,
                                 reason="Bounced")
    with pytest.raises(DomainError, match="reason is required"):
        services.payment_reverse(organization=organization, actor=credit_manager, payment=payment, reversed_on=TODAY,
                                 reason="  ")


def test_unapply_then_allocate_elsewhere(organization, customer, collector, book):
    a, b, payment = book
    # when: 300.00 of INV-A's cash is moved back to unapplied on 02-15, then put on INV-B
    [row] = services.payment_unapply(organization=organization, actor=collector, payment=payment, invoice=a,
                                     amount=D("300.00"), on=dt.date(2026, 2, 15))
    payment.refresh_from_db()
    a.refresh_from_db()
    assert (row.amount, row.applied_on) == (D("-300.00"), dt.date(2026, 2, 15))
    assert (payment.unapplied_amount, a.applied_amount, a.status) == (D("300.00"), D("830.00"),
                                                                       InvoiceStatus.PARTIALLY_PAID)
    services.payment_allocate(organization=organization, actor=collector, payment=payment,
                              allocations=[(b, D("230.00"))])
    payment.refresh_from_db()
    b.refresh_from_db()
    assert (payment.unapplied_amount, b.status) == (D("70.00"), InvoiceStatus.PAID)
    # as of 02-14 nothing moved: INV-B's 230.00 was still open, INV-A paid
    assert selectors.aging_report(organization, dt.date(2026, 2, 14)).total == D("230.00")
    assert selectors.aging_report(organization, TODAY).total == D("300.00")
    with pytest.raises(DomainError, match="Only 830.00 CNY of this payment is applied to invoice INV-A"):
        services.payment_unapply(organization=organization, actor=collector, payment=payment, invoice=a,
                                 amount=D("830.01"))


def test_refund_of_unapplied_cash_never_more_than_unapplied(organization, customer, credit_manager):
    make_invoice(organization, customer, number="INV-1", amount="100.00", issue_date=dt.date(2026, 2, 1))
    payment = make_payment(organization, customer, amount="160.00", received_on=dt.date(2026, 2, 5))
    assert payment.unapplied_amount == D("60.00")

    with pytest.raises(DomainError, match="Only 60.00 CNY of this payment is unapplied; 60.01 CNY cannot be refunded"):
        services.payment_refund(organization=organization, actor=credit_manager, payment=payment, amount=D("60.01"),
                                refunded_on=dt.date(2026, 2, 20))
    refund = services.payment_refund(organization=organization, actor=credit_manager, payment=payment,
                                     amount=D("60.00"), refunded_on=dt.date(2026, 2, 20), reference="TT-9")
    payment.refresh_from_db()
    assert (payment.unapplied_amount, payment.refunded_amount) == (D("0.00"), D("60.00"))
    assert Refund.objects.get(pk=refund.pk).refunded_on == dt.date(2026, 2, 20)
    # the statement as of 02-19 still shows the 60.00 on account; after the refund, nothing
    assert selectors.customer_statement(organization, customer, dt.date(2026, 2, 19)).unapplied_by_currency == {
        "CNY": D("60.00")}
    assert not selectors.customer_statement(organization, customer, TODAY).unapplied_by_currency.get("CNY")
    assert WebhookEvent.objects.filter(organization=organization, type="payment.refunded").count() == 1


def test_reassign_only_while_nothing_is_applied(organization, customer, collector, book):
    _a, _b, payment = book
    right = CustomerFactory(organization=organization, name="Right customer")
    with pytest.raises(DomainError, match="1,400.00 CNY of this payment is applied to invoices|1400.00 CNY of this"):
        services.payment_reassign(organization=organization, actor=collector, payment=payment, customer=right)
    stray = make_payment(organization, customer, amount="80.00", received_on=dt.date(2026, 2, 25), auto_allocate=False)
    services.payment_reassign(organization=organization, actor=collector, payment=stray, customer=right)
    assert Payment.objects.get(pk=stray.pk).customer_id == right.pk
    assert AuditEntry.objects.filter(organization=organization, action="payment.reassigned").count() == 1


def test_credit_note_reversal_reopens_and_settled_event_names_non_cash(organization, customer, credit_manager):
    invoice = make_invoice(organization, customer, number="INV-C", amount="200.00", issue_date=dt.date(2026, 2, 1))
    note = services.credit_note_create(organization=organization, actor=credit_manager, customer=customer,
                                       number="CN-1", issued_on=dt.date(2026, 2, 3), amount=D("200.00"),
                                       invoice=invoice)
    assert WebhookEvent.objects.filter(organization=organization, type="invoice.settled").count() == 1
    assert not WebhookEvent.objects.filter(organization=organization, type="invoice.paid").exists()

    services.credit_note_reverse(organization=organization, actor=credit_manager, credit_note=note,
                                 reversed_on=dt.date(2026, 2, 20), reason="Issued in error")
    invoice.refresh_from_db()
    note.refresh_from_db()
    assert (invoice.status, invoice.applied_amount) == (InvoiceStatus.OPEN, D("0.00"))
    assert (note.status, note.unapplied_amount) == ("reversed", D("0.00"))
    assert selectors.aging_report(organization, dt.date(2026, 2, 19)).total == D("0.00")
    assert selectors.aging_report(organization, dt.date(2026, 2, 20)).total == D("200.00")
    assert WebhookEvent.objects.filter(organization=organization, type="credit_note.reversed").count() == 1


def test_partial_write_off_reversal_is_a_recovery_then_an_ordinary_payment(organization, customer, credit_manager):
    invoice = make_invoice(organization, customer, number="INV-W", amount="1000.00", issue_date=dt.date(2026, 1, 2))
    write_off = services.invoice_write_off(organization=organization, actor=credit_manager, invoice=invoice,
                                           reason="Debtor insolvent", written_off_on=dt.date(2026, 2, 1))
    # when: the administrator pays a 40% dividend: 400.00 of the write-off is reversed, then paid
    services.write_off_reverse(organization=organization, actor=credit_manager, write_off=write_off,
                               reversed_on=dt.date(2026, 2, 25), reason="Liquidator's dividend", amount=D("400.00"))
    invoice.refresh_from_db()
    write_off.refresh_from_db()
    assert (invoice.applied_amount, invoice.written_off_amount, invoice.status) == (
        D("600.00"), D("600.00"), InvoiceStatus.PARTIALLY_PAID)
    assert write_off.reversed_amount == D("400.00")
    assert selectors.aging_report(organization, dt.date(2026, 2, 24)).total == D("0.00")
    assert selectors.aging_report(organization, dt.date(2026, 2, 25)).total == D("400.00")
    make_payment(organization, customer, amount="400.00", received_on=dt.date(2026, 2, 26))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.WRITTEN_OFF and invoice.written_off_amount == D("600.00")
    with pytest.raises(DomainError, match="Only 600.00 CNY of this write-off is still in force"):
        services.write_off_reverse(organization=organization, actor=credit_manager, write_off=write_off,
                                   reversed_on=TODAY, reason="x", amount=D("600.01"))
    assert selectors.bad_debt_recoveries(organization, start=dt.date(2026, 2, 1), end=TODAY)[0].amount == D("400.00")


def test_auto_apply_puts_unapplied_cash_on_a_new_invoice(organization, customer, admin_user, collector):
    services.ledger_settings_update(organization=organization, actor=admin_user, auto_apply_unapplied_cash=True)
    older = make_payment(organization, customer, amount="30.00", received_on=dt.date(2026, 2, 1))
    newer = make_payment(organization, customer, amount="100.00", received_on=dt.date(2026, 2, 5))

    invoice = make_invoice(organization, customer, number="INV-N", amount="80.00", issue_date=dt.date(2026, 2, 10))

    invoice.refresh_from_db()
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (invoice.status, older.unapplied_amount, newer.unapplied_amount) == (
        InvoiceStatus.PAID, D("0.00"), D("50.00"))


def test_a_reversed_credit_note_gives_its_sales_back_in_the_dso_from_its_reversal(organization, customer,
                                                                                    credit_manager):
    invoice = make_invoice(organization, customer, number="INV-S", amount="1000.00", issue_date=dt.date(2026, 2, 5))
    note = services.credit_note_create(organization=organization, actor=credit_manager, customer=customer,
                                       number="CN-S", issued_on=dt.date(2026, 2, 10), amount=D("200.00"),
                                       invoice=invoice)
    before = selectors.dso_report(organization, dt.date(2026, 2, 15))
    assert before.sales == D("800.00") and before.receivables == D("800.00")

    services.credit_note_reverse(organization=organization, actor=credit_manager, credit_note=note,
                                 reversed_on=dt.date(2026, 2, 20), reason="Issued in error")

    again = selectors.dso_report(organization, dt.date(2026, 2, 15))
    assert (again.sales, again.receivables, again.standard) == (before.sales, before.receivables, before.standard)
    after = selectors.dso_report(organization, dt.date(2026, 2, 28))
    assert after.sales == D("1000.00") and after.receivables == D("1000.00")
