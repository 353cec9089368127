"""bench.monday's generator and reset at two tiny organizations, so the Monday bench cannot rot unnoticed."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from bench.generate import foreign_keys_check, ledger_check
from bench.monday import HISTORY_RUN, monday_reset, organizations_generate
from credit.models import CreditProfile
from dunning.models import DunningNotice, DunningPolicy, DunningRun
from dunning.services import dunning_run
from receivables.models import Customer, Invoice, WeeklyReport, WeeklyReportKind
from receivables.reporting.selectors import weekly_reports_due
from tenancy.dates import local_today
from tenancy.models import Organization


@pytest.fixture
def monday_orgs(db):
    slugs = organizations_generate([1, 2], [20, 25], seed=7)
    return list(Organization.objects.filter(slug__in=slugs).order_by("slug"))


def test_each_organization_gets_its_own_consistent_ledger(monday_orgs):
    first, second = monday_orgs
    assert (first.slug, second.slug) == ("monday-00001", "monday-00002")
    assert Customer.objects.filter(organization=first).count() == 20
    assert Customer.objects.filter(organization=second).count() == 25
    assert Invoice.objects.filter(organization=second).count() == 250
    for organization in monday_orgs:
        assert ledger_check(organization) == []
        assert foreign_keys_check(organization.pk) == []
    # One COPY stream for both: no invoice points at the other organization's customer.
    assert not Invoice.objects.filter(organization=first, customer__organization=second).exists()


def test_what_a_running_organization_has_besides_its_ledger(monday_orgs):
    organization = monday_orgs[0]
    assert {org for org, _week in weekly_reports_due(timezone.now())} >= {o.pk for o in monday_orgs}
    assert DunningPolicy.objects.get(organization=organization, is_default=True).steps.count() == 5
    history = DunningRun.objects.get(organization=organization, triggered_by=HISTORY_RUN)
    yesterday = local_today("Asia/Shanghai") - dt.timedelta(days=1)
    assert history.run_date == yesterday
    notices = DunningNotice.objects.filter(organization=organization).select_related("invoice")
    assert notices.exists()
    for notice in notices:  # only open invoices, only steps reached by yesterday
        assert notice.invoice.status in ("open", "partially_paid")
        assert notice.step_days <= (yesterday - notice.invoice.due_date).days
    profiles = CreditProfile.objects.filter(organization=organization)
    assert profiles.count() == 20
    assert all(profile.credit_limit > 0 and profile.next_review_on is not None for profile in profiles)


def test_todays_dunning_run_skips_the_history_and_reset_puts_the_state_back(monday_orgs):
    organization = monday_orgs[0]
    before = {p.pk: p.next_review_on for p in CreditProfile.objects.filter(organization=organization)}
    history = DunningNotice.objects.filter(organization=organization).count()
    run = dunning_run(organization=organization, today=local_today("Asia/Shanghai"))  # no duplicate notice
    assert run.notices_count < history
    WeeklyReport.objects.create(organization=organization, kind=WeeklyReportKind.SCHEDULED,
                                week_start=dt.date(2026, 11, 30), as_of=dt.date(2026, 11, 30), language="en")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE credit_creditprofile SET next_review_on = '2030-01-01' WHERE organization_id = %s",
                       [organization.pk])

    monday_reset([o.pk for o in monday_orgs])

    assert not WeeklyReport.objects.filter(organization=organization).exists()
    assert list(DunningRun.objects.filter(organization=organization).values_list("triggered_by", flat=True)) == [
        HISTORY_RUN]
    assert DunningNotice.objects.filter(organization=organization).count() == history
    assert {p.pk: p.next_review_on for p in CreditProfile.objects.filter(organization=organization)} == before
