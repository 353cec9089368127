"""The daily dunning run over a large book: seconds, notices/s, and the query count.

    python -m bench.dunning_run --sizes 10000,100000 --customers 20000

For every size the synthetic organization `bench-<size>` is generated (or reused), then
`dunning.services.dunning_run` is timed end to end: promises and plans decided, every open
invoice's reached step found (one SQL statement), one message per customer rendered in its
language, notices and messages inserted, sending queued (to an in-memory broker unless
REDIS_URL is set; nothing is sent). The run's rows are deleted afterwards, so every repeat
starts from the same state. Target (issue 18): 1,000,000 invoices (about 150,000 open) in under
60 s; the same query count at every size.
"""

from __future__ import annotations

import statistics
import time


def dunning_clear(organization) -> None:
    from django.db import connection, transaction

    from dunning.models import CollectionTask, CustomerEvent, DunningMessage, DunningNotice, DunningRun

    models = (DunningNotice, CollectionTask, DunningMessage, DunningRun, CustomerEvent)
    for model in models:
        model.objects.filter(organization=organization).delete()
    # Deleted rows stay behind as dead index entries that the next run's look-ups per invoice step
    # over (a repeat got slower with every run); a real book never deletes its notices. VACUUM so
    # that every repeat starts from the same state (outside a transaction only: not in a test's).
    if connection.vendor == "postgresql" and not transaction.get_connection().in_atomic_block:
        tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {tables}")


def dunning_measure(organization, *, repeat: int) -> dict:
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from config.celery import app
    from dunning import services
    from receivables.models import Invoice
    from receivables.selectors import open_invoices
    from tenancy.dates import local_today

    app.conf.task_always_eager = False  # queue, never send, during the bench
    today = local_today(organization.timezone)
    while today.weekday() >= 5:  # a weekend run sends nothing: measure the last business day
        today -= dt.timedelta(days=1)
    services.dunning_policy_default(organization=organization)
    dunning_clear(organization)
    times, runs, queries = [], [], 0
    for i in range(repeat):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            run = services.dunning_run(organization=organization, today=today)
        times.append(time.perf_counter() - started)
        runs.append(run)
        queries = len(captured.captured_queries)
        dunning_clear(organization)
        print(f"  run {i + 1}: {times[-1]:.2f} s, {run.notices_count:,} notices, {run.messages_count:,} messages",
              flush=True)
    seconds = statistics.median(times)
    notices = runs[-1].notices_count
    return {"size": Invoice.objects.filter(organization=organization).count(),
            "open": open_invoices(organization).count(), "seconds": seconds, "notices": notices,
            "messages": runs[-1].messages_count, "per_second": notices / seconds if seconds else 0.0,
            "queries": queries}


def main() -> None:
    from bench.common import bench_arguments, dataset_ensure

    args = bench_arguments("Time the daily dunning run.")
    from bench.db import bench_setup

    bench_setup()
    rows = []
    for size in args.sizes:
        organization = dataset_ensure(invoices=size, customers=args.customers, regenerate=args.regenerate)
        rows.append(dunning_measure(organization, repeat=max(1, min(args.repeat, 3))))
    print(f"\n{'invoices':>10} {'open':>10} {'seconds':>8} {'notices':>9} {'messages':>9} {'notices/s':>10} "
          f"{'queries':>8}")
    for row in rows:
        print(f"{row['size']:>10,} {row['open']:>10,} {row['seconds']:>8.2f} {row['notices']:>9,} "
              f"{row['messages']:>9,} {row['per_second']:>10,.0f} {row['queries']:>8}")
    counts = {row["queries"] for row in rows}
    from bench.summary import summary_record

    for row in rows:
        summary_record(bench="dunning_run", figure=f"{row['size']:,} invoices, {row['open']:,} open ({row['queries']} queries)",
                       value=row["seconds"], unit="s", target="< 60 s", met=row["seconds"] < 60)
    summary_record(bench="dunning_run", figure="query count across sizes", value=max(counts), unit="queries",
                   target="constant", met=len(counts) == 1)
    print(f"\nquery count {'constant' if len(counts) == 1 else 'VARIES'}: {sorted(counts)}; "
          f"target: 1,000,000 invoices in < 60 s")


if __name__ == "__main__":
    main()
