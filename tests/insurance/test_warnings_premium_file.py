"""Warnings before deadlines (alerts once, webhooks, the worklist), the daily task, the premium report
per policy period, and the claim file ZIP."""

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal

import pytest
import time_machine

from dunning.models import CollectionTask
from insurance import selectors, services
from insurance.claim_file import claim_file_zip
from insurance.models import AlertKind, InsuranceAlert
from insurance.tasks import insurance_deadlines_dispatch_task
from tenancy.models import WebhookEvent
from tests.factories import CustomerFactory

from .conftest import grant_cover, invoice

pytestmark = pytest.mark.django_db
D = dt.date


def test_warnings_are_raised_once_with_events_and_a_worklist_task(organization, three_invoices):
    new = services.deadline_warnings_run(organization=organization, as_of=D(2026, 3, 26))
    assert [(a.kind, a.invoice.number, a.deadline) for a in new] == [
        (AlertKind.NOTIFY_DUE_SOON, "A", D(2026, 4, 1))]
    assert new[0].message == "Notify the insurer of overdue invoice A by 2026-04-01."
    assert services.deadline_warnings_run(organization=organization, as_of=D(2026, 3, 27)) == []  # once
    lost = services.deadline_warnings_run(organization=organization, as_of=D(2026, 4, 2))
    assert [(a.kind, a.invoice.number) for a in lost] == [(AlertKind.COVER_LOST, "A")]
    assert WebhookEvent.objects.filter(organization=organization, type="insurance.deadline_warning").count() == 1
    assert WebhookEvent.objects.filter(organization=organization, type="insurance.cover_lost").count() == 1
    tasks = CollectionTask.objects.filter(organization=organization, customer=three_invoices[0].customer)
    assert tasks.count() == 2 and "Credit insurance" in tasks.first().title


def test_expiring_cover_is_warned(organization, policy, buyer):
    grant_cover(organization, policy, buyer, "1000.00", on=D(2026, 1, 5), valid_until=D(2026, 6, 30))
    assert services.deadline_warnings_run(organization=organization, as_of=D(2026, 5, 30)) == []
    new = services.deadline_warnings_run(organization=organization, as_of=D(2026, 6, 1))
    assert [a.kind for a in new] == [AlertKind.COVER_EXPIRING]
    assert new[0].message.startswith("Buyer cover of 1,000.00 ")  # to the minor unit, not 1000.0000


def test_daily_task_runs_for_organizations_with_policies(organization, three_invoices, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    with time_machine.travel(dt.datetime(2026, 3, 30, 4, tzinfo=dt.UTC), tick=False):
        insurance_deadlines_dispatch_task()
        insurance_deadlines_dispatch_task()  # twice: still one warning per deadline
    assert InsuranceAlert.objects.filter(organization=organization).count() == 1


def test_premium_report_per_month_of_the_policy_period(organization, policy, covered_buyer):
    uncovered = CustomerFactory(organization=organization, currency="CNY", country="CN")
    invoice(organization, covered_buyer, "100000.00", issued=D(2026, 1, 31), due=D(2026, 3, 1))
    invoice(organization, covered_buyer, "33333.33", issued=D(2026, 2, 1), due=D(2026, 3, 3))
    invoice(organization, covered_buyer, "66666.67", issued=D(2026, 2, 28), due=D(2026, 3, 30))
    invoice(organization, uncovered, "999999.00", issued=D(2026, 2, 10), due=D(2026, 3, 10))
    report = selectors.premium_report(organization, policy)
    assert len(report) == 12
    january, february, march = report[:3]
    # 0.25% of the insured turnover; the declaration is due 15 days after the month end
    assert (january.turnover, january.premium, january.declare_by) == (Decimal("100000.00"), Decimal("250.00"),
                                                                       D(2026, 2, 15))
    assert (february.turnover, february.invoice_count, february.premium, february.declare_by) == (
        Decimal("100000.00"), 2, Decimal("250.00"), D(2026, 3, 15))
    assert (march.turnover, march.premium) == (Decimal("0.00"), Decimal("0.00"))


def test_premium_leaves_out_uncovered_countries_and_excluded_buyers(organization, policy, covered_buyer):
    policy = services.policy_update(organization=organization, actor=None, policy=policy, covered_countries=["de"])
    invoice(organization, covered_buyer, "100.00", issued=D(2026, 1, 5), due=D(2026, 2, 5))
    assert selectors.premium_report(organization, policy)[0].turnover == Decimal("0.00")
    policy = services.policy_update(organization=organization, actor=None, policy=policy, covered_countries=["CN"],
                                    excluded_customers=[covered_buyer])
    assert selectors.premium_report(organization, policy)[0].turnover == Decimal("0.00")
    policy = services.policy_update(organization=organization, actor=None, policy=policy, excluded_customers=[])
    assert selectors.premium_report(organization, policy)[0].turnover == Decimal("100.00")


def test_claim_file_zip_has_index_hashes_and_history(organization, policy, covered_buyer, three_invoices):
    a, b, _c = three_invoices
    with time_machine.travel(dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC), tick=False):
        from dunning import services as dunning_services

        dunning_services.dispute_open(organization=organization, actor=None, invoice=b, reason="price",
                                      amount=Decimal("500.00"))
        services.declaration_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                    kind="overdue", invoices=[a, b])
        claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                      invoices=[a, b])
    archive = zipfile.ZipFile(io.BytesIO(claim_file_zip(organization, claim)))
    names = set(archive.namelist())
    assert {"index.html", "index.txt", "invoices.csv", "statement.csv", "timeline.csv", "disputes.csv",
            "promises.csv", "declarations.json", "credit.json", "manifest.json"} <= names
    index = archive.read("index.txt").decode()
    assert "Expected indemnity / 预计赔款" in index and str(claim.expected_indemnity) in index
    manifest = json.loads(archive.read("manifest.json"))
    import hashlib

    assert manifest["files"]["invoices.csv"] == hashlib.sha256(archive.read("invoices.csv")).hexdigest()
    assert "500.0000" in archive.read("disputes.csv").decode("utf-8-sig")
    declarations = json.loads(archive.read("declarations.json"))
    assert declarations[0]["content"]["type"] == "OVD" and len(declarations[0]["content_sha256"]) == 64
    assert "编号" in archive.read("invoices.csv").decode("utf-8-sig")
