"""The database holds the rules even when code is bypassed: CHECK and UNIQUE constraints."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from insurance.models import Claim, ClaimStatus, CoverRequest, Policy
from insurance.services import policy_create
from tenancy.errors import DomainError

from .conftest import POLICY_TERMS

pytestmark = pytest.mark.django_db


def _refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_policy_checks(organization):
    base = {**POLICY_TERMS, "organization": organization}
    _refused(lambda: Policy.objects.create(**{**base, "ends_on": dt.date(2025, 12, 31)}))
    _refused(lambda: Policy.objects.create(**{**base, "insured_percentage": Decimal("100.01")}))
    _refused(lambda: Policy.objects.create(**{**base, "claim_filing_days": 30}))
    _refused(lambda: Policy.objects.create(**{**base, "deductible": Decimal("-1")}))
    _refused(lambda: Policy.objects.create(**{**base, "connector": "http", "connector_url": ""}))
    with pytest.raises(DomainError, match="must end after it starts"):
        policy_create(organization=organization, actor=None, **{**POLICY_TERMS, "ends_on": dt.date(2025, 1, 1)})


def test_cover_decision_checks(organization, policy, buyer):
    base = {"organization": organization, "policy": policy, "customer": buyer, "request_type": "new",
            "amount": Decimal("100"), "currency": "CNY", "requested_on": dt.date(2026, 2, 1)}
    decided = {"status": "decided", "decided_on": dt.date(2026, 2, 2)}
    _refused(lambda: CoverRequest.objects.create(**base, **decided, decision="approved", decided_amount=Decimal("90")))
    _refused(lambda: CoverRequest.objects.create(**base, **decided, decision="partial", decided_amount=Decimal("100")))
    _refused(lambda: CoverRequest.objects.create(**base, **decided, decision="refused", decided_amount=Decimal("0")))
    _refused(lambda: CoverRequest.objects.create(**{**base, "request_type": "cancellation"}))
    _refused(lambda: CoverRequest.objects.create(**base, status="decided", decision="approved",
                                                 decided_amount=Decimal("100"), decided_on=dt.date(2026, 1, 1)))
    CoverRequest.objects.create(**base)
    _refused(lambda: CoverRequest.objects.create(**base))  # one open request per buyer and policy


def test_claim_status_checks(organization, policy, buyer):
    base = {"organization": organization, "policy": policy, "customer": buyer, "currency": "CNY"}
    _refused(lambda: Claim.objects.create(**base, status=ClaimStatus.FILED))
    _refused(lambda: Claim.objects.create(**base, status=ClaimStatus.REJECTED, filed_on=dt.date(2026, 4, 1),
                                          decided_on=dt.date(2026, 4, 2)))
    _refused(lambda: Claim.objects.create(**base, outstanding=Decimal("10"), covered_loss=Decimal("11")))
    _refused(lambda: Claim.objects.create(**base, status=ClaimStatus.PAID, filed_on=dt.date(2026, 4, 1),
                                          decided_on=dt.date(2026, 4, 2), accepted_amount=Decimal("1")))


def test_policy_changes_are_audited_with_before_and_after(organization, policy, buyer, admin_user, collector):
    from insurance.services import policy_update
    from tenancy.models import AuditEntry

    policy_update(organization=organization, actor=admin_user, policy=policy, insured_percentage=Decimal("85"),
                  excluded_customers=[buyer])
    entry = AuditEntry.objects.filter(organization=organization, action="insurance.policy_updated").get()
    assert entry.before == {"insured_percentage": "90.00", "excluded_customers": []}
    assert entry.after == {"insured_percentage": "85", "excluded_customers": [buyer.pk]}
    with pytest.raises(DomainError, match="needs the Admin role"):
        policy_update(organization=organization, actor=collector, policy=policy, deductible=Decimal("0"))
