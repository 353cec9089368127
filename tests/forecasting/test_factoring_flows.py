"""The cash forecast adds factoring's expected flows, read through factoring.selectors.expected_cash_flows."""

import datetime as dt
from decimal import Decimal

from factoring import services
from forecasting.cashflow import cash_forecast
from tests.factories import CustomerFactory
from tests.factoring.conftest import facility_make, invoice_make


def test_a_disclosed_factored_invoice_brings_only_its_reserve(organization):
    # given: 10,000.00 due 1 April, factored (disclosed) and funded on 2 March
    buyer = CustomerFactory(organization=organization, name="Shenzhen Buyer Co", currency="CNY")
    facility = facility_make(organization)
    invoice = invoice_make(organization, buyer, "10000", due=dt.date(2026, 4, 1))
    assignment = services.assignment_create(organization=organization, actor=None, facility=facility,
                                            invoices=[invoice.pk], assigned_on=dt.date(2026, 3, 2))
    services.assignment_submit(organization=organization, actor=None, assignment=assignment)
    services.assignment_fund(organization=organization, actor=None, assignment=assignment, funded_on=dt.date(2026, 3, 2),
                             amount_received=assignment.advance_total - assignment.fee_total)

    # when
    forecast = cash_forecast(organization, as_of=dt.date(2026, 3, 4))

    # then: the week of 30 March: the customer's 10,000.00 goes to the factor (-10,000.00) and the reserve
    # comes back (10,000 - 8,500 - 125 - 60.21 interest = 1,314.79)
    week = forecast.weeks[4]
    assert week.week_start == dt.date(2026, 3, 30)
    assert week.sources["invoices"] == Decimal("10000.00")
    assert week.sources["factoring"] == Decimal("-8685.21")
    assert week.p50 == Decimal("1314.79")
