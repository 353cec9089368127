"""Forecasting at scale: training, predicting, the forecast API and the provision.

    python -m bench.forecast --sizes 10000,1000000 [--customers 1000] [--repeat 5] [--quick]

For each size the synthetic organization `bench-<size>` (bench.generate) is used:

- training: `payment_model_train` (ledger load, features, the holdout fit and the final fit on every
  settled invoice) wall time and the process's peak memory growth; targets < 120 s and < 2 GB at
  1,000,000 invoices on 2 cores;
- predictions: `predictions_refresh` for every open invoice (features, P10/P50/P90, probability late,
  reasons, stored by COPY); target < 10 s for 100,000 open invoices;
- the forecast API (`GET /api/v1/forecast/cash/?weeks=13`) answering from the stored predictions,
  against a floor: the bare SQL scan of the same open invoices and predictions; target < 1 s;
- the provision (`provision_matrix`) against the aging floor (`open_items_floor_sql`, the aging
  bench's floor), target <= 3x, and its query count, which must not grow with the ledger: as served
  (the rates of today's calibration, which the daily task stores, on the live aging) and live (the
  cohort rates computed in the request, as for an explicit history window); and the calibration
  itself (the worker's daily cost).
"""

from __future__ import annotations

import argparse
import resource
import time

from bench.common import DEFAULT_CUSTOMERS, dataset_ensure, paired_medians, queries_issued, sql_floor


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10,000 invoices only")
    parser.add_argument("--synthetic", type=int, default=0,
                        help="time only the model's arithmetic on N generated invoices (no database)")
    args = parser.parse_args()
    args.sizes = [10000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    return args


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(run):
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def forecast_floor_sql() -> str:
    from django.db import connection

    from forecasting.models import InvoicePrediction
    from receivables.models import Invoice

    invoice = connection.ops.quote_name(Invoice._meta.db_table)
    prediction = connection.ops.quote_name(InvoicePrediction._meta.db_table)
    return f"""
        SELECT i.id, i.currency, i.total_amount - i.applied_amount, i.due_date, p.p10_date, p.expected_date,
               p.p90_date, p.baseline_date
        FROM {invoice} i LEFT JOIN {prediction} p ON p.invoice_id = i.id
        WHERE i.organization_id = %(org)s AND i.voided_on IS NULL AND i.applied_amount < i.total_amount
    """  # noqa: S608


def measure(organization, *, repeat: int) -> dict:
    from django.conf import settings

    from bench.common import api_client
    from forecasting import services
    from forecasting.provisions import default_history, provision_matrix
    from receivables.models import Invoice
    from receivables.selectors import open_items_floor_sql
    from tenancy.api.keys import api_key_create
    from tenancy.dates import local_today

    settings.DEBUG = False
    as_of = local_today(organization.timezone)
    invoices = Invoice.objects.filter(organization=organization)
    size = invoices.count()
    before = _peak_mb()
    stored, train_s = _timed(lambda: services.payment_model_train(organization=organization))
    train_mb = _peak_mb() - before
    count, predict_s = _timed(lambda: services.predictions_refresh(organization=organization, as_of=as_of))

    token = api_key_create(organization=organization, actor=None, name=f"bench-forecast-{time.time_ns()}",
                           scopes=["read"], rate_limit_per_minute=1_000_000).token
    client = api_client(token)

    def api():
        response = client.get("/api/v1/forecast/cash/", {"weeks": 13})
        assert response.status_code == 200, response.content[:300]
        return response

    api_s, api_floor_s = paired_medians(api, sql_floor(forecast_floor_sql(), {"org": organization.pk}), repeat)
    _calibration, calibrate_s = _timed(lambda: services.loss_rates_calibrate(organization=organization, as_of=as_of))
    provision = lambda: provision_matrix(organization, as_of=as_of)  # noqa: E731
    assert provision().calibrated_on == as_of
    aging_floor = sql_floor(open_items_floor_sql(), {"org": organization.pk})
    provision_s, aging_floor_s = paired_medians(provision, aging_floor, repeat)
    window = dict(zip(("history_from", "history_to"), default_history(as_of), strict=True))
    live = lambda: provision_matrix(organization, as_of=as_of, **window)  # noqa: E731
    live_s, live_floor_s = paired_medians(live, aging_floor, repeat)
    return {"size": size, "settled": stored.train_count, "method": stored.method, "metrics": stored.metrics,
            "train_s": train_s, "train_mb": train_mb, "open": count, "predict_s": predict_s, "api_s": api_s,
            "api_floor_s": api_floor_s, "provision_s": provision_s, "aging_floor_s": aging_floor_s,
            "provision_queries": len(queries_issued(provision)), "calibrate_s": calibrate_s, "live_s": live_s,
            "live_floor_s": live_floor_s, "live_queries": len(queries_issued(live))}


def synthetic_ledger(n: int, *, customers: int = 1000, open_share: float = 0.1, seed: int = 1):
    """n invoices over two years for `customers` customers with their own habits (days late ~ habit +
    noise, disputed ones later); the most recent `open_share` still open."""
    import numpy as np

    from forecasting.payment_model import Ledger

    rng = np.random.default_rng(seed)
    customer = rng.integers(0, customers, n)
    habit = rng.choice([-2.0, 0.0, 3.0, 10.0, 30.0, 60.0], customers, p=[0.2, 0.3, 0.2, 0.15, 0.1, 0.05])
    start = 739000
    issue = np.sort(rng.integers(start, start + 730, n))
    terms = rng.choice([30, 45, 60, 90], n)
    disputed = rng.random(n) < 0.05
    delay = np.rint(habit[customer] + rng.normal(0, 5, n) + disputed * 20)
    settled = (issue + terms + delay).astype(float)
    is_open = np.zeros(n, dtype=bool)
    is_open[int(n * (1 - open_share)):] = True
    settled[is_open] = np.nan
    return Ledger(np.arange(n), customer, issue, issue + terms, rng.lognormal(8, 1, n), settled, disputed, is_open)


def synthetic_main(n: int, customers: int) -> None:
    import numpy as np

    from forecasting import payment_model as pm

    ledger = synthetic_ledger(n, customers=customers)
    before = _peak_mb()
    (matrix, _baseline), features_s = _timed(lambda: pm.features_build(ledger))
    settled = ~np.isnan(ledger.settled_day)
    estimators, fit_s = _timed(lambda: pm.estimators_fit(matrix[settled], ledger.delay[settled]))
    fit_mb = _peak_mb() - before
    open_rows = np.flatnonzero(ledger.is_open)[:100_000]
    _p, predict_s = _timed(lambda: pm.estimators_predict(estimators, matrix[open_rows]))
    _r, reasons_s = _timed(lambda: pm.reasons_compute(estimators, matrix[open_rows]))
    print(f"synthetic, {n:,} invoices ({int(settled.sum()):,} settled), threads={pm.THREADS or 'all'}")
    print(f"  features           {features_s:8.1f} s")
    print(f"  fit (4 estimators) {fit_s:8.1f} s   peak memory growth {fit_mb:,.0f} MB")
    print(f"  predict {len(open_rows):,} open  {predict_s:8.1f} s, their reasons {reasons_s:.1f} s")


def main() -> None:
    args = _arguments()
    if args.synthetic:
        synthetic_main(args.synthetic, args.customers)
        return
    from bench.db import bench_setup

    bench_setup()
    from bench.summary import summary_record

    rows = [measure(dataset_ensure(invoices=size, customers=args.customers), repeat=args.repeat)
            for size in args.sizes]
    print(f"\nforecasting (medians of {args.repeat} alternating runs after a warm-up; training and predictions once)")
    print(f"{'invoices':>10} {'settled':>9} {'train s':>8} {'train MB':>9} {'open':>8} {'predict s':>9} "
          f"{'API ms':>8} {'floor ms':>9} {'ECL ms':>8} {'aging floor ms':>15} {'ratio':>6} {'queries':>8}")
    for row in rows:
        ratio = row["provision_s"] / row["aging_floor_s"]
        print(f"{row['size']:>10,} {row['settled']:>9,} {row['train_s']:>8.1f} {row['train_mb']:>9.0f} "
              f"{row['open']:>8,} {row['predict_s']:>9.1f} {row['api_s'] * 1000:>8.1f} {row['api_floor_s'] * 1000:>9.1f} "
              f"{row['provision_s'] * 1000:>8.1f} {row['aging_floor_s'] * 1000:>15.1f} {ratio:>6.2f} "
              f"{row['provision_queries']:>8}")
        print(f"           model: {row['method']} {row['metrics']}")
        size = f"{row['size']:,} invoices"
        summary_record(bench="forecast", figure=f"training, {row['settled']:,} settled ({size})",
                       value=row["train_s"], unit="s", target="< 120 s at 1,000,000", met=row["train_s"] < 120)
        summary_record(bench="forecast", figure=f"training peak memory growth ({size})", value=row["train_mb"],
                       unit="MB", target="< 2048 MB", met=row["train_mb"] < 2048)
        per_100k = row["predict_s"] * 100_000 / max(row["open"], 1)
        summary_record(bench="forecast", figure=f"predictions, {row['open']:,} open ({size})", value=row["predict_s"],
                       unit="s", target="< 10 s per 100,000 open", met=per_100k < 10)
        summary_record(bench="forecast", figure=f"forecast API, {row['open']:,} open ({size})",
                       value=row["api_s"] * 1000, unit="ms", floor=row["api_floor_s"] * 1000, target="< 1000 ms",
                       met=row["api_s"] < 1)
        summary_record(bench="forecast", figure=f"provision ({size}, {row['provision_queries']} queries)",
                       value=row["provision_s"] * 1000, unit="ms", floor=row["aging_floor_s"] * 1000,
                       target="<= 3x aging floor", met=ratio <= 3)
        print(f"           provision live (rates in the request): {row['live_s'] * 1000:.1f} ms, "
              f"{row['live_s'] / row['live_floor_s']:.2f}x floor, {row['live_queries']} queries; "
              f"calibration (daily, worker): {row['calibrate_s']:.2f} s")
        summary_record(bench="forecast", figure=f"provision, rates live ({size}, {row['live_queries']} queries)",
                       value=row["live_s"] * 1000, unit="ms", floor=row["live_floor_s"] * 1000,
                       target="(no target: served from the calibration)", met=None)
        summary_record(bench="forecast", figure=f"loss-rate calibration, daily in the worker ({size})",
                       value=row["calibrate_s"], unit="s", target="(no target)", met=None)
    counts = {row["provision_queries"] for row in rows}
    summary_record(bench="forecast", figure="provision query count across sizes", value=max(counts),
                   unit="queries", target="constant", met=len(counts) == 1)


if __name__ == "__main__":
    main()
