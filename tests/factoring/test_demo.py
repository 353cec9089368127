"""The demo's factoring: two facilities, assignments in several states, a statement and a
repurchase, all through the services (the audit chain verifies)."""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command

from factoring import selectors
from factoring.models import Assignment, AssignmentStatus, Facility, FactorStatement, LineState, Repurchase
from tenancy.models import Organization
from tenancy.selectors import audit_verify

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 15, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def test_demo_has_facilities_assignments_statement_and_repurchase():
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        organization = Organization.objects.get(slug="demo")
        assert Facility.objects.filter(organization=organization).count() == 2
        statuses = set(Assignment.objects.filter(organization=organization).values_list("status", flat=True))
        assert {AssignmentStatus.FUNDED, AssignmentStatus.SUBMITTED} <= statuses
        assert FactorStatement.objects.filter(organization=organization).exists()
        assert Repurchase.objects.filter(organization=organization).exists()
        icbc = Facility.objects.get(organization=organization, mode="factoring")
        position = selectors.position(organization, icbc, NOW.date())
        assert position.funds_in_use > 0 and position.live_lines > 0
        assert selectors.expected_cash_flows(organization, start=NOW.date(), end=NOW.date() + dt.timedelta(days=91))
        assert LineState.COLLECTED in set(icbc.assignments.get().lines.values_list("state", flat=True))
    verification = audit_verify(organization)
    assert verification.ok, verification.reason
