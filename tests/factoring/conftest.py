"""Factoring fixtures: a facility with the README's worked-example terms, invoices to assign."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from factoring import services
from tests.factories import CustomerFactory, make_invoice

TODAY = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()


def facility_make(organization, **overrides):
    fields = {"name": "HSBC factoring", "factor_name": "汇丰保理 HSBC Factoring", "factor_bank_name": "HSBC Shanghai",
              "factor_bank_account": "6222 0000 1234 5678", "mode": "factoring", "disclosed": True,
              "recourse": True, "currency": "CNY", "limit": Decimal("1000000"), "advance_rate": Decimal("0.85"),
              "fee_rate": Decimal("0.0125"), "interest_rate": Decimal("0.085"), "day_count": 360,
              "valid_from": dt.date(2026, 1, 1)}
    fields.update(overrides)
    return services.facility_create(organization=organization, actor=None, **fields)


@pytest.fixture
def facility(organization):
    return facility_make(organization)


@pytest.fixture
def buyer(organization):
    return CustomerFactory(organization=organization, name="Shenzhen Buyer Co", currency="CNY")


def invoice_make(organization, customer, amount, *, issue=dt.date(2026, 2, 1), due=dt.date(2026, 4, 1), **kwargs):
    return make_invoice(organization, customer, amount=amount, issue_date=issue, due_date=due, **kwargs)
