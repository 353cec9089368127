"""Bulk upsert through the API vs. PostgreSQL COPY of the same rows.

    python -m bench.api_bulk [--rows 100000] [--batch 10000] [--customers 1000]

A fresh organization gets `--customers` customers, then `--rows` invoices are POSTed to
/api/v1/invoices/bulk/ in batches of `--batch` (the full stack: auth, JSON parsing, validation
of every row, the importer's checks, invoice_create with its audit entry and webhook event).
The floor is COPY of the same rows into the invoice table for another organization, measured
in the same run before and after the API (the faster of the two counts; a CHECKPOINT before
each timed phase). Target: the API within 5x of COPY.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import time

BULK_URL = "/api/v1/invoices/bulk/"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--profile", action="store_true",
                        help="also profile one request of --batch rows (cProfile, top functions by own time)")
    return parser.parse_args()


def _organization(slug: str, customers: int):
    from receivables.models import Customer
    from tenancy.models import Organization

    organization = Organization.objects.create(name=slug, slug=slug, base_currency="CNY")
    Customer.objects.bulk_create([Customer(organization=organization, name=f"Customer {i}", currency="CNY",
                                           external_id=f"C{i:05d}") for i in range(customers)])
    return organization


def invoice_rows(count: int, customers: int) -> list[dict]:
    """Deterministic invoice rows as an ERP would send them."""
    start = dt.date(2025, 1, 1)
    rows = []
    for i in range(count):
        issue = start + dt.timedelta(days=i % 365)
        cents = 10_000 + (i * 7919) % 5_000_000
        rows.append({"external_id": f"ERP-{i:07d}", "number": f"INV{i:08d}", "customer_external_id":
                     f"C{i % customers:05d}", "issue_date": issue.isoformat(),
                     "due_date": (issue + dt.timedelta(days=30)).isoformat(),
                     "net_amount": f"{cents // 100}.{cents % 100:02d}", "tax_amount": "0.00"})
    return rows


def request_bodies(rows: list[dict], batch: int) -> list[str]:
    """The requests' JSON bodies, `batch` rows each (text, as a server receives them)."""
    return [json.dumps({"rows": rows[i:i + batch]}) for i in range(0, len(rows), batch)]


def api_time(organization, bodies: list[str]) -> float:
    from bench.common import api_client
    from tenancy.api.keys import api_key_create

    token = api_key_create(organization=organization, actor=None, name="bench", scopes=["read", "write"],
                           rate_limit_per_minute=1_000_000).token
    client = api_client(token)
    started = time.perf_counter()
    for body in bodies:
        response = client.post(BULK_URL, body, content_type="application/json")
        if response.status_code != 200:
            raise SystemExit(f"bulk failed: {response.status_code} {response.content[:500]!r}")
    return time.perf_counter() - started


def profile_request(organization, rows: list[dict]) -> None:
    """One bulk request under cProfile (a fresh organization): where the per-row time goes."""
    import cProfile
    import pstats

    from bench.common import api_client
    from tenancy.api.keys import api_key_create

    token = api_key_create(organization=organization, actor=None, name="profile", scopes=["read", "write"],
                           rate_limit_per_minute=1_000_000).token
    body = json.dumps({"rows": rows})
    client = api_client(token)
    profiler = cProfile.Profile()
    profiler.enable()
    response = client.post(BULK_URL, body, content_type="application/json")
    profiler.disable()
    if response.status_code != 200:
        raise SystemExit(f"bulk failed: {response.status_code} {response.content[:500]!r}")
    print(f"Profile of one request of {len(rows):,} rows (cProfile slows it down; compare shares, not seconds):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def copy_time(organization, rows: list[dict]) -> float:
    """COPY the same invoices (customer ids resolved, totals computed) into receivables_invoice."""
    from django.db import connection

    from receivables.models import Customer

    customers = dict(Customer.objects.filter(organization=organization).values_list("external_id", "pk"))
    columns = ("organization_id", "customer_id", "number", "external_id", "issue_date", "due_date", "currency",
               "net_amount", "tax_amount", "total_amount", "applied_amount", "written_off_amount", "status",
               "description", "po_reference", "created_at", "updated_at", "kind")
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC).isoformat()
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join([str(organization.pk), str(customers[row["customer_external_id"]]), row["number"],
                                row["external_id"], row["issue_date"], row["due_date"], "CNY", row["net_amount"],
                                "0", row["net_amount"], "0", "0", "open", "", "", now, now, "standard"]) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY receivables_invoice ({', '.join(columns)}) FROM STDIN", buffer)
    return time.perf_counter() - started


def checkpoint() -> None:
    """Flush dirty pages before a timed phase, so that no phase pays for the writes of the one
    before it (a checkpoint falling inside the API's run, say). Needs a superuser; else skipped."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass


def main() -> None:
    args = _arguments()
    from bench.db import bench_setup

    bench_setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log
    stamp = int(time.time())
    rows = invoice_rows(args.rows, args.customers)
    api_org = _organization(f"bench-api-bulk-{stamp}", args.customers)
    copy_orgs = [_organization(f"bench-api-copy-{stamp}-{n}", args.customers) for n in (1, 2)]
    checkpoint()
    floors = [copy_time(copy_orgs[0], rows)]
    bodies = request_bodies(rows, args.batch)
    del rows  # a server holds only the request in hand, not the client's 100,000 rows
    checkpoint()
    api = api_time(api_org, bodies)
    checkpoint()
    floors.append(copy_time(copy_orgs[1], invoice_rows(args.rows, args.customers)))
    floor = min(floors)  # the faster floor: the ratio is never flattered by a slow COPY
    print(f"Bulk upsert of {args.rows:,} invoices, {args.batch:,} per request")
    print(f"  API : {api:8.2f} s  {args.rows / api:10,.0f} rows/s")
    print(f"  COPY: {floor:8.2f} s  {args.rows / floor:10,.0f} rows/s  (faster of {floors[0]:.2f} s before and "
          f"{floors[1]:.2f} s after the API)")
    print(f"  ratio API / COPY: {api / floor:.1f}x (target <= 5x)")
    from bench.summary import summary_record

    summary_record(bench="api_bulk", figure=f"bulk upsert of {args.rows:,} invoices", value=api, unit="s", floor=floor,
                   target="<= 5x COPY", met=api / floor <= 5)
    if args.profile:
        profile_request(_organization(f"bench-api-profile-{stamp}", args.customers),
                        invoice_rows(args.batch, args.customers))


if __name__ == "__main__":
    main()
