"""Eligibility with reasons: every stable code, the availability (borrowing base, funds in use,
limit), any as-of date, and a constant number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit import services as credit_services
from dunning import services as dunning_services
from factoring import selectors, services
from factoring.selectors import Reason
from tests.factories import CustomerFactory, make_payment
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 3, 2)


def codes(result, invoice):
    return next(row.codes for row in result.rows if row.invoice_id == invoice.pk)


def test_each_rule_gives_its_reason(organization, buyer):
    excluded, held, aged = (CustomerFactory(organization=organization, name=n, currency="CNY")
                            for n in ("Excluded Ltd", "Held Ltd", "Aged Ltd"))
    facility = facility_make(organization, max_days_past_due=30, max_terms_days=90, min_invoice_amount="1000",
                             excluded_customers=[excluded], cross_aging_rate="0.5", cross_aging_days=90)
    good = invoice_make(organization, buyer, "50000")
    overdue = invoice_make(organization, buyer, "5000", issue=dt.date(2025, 12, 1), due=dt.date(2026, 1, 15))
    long_terms = invoice_make(organization, buyer, "5000", issue=dt.date(2026, 2, 1), due=dt.date(2026, 6, 1))
    small = invoice_make(organization, buyer, "999.99")
    usd = invoice_make(organization, buyer, "5000", currency="USD")
    of_excluded = invoice_make(organization, excluded, "5000")
    disputed = invoice_make(organization, buyer, "6000")
    dunning_services.dispute_open(organization=organization, actor=None, invoice=disputed, reason="quality",
                                  description="Damaged goods")
    of_held = invoice_make(organization, held, "5000")
    credit_services.blacklist_set(organization=organization, actor=None, customer=held, blacklisted=True,
                                  reason="Fraud")
    young = invoice_make(organization, aged, "2000")
    old = invoice_make(organization, aged, "8000", issue=dt.date(2025, 9, 1), due=dt.date(2025, 10, 1))

    result = selectors.eligibility(organization, facility, AS_OF)

    assert codes(result, good) == []
    assert codes(result, overdue) == [Reason.OVERDUE]
    assert codes(result, long_terms) == [Reason.TERMS_TOO_LONG]
    assert codes(result, small) == [Reason.BELOW_MINIMUM]
    assert codes(result, usd) == [Reason.CURRENCY]
    assert codes(result, of_excluded) == [Reason.EXCLUDED_CUSTOMER]
    assert codes(result, disputed) == [Reason.DISPUTED]
    assert codes(result, of_held) == [Reason.CREDIT_HOLD]
    # 8,000 of 10,000 (80%) is over 90 days past due: every invoice of the customer is out (and the
    # old one is also overdue past 30 days, and the customer is on hold for more than 60 days overdue)
    assert codes(result, young) == [Reason.CREDIT_HOLD, Reason.CROSS_AGING]
    assert Reason.CROSS_AGING in codes(result, old)
    row = next(r for r in result.rows if r.invoice_id == overdue.pk)
    assert row.reason_messages() == [{"code": "overdue", "message": "46 days past due; the facility takes invoices "
                                                                    "up to 30 days past due."}]
    assert next(r for r in result.rows if r.invoice_id == good.pk).advance_amount == Decimal("42500.00")


def test_already_assigned_and_as_of_dates(organization, buyer, facility):
    invoice = invoice_make(organization, buyer, "10000")
    services.assignment_create(organization=organization, actor=None, facility=facility, invoices=[invoice.pk],
                               assigned_on=dt.date(2026, 3, 1))
    assert codes(selectors.eligibility(organization, facility, AS_OF), invoice) == [Reason.ALREADY_ASSIGNED]
    # before the assignment date it was free
    assert codes(selectors.eligibility(organization, facility, dt.date(2026, 2, 28)), invoice) == []
    # and before its issue date it was not open at all
    assert invoice.pk not in {r.invoice_id for r in selectors.eligibility(organization, facility,
                                                                          dt.date(2026, 1, 31)).rows}


def test_balance_as_of_counts_payments_made_later(organization, buyer, facility):
    invoice = invoice_make(organization, buyer, "10000")
    make_payment(organization, buyer, amount="4000", received_on=dt.date(2026, 3, 1))
    now = next(r for r in selectors.eligibility(organization, facility, AS_OF).rows if r.invoice_id == invoice.pk)
    then = next(r for r in selectors.eligibility(organization, facility, dt.date(2026, 2, 15)).rows
                if r.invoice_id == invoice.pk)
    assert (now.balance, then.balance) == (Decimal("6000"), Decimal("10000"))


def test_sublimit_concentration_and_facility_limit(organization, buyer):
    other = CustomerFactory(organization=organization, name="Other Ltd", currency="CNY")
    facility = facility_make(organization, limit="20000", advance_rate="0.8", concentration_limit="0.6")
    services.sublimit_set(organization=organization, actor=None, facility=facility, customer=other, limit="7000")
    first = invoice_make(organization, buyer, "10000", due=dt.date(2026, 3, 20))
    second = invoice_make(organization, buyer, "10000", due=dt.date(2026, 3, 25))
    third = invoice_make(organization, other, "6000", due=dt.date(2026, 3, 26))
    fourth = invoice_make(organization, other, "2000", due=dt.date(2026, 3, 27))
    result = selectors.eligibility(organization, facility, AS_OF)
    # pool 28,000: the cap per customer is 60% = 16,800; buyer's second invoice would make 20,000
    assert codes(result, first) == []
    assert codes(result, second) == [Reason.CONCENTRATION]
    assert codes(result, third) == []
    assert codes(result, fourth) == [Reason.CUSTOMER_SUBLIMIT]  # 6,000 + 2,000 > 7,000
    a = result.availability
    assert (a.eligible_face, a.borrowing_base, a.funds_in_use, a.available) == (
        Decimal("16000"), Decimal("12800.00"), 0, Decimal("12800.00"))
    # with a limit of 10,000 the first advance (8,000) fits, then the next (4,800) does not
    facility.limit = Decimal("10000")
    facility.save()
    result = selectors.eligibility(organization, facility, AS_OF)
    assert codes(result, first) == [] and codes(result, third) == [Reason.FACILITY_LIMIT]


def test_eligibility_takes_a_constant_number_of_queries(organization, buyer, facility):
    for amount in ("1000", "2000", "3000"):
        invoice_make(organization, buyer, amount)
    with CaptureQueriesContext(connection) as few:
        selectors.eligibility(organization, facility, AS_OF)
    customers = [CustomerFactory(organization=organization, name=f"C{i}", currency="CNY") for i in range(5)]
    for customer in customers:
        for amount in ("1000", "2000", "3000", "4000"):
            invoice_make(organization, customer, amount)
    with CaptureQueriesContext(connection) as many:
        result = selectors.eligibility(organization, facility, AS_OF)
    assert len(result.rows) == 23
    assert len(many) == len(few)
