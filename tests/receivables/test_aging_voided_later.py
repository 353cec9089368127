"""An invoice paid, its payment reversed, then voided: the aging of any earlier day stays what it
was (found by tests/receivables/test_ledger_properties.py: the past aging counted such an invoice
at its full total, as if it had never been paid)."""

import datetime as dt
from decimal import Decimal

from receivables import selectors, services
from tests.factories import CustomerFactory, make_invoice

D = dt.date


def _aging(organization, day):
    report = selectors.aging_report(organization, day)
    return report.total, [(row.customer_id, row.total, row.invoice_count) for row in report.rows]


def test_the_past_aging_of_an_invoice_paid_reversed_and_voided_does_not_change(organization):
    # given: issued on 1 June, paid on 2 June, the payment bounced on 3 June, the invoice voided on 4 June
    customer = CustomerFactory(organization=organization, currency="CNY")
    invoice = make_invoice(organization, customer, amount="250.00", issue_date=D(2026, 6, 1), due_date=D(2026, 7, 1))
    payment = services.payment_record(organization=organization, actor=None, customer=customer,
                                      amount=invoice.total_amount, received_on=D(2026, 6, 2))
    before = {day: _aging(organization, D(2026, 6, day)) for day in (1, 2)}
    services.payment_reverse(organization=organization, actor=None, payment=payment, reversed_on=D(2026, 6, 3),
                             reason="bounced")
    on_the_3rd = _aging(organization, D(2026, 6, 3))
    invoice.refresh_from_db()
    services.invoice_void(organization=organization, actor=None, invoice=invoice, voided_on=D(2026, 6, 4))

    # then: owed on the 1st, nothing on the 2nd, owed again on the 3rd, nothing from the 4th: as before the void
    assert before[1] == (Decimal("250.00"), [(customer.pk, Decimal("250.00"), 1)])
    assert before[2] == (Decimal("0.00"), [])
    assert on_the_3rd == before[1]
    for day in (1, 2):
        assert _aging(organization, D(2026, 6, day)) == before[day]
    assert _aging(organization, D(2026, 6, 3)) == on_the_3rd
    assert _aging(organization, D(2026, 6, 4)) == (Decimal("0.00"), [])
    # a customer's statement of the 2nd (the other open-item query) agrees
    statement = selectors.customer_statement(organization, customer, D(2026, 6, 2))
    assert statement.balance("CNY") == Decimal("0")
    assert selectors.customer_statement(organization, customer, D(2026, 6, 3)).balance("CNY") == Decimal("250.00")
