"""A missing exchange rate never breaks the forecast (review of issues 12 and 17): an open invoice in a
currency with no stored rate is left out of the base-currency figures, as the aging report leaves it out
(counted as zero, noted as a gap), so the dashboard and the weekly PDF keep rendering."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from forecasting import services
from forecasting.cashflow import cash_forecast
from forecasting.provisions import provision_matrix
from tests.factories import CustomerFactory, make_invoice

AS_OF = dt.date(2026, 3, 4)


def test_an_open_invoice_without_any_rate_is_left_out_not_an_error(organization):
    from receivables.reporting.sections import sections_build

    # given: a CNY book with 1,000.00 open, a USD invoice of 500.00 open, and no USD rate at all
    customer = CustomerFactory(organization=organization, name="Steady", currency="CNY")
    make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2026, 2, 8),
                 due_date=dt.date(2026, 3, 10))
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 2, 8),
                 due_date=dt.date(2026, 3, 10), currency="USD")
    services.predictions_refresh(organization=organization, as_of=AS_OF)
    # when: the forecast, the provision and the report sections are built
    forecast = cash_forecast(organization, as_of=AS_OF)
    provision = provision_matrix(organization, as_of=AS_OF)
    keys = {s.key for s in sections_build(organization, AS_OF, "en", where="dashboard")}
    # then: only the CNY invoice is counted, and nothing raised
    assert forecast.open_balance == Decimal("1000.00")
    assert provision.total_balance == Decimal("1000.00")
    assert "forecasting" in keys
