"""Listing invoices through the API vs. `.values()` + a fast JSON encoder over the same rows.

    python -m bench.api_list [--rows 10000] [--page-size 1000] [--repeat 5]

Pages through /api/v1/invoices/ with the cursor (auth, filters, keyset pagination, the
serializer, JSON rendering) and compares with the floor: one `.values()` query of the same
columns encoded with orjson (or the standard json module when orjson is not installed); the
client parses pages with orjson too. Target: within 3x.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    return parser.parse_args()


def _encoder():
    try:
        import orjson

        return "orjson", lambda rows: orjson.dumps(rows, default=str)
    except ImportError:
        return "json", lambda rows: json.dumps(rows, default=str).encode()


def _decoder():
    # The client's parsing of each page is not the API's work: use the fast parser when there is one.
    try:
        import orjson

        return orjson.loads
    except ImportError:
        return json.loads


FIELDS = ("id", "external_id", "number", "customer_id", "customer__external_id", "issue_date", "due_date", "currency",
          "net_amount", "tax_amount", "total_amount", "applied_amount", "written_off_amount", "status", "voided_on",
          "description", "po_reference", "created_at", "updated_at")


def main() -> None:
    args = _arguments()
    from bench.db import bench_setup

    bench_setup()
    from django.conf import settings

    from bench.api_bulk import _organization, invoice_rows
    from bench.common import api_client
    from receivables.models import Invoice
    from tenancy.api.keys import api_key_create

    settings.DEBUG = False
    settings.API_MAX_PAGE_SIZE = max(settings.API_MAX_PAGE_SIZE, args.page_size)
    organization = _organization(f"bench-api-list-{int(time.time())}", 100)
    from bench.api_bulk import copy_time

    copy_time(organization, invoice_rows(args.rows, 100))
    token = api_key_create(organization=organization, actor=None, name="bench", scopes=["read"],
                           rate_limit_per_minute=1_000_000).token
    client = api_client(token)
    name, encode = _encoder()
    decode = _decoder()

    def api() -> int:
        seen, params = 0, {"page_size": args.page_size}
        while True:
            body = decode(client.get("/api/v1/invoices/", params).content)
            seen += len(body["results"])
            if not body["next_cursor"]:
                return seen
            params["cursor"] = body["next_cursor"]

    def floor() -> int:
        rows = list(Invoice.objects.filter(organization=organization).order_by("updated_at", "pk").values(*FIELDS))
        return len(encode(rows)) and len(rows)

    assert api() == floor() == args.rows
    api_times, floor_times = [], []
    for _ in range(args.repeat):
        for run, times in ((api, api_times), (floor, floor_times)):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    a, f = statistics.median(api_times), statistics.median(floor_times)
    print(f"Listing {args.rows:,} invoices ({args.page_size:,} per page), medians of {args.repeat}")
    print(f"  API             : {a * 1000:8.1f} ms")
    print(f"  .values() + {name:6}: {f * 1000:8.1f} ms")
    print(f"  ratio: {a / f:.1f}x (target <= 3x)")
    from bench.summary import summary_record

    summary_record(bench="api_list", figure=f"listing {args.rows:,} invoices", value=a * 1000, unit="ms", floor=f * 1000,
                   target="<= 3x", met=a / f <= 3)


if __name__ == "__main__":
    main()
