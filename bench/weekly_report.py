"""Bench of the weekly aging PDF: seconds, pages, pages/s and peak memory per size.

    .venv/bin/python -m bench.weekly_report [--customers 100,1000,10000] [--invoices-per-customer 10] [--regenerate]

Uses its own database (default postgres://postgres@127.0.0.1:5432/inflow_bench_weekly) and the
synthetic organizations `weekly-<customers>` from bench.generate. Each size is rendered in a
fresh child process, as a worker would, so its peak RSS is that render's alone (data + HTML +
WeasyPrint layout + PDF). "pdf s" is that first, cold render (WeasyPrint imported and its fonts
loaded inside it); "warm s" renders the same report again in the same process, as a worker's
next report would be. Targets: >= 10 pages/s and <= 15 MB per page.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/inflow_bench_weekly"
TARGET_PAGES_PER_SECOND = 10
TARGET_MB_PER_PAGE = 15


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def render_one(customers: int, invoices_per_customer: int, regenerate: bool) -> dict:
    """In the child: ensure the data set, then time data + PDF (+ XLSX) for it."""
    from bench.db import bench_setup

    bench_setup()
    from bench.generate import bench_generate
    from receivables.models import Customer
    from receivables.reporting.pdf import weekly_report_pdf
    from receivables.reporting.selectors import weekly_report_data
    from receivables.reporting.xlsx import weekly_report_xlsx
    from tenancy.dates import local_today
    from tenancy.models import Organization

    slug = f"weekly-{customers}"
    organization = Organization.objects.filter(slug=slug).first()
    if regenerate or organization is None or Customer.objects.filter(organization=organization).count() != customers:
        bench_generate(slug=slug, customers=customers, invoices=customers * invoices_per_customer, replace=True)
        organization = Organization.objects.get(slug=slug)
    as_of = local_today(organization.timezone)
    baseline = _peak_rss_mb()
    started = time.perf_counter()
    data = weekly_report_data(organization, as_of)
    data_seconds = time.perf_counter() - started
    pdf = weekly_report_pdf(data, "zh-hans")
    pdf_seconds = time.perf_counter() - started - data_seconds
    peak_mb = _peak_rss_mb()  # of the first render, before the warm one
    warm_started = time.perf_counter()
    weekly_report_pdf(data, "zh-hans")
    warm_seconds = time.perf_counter() - warm_started
    xlsx_started = time.perf_counter()
    weekly_report_xlsx(data, "zh-hans")
    return {
        "customers": customers, "rows": len(data.aging.rows), "pages": pdf.pages, "bytes": len(pdf.content),
        "data_s": data_seconds, "pdf_s": pdf_seconds, "warm_s": warm_seconds, "xlsx_s": time.perf_counter() - xlsx_started,
        "peak_mb": peak_mb, "baseline_mb": baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", default="100,1000,10000")
    parser.add_argument("--invoices-per-customer", type=int, default=10)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # WeasyPrint logs every layout step at INFO
    if args.one:
        print(json.dumps(render_one(args.one, args.invoices_per_customer, args.regenerate)))
        return
    print(f"{'customers':>9} {'pages':>6} {'data s':>7} {'pdf s':>7} {'pages/s':>8} {'warm s':>7} {'warm p/s':>8} "
          f"{'peak MB':>8} {'MB/page':>8} {'xlsx s':>7}")
    failed = False
    for size in (int(s.replace("_", "")) for s in args.customers.split(",")):
        command = [sys.executable, "-m", "bench.weekly_report", "--one", str(size),
                   "--invoices-per-customer", str(args.invoices_per_customer)]
        if args.regenerate:
            command.append("--regenerate")
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
        result = json.loads(output.strip().splitlines()[-1])
        pages_per_second = result["pages"] / result["pdf_s"]
        mb_per_page = result["peak_mb"] / result["pages"]
        failed |= pages_per_second < TARGET_PAGES_PER_SECOND or mb_per_page > TARGET_MB_PER_PAGE
        print(f"{size:>9,} {result['pages']:>6} {result['data_s']:>7.2f} {result['pdf_s']:>7.2f} "
              f"{pages_per_second:>8.1f} {result['warm_s']:>7.2f} {result['pages'] / result['warm_s']:>8.1f} "
              f"{result['peak_mb']:>8.0f} {mb_per_page:>8.2f} {result['xlsx_s']:>7.2f}",
              flush=True)
    print(f"targets: >= {TARGET_PAGES_PER_SECOND} pages/s, <= {TARGET_MB_PER_PAGE} MB/page (peak RSS of the "
          f"render process / pages){' -- MISSED' if failed else ''}")


if __name__ == "__main__":
    main()
