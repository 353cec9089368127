"""The weekly aging report's "customers over limit" KPI comes from the credit app."""

import datetime as dt
from decimal import Decimal

from credit import services as credit_services
from receivables.reporting.selectors import customers_over_limit
from tests.factories import CustomerFactory, make_invoice

AS_OF = dt.date(2026, 6, 30)


def test_customers_over_limit_counts_exposure_above_the_limit(organization, customer):
    within = CustomerFactory(organization=organization, name="Within Ltd")
    unlimited = CustomerFactory(organization=organization, name="No Limit Ltd")
    make_invoice(organization, customer, amount="1500.00", issue_date=dt.date(2026, 5, 1))
    make_invoice(organization, within, amount="500.00", issue_date=dt.date(2026, 5, 1))
    make_invoice(organization, unlimited, amount="9999.00", issue_date=dt.date(2026, 5, 1))
    for who in (customer, within):
        credit_services.credit_limit_apply(organization=organization, actor=None, customer=who,
                                           limit=Decimal("1000.00"), terms_days=30, source="test")

    assert customers_over_limit(organization, AS_OF) == 1


def test_no_limits_means_zero_over_limit(organization, customer):
    make_invoice(organization, customer, amount="1500.00", issue_date=dt.date(2026, 5, 1))
    assert customers_over_limit(organization, AS_OF) == 0
