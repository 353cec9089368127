"""Bench of the weekly aging PDF: seconds, pages, pages/s and peak memory per size.

    .venv/bin/python -m bench.weekly_report [--customers 100,1000,10000] [--invoices-per-customer 10]
                                            [--repeat 1] [--regenerate]

Uses its own database (default postgres://postgres@127.0.0.1:5432/inflow_bench_weekly) and the
synthetic organizations `weekly-<customers>` from bench.generate. Each size runs in a fresh child
process, as a worker would:

* "warm-up s": the renderer's one-time costs, paid by a Celery worker at start (tasks.py): in the
  parent, WeasyPrint's import, a tiny render and the template; in each forked child, its own
  renderer (font configuration, stylesheet, fonts loaded). For code without a warm-up, the import;
* "1st s": the first report of a started worker's child;
* "next s": the same report again in the same process, as the worker's next report;
* "cold p/s": warm-up + first report, what a process that renders one report and exits gets.

Memory, both figures printed: "proc MB" is the whole process's peak RSS (Python, Django, the
data, WeasyPrint and its fonts, and the renders); "render MB" is the render's own peak: peak RSS
during the render minus the RSS of the worker just before it (Linux: the peak is reset through
/proc/self/clear_refs before each render). Targets: >= 10 pages/s per worker for the first
report of a started worker, <= 15 MB per page of the render's own peak.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from bench.summary import summary_record

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/inflow_bench_weekly"
TARGET_PAGES_PER_SECOND = 10
TARGET_MB_PER_PAGE = 15


def _memory_mb() -> tuple[float, float]:
    """(RSS now, peak RSS since the last reset), from /proc/self/status (Linux)."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _peak_reset() -> None:
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current RSS


def _measured(render, process_peak: list[float]) -> tuple[object, float, float, float]:
    """Run `render`: (its result, wall s, CPU s, its own peak MB above the RSS before it)."""
    process_peak.append(_memory_mb()[1])
    before, _ = _memory_mb()
    _peak_reset()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = render()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    _, peak = _memory_mb()
    process_peak.append(peak)
    return result, seconds, cpu, peak - before


def render_one(customers: int, invoices_per_customer: int, regenerate: bool) -> dict:
    """In the child: ensure the data set, then time data, import, two PDF renders and the XLSX."""
    from bench.db import bench_setup

    bench_setup()
    from bench.generate import bench_generate
    from receivables.models import Customer
    from receivables.reporting import pdf as pdf_module
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
    # The code before this change had no warm-up: importing WeasyPrint is what it would have done.
    warm_up = getattr(pdf_module, "pdf_renderer_warm_up", lambda: __import__("weasyprint"))
    process_peak: list[float] = []
    started = time.perf_counter()
    data = weekly_report_data(organization, as_of)
    data_seconds = time.perf_counter() - started
    started = time.perf_counter()
    warm_up()  # what a Celery worker does at start (tasks.pdf_renderer_warm_up_on_worker_start)
    prepare = getattr(pdf_module, "pdf_renderer_prepare", None)
    if prepare is not None:
        prepare()  # what each forked child does before its first task (tasks.pdf_renderer_prepare_in_child)
    warm_up_seconds = time.perf_counter() - started
    pdf, first_s, first_cpu, first_mb = _measured(lambda: weekly_report_pdf(data, "zh-hans"), process_peak)
    _, next_s, next_cpu, next_mb = _measured(lambda: weekly_report_pdf(data, "zh-hans"), process_peak)
    started = time.perf_counter()
    weekly_report_xlsx(data, "zh-hans")
    return {
        "customers": customers, "rows": len(data.aging.rows), "pages": pdf.pages, "bytes": len(pdf.content),
        "data_s": data_seconds, "warm_up_s": warm_up_seconds, "first_s": first_s, "first_cpu": first_cpu,
        "next_s": next_s, "next_cpu": next_cpu, "xlsx_s": time.perf_counter() - started,
        "process_mb": max(process_peak), "render_mb": first_mb, "next_render_mb": next_mb,
    }


def _child(size: int, args: argparse.Namespace) -> dict:
    command = [sys.executable, "-m", "bench.weekly_report", "--one", str(size),
               "--invoices-per-customer", str(args.invoices_per_customer)]
    if args.regenerate:
        command.append("--regenerate")
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", default="100,1000,10000")
    parser.add_argument("--invoices-per-customer", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1, help="fresh processes per size; medians are printed")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # WeasyPrint logs every layout step at INFO
    if args.one:
        print(json.dumps(render_one(args.one, args.invoices_per_customer, args.regenerate)))
        return
    print(f"{'customers':>9} {'pages':>5} {'data s':>6} {'warm-up s':>9} {'1st s':>6} {'1st cpu':>7} {'1st p/s':>7} "
          f"{'next s':>6} {'next p/s':>8} {'cold p/s':>8} {'proc MB':>7} {'proc MB/p':>9} {'render MB':>9} "
          f"{'render MB/p':>11} {'next MB':>7} {'xlsx s':>6}")
    failed = False
    for size in (int(s.replace("_", "")) for s in args.customers.split(",")):
        runs = [_child(size, args) for _ in range(args.repeat)]
        if args.regenerate:
            args.regenerate = False  # once per size is enough
        r = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        pages = runs[0]["pages"]
        first_pps, render_mb_page = pages / r["first_s"], r["render_mb"] / pages
        failed |= first_pps < TARGET_PAGES_PER_SECOND or render_mb_page > TARGET_MB_PER_PAGE
        print(f"{size:>9,} {pages:>5} {r['data_s']:>6.2f} {r['warm_up_s']:>9.2f} {r['first_s']:>6.2f} "
              f"{r['first_cpu']:>7.2f} {first_pps:>7.1f} {r['next_s']:>6.2f} {pages / r['next_s']:>8.1f} "
              f"{pages / (r['warm_up_s'] + r['first_s']):>8.1f} {r['process_mb']:>7.0f} {r['process_mb'] / pages:>9.1f} "
              f"{r['render_mb']:>9.0f} {render_mb_page:>11.1f} {r['next_render_mb']:>7.0f} {r['xlsx_s']:>6.2f}",
              flush=True)
        summary_record(bench="weekly_report", figure=f"{size:,} customers, {pages} pages: 1st report of a worker",
                       value=first_pps, unit="pages/s", target=f">= {TARGET_PAGES_PER_SECOND} pages/s",
                       met=first_pps >= TARGET_PAGES_PER_SECOND)
        summary_record(bench="weekly_report", figure=f"{size:,} customers: render's own memory", value=render_mb_page,
                       unit="MB/page", target=f"<= {TARGET_MB_PER_PAGE} MB/page", met=render_mb_page <= TARGET_MB_PER_PAGE)
    print(f"targets: >= {TARGET_PAGES_PER_SECOND} pages/s (1st p/s: first report of a started worker), "
          f"<= {TARGET_MB_PER_PAGE} MB/page (render MB/p: the render's own peak RSS above the worker's RSS "
          f"before it; proc MB/p, the whole process's peak RSS / pages, is printed beside it)"
          f"{' -- MISSED' if failed else ' -- met'}"
          f"{f' (medians of {args.repeat} processes per size)' if args.repeat > 1 else ''}")


if __name__ == "__main__":
    main()
