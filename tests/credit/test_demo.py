"""credit_demo_seed through `manage.py seed_demo`: every demo customer has a credit file and a
score with its history, limits went through the approval levels, the hold and alert demos are set."""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from credit import selectors
from credit.models import AlertKind, CreditAlert, CreditProfile, CreditScore, LimitRequest, LimitRequestStatus
from credit.uscc import uscc_problem
from receivables.models import Customer
from tenancy.models import Organization
from tenancy.selectors import audit_verify

NOW = dt.datetime(2026, 3, 15, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic(), time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return Organization.objects.get(slug="demo")


def test_every_customer_has_a_scored_credit_file_with_history(demo):
    profiles = CreditProfile.objects.filter(organization=demo).select_related("latest_score", "customer")
    assert profiles.count() == Customer.objects.filter(organization=demo).count() == 40
    assert all(p.latest_score is not None and p.latest_score.as_of == TODAY for p in profiles)
    assert all(len(selectors.score_history(demo, p.customer)) >= 3 for p in profiles[:5])
    grades = {p.latest_score.grade for p in profiles}
    assert {"A", "E"} <= grades, grades


def test_chinese_files_carry_valid_usccs_and_most_have_accounts(demo):
    profiles = CreditProfile.objects.filter(organization=demo)
    chinese = profiles.filter(customer__country="CN")
    assert all(p.uscc and uscc_problem(p.uscc) is None for p in chinese)
    with_accounts = [p for p in profiles if p.financials.count() >= 2]
    assert 30 <= len(with_accounts) < 40
    assert CreditScore.objects.filter(organization=demo, provisional=True, as_of=TODAY).exists()


def test_limits_were_approved_through_the_levels_and_one_waits_for_the_admin(demo):
    approved = LimitRequest.objects.filter(organization=demo, status=LimitRequestStatus.APPROVED)
    assert approved.count() == 40
    assert any(r.levels_required == ["credit_manager", "admin"] and r.steps.count() == 2 for r in approved)
    pending = LimitRequest.objects.get(organization=demo, status=LimitRequestStatus.PENDING)
    assert pending.customer.name == "西安秦川新能源有限公司"
    assert [s.level for s in pending.steps.all()] == ["credit_manager"]


def test_one_customer_is_close_to_its_limit_and_one_over_it(demo):
    close = CreditProfile.objects.get(organization=demo, customer__name="杭州西湖电子科技有限公司")
    exposure = selectors.customer_exposure(demo, close.customer, TODAY).outstanding
    assert 0 < close.credit_limit - exposure <= 40_000
    assert selectors.hold_reasons(demo, close.customer, TODAY) == []
    assert selectors.hold_reasons(demo, close.customer, TODAY, extra_amount=exposure)  # a big invoice tips it
    assert CreditAlert.objects.filter(organization=demo, kind=AlertKind.OVER_LIMIT,
                                      customer__name="深圳南山智能制造有限公司").exists()


def test_signals_include_an_insurer_grade_and_raised_alerts(demo):
    kinds = set(CreditAlert.objects.filter(organization=demo).values_list("kind", flat=True))
    assert {AlertKind.NEW_SIGNAL, AlertKind.OVER_LIMIT} <= kinds
    assert CreditProfile.objects.filter(organization=demo, signals__kind="insurer_grade").count() == 2


def test_audit_chain_still_verifies(demo):
    assert audit_verify(demo).ok
