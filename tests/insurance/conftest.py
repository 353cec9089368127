"""Insurance test fixtures: a 2026 policy (90% insured, notify 60 days after due, extend up to 90, claim
within 150), a buyer with CNY 200,000.00 of cover, and helpers that write through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from insurance import services
from tests.factories import CustomerFactory, make_invoice

POLICY_TERMS = {
    "insurer_name": "Allianz Trade", "policy_number": "P-2026-001", "currency": "CNY",
    "starts_on": dt.date(2026, 1, 1), "ends_on": dt.date(2026, 12, 31), "insured_percentage": Decimal("90.00"),
    "max_credit_period_days": 120, "overdue_notification_days": 60, "max_extension_days": 90,
    "claim_filing_days": 150, "waiting_period_days": 150, "discretionary_limit": Decimal("50000"),
    "discretionary_conditions": "No overdue over 60 days in the last 12 months.",
    "claim_threshold": Decimal("5000"), "deductible": Decimal("1000"), "premium_rate": Decimal("0.2500"),
    "warning_days": 7,
}


@pytest.fixture
def policy(organization):
    return services.policy_create(organization=organization, actor=None, **POLICY_TERMS)


@pytest.fixture
def buyer(organization):
    return CustomerFactory(organization=organization, name="Wuhan Optics Co.", currency="CNY", country="CN",
                           payment_terms_days=30)


def grant_cover(organization, policy, customer, amount="200000.00", *, on=dt.date(2026, 1, 5), valid_until=None):
    request = services.cover_request_create(organization=organization, actor=None, policy=policy, customer=customer,
                                            request_type="new", amount=Decimal(amount), requested_on=on)
    return services.cover_request_decide(organization=organization, actor=None, request=request, decision="approved",
                                         decided_on=on, valid_until=valid_until)


@pytest.fixture
def covered_buyer(organization, policy, buyer):
    grant_cover(organization, policy, buyer)
    return buyer


def invoice(organization, customer, amount, *, issued, due, number=None):
    return make_invoice(organization, customer, amount=amount, issue_date=issued, due_date=due, number=number)


@pytest.fixture
def three_invoices(organization, covered_buyer):
    """A (due Jan 31) 120,345.67, B (due Feb 28) 80,000.00, C (due Mar 31) 50,000.00."""
    return (invoice(organization, covered_buyer, "120345.67", issued=dt.date(2026, 1, 1), due=dt.date(2026, 1, 31),
                    number="A"),
            invoice(organization, covered_buyer, "80000.00", issued=dt.date(2026, 1, 29), due=dt.date(2026, 2, 28),
                    number="B"),
            invoice(organization, covered_buyer, "50000.00", issued=dt.date(2026, 3, 1), due=dt.date(2026, 3, 31),
                    number="C"))
