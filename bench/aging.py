"""Aging report vs. the bare open-items scan, at each size.

    python -m bench.aging --sizes 10000,1000000 [--customers 1000] [--repeat 9] [--runs 5] [--explain]

For every size the synthetic organization `bench-<size>` is generated (or reused), then
`receivables.selectors.aging_report` as of today is timed against the floor
(`open_items_floor_sql`: one GROUP BY over the same open rows), medians of --repeat
alternating runs after a warm-up, and the SQL statements aging_report issued are counted. `--runs N`
repeats that whole measurement N times per size and prints each ratio and the spread (min / median /
max); the table shows the median run. Targets (issue 18): ratio <= 1.5 at 1,000,000 invoices, stable
across runs, and the same query count at every size.
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


def _runs_option(parser) -> None:
    parser.add_argument("--runs", type=int, default=1,
                        help="repeat the whole measurement (warm-up and --repeat pairs) this many times per size; "
                             "prints each run's ratio and the spread (min / median / max)")


def main() -> None:
    import os
    import statistics

    args = bench_arguments("Time the aging report against a bare scan of the same open items.", extra=_runs_option)
    from bench.db import bench_setup

    bench_setup()
    rows, spreads = [], {}
    for size in args.sizes:
        organization = dataset_ensure(invoices=size, customers=args.customers, regenerate=args.regenerate)
        runs = []
        for run in range(max(1, args.runs)):
            runs.append(aging_measure(organization, repeat=args.repeat, show_plan=args.explain and run == 0))
            if args.runs > 1:
                load = "/".join(f"{x:.2f}" for x in os.getloadavg())
                print(f"  {size:,} invoices, run {run + 1}/{args.runs}: report {runs[-1].report_s * 1000:.1f} ms, "
                      f"floor {runs[-1].floor_s * 1000:.1f} ms, ratio {runs[-1].ratio:.2f} (load {load})", flush=True)
        # The run with the median ratio stands for the size; the others give the spread.
        ordered = sorted(runs, key=lambda m: m.ratio)
        rows.append(ordered[(len(ordered) - 1) // 2])
        spreads[size] = [m.ratio for m in runs]
    table_print(f"aging_report vs floor (medians of {args.repeat} alternating runs after a warm-up"
                f"{f'; the median of {args.runs} runs' if args.runs > 1 else ''})", rows)
    table_record("aging", rows, max_ratio=1.5)
    if args.runs > 1:
        from bench.summary import summary_record

        print(f"\nratio spread over {args.runs} runs (min / median / max):")
        for size, ratios in spreads.items():
            print(f"{size:>10,}  {min(ratios):.2f} / {statistics.median(ratios):.2f} / {max(ratios):.2f}   "
                  f"runs: {', '.join(f'{r:.2f}' for r in ratios)}")
            summary_record(bench="aging", figure=f"{size:,} invoices: worst of {args.runs} runs' ratios "
                                                 f"(min {min(ratios):.2f}, median {statistics.median(ratios):.2f})",
                           value=max(ratios), unit="x", target="<= 1.5x", met=max(ratios) <= 1.5)
    counts = {row.queries for row in rows}
    print(f"\nquery count {'constant' if len(counts) == 1 else 'VARIES'}: {sorted(counts)}; "
          f"ratio at {rows[-1].size:,}: {rows[-1].ratio:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
