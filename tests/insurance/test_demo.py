"""insurance_demo_seed through `manage.py seed_demo`: a policy, buyer cover with each kind of decision,
notifications, a filed claim and warnings, all on an intact audit chain."""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from insurance import selectors
from insurance.models import Claim, ClaimStatus, CoverRequest, Declaration, Policy, RequestStatus
from tenancy.models import Organization
from tenancy.selectors import audit_verify

NOW = dt.datetime(2026, 3, 15, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic(), time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return Organization.objects.get(slug="demo")


def test_demo_has_a_policy_cover_declarations_and_a_claim(demo):
    assert Policy.objects.filter(organization=demo).count() == 1
    decisions = set(CoverRequest.objects.filter(organization=demo).values_list("decision", flat=True))
    assert decisions == {"approved", "partial", "refused", ""}
    assert CoverRequest.objects.filter(organization=demo, status=RequestStatus.PENDING).count() == 1
    assert CoverRequest.objects.filter(organization=demo, discretionary=True).exists()
    assert Declaration.objects.filter(organization=demo).exists()
    claim = Claim.objects.get(organization=demo)
    assert claim.status == ClaimStatus.FILED and claim.expected_indemnity > 0
    with time_machine.travel(NOW, tick=False):
        rows = selectors.insured_deadlines(demo)
    assert {r.state for r in rows} >= {"ok", "claimed"}
    assert audit_verify(demo).ok
