"""Aging report vs. the bare open-items scan, at each size.

    python -m bench.aging --sizes 10000,1000000 [--customers 1000] [--repeat 9] [--explain]

For every size the synthetic organization `bench-<size>` is generated (or reused), then
`receivables.selectors.aging_report` as of today is timed against the floor
(`open_items_floor_sql`: one GROUP BY over the same open rows), medians of --repeat
alternating runs after a warm-up, and the SQL statements aging_report issued are counted. Targets: ratio <= 2
at 1,000,000 invoices, and the same query count at every size.
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


def aging_measure(organization, *, repeat: int, show_plan: bool = False) -> Measurement:
    """Time aging_report and its floor on one organization; count aging_report's queries."""
    from django.db import connection

    from receivables.models import Invoice
    from receivables.selectors import aging_report, open_invoices, open_items_floor_sql
    from tenancy.dates import local_today

    as_of = local_today(organization.timezone)
    report = lambda: aging_report(organization, as_of)  # noqa: E731
    floor = sql_floor(open_items_floor_sql(), {"org": organization.pk})
    queries = queries_issued(report)
    if show_plan:
        print(f"\n--- EXPLAIN ANALYZE, aging SQL, {organization.slug} ---\n{explain(queries[0])}")
        print(f"\n--- EXPLAIN ANALYZE, floor, {organization.slug} ---\n"
              f"{explain(connection.cursor().mogrify(open_items_floor_sql(), {'org': organization.pk}).decode())}")
    size = Invoice.objects.filter(organization=organization).count()
    open_items = open_invoices(organization).count()
    report_s, floor_s = paired_medians(report, floor, repeat)
    return Measurement(size=size, detail=f"{open_items:,} open items", report_s=report_s, floor_s=floor_s,
                       queries=len(queries))


def main() -> None:
    args = bench_arguments("Time the aging report against a bare scan of the same open items.")
    from bench.db import bench_setup

    bench_setup()
    rows = []
    for size in args.sizes:
        organization = dataset_ensure(invoices=size, customers=args.customers, regenerate=args.regenerate)
        rows.append(aging_measure(organization, repeat=args.repeat, show_plan=args.explain))
    table_print(f"aging_report vs floor (medians of {args.repeat} alternating runs after a warm-up)", rows)
    table_record("aging", rows, max_ratio=1.5)
    counts = {row.queries for row in rows}
    print(f"\nquery count {'constant' if len(counts) == 1 else 'VARIES'}: {sorted(counts)}; "
          f"ratio at {rows[-1].size:,}: {rows[-1].ratio:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
