"""Factoring: eligibility of every open invoice with reasons, and an assignment of 10,000 invoices
in one API request, each against a bare SQL scan of the same invoices.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench_factoring \\
        python -m bench.factoring_eligibility [--invoices 760000] [--assign 10000] [--repeat 5] [--quick]

The synthetic organization `bench-<invoices>` (bench.generate) gets two facilities written
straight into the tables (a strict one, whose rules give every reason code, and a permissive
one for the assignment). Eligibility is `factoring.selectors.eligibility` as of today over
every open invoice, timed against one SELECT of the same open rows (id, customer, currency,
dates, balance); its statements are counted at two sizes (they must not grow). The assignment
is POST /api/v1/factoring/assignments/ with `--assign` eligible invoices (then cancelled, untimed,
so the next run can take them again), timed against a SELECT of the same invoices by id.
Targets (issue 15): eligibility of 100,000 open invoices under 2 s with a constant number of
queries; the 10,000-invoice assignment under 10 s. Run it on a database of its own: the
assignment writes audit entries into the bench organization."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from decimal import Decimal

OPEN_FLOOR_SQL = """
    SELECT id, customer_id, currency, issue_date, due_date, total_amount - applied_amount
    FROM receivables_invoice
    WHERE organization_id = %(org)s AND voided_on IS NULL AND applied_amount < total_amount
      AND issue_date <= %(as_of)s
"""
IDS_FLOOR_SQL = """
    SELECT id, customer_id, currency, due_date, total_amount - applied_amount
    FROM receivables_invoice WHERE organization_id = %(org)s AND id = ANY(%(ids)s)
"""


def facilities_ensure(organization):
    """A strict and a permissive facility (rows written directly: a bench organization has no audit chain)."""
    from factoring.models import Facility

    common = {"organization": organization, "factor_bank_account": "BENCH-0001", "currency": organization.base_currency,
              "valid_from": dt.date(2000, 1, 1), "fee_rate": Decimal("0.01"), "interest_rate": Decimal("0.06")}
    strict, _ = Facility.objects.get_or_create(
        organization=organization, name="bench strict", defaults={
            **common, "factor_name": "Bench Factor", "limit": Decimal("50000000"), "advance_rate": Decimal("0.85"),
            "max_days_past_due": 30, "max_terms_days": 60, "min_invoice_amount": Decimal("1000"),
            "concentration_limit": Decimal("0.05"), "cross_aging_rate": Decimal("0.5")})
    loose, _ = Facility.objects.get_or_create(
        organization=organization, name="bench permissive", defaults={
            **common, "factor_name": "Bench Bank", "limit": Decimal("100000000000"), "advance_rate": Decimal("0.8"),
            "mode": "discounting"})
    return strict, loose


def _median_pair(report, floor, repeat: int) -> tuple[float, float]:
    from bench.common import paired_medians

    return paired_medians(report, floor, repeat)


def eligibility_measure(organization, facility, as_of, repeat: int):
    from bench.common import queries_issued, sql_floor
    from factoring import selectors

    result = selectors.eligibility(organization, facility, as_of)
    queries = len(queries_issued(lambda: selectors.eligibility(organization, facility, as_of)))
    report_s, floor_s = _median_pair(lambda: selectors.eligibility(organization, facility, as_of),
                                     sql_floor(OPEN_FLOOR_SQL, {"org": organization.pk, "as_of": as_of}), repeat)
    codes: dict[str, int] = {}
    for row in result.rows:
        for code in row.codes:
            codes[code] = codes.get(code, 0) + 1
    return len(result.rows), len(result.eligible), codes, report_s, floor_s, queries


def assignment_measure(organization, facility, as_of, count: int, repeat: int):
    from django.db import connection

    from bench.common import api_client
    from factoring import selectors, services
    from factoring.models import Assignment
    from tenancy.api.keys import api_key_create
    from tenancy.models import ApiScope

    ids = [row.invoice_id for row in selectors.eligibility(organization, facility, as_of).eligible][:count]
    if len(ids) < count:
        raise SystemExit(f"only {len(ids):,} eligible invoices for the assignment; use a larger --invoices")
    token = api_key_create(organization=organization, actor=None, name=f"bench {time.time()}",
                           scopes=[ApiScope.READ, ApiScope.WRITE], rate_limit_per_minute=10_000).token
    client = api_client(token)
    body = {"facility": facility.pk, "invoices": ids, "assigned_on": as_of.isoformat()}
    report_times, floor_times = [], []
    for _ in range(repeat + 1):  # the first is a warm-up
        started = time.perf_counter()
        response = client.post("/api/v1/factoring/assignments/", body, content_type="application/json")
        report_times.append(time.perf_counter() - started)
        assert response.status_code == 201, response.content[:500]
        assignment = Assignment.objects.get(pk=response.json()["id"])
        services.assignment_cancel(organization=organization, actor=None, assignment=assignment)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(IDS_FLOOR_SQL, {"org": organization.pk, "ids": ids})
            cursor.fetchall()
        floor_times.append(time.perf_counter() - started)
    return statistics.median(report_times[1:]), statistics.median(floor_times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description="Time factoring eligibility and a 10,000-invoice assignment.")
    parser.add_argument("--invoices", type=int, default=760_000,
                        help="size of the large data set (760,000 invoices: about 100,000 open)")
    parser.add_argument("--small", type=int, default=10_000, help="size of the small data set (query count)")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--assign", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small sizes (make bench BENCH_ARGS=--quick)")
    args = parser.parse_args()
    if args.quick:
        args.invoices, args.small, args.assign, args.repeat = 30_000, 10_000, 1000, 2
    from bench.db import bench_setup

    bench_setup()
    from bench.common import dataset_ensure
    from bench.summary import summary_record
    from tenancy.dates import local_today

    rows = []
    for size in (args.small, args.invoices):
        organization = dataset_ensure(invoices=size, customers=args.customers, regenerate=args.regenerate)
        strict, loose = facilities_ensure(organization)
        as_of = local_today(organization.timezone)
        rows.append((size, *eligibility_measure(organization, strict, as_of, args.repeat)))
    print(f"\neligibility vs bare scan of the same open invoices (medians of {args.repeat} alternating runs)")
    print(f"{'invoices':>10} {'open':>9} {'eligible':>9} {'ms':>9} {'floor ms':>9} {'ratio':>6} {'queries':>8}")
    for size, open_count, eligible, _codes, report_s, floor_s, queries in rows:
        print(f"{size:>10,} {open_count:>9,} {eligible:>9,} {report_s * 1000:>9.1f} {floor_s * 1000:>9.1f} "
              f"{report_s / floor_s:>6.2f} {queries:>8}")
    print("reasons at the large size:", ", ".join(f"{code} {n:,}" for code, n in sorted(rows[-1][3].items())))
    constant = rows[0][6] == rows[-1][6]
    big = rows[-1]
    summary_record(bench="factoring", figure=f"eligibility of {big[1]:,} open invoices ({big[6]} queries)",
                   value=big[4] * 1000, unit="ms", floor=big[5] * 1000, target="< 2000 ms",
                   met=big[4] < 2 and big[1] >= 100_000)
    summary_record(bench="factoring", figure="eligibility query count across sizes", value=big[6], unit="queries",
                   target="constant", met=constant)

    organization = dataset_ensure(invoices=args.invoices, customers=args.customers)
    _strict, loose = facilities_ensure(organization)
    as_of = local_today(organization.timezone)
    report_s, floor_s = assignment_measure(organization, loose, as_of, args.assign, args.repeat)
    print(f"\nassignment of {args.assign:,} invoices in one API request: {report_s * 1000:.0f} ms, "
          f"floor {floor_s * 1000:.1f} ms, ratio {report_s / floor_s:.0f} (target < 10 s: "
          f"{'met' if report_s < 10 else 'MISSED'})")
    print(f"eligibility: {big[4] * 1000:.0f} ms for {big[1]:,} open invoices, ratio {big[4] / big[5]:.2f} "
          f"(target < 2 s: {'met' if big[4] < 2 else 'MISSED'}); queries {'constant' if constant else 'VARY'}")
    summary_record(bench="factoring", figure=f"assignment of {args.assign:,} invoices (API)", value=report_s * 1000,
                   unit="ms", floor=floor_s * 1000, target="< 10000 ms", met=report_s < 10)


if __name__ == "__main__":
    main()
