"""aging_report(..., currency=XXX): one currency's invoices in that currency, no FX conversion."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from receivables import selectors, services
from receivables.models import Invoice
from tenancy.errors import DomainError, ErrorCode
from tests.factories import CustomerFactory, make_invoice, make_payment

D = Decimal
AS_OF = dt.date(2026, 6, 30)


def _due(days_past_due: int) -> dict:
    due = AS_OF - dt.timedelta(days=days_past_due)
    return {"issue_date": due - dt.timedelta(days=30), "due_date": due}


def _buckets(report) -> dict:
    return {key: amount for key, amount in zip([b.key for b in report.buckets], report.totals, strict=True) if amount}


@pytest.fixture
def dollars(organization):
    return CustomerFactory(organization=organization, name="Pacific Imports", currency="USD")


def test_currency_keeps_only_its_invoices_unconverted(organization, customer, dollars):
    make_invoice(organization, customer, amount="500.00", **_due(5))
    sub_cent = make_invoice(organization, dollars, amount="100.13", **_due(45))
    # A sub-cent amount can no longer be entered (issue 12: ISO 4217 minor units); one stored before that rule:
    Invoice.objects.filter(pk=sub_cent.pk).update(net_amount=D("100.125"), total_amount=D("100.125"))
    make_invoice(organization, dollars, amount="20.00", **_due(-3))
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 1, 1),
                         rate=D("7.2"))

    report = selectors.aging_report(organization, AS_OF, currency="USD")

    assert report.currency == "USD"
    assert [(row.customer_id, row.invoice_count) for row in report.rows] == [(dollars.pk, 2)]
    # Rounded half-up to the cent once per cell, as a conversion would be.
    assert _buckets(report) == {"current": D("20.00"), "d31_60": D("100.13")}
    assert report.total == D("120.13")


def test_without_currency_the_report_is_converted_as_before(organization, customer, dollars):
    make_invoice(organization, customer, amount="500.00", **_due(5))
    make_invoice(organization, dollars, amount="100.00", **_due(45))
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 1, 1),
                         rate=D("7.2"))

    report = selectors.aging_report(organization, AS_OF)

    assert report.currency == "CNY"
    assert _buckets(report) == {"d1_30": D("500.00"), "d31_60": D("720.00")}


def test_currency_report_is_reproducible_for_a_past_date(organization, dollars):
    make_invoice(organization, dollars, amount="100.00", issue_date=dt.date(2026, 5, 1), due_date=dt.date(2026, 5, 31))
    make_payment(organization, dollars, amount="30.00", currency="USD", received_on=dt.date(2026, 6, 15))

    before = selectors.aging_report(organization, dt.date(2026, 6, 10), currency="USD")
    after = selectors.aging_report(organization, AS_OF, currency="USD")

    assert before.total == D("100.00")
    assert after.total == D("70.00")


def test_currency_needs_no_fx_rate_and_one_query(organization, customer, dollars):
    make_invoice(organization, customer, amount="10.00", **_due(5))
    make_invoice(organization, dollars, amount="10.00", **_due(5))

    with CaptureQueriesContext(connection) as queries:
        report = selectors.aging_report(organization, AS_OF, currency="USD")

    assert report.total == D("10.00")
    assert len(queries) == 1
    with pytest.raises(DomainError) as exc:  # control: the converted report does need the rate
        selectors.aging_report(organization, AS_OF)
    assert exc.value.code == ErrorCode.MISSING_FX_RATE


def test_currency_and_customer_combine(organization, customer, dollars):
    make_invoice(organization, dollars, amount="10.00", **_due(5))
    make_invoice(organization, customer, amount="99.00", **_due(5))

    assert selectors.aging_report(organization, AS_OF, customer_id=customer.pk, currency="USD").rows == []
    assert selectors.aging_report(organization, AS_OF, customer_id=dollars.pk, currency="USD").total == D("10.00")


def test_currency_never_counts_another_organizations_invoices(organization, other_organization, dollars):
    make_invoice(organization, dollars, amount="10.00", **_due(5))
    foreign = CustomerFactory(organization=other_organization, currency="USD")
    make_invoice(other_organization, foreign, amount="999.00", **_due(5))

    report = selectors.aging_report(organization, AS_OF, currency="USD")

    assert [row.customer_id for row in report.rows] == [dollars.pk]
    assert report.total == D("10.00")


def test_unknown_currency_is_refused(organization):
    with pytest.raises(DomainError) as exc:
        selectors.aging_report(organization, AS_OF, currency="XYZ")

    assert exc.value.code == ErrorCode.UNKNOWN_CURRENCY and exc.value.field == "currency"
