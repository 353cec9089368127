"""Monday morning: many small organizations' weekly reports (and dunning runs, credit reviews) through
real Celery workers on Redis, mailed to a local SMTP sink.

    .venv/bin/python -m bench.monday --orgs 10000 --workers 2 [--dunning] [--credit]
    .venv/bin/python -m bench.monday --orgs 200            # a reduced run: seconds per report, extrapolated

The organizations (`monday-00001` ...) get 20-200 customers each (1 in 100 a large one of 1,000-2,000),
about 10 invoices per customer, and an enabled weekly schedule due now; they are generated once and
reused. Each run deletes the week's report rows of those organizations, starts `celery worker`
processes (prefork, `--workers` children in one worker, as production runs them) on Redis db 12,
fires the beat's dispatch task, and waits until every report is sent. The SMTP sink (aiosmtpd on
127.0.0.1) counts messages per report: a report mailed twice is a duplicate. Peak memory is read
from each worker process's VmHWM. Printed: reports, seconds, seconds per report per worker child,
the time 10,000 reports would take at that rate, duplicates, failures, peak RSS per process."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/inflow_bench_monday"
REDIS_URL = "redis://127.0.0.1:6379/12"
TARGET_MINUTES_FOR_10000 = 30
SLUG = "monday-{:05d}"


def organization_sizes(count: int, seed: int) -> list[int]:
    """Customers per organization: mostly 20-200, one in a hundred 1,000-2,000."""
    rng = random.Random(seed)
    return [rng.randint(1000, 2000) if rng.random() < 0.01 else rng.randint(20, 200) for _ in range(count)]


def organizations_ensure(count: int, *, seed: int = 7) -> list[int]:
    """The ids of `monday-00001` .. `monday-<count>`, generating the missing ones (COPY, one
    transaction each, statistics refreshed once at the end)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.generate import _foreign_key_triggers_off, fx_rates_draw, ledger_draw, ledger_load, tables_analyze
    from receivables.models import FxRate, WeeklyReportSchedule
    from tenancy.dates import local_today
    from tenancy.models import Organization

    sizes = organization_sizes(count, seed)
    existing = dict(Organization.objects.filter(slug__startswith="monday-").values_list("slug", "pk"))
    ids, made, started = [], 0, time.perf_counter()
    as_of = local_today("Asia/Shanghai")
    rates = fx_rates_draw(since=as_of - dt.timedelta(days=760), until=as_of, seed=seed)
    for number, customers in enumerate(sizes, start=1):
        slug = SLUG.format(number)
        if slug in existing:
            ids.append(existing[slug])
            continue
        ledger = ledger_draw(customers=customers, invoices=customers * 10, as_of=as_of, seed=seed + number)
        with transaction.atomic():
            organization = Organization.objects.create(name=f"Monday {number:05d} Trading", slug=slug,
                                                       base_currency="CNY", timezone="Asia/Shanghai")
            FxRate.objects.bulk_create(FxRate(organization=organization, currency=currency, rate_date=on, rate=rate)
                                       for currency, on, rate in rates)
            with connection.cursor() as cursor:
                _foreign_key_triggers_off(cursor)
                ledger_load(cursor.cursor, organization_id=organization.pk, ledger=ledger, now=timezone.now().isoformat())
                cursor.execute("SET LOCAL session_replication_role = origin")
            WeeklyReportSchedule.objects.create(organization=organization, enabled=True, weekday=0,
                                                send_time=dt.time(0, 0), timezone="Asia/Shanghai",
                                                external_recipients=[f"finance@monday-{number:05d}.invalid"])
        ids.append(organization.pk)
        made += 1
        if made % 100 == 0:
            print(f"  generated {made:,} organizations ({time.perf_counter() - started:.0f} s)", flush=True)
    if made:
        tables_analyze()
        print(f"generated {made:,} organizations in {time.perf_counter() - started:.0f} s", flush=True)
    return ids


class Sink:
    """An SMTP server on 127.0.0.1 that counts the weekly reports it receives, by recipient and subject."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                # Each organization's report goes to its own address: one mail per address and subject.
                subject = re.search(rb"^Subject: (.*)$", envelope.content, re.MULTILINE)
                key = ",".join(sorted(envelope.rcpt_tos)) + "|" + (subject.group(1).decode(errors="replace") if subject else "")
                with sink.lock:
                    sink.received[key] += 1
                return "250 OK"

        with socket.socket() as probe:  # a free port on loopback
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def _process_tree(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return [pid, *(grandchild for child in children for grandchild in _process_tree(child))]


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="worker child processes (one per core)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds before giving up")
    parser.add_argument("--quick", action="store_true", help="200 organizations (make bench --quick)")
    args = parser.parse_args()
    if args.quick:
        args.orgs = min(args.orgs, 200)
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sink = Sink()
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
    storage = tempfile.mkdtemp(prefix="inflow-monday-")
    os.environ["REPORTS_ROOT"] = storage
    from bench.db import bench_setup

    bench_setup()
    from django.utils import timezone

    from config.celery import app
    from receivables.models import WeeklyReport, WeeklyReportStatus
    from receivables.reporting.selectors import weekly_reports_due
    from receivables.reporting.tasks import weekly_report_dispatch_task

    ids = organizations_ensure(args.orgs)
    WeeklyReport.objects.filter(organization_id__in=ids).delete()
    app.control.purge()
    due = weekly_reports_due(timezone.now())
    print(f"{len(ids):,} organizations, {len(due):,} weekly reports due", flush=True)
    worker = subprocess.Popen(  # noqa: S603 - our own worker command
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", str(args.workers),
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=os.environ.copy(), start_new_session=True)
    try:
        time.sleep(3)  # the worker's warm-up (fonts, templates) is paid before the clock starts
        peaks: dict[int, float] = {}
        started = time.perf_counter()
        weekly_report_dispatch_task.delay()
        target = {org for org, _week in due}
        while time.perf_counter() - started < args.timeout:
            sent = WeeklyReport.objects.filter(organization_id__in=target, status=WeeklyReportStatus.SENT).count()
            for pid in _process_tree(worker.pid):
                peaks[pid] = max(peaks.get(pid, 0.0), _peak_rss_mb(pid))
            if sent >= len(target):
                break
            time.sleep(1)
        seconds = time.perf_counter() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        sink.stop()
    failed = WeeklyReport.objects.filter(organization_id__in=ids, status=WeeklyReportStatus.FAILED).count()
    duplicates = sum(count - 1 for count in sink.received.values() if count > 1)
    per_report_core = seconds * args.workers / max(sent, 1)
    projected_minutes = per_report_core * 10_000 / args.workers / 60
    print(f"\n{sent:,} of {len(target):,} reports sent in {seconds:.1f} s with {args.workers} worker processes: "
          f"{sent / seconds:.2f} reports/s, {per_report_core:.3f} s per report per core")
    print(f"10,000 reports at this rate: {projected_minutes:.1f} min (target {TARGET_MINUTES_FOR_10000} min)")
    print(f"mails received: {sum(sink.received.values()):,}, duplicates: {duplicates}, failed reports: {failed}")
    print("peak RSS per worker process (MB): " + ", ".join(f"{peak:.0f}" for peak in sorted(peaks.values())))
    from bench.summary import summary_record

    summary_record(bench="monday", figure=f"{sent:,} weekly reports, {args.workers} workers: 10,000 projected",
                   value=projected_minutes, unit="min", target=f"<= {TARGET_MINUTES_FOR_10000} min",
                   met=projected_minutes <= TARGET_MINUTES_FOR_10000 and sent == len(target))
    summary_record(bench="monday", figure="duplicate mails", value=duplicates, unit="", target="0", met=duplicates == 0)
    summary_record(bench="monday", figure="peak RSS of a worker process", value=max(peaks.values(), default=0),
                   unit="MB", target="bounded")


if __name__ == "__main__":
    main()
