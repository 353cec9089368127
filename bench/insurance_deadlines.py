"""Insurance deadlines of every insured invoice vs. a bare scan of the same open invoices.

    python -m bench.insurance_deadlines --sizes 10000,1000000 [--customers 1000] [--repeat 3]

For every size the synthetic organization `bench-<size>` is generated (or reused) and given a credit
insurance policy covering its whole history, buyer cover for every customer (half of them with less
cover than their exposure, so the oldest-first spreading matters), overdue notifications for a tenth
of the overdue invoices and one open dispute per ten customers (rows inserted directly, like the
generator's: no audit entries). Then `insurance.selectors.insured_deadlines` as of today is timed
against the floor: one SELECT of the same open invoices' id, customer, due date and balance, fetched.
Targets: 1,000,000 invoices in < 60 s, and the same number of queries at every size."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bench.common import (
    Measurement,
    bench_arguments,
    dataset_ensure,
    paired_medians,
    queries_issued,
    sql_floor,
    table_print,
)

POLICY_NUMBER = "BENCH-INSURANCE"


def insurance_ensure(organization):
    """A policy, cover for every customer, some notifications and disputes (idempotent per organization)."""
    from django.db import transaction
    from django.db.models import F

    from dunning.models import Dispute
    from insurance.models import CoverRequest, Declaration, DeclarationInvoice, Policy
    from receivables.models import Customer, Invoice
    from tenancy.dates import local_today

    policy = Policy.objects.filter(organization=organization, policy_number=POLICY_NUMBER).first()
    if policy is not None:
        return policy
    today = local_today(organization.timezone)
    with transaction.atomic():
        policy = Policy.objects.create(
            organization=organization, insurer_name="Bench Insurer", policy_number=POLICY_NUMBER,
            currency=organization.base_currency, starts_on=today - dt.timedelta(days=3 * 365),
            ends_on=today + dt.timedelta(days=365), insured_percentage=Decimal("90"), max_credit_period_days=180,
            overdue_notification_days=60, max_extension_days=90, claim_filing_days=150, waiting_period_days=150,
            premium_rate=Decimal("0.25"), claim_threshold=Decimal("1000"))
        customers = list(Customer.objects.filter(organization=organization).order_by("pk"))
        start = policy.starts_on
        CoverRequest.objects.bulk_create([
            CoverRequest(organization=organization, policy=policy, customer=customer, request_type="new",
                         amount=Decimal(2_000_000 if i % 2 else 200_000), currency=policy.currency, requested_on=start,
                         status="decided", decision="approved", decided_amount=Decimal(2_000_000 if i % 2 else 200_000),
                         decided_on=start)
            for i, customer in enumerate(customers)], batch_size=2000)
        overdue = list(Invoice.objects.filter(organization=organization, voided_on__isnull=True,
                                              applied_amount__lt=F("total_amount"), due_date__lt=today)
                       .order_by("pk").values_list("pk", "customer_id", "due_date", "total_amount", "currency")[::10])
        declarations = Declaration.objects.bulk_create([
            Declaration(organization=organization, policy=policy, customer_id=customer_id, kind="overdue",
                        notified_on=min(due + dt.timedelta(days=30), today), content={}, content_hash="")
            for _pk, customer_id, due, _total, _currency in overdue], batch_size=2000)
        DeclarationInvoice.objects.bulk_create([
            DeclarationInvoice(organization=organization, declaration=declaration, invoice_id=pk, due_date=due,
                               amount_due=total, currency=currency)
            for declaration, (pk, _c, due, total, currency) in zip(declarations, overdue, strict=True)],
            batch_size=2000)
        disputed = {}
        for pk, customer_id, due, total, currency in overdue:
            if customer_id % 10 == 0 and customer_id not in disputed:
                disputed[customer_id] = Dispute(organization=organization, invoice_id=pk, customer_id=customer_id,
                                                amount=total / 2, currency=currency, reason="quality",
                                                opened_on=due, due_on=due + dt.timedelta(days=30))
        Dispute.objects.bulk_create(list(disputed.values()))
    return policy


def floor_sql() -> str:
    from receivables.models import Invoice
    from receivables.selectors import _table

    return f"""
        SELECT id, customer_id, due_date, total_amount - applied_amount FROM {_table(Invoice)}
        WHERE organization_id = %(org)s AND voided_on IS NULL AND applied_amount < total_amount
    """  # noqa: S608 - the table name only


def deadlines_measure(organization, *, repeat: int) -> Measurement:
    from insurance.selectors import deadline_counts, insured_deadlines
    from tenancy.dates import local_today

    insurance_ensure(organization)
    as_of = local_today(organization.timezone)
    report = lambda: insured_deadlines(organization, as_of=as_of)  # noqa: E731
    queries = queries_issued(report)
    rows = report()
    counts = deadline_counts(rows)
    report_s, floor_s = paired_medians(report, sql_floor(floor_sql(), {"org": organization.pk}), repeat)
    detail = f"{len(rows):,} rows, {counts['missed']:,} missed"
    return Measurement(size=organization_size(organization), detail=detail, report_s=report_s, floor_s=floor_s,
                       queries=len(queries))


def organization_size(organization) -> int:
    from receivables.models import Invoice

    return Invoice.objects.filter(organization=organization).count()


def main() -> None:
    import sys

    quick = "--quick" in sys.argv  # bench.all's quick run: small sizes, to check that it still runs
    if quick:
        sys.argv = [arg for arg in sys.argv if arg != "--quick"] + ["--sizes", "2000,10000", "--repeat", "3"]
    args = bench_arguments("Time every insured invoice's deadlines against a bare scan of the open invoices.")
    from bench.db import bench_setup

    bench_setup()
    rows = []
    for size in args.sizes:
        organization = dataset_ensure(invoices=size, customers=args.customers, regenerate=args.regenerate)
        rows.append(deadlines_measure(organization, repeat=args.repeat))
    table_print(f"insured_deadlines vs floor (medians of {args.repeat} alternating runs after a warm-up)", rows)
    from bench.summary import summary_record

    for row in rows:
        summary_record(bench="insurance_deadlines", figure=f"{row.size:,} invoices ({row.queries} queries)",
                       value=row.report_s * 1000, unit="ms", floor=row.floor_s * 1000, target="< 60 s",
                       met=row.report_s < 60)
    counts = {row.queries for row in rows}
    summary_record(bench="insurance_deadlines", figure="query count across sizes", value=max(counts), unit="queries",
                   target="constant", met=len(counts) == 1)
    print(f"\nquery count {'constant' if len(counts) == 1 else 'VARIES'}: {sorted(counts)}; "
          f"{rows[-1].size:,} invoices in {rows[-1].report_s:.1f} s (target < 60 s), "
          f"ratio {rows[-1].ratio:.1f}x the bare scan")


if __name__ == "__main__":
    main()
