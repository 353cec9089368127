"""DSO report vs. the bare monthly scans it cannot do without, at each size.

    python -m bench.dso --sizes 10000,1000000 [--customers 1000] [--repeat 9] [--explain]

The floor is one statement: invoiced amounts and applied amounts grouped by currency and
month up to the as-of date (what any DSO must read); `dso_report` also reads voids, the
trailing-period sales and the FX rates, then builds a 12-month trend in Python.
"""

from __future__ import annotations

from bench.common import (
    Measurement,
    bench_arguments,
    dataset_ensure,
    explain,
    paired_medians,
    queries_issued,
    sql_floor,
    table_print,
    table_record,
)

DSO_FLOOR_SQL = """
    SELECT 'invoiced', currency, date_trunc('month', issue_date), SUM(total_amount) FROM receivables_invoice
    WHERE organization_id = %(org)s AND issue_date <= %(as_of)s GROUP BY 2, 3
    UNION ALL
    SELECT 'applied', currency, date_trunc('month', applied_on), SUM(amount) FROM receivables_allocation
    WHERE organization_id = %(org)s AND applied_on <= %(as_of)s GROUP BY 2, 3
"""


def dso_measure(organization, *, repeat: int, show_plan: bool = False) -> Measurement:
    """Time dso_report and its floor on one organization; count dso_report's queries."""
    from receivables.models import Invoice
    from receivables.selectors import dso_report
    from tenancy.dates import local_today

    as_of = local_today(organization.timezone)
    report = lambda: dso_report(organization, as_of)  # noqa: E731
    queries = queries_issued(report)
    if show_plan:
        for sql in queries:
            print(f"\n--- EXPLAIN ANALYZE, dso_report, {organization.slug} ---\n{explain(sql)}")
    dso = report()
    floor = sql_floor(DSO_FLOOR_SQL, {"org": organization.pk, "as_of": as_of})
    report_s, floor_s = paired_medians(report, floor, repeat)
    return Measurement(size=Invoice.objects.filter(organization=organization).count(),
                       detail=f"DSO {dso.standard} / {dso.countback} d", report_s=report_s, floor_s=floor_s,
                       queries=len(queries))


def main() -> None:
    args = bench_arguments("Time the DSO report against bare monthly scans of the same ledger.")
    from bench.db import bench_setup

    bench_setup()
    rows = [dso_measure(dataset_ensure(invoices=size, customers=args.customers, regenerate=args.regenerate),
                        repeat=args.repeat, show_plan=args.explain) for size in args.sizes]
    table_print(f"dso_report vs floor (medians of {args.repeat} alternating runs after a warm-up)", rows)
    table_record("dso", rows, max_ratio=3)


if __name__ == "__main__":
    main()
