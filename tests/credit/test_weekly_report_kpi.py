"""The weekly aging report's "customers over limit" KPI comes from the credit app."""

import datetime as dt
from decimal import Decimal

from credit import services as credit_services
from receivables.reporting.pdf import weekly_report_pdf
from receivables.reporting.selectors import customers_over_limit, weekly_report_data
from tests.factories import CustomerFactory, make_invoice
from tests.receivables.reporting.test_pdf import pdf_text

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
    data = weekly_report_data(organization, AS_OF)
    assert data.customers_over_limit == 1
    text = " ".join(pdf_text(weekly_report_pdf(data, "en").content).lower().split())
    assert "customers over limit 1 exposure above credit limit" in text, text[:400]


def test_without_any_limit_the_figure_is_unknown_not_zero(organization, customer):
    make_invoice(organization, customer, amount="1500.00", issue_date=dt.date(2026, 5, 1))
    assert customers_over_limit(organization, AS_OF) is None
