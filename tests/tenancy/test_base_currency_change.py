"""Issue 12, item 6: the base currency cannot change once amounts are stored in it (it would silently
re-read FX rates, limits and financial statements in the new currency)."""

import datetime as dt
from decimal import Decimal

import pytest

from receivables import selectors
from receivables import services as ledger
from tenancy import services
from tenancy.errors import DomainError
from tenancy.models import Organization
from tests.factories import CustomerFactory, make_invoice

AS_OF = dt.date(2026, 3, 31)


@pytest.fixture
def foreign_ledger(organization):
    """USD 1,000 at 7.10 + EUR 1,000 at 7.80 = 14,900.00 CNY."""
    for currency, rate in (("USD", "7.10"), ("EUR", "7.80")):
        ledger.fx_rate_set(organization=organization, actor=None, currency=currency, rate_date=dt.date(2026, 1, 1),
                           rate=Decimal(rate))
        buyer = CustomerFactory(organization=organization, name=f"Buyer in {currency}", currency=currency)
        make_invoice(organization, buyer, amount="1000.00", issue_date=dt.date(2026, 3, 1), currency=currency)
    return organization


def test_base_currency_change_is_refused_once_the_ledger_has_rows(foreign_ledger, admin_user):
    assert selectors.aging_report(foreign_ledger, AS_OF).total == Decimal("14900.00")

    with pytest.raises(DomainError) as error:
        services.organization_update(organization=foreign_ledger, actor=admin_user, base_currency="USD")

    assert error.value.field == "base_currency"
    assert error.value.message == (
        "The base currency cannot change from CNY to USD: this organization already has invoices, FX rates in CNY, "
        "which would silently be read as USD. Keep CNY, or use a new organization for USD.")
    organization = Organization.objects.get(pk=foreign_ledger.pk)
    assert organization.base_currency == "CNY"
    assert selectors.aging_report(organization, AS_OF).total == Decimal("14900.00")  # not 8,800 "USD"


def test_settings_page_shows_the_refusal(client, foreign_ledger, admin_user):
    client.force_login(admin_user)
    response = client.post("/settings/", {"name": foreign_ledger.name, "base_currency": "USD",
                                          "timezone": "Asia/Shanghai", "default_payment_terms_days": "30",
                                          "aging_buckets": "30,60,90", "default_language": "en"})
    assert "The base currency cannot change from CNY to USD" in response.content.decode()
    assert Organization.objects.get(pk=foreign_ledger.pk).base_currency == "CNY"


def test_credit_limits_alone_also_hold_the_base_currency(organization, admin_user, customer):
    from credit import services as credit

    credit.credit_limit_apply(organization=organization, actor=None, customer=customer, limit=Decimal("100000"),
                              terms_days=30, source="test")
    with pytest.raises(DomainError) as error:
        services.organization_update(organization=organization, actor=admin_user, base_currency="USD")
    assert "credit limits" in error.value.message


def test_a_new_organization_can_still_choose_its_base_currency(organization, admin_user):
    services.organization_update(organization=organization, actor=admin_user, base_currency="USD")
    assert Organization.objects.get(pk=organization.pk).base_currency == "USD"
