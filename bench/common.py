"""What every bench shares: the data set per size, timing, query counts and the result table."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_CUSTOMERS = 1000
DEFAULT_REPEAT = 9


def bench_arguments(description: str,
                    extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The options every report bench shares; `extra` adds a bench's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", default="10000,1000000", help="invoice counts, comma-separated")
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="timed runs after one warm-up")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data sets even if they exist")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the report's main query")
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    return args


def dataset_ensure(*, invoices: int, customers: int, regenerate: bool = False):
    """The synthetic organization `bench-<invoices>`: reused when its size matches, else (re)generated."""
    from bench.generate import bench_generate
    from receivables.models import Customer, Invoice
    from tenancy.models import Organization

    slug = f"bench-{invoices}"
    organization = Organization.objects.filter(slug=slug).first()
    if organization is not None and not regenerate:
        sized = (Invoice.objects.filter(organization=organization).count() == invoices
                 and Customer.objects.filter(organization=organization).count() == customers)
        if sized:
            return organization
    print(f"generating {slug}: {customers:,} customers, {invoices:,} invoices ...", flush=True)
    result = bench_generate(slug=slug, customers=customers, invoices=invoices, replace=True)
    print(f"  done in {result.seconds:.1f} s ({result.payments:,} payments, {result.allocations:,} allocations)",
          flush=True)
    return Organization.objects.get(slug=slug)


def _elapsed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def paired_medians(report: Callable[[], object], floor: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall times of `report` and `floor` over `repeat` runs each, after one warm-up each.

    The runs alternate (report, floor, floor, report, ...) so that load from anything else on
    the machine falls on both sides alike and the ratio stays meaningful."""
    report()
    floor()
    report_times, floor_times = [], []
    for i in range(repeat):
        pair = (report, floor) if i % 2 == 0 else (floor, report)
        first, second = _elapsed(pair[0]), _elapsed(pair[1])
        report_times.append(first if i % 2 == 0 else second)
        floor_times.append(second if i % 2 == 0 else first)
    return statistics.median(report_times), statistics.median(floor_times)


def queries_issued(run: Callable[[], object]) -> list[str]:
    """The SQL statements `run` sends to the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        run()
    return [query["sql"] for query in context.captured_queries]


def sql_floor(sql: str, params: dict) -> Callable[[], object]:
    """A callable that runs bare SQL and fetches every row, the way a report would."""
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    return run


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@dataclass(frozen=True)
class Measurement:
    size: int
    detail: str  # what was measured at this size (open items, customer...)
    report_s: float
    floor_s: float
    queries: int

    @property
    def ratio(self) -> float:
        return self.report_s / self.floor_s if self.floor_s else float("inf")


def table_print(title: str, rows: Sequence[Measurement]) -> None:
    print(f"\n{title}")
    print(f"{'invoices':>10}  {'detail':<28} {'report ms':>10} {'floor ms':>10} {'ratio':>6} {'queries':>8}")
    for row in rows:
        print(f"{row.size:>10,}  {row.detail:<28} {row.report_s * 1000:>10.1f} {row.floor_s * 1000:>10.1f} "
              f"{row.ratio:>6.2f} {row.queries:>8}")


def table_record(bench: str, rows: Sequence[Measurement], *, max_ratio: float) -> None:
    """Each size's ratio into `make bench`'s summary; the target applies at every size, and the query
    count must be the same at every size."""
    from bench.summary import summary_record

    for row in rows:
        summary_record(bench=bench, figure=f"{row.size:,} invoices ({row.queries} queries)", value=row.report_s * 1000,
                       unit="ms", floor=row.floor_s * 1000, target=f"<= {max_ratio}x", met=row.ratio <= max_ratio)
    counts = {row.queries for row in rows}
    summary_record(bench=bench, figure="query count across sizes", value=max(counts), unit="queries",
                   target="constant", met=len(counts) == 1)


def api_client(token: str):
    """A test client with this API key, in a process set up as config.wsgi sets up a server's
    (server_ready: URL conf loaded, long-lived objects kept out of the garbage collector's scans)."""
    from django.test import Client

    from config.server import server_ready

    server_ready()
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
