"""invoice_update re-dates what settled the invoice when its issue date moves, as payment_update
and credit_note_update do when theirs moves: applied_on = max(source date, issue date). And it
refuses fields it cannot change with the same translated message as they do."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from receivables import selectors, services
from receivables.models import Allocation, Payment, WriteOff
from tenancy.errors import DomainError
from tenancy.models import AuditEntry
from tenancy.selectors import audit_verify
from tests.factories import make_invoice, make_payment

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(organization, customer):
    return make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 1),
                        due_date=dt.date(2026, 3, 1))


def _applied_on(invoice):
    return {a.kind: a.applied_on for a in Allocation.objects.filter(invoice=invoice)}


def test_a_later_issue_date_moves_the_payment_allocation_to_it(organization, customer, collector, invoice):
    payment = make_payment(organization, customer, amount="100.00", received_on=dt.date(2026, 1, 15))
    allocation = Allocation.objects.get(payment=payment)
    assert allocation.applied_on == dt.date(2026, 1, 15)

    services.invoice_update(organization=organization, invoice=invoice, actor=collector, issue_date=dt.date(2026, 1, 20))

    assert _applied_on(invoice) == {"payment": dt.date(2026, 1, 20)}
    entry = AuditEntry.objects.get(action="invoice.updated", object_id=str(invoice.pk))
    assert entry.before == {"issue_date": "2026-01-01", "allocations_applied_on": {str(allocation.pk): "2026-01-15"}}
    assert entry.after == {"issue_date": "2026-01-20", "allocations_applied_on": {str(allocation.pk): "2026-01-20"}}
    assert audit_verify(organization).ok


def test_as_of_a_date_before_the_new_issue_date_the_cash_is_unapplied_not_lost(organization, customer, invoice):
    make_payment(organization, customer, amount="100.00", received_on=dt.date(2026, 1, 15))

    services.invoice_update(organization=organization, invoice=invoice, actor=None, issue_date=dt.date(2026, 1, 20))

    # On 01-17 the invoice did not exist yet, so the payment received on 01-15 was still unapplied.
    statement = selectors.customer_statement(organization, customer, dt.date(2026, 1, 17))
    assert statement.unapplied_by_currency == {"CNY": D("100.00")}
    assert selectors.aging_report(organization, dt.date(2026, 1, 17)).total == D("0")
    # From the new issue date on, it is paid: nothing open, nothing unapplied.
    statement = selectors.customer_statement(organization, customer, dt.date(2026, 1, 20))
    assert statement.unapplied_by_currency == {}
    assert selectors.aging_report(organization, dt.date(2026, 1, 20)).total == D("0")


def test_an_earlier_issue_date_moves_allocations_back_to_their_source_date(organization, customer):
    # given: cash and a credit that came before the invoice, applied on its issue date (01-10)
    invoice = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 10),
                           due_date=dt.date(2026, 3, 1))
    make_payment(organization, customer, amount="60.00", received_on=dt.date(2026, 1, 5))
    services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                issued_on=dt.date(2026, 1, 3), amount="40.00", invoice=invoice)
    assert selectors.aging_report(organization, dt.date(2026, 1, 7)).total == D("0")  # not issued yet

    # when: the issue date was really 01-01
    services.invoice_update(organization=organization, invoice=invoice, actor=None, issue_date=dt.date(2026, 1, 1))

    # then: settled by each source's own date, so the aging as of 01-07 shows what was still open then
    assert _applied_on(invoice) == {"payment": dt.date(2026, 1, 5), "credit_note": dt.date(2026, 1, 3)}
    assert selectors.aging_report(organization, dt.date(2026, 1, 2)).total == D("100.00")
    assert selectors.aging_report(organization, dt.date(2026, 1, 4)).total == D("60.00")
    assert selectors.aging_report(organization, dt.date(2026, 1, 7)).total == D("0")
    statement = selectors.customer_statement(organization, customer, dt.date(2026, 1, 7))
    assert statement.unapplied_by_currency == {}


def test_a_write_off_before_the_new_issue_date_moves_with_its_allocation(organization, customer, invoice):
    write_off = services.invoice_write_off(organization=organization, actor=None, invoice=invoice, reason="insolvent",
                                           amount="30.00", written_off_on=dt.date(2026, 1, 15))

    services.invoice_update(organization=organization, invoice=invoice, actor=None, issue_date=dt.date(2026, 1, 25))

    write_off.refresh_from_db()
    assert write_off.written_off_on == dt.date(2026, 1, 25)
    assert _applied_on(invoice) == {"write_off": dt.date(2026, 1, 25)}
    entry = AuditEntry.objects.get(action="invoice.updated", object_id=str(invoice.pk))
    assert entry.before["write_offs_written_off_on"] == {str(write_off.pk): "2026-01-15"}
    assert entry.after["write_offs_written_off_on"] == {str(write_off.pk): "2026-01-25"}
    assert selectors.aging_report(organization, dt.date(2026, 1, 25)).total == D("70.00")


def test_allocations_already_on_their_right_date_are_left_alone(organization, customer, invoice):
    make_payment(organization, customer, amount="100.00", received_on=dt.date(2026, 1, 15))

    services.invoice_update(organization=organization, invoice=invoice, actor=None, issue_date=dt.date(2026, 1, 10))

    assert _applied_on(invoice) == {"payment": dt.date(2026, 1, 15)}
    entry = AuditEntry.objects.get(action="invoice.updated", object_id=str(invoice.pk))
    assert entry.before == {"issue_date": "2026-01-01"} and entry.after == {"issue_date": "2026-01-10"}


def test_re_dated_payments_and_write_offs_are_marked_updated_for_sync(organization, customer, invoice):
    with time_machine.travel(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC), tick=False):
        payment = make_payment(organization, customer, amount="50.00", received_on=dt.date(2026, 1, 15))
        write_off = services.invoice_write_off(organization=organization, actor=None, invoice=invoice,
                                               reason="insolvent", amount="10.00", written_off_on=dt.date(2026, 1, 15))
        untouched = make_payment(organization, customer, amount="5.00", received_on=dt.date(2026, 1, 16),
                                 auto_allocate=False)
    later = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

    with time_machine.travel(later, tick=False):
        services.invoice_update(organization=organization, invoice=invoice, actor=None,
                                issue_date=dt.date(2026, 1, 20))

    assert Payment.objects.get(pk=payment.pk).updated_at == later
    assert WriteOff.objects.get(pk=write_off.pk).updated_at == later
    assert Payment.objects.get(pk=untouched.pk).updated_at < later


def test_invoice_fields_that_cannot_change_are_refused_in_the_users_language(organization, invoice):
    with translation.override("zh-hans"), pytest.raises(DomainError) as exc:
        services.invoice_update(organization=organization, invoice=invoice, actor=None, currency="USD",
                                description="and this")

    assert exc.value.field == "currency"
    assert exc.value.message == ("发票的以下字段不能修改：currency（可修改的字段：due_date, description, po_reference, "
                                 "external_id, net_amount, tax_amount, issue_date）。")
    invoice.refresh_from_db()
    assert (invoice.currency, invoice.description) == ("CNY", "")
