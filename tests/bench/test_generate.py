"""The bench data generator and the benches, at tiny sizes, so they cannot rot unnoticed."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from bench.aging import aging_measure
from bench.common import queries_issued
from bench.dso import dso_measure
from bench.generate import bench_generate, foreign_keys_check, ledger_check, ledger_draw
from bench.statement import statement_measure
from receivables.models import Allocation, Invoice, Payment
from receivables.selectors import FxTable, aging_report
from tenancy.services import organization_create

AS_OF = dt.date(2026, 3, 15)


def generate(slug: str, customers: int, invoices: int):
    result = bench_generate(slug=slug, customers=customers, invoices=invoices, as_of=AS_OF)
    return Invoice.objects.get(organization_id=result.organization_id, number="INV00000001").organization, result


@pytest.fixture
def bench_org(db):
    organization, _result = generate("bench-tiny", 20, 300)
    return organization


def test_generator_writes_the_requested_sizes(db):
    organization, result = generate("bench-sized", 20, 300)
    assert (result.customers, result.invoices) == (20, 300)
    assert Invoice.objects.filter(organization=organization).count() == 300
    assert Allocation.objects.filter(organization=organization).count() == result.allocations
    assert Payment.objects.filter(organization=organization).count() == result.payments > 0


def test_applied_amounts_are_the_sum_of_allocations(bench_org):
    assert ledger_check(bench_org) == []


def test_every_foreign_key_holds(bench_org):
    assert foreign_keys_check(bench_org.pk) == []


def test_ledger_check_catches_a_tampered_invoice(bench_org):
    invoice = Invoice.objects.filter(organization=bench_org, status="partially_paid").first() or \
        Invoice.objects.filter(organization=bench_org, status="paid").first()
    with connection.cursor() as cursor:  # bypass the services on purpose: simulate a generator bug
        cursor.execute("UPDATE receivables_invoice SET applied_amount = applied_amount - 0.01 WHERE id = %s",
                       [invoice.pk])
    assert ledger_check(bench_org) == ["1 invoices whose applied_amount is not the sum of their allocations"]


def test_aging_total_equals_the_open_total_in_sql(bench_org):
    report = aging_report(bench_org, AS_OF)
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT currency, count(*), sum(total_amount - applied_amount) FROM receivables_invoice
            WHERE organization_id = %s AND voided_on IS NULL AND applied_amount < total_amount GROUP BY currency
        """, [bench_org.pk])
        by_currency = cursor.fetchall()
    fx = FxTable.load(bench_org, {c for c, _n, _s in by_currency}, AS_OF)
    expected = sum(fx.convert(total, currency, AS_OF) for currency, _n, total in by_currency)
    assert sum(row.invoice_count for row in report.rows) == sum(n for _c, n, _s in by_currency)
    # The report rounds once per customer, currency and bucket: at most half a cent per cell.
    cells = len(report.rows) * len(report.buckets)
    assert abs(report.total - expected) <= Decimal("0.005") * cells, (report.total, expected)


def test_aging_query_count_does_not_grow_with_the_ledger(db):
    small, _ = generate("bench-small", 20, 200)
    large, _ = generate("bench-large", 40, 1500)
    for organization in (small, large):  # both need FX, or the rate query is (rightly) skipped
        assert Invoice.objects.filter(organization=organization).exclude(currency="CNY").exists()
    small_queries = queries_issued(lambda: aging_report(small, AS_OF))
    large_queries = queries_issued(lambda: aging_report(large, AS_OF))
    assert len(small_queries) == len(large_queries) == 2


def test_generated_ledger_has_every_status_and_overdue_age(db):
    ledger = ledger_draw(customers=50, invoices=5000, as_of=AS_OF, seed=7)
    total = ledger.net + ledger.tax
    open_ = (ledger.voided == 0) & (ledger.applied < total)
    days_overdue = AS_OF.toordinal() - ledger.due[open_]
    assert (ledger.voided > 0).any()
    assert ((ledger.applied > 0) & (ledger.applied < total)).any()
    assert (ledger.applied == total).any()
    for low, high in ((-1000, 0), (1, 30), (31, 60), (61, 90), (91, 10_000)):
        assert ((days_overdue >= low) & (days_overdue <= high)).any(), (low, high)


def test_generator_is_deterministic_for_a_seed():
    first = ledger_draw(customers=30, invoices=500, as_of=AS_OF, seed=1)
    again = ledger_draw(customers=30, invoices=500, as_of=AS_OF, seed=1)
    other = ledger_draw(customers=30, invoices=500, as_of=AS_OF, seed=2)
    assert np.array_equal(first.net, again.net) and np.array_equal(first.applied, again.applied)
    assert not np.array_equal(first.net, other.net)


def test_replace_refuses_an_audited_organization(db):
    organization_create(name="Real customer data", slug="bench-real")
    with pytest.raises(SystemExit, match="has audit entries, so it is not a synthetic bench organization"):
        bench_generate(slug="bench-real", customers=5, invoices=10, replace=True, as_of=AS_OF)


def test_existing_organization_needs_replace(bench_org):
    with pytest.raises(SystemExit, match="exists; pass --replace to regenerate it"):
        bench_generate(slug="bench-tiny", customers=5, invoices=10, as_of=AS_OF)


def test_replace_regenerates_a_synthetic_organization(bench_org):
    result = bench_generate(slug="bench-tiny", customers=5, invoices=40, replace=True, as_of=AS_OF)
    assert Invoice.objects.filter(organization_id=result.organization_id).count() == 40
    assert not Invoice.objects.filter(organization_id=bench_org.pk).exists()


@pytest.mark.parametrize("measure", [aging_measure, dso_measure, statement_measure])
def test_benches_measure_a_tiny_organization(bench_org, measure):
    measurement = measure(bench_org, repeat=1)
    assert measurement.size == 300
    assert measurement.report_s > 0 and measurement.floor_s > 0
    assert measurement.queries >= 1
