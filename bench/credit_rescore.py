"""Re-score every customer of a synthetic ledger: seconds and query count.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench \\
        python -m bench.credit_rescore [--customers 100000 --invoices 5000000]

Target (issue 18; issue 6 asked for 20,000 / 1,000,000): 100,000 customers with 5,000,000 invoices
of history re-scored in under 60 s, with a query count that does not depend on the number of
customers (a small run is measured alongside). The large ledger takes about 9 minutes to generate
on the 2-core machine and is reused by later runs (same size: same organization)."""

from __future__ import annotations

import argparse
import time


def rescore_measure(organization) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from credit import services

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        scores = services.scores_run(organization=organization)
        seconds = time.perf_counter() - started
    # Statements, not rows: bulk inserts are batched (2,000 rows), so count the distinct kinds too.
    kinds = {q["sql"].split(" VALUES ")[0][:120] for q in queries.captured_queries}
    return seconds, len(scores), len(kinds)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time a full credit re-scoring.")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=5_000_000)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    from bench.db import bench_setup

    bench_setup()
    from bench.common import dataset_ensure

    rows = []
    for customers, invoices in ((200, 10_000), (args.customers, args.invoices)):
        organization = dataset_ensure(invoices=invoices, customers=customers, regenerate=args.regenerate)
        rescore_measure(organization)  # first run creates the credit files
        seconds, scored, kinds = rescore_measure(organization)
        rows.append((customers, invoices, scored, seconds, kinds))
    print(f"{'customers':>10} {'invoices':>10} {'scored':>8} {'seconds':>8} {'query kinds':>12}")
    for customers, invoices, scored, seconds, kinds in rows:
        print(f"{customers:>10,} {invoices:>10,} {scored:>8,} {seconds:>8.2f} {kinds:>12}")
    from bench.summary import summary_record

    for customers, invoices, _scored, seconds, kinds in rows:
        summary_record(bench="credit_rescore", figure=f"{customers:,} customers / {invoices:,} invoices ({kinds} query kinds)",
                       value=seconds, unit="s", target="< 60 s", met=seconds < 60)
    summary_record(bench="credit_rescore", figure="query kinds across sizes", value=rows[-1][4], unit="kinds",
                   target="constant", met=rows[0][4] == rows[1][4])
    print(f"\nquery kinds {'constant' if rows[0][4] == rows[1][4] else 'VARY'}; "
          f"target: under 60 s at {args.customers:,} customers ({'met' if rows[-1][3] < 60 else 'MISSED'})")


if __name__ == "__main__":
    main()
