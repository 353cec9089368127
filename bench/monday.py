"""Monday morning: many small organizations' weekly reports, dunning runs and credit reviews through
real Celery workers on Redis, mailed to a local SMTP sink.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench_monday \
        .venv/bin/python -m bench.monday --orgs 10000 --workers 2 [--redis-db 12] [--work reports,dunning,credit]
    .venv/bin/python -m bench.monday --orgs 1000 --generate-only     # generate only (about 1 s per 10 organizations)

The organizations (`monday-00001` ...) get 20-200 customers each (1 in 100 a large one of 1,000-2,000),
about 10 invoices per customer, an enabled weekly schedule due now, the default dunning policy with the
notices it reached up to yesterday (so today's run sends what a real day's does), and a credit file per
customer with a limit and its next review spread over 91 days. They are generated once, 250 per
transaction with one COPY stream per table (the plain indexes dropped and rebuilt when 1,000 or more are
made at once), and reused; the dispatchers serve every organization of the database, so use one database
per size. Each run puts back the generated state (this week's reports, today's dunning runs, the credit
reviews), starts a `celery worker` (prefork, `--workers` children, as production runs them) on Redis db
`--redis-db`, fires the beat's dispatchers of the chosen work and waits until every report is sent, every
dunning run done and its mail sent, and no credit file is due. The SMTP sink (aiosmtpd on 127.0.0.1) counts
mails: a weekly report (organization, recipients, subject) or a dunning message (its id) received twice is
a duplicate. Printed: the load average, reports/s, seconds per report per worker child (wall) and the
workers' CPU seconds per report, the time 10,000 reports would take at that rate, duplicates, failures,
dunning and credit counts, peak RSS (VmHWM) per worker process."""

from __future__ import annotations

import argparse
import contextlib
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


GENERATE_BATCH = 250  # organizations per transaction: one COPY stream per table for all of them
HISTORY_RUN = "bench history"  # triggered_by of the synthetic dunning run that stands for the past days


def organizations_ensure(count: int, *, seed: int = 7, batch: int = GENERATE_BATCH) -> list[int]:
    """The ids of `monday-00001` .. `monday-<count>`, generating the missing ones in batches of
    `batch` organizations per transaction (`organizations_generate`), statistics refreshed once at the end."""
    from bench.generate import tables_analyze
    from tenancy.models import Organization

    sizes = organization_sizes(count, seed)
    existing = dict(Organization.objects.filter(slug__startswith="monday-").values_list("slug", "pk"))
    missing = [number for number in range(1, count + 1) if SLUG.format(number) not in existing]
    started, made = time.perf_counter(), 0
    with indexes_deferred(LOADED_TABLES if len(missing) >= DEFER_INDEXES_FROM else ()):
        for first in range(0, len(missing), batch):
            numbers = missing[first:first + batch]
            existing.update(organizations_generate(numbers, [sizes[n - 1] for n in numbers], seed=seed))
            made += len(numbers)
            print(f"  generated {made:,} of {len(missing):,} organizations ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    if made:
        tables_analyze()
        from django.db import connection

        with connection.cursor() as cursor:
            for table in ("credit_creditprofile", "dunning_dunningnotice", "receivables_weeklyreportschedule"):
                cursor.execute(f"ANALYZE {table}")
        print(f"generated {made:,} organizations in {time.perf_counter() - started:.0f} s", flush=True)
    return [existing[SLUG.format(number)] for number in range(1, count + 1)]


LOADED_TABLES = ("receivables_customer", "receivables_invoice", "receivables_payment", "receivables_allocation",
                 "dunning_dunningnotice", "credit_creditprofile")
DEFER_INDEXES_FROM = 1000  # organizations to generate at once before the plain indexes are rebuilt after the load


@contextlib.contextmanager
def indexes_deferred(tables: tuple[str, ...]):
    """Drop the indexes of `tables` that back no constraint (not the primary keys, unique or
    exclusion constraints) and build them again afterwards, even when the load fails: maintaining
    thirteen indexes of the invoice table row by row is most of what a large COPY costs, one sort
    per index afterwards is a fraction of it. The bench database only."""
    from django.db import connection

    if not tables:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)""", [list(tables)])
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    print(f"  {len(indexes)} indexes dropped for the load, rebuilt after it", flush=True)
    try:
        yield
    finally:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                               .replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1))
        print(f"  {len(indexes)} indexes rebuilt in {time.perf_counter() - started:.0f} s", flush=True)


def organizations_generate(numbers: list[int], sizes: list[int], *, seed: int) -> dict[str, int]:
    """One transaction for these organizations: the rows with bulk inserts and one COPY stream per
    ledger table, then what a running organization has besides its ledger, in set-wise SQL:

    * an enabled weekly schedule due this week (Monday 00:00 local), to one external address;
    * the default dunning policy, and the notices its steps reached up to yesterday as one synthetic
      past run, so today's run sends what a real Monday's does (the steps crossed since), not the
      backlog of two years (a first run mails every customer with anything overdue);
    * a credit file per customer with a limit, its next review spread over 91 days from the day
      before generation (about 2% due on the day of generation, more on each later day)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.generate import _foreign_key_triggers_off, fx_rates_draw, ledger_draw, ledgers_load
    from dunning.models import DunningPolicy, DunningStep
    from dunning.services.policies import DEFAULT_STEPS
    from receivables.models import FxRate, WeeklyReportSchedule
    from tenancy.dates import local_today
    from tenancy.models import Organization

    as_of = local_today("Asia/Shanghai")
    rates = fx_rates_draw(since=as_of - dt.timedelta(days=760), until=as_of, seed=seed)
    ledgers = [ledger_draw(customers=customers, invoices=customers * 10, as_of=as_of, seed=seed + number)
               for number, customers in zip(numbers, sizes, strict=True)]
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")  # a bench database: a crash regenerates it
        organizations = Organization.objects.bulk_create(
            Organization(name=f"Monday {number:05d} Trading", slug=SLUG.format(number), base_currency="CNY",
                         timezone="Asia/Shanghai") for number in numbers)
        ids = [organization.pk for organization in organizations]
        FxRate.objects.bulk_create((FxRate(organization=organization, currency=currency, rate_date=on, rate=rate)
                                    for organization in organizations for currency, on, rate in rates),
                                   batch_size=5000)
        with connection.cursor() as cursor:
            _foreign_key_triggers_off(cursor)
            ledgers_load(cursor.cursor, ledgers=list(zip(ids, ledgers, strict=True)), now=now.isoformat())
            cursor.execute("SET LOCAL session_replication_role = origin")
        WeeklyReportSchedule.objects.bulk_create(
            WeeklyReportSchedule(organization=organization, enabled=True, weekday=0, send_time=dt.time(0, 0),
                                 timezone="Asia/Shanghai", external_recipients=[f"finance@{organization.slug}.invalid"])
            for organization in organizations)
        policies = DunningPolicy.objects.bulk_create(
            DunningPolicy(organization=organization, name="Standard", is_default=True) for organization in organizations)
        DunningStep.objects.bulk_create(
            DunningStep(organization_id=policy.organization_id, policy=policy, fee_currency="CNY", **step)
            for policy in policies for step in DEFAULT_STEPS)
        yesterday = as_of - dt.timedelta(days=1)
        with connection.cursor() as cursor:
            cursor.execute("""
                INSERT INTO dunning_dunningrun (organization_id, run_date, status, invoices_evaluated, notices_count,
                                                messages_count, tasks_count, triggered_by, error, started_at, finished_at)
                SELECT id, %(yesterday)s, 'done', 0, 0, 0, 0, %(history)s, '', %(now)s, %(now)s
                FROM tenancy_organization WHERE id = ANY(%(ids)s)""",
                           {"yesterday": yesterday, "now": now, "ids": ids, "history": HISTORY_RUN})
            cursor.execute("""
                INSERT INTO dunning_dunningnotice (organization_id, run_id, invoice_id, customer_id, step_id, step_days,
                    channel, days_overdue, amount_due, currency, fee_amount, interest_amount, created_at)
                SELECT i.organization_id, r.id, i.id, i.customer_id, s.id, s.days_from_due, s.channel,
                       %(yesterday)s - i.due_date, i.total_amount - i.applied_amount - i.written_off_amount,
                       i.currency, 0, 0, %(now)s
                FROM receivables_invoice i
                JOIN dunning_dunningrun r ON r.organization_id = i.organization_id AND r.triggered_by = %(history)s
                JOIN dunning_dunningpolicy p ON p.organization_id = i.organization_id AND p.is_default
                JOIN dunning_dunningstep s ON s.policy_id = p.id AND s.days_from_due <= %(yesterday)s - i.due_date
                WHERE i.organization_id = ANY(%(ids)s) AND i.status IN ('open', 'partially_paid')""",
                           {"yesterday": yesterday, "now": now, "ids": ids, "history": HISTORY_RUN})
            cursor.execute("""
                INSERT INTO credit_creditprofile (organization_id, customer_id, uscc, registry_id, industry, country,
                    ownership, is_manufacturer, credit_limit, conditions, blacklisted, blacklist_reason,
                    next_review_on, updated_at)
                SELECT organization_id, id, '', '', '', country, 'private', false,
                       100000 * (1 + id %% 20), '', false, '', %(start)s + ((id * 7919) %% 91)::int, %(now)s
                FROM receivables_customer WHERE organization_id = ANY(%(ids)s)""",
                           {"start": yesterday, "now": now, "ids": ids})
    return {organization.slug: organization.pk for organization in organizations}


class Sink:
    """An SMTP server on 127.0.0.1 that counts what it receives: weekly reports by organization and
    subject, dunning messages by their message id. The same key twice is a duplicate mail."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                head = envelope.content.split(b"\r\n\r\n", 1)[0]
                dunning = re.search(rb"^X-Inflow-Dunning-Message: (\d+)", head, re.MULTILINE)
                if dunning:
                    key = "dunning|" + dunning.group(1).decode()
                else:
                    organization = re.search(rb"^X-Inflow-Organization: (\d+)", head, re.MULTILINE)
                    subject = re.search(rb"^Subject: (.*)$", head, re.MULTILINE)
                    key = ("report|" + (organization.group(1).decode() if organization else "?") + "|"
                           + ",".join(sorted(envelope.rcpt_tos)) + "|"
                           + (subject.group(1).decode(errors="replace") if subject else ""))
                with sink.lock:
                    sink.received[key] += 1
                return "250 OK"

        with socket.socket() as probe:  # a free port on loopback
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def counts(self, kind: str) -> tuple[int, int]:
        """(mails received, duplicates) of one kind ("report" or "dunning")."""
        with self.lock:
            mine = [count for key, count in self.received.items() if key.startswith(kind + "|")]
        return sum(mine), sum(count - 1 for count in mine if count > 1)

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


def _cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU of a process; with `reaped`, plus that of its children it has waited for
    (a prefork worker replaces a child after CELERY_WORKER_MAX_TASKS_PER_CHILD tasks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


WORK = ("reports", "dunning", "credit")


def monday_reset(ids: list[int]) -> None:
    """Put the organizations back as they were generated, so every run does the same work: this
    week's reports, today's dunning runs (every run but the synthetic history) with their notices,
    messages and call tasks, the credit reviews and scores, and each credit file's next review date."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        params = {"ids": ids, "history": HISTORY_RUN}
        cursor.execute("DELETE FROM receivables_weeklyreport WHERE organization_id = ANY(%(ids)s)", params)
        runs = ("SELECT id FROM dunning_dunningrun WHERE organization_id = ANY(%(ids)s) "
                "AND triggered_by <> %(history)s")
        for table in ("dunning_dunningnotice", "dunning_collectiontask", "dunning_dunningmessage"):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = ANY(%(ids)s) AND run_id IN ({runs})",  # noqa: S608
                           params)
        cursor.execute("DELETE FROM dunning_collectiontask WHERE organization_id = ANY(%(ids)s)", params)
        cursor.execute(f"DELETE FROM dunning_dunningrun WHERE id IN ({runs})", params)  # noqa: S608
        cursor.execute("UPDATE credit_creditprofile SET latest_score_id = NULL WHERE organization_id = ANY(%(ids)s)",
                       params)
        cursor.execute("DELETE FROM credit_creditreview WHERE organization_id = ANY(%(ids)s)", params)
        cursor.execute("DELETE FROM credit_creditscore WHERE organization_id = ANY(%(ids)s)", params)
        # The generation's first review day is the day of its synthetic dunning history.
        cursor.execute("""
            UPDATE credit_creditprofile p SET next_review_on = r.run_date + ((p.customer_id * 7919) %% 91)::int
            FROM dunning_dunningrun r
            WHERE r.organization_id = p.organization_id AND r.triggered_by = %(history)s
              AND p.organization_id = ANY(%(ids)s)""", params)


def monday_progress(ids: list[int], reports_due: set[int], today) -> dict[str, int]:
    """What is left: reports not sent, dunning runs not done, messages not sent, credit files still due."""
    from django.db import connection

    from receivables.models import WeeklyReport, WeeklyReportStatus

    left = {"reports": len(reports_due) - WeeklyReport.objects.filter(
        organization_id__in=reports_due, status=WeeklyReportStatus.SENT).count()}
    with connection.cursor() as cursor:
        cursor.execute("""SELECT count(*) FROM tenancy_organization o WHERE o.id = ANY(%(ids)s) AND NOT EXISTS (
                              SELECT 1 FROM dunning_dunningrun r WHERE r.organization_id = o.id AND r.run_date = %(today)s
                              AND r.status = 'done')""", {"ids": ids, "today": today})
        left["dunning runs"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM dunning_dunningmessage WHERE organization_id = ANY(%(ids)s) "
                       "AND status IN ('pending', 'sending')", {"ids": ids})
        left["dunning mails"] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM credit_creditprofile WHERE organization_id = ANY(%(ids)s) "
                       "AND next_review_on <= %(today)s", {"ids": ids, "today": today})
        left["credit reviews"] = cursor.fetchone()[0]
    return left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="worker child processes (one per core)")
    parser.add_argument("--redis-db", type=int, default=12, help="Redis database of the broker and results")
    parser.add_argument("--work", default=",".join(WORK),
                        help="what Monday runs, comma-separated: reports, dunning, credit (default: all three)")
    parser.add_argument("--batch", type=int, default=GENERATE_BATCH, help="organizations per generating transaction")
    parser.add_argument("--generate-only", action="store_true", help="generate the organizations and stop")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds before giving up")
    parser.add_argument("--quick", action="store_true", help="200 organizations (make bench --quick)")
    args = parser.parse_args()
    work = [w.strip() for w in args.work.split(",") if w.strip()]
    if not work or set(work) - set(WORK):
        parser.error(f"--work takes some of {', '.join(WORK)}")
    if args.quick:
        args.orgs = min(args.orgs, 200)
    os.environ.setdefault("DATABASE_URL", DATABASE_URL)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Every organization's dunning run is due whatever the hour: with the default 08:00 local, a run started
    # before 08:00 in Shanghai (before 00:00 UTC) found none due and measured reports and credit only.
    os.environ["DUNNING_RUN_HOUR"] = "0"
    sink = Sink()
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{sink.port}"
    storage = tempfile.mkdtemp(prefix="inflow-monday-")
    os.environ["REPORTS_ROOT"] = storage
    from bench.db import bench_setup

    bench_setup()
    from django.utils import timezone

    from config.celery import app
    from credit.tasks import credit_reviews_dispatch_task
    from dunning.tasks import dunning_dispatch_task, organizations_due
    from receivables.models import WeeklyReport, WeeklyReportStatus
    from receivables.reporting.selectors import weekly_reports_due
    from receivables.reporting.tasks import weekly_report_dispatch_task
    from tenancy.dates import local_today
    from tenancy.models import Organization

    present = Organization.objects.filter(slug__startswith="monday-").count()
    if present > args.orgs:
        # The dispatchers serve every organization of the database: a run over fewer would do more work than it counts.
        raise SystemExit(f"{os.environ['DATABASE_URL']} holds {present:,} monday organizations, more than --orgs "
                         f"{args.orgs:,}: pass --orgs {present} or another DATABASE_URL (one database per size).")
    started = time.perf_counter()
    ids = organizations_ensure(args.orgs, batch=args.batch)
    print(f"{len(ids):,} organizations ready in {time.perf_counter() - started:.0f} s", flush=True)
    if args.generate_only:
        sink.stop()
        return
    monday_reset(ids)
    app.control.purge()
    today = local_today("Asia/Shanghai")
    chosen = set(ids)
    reports_due = {org for org, _week in weekly_reports_due(timezone.now()) if org in chosen} if "reports" in work else set()
    dunning_due = [org for org, _day in organizations_due(timezone.now()) if org in chosen] if "dunning" in work else []
    print(f"{len(ids):,} organizations: {len(reports_due):,} weekly reports due, {len(dunning_due):,} dunning runs due "
          f"({'credit reviews' if 'credit' in work else 'no credit reviews'}); load average {os.getloadavg()[0]:.2f}",
          flush=True)
    worker = subprocess.Popen(  # noqa: S603 - our own worker command
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", str(args.workers),
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=os.environ.copy(), start_new_session=True)
    try:
        time.sleep(5)  # the worker's warm-up (fonts, templates) is paid before the clock starts
        peaks: dict[int, float] = {}
        cpu: dict[int, float] = {}
        loads = [os.getloadavg()[0]]
        worker_cpu_before = _cpu_seconds(worker.pid, reaped=True) + sum(
            _cpu_seconds(pid) for pid in _process_tree(worker.pid)[1:])
        busy_before, total_before = _machine_busy()
        started = time.perf_counter()
        if "reports" in work:
            weekly_report_dispatch_task.delay()
        if "dunning" in work:
            dunning_dispatch_task.delay()
        if "credit" in work:
            credit_reviews_dispatch_task.delay()
        reports_seconds, reports_cpu = None, None
        while time.perf_counter() - started < args.timeout:
            left = monday_progress(ids, reports_due, today)
            tree = _process_tree(worker.pid)
            for pid in tree:
                peaks[pid] = max(peaks.get(pid, 0.0), _peak_rss_mb(pid))
                cpu[pid] = _cpu_seconds(pid)
            if reports_seconds is None and left["reports"] <= 0:
                reports_seconds = time.perf_counter() - started
                reports_cpu = _cpu_seconds(worker.pid, reaped=True) + sum(cpu[pid] for pid in tree[1:])
            if ("dunning" not in work or (left["dunning runs"] <= 0 and left["dunning mails"] <= 0)) and (
                    "credit" not in work or left["credit reviews"] <= 0) and left["reports"] <= 0:
                break
            loads.append(os.getloadavg()[0])
            time.sleep(1)
        seconds = time.perf_counter() - started
        tree = _process_tree(worker.pid)
        worker_cpu = _cpu_seconds(worker.pid, reaped=True) + sum(_cpu_seconds(pid) for pid in tree[1:]) - worker_cpu_before
        busy_after, total_after = _machine_busy()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        sink.stop()
    left = monday_progress(ids, reports_due, today)
    sent = len(reports_due) - left["reports"]
    failed = WeeklyReport.objects.filter(organization_id__in=ids, status=WeeklyReportStatus.FAILED).count()
    report_mails, report_duplicates = sink.counts("report")
    dunning_mails, dunning_duplicates = sink.counts("dunning")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(sum(messages_count), 0), coalesce(sum(notices_count), 0) "
                       "FROM dunning_dunningrun WHERE organization_id = ANY(%s) AND run_date = %s AND status = 'done'",
                       [ids, today])
        runs_done, messages, notices = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM credit_creditreview WHERE organization_id = ANY(%s)", [ids])
        reviews = cursor.fetchone()[0]
    machine = (busy_after - busy_before) / max(total_after - total_before, 1e-9)
    print(f"\nload average during the run: {min(loads):.2f}-{max(loads):.2f} (machine CPU busy {machine:.0%}; "
          f"{os.cpu_count()} cores)")
    if reports_due:
        reports_seconds = reports_seconds or seconds
        reports_cpu = reports_cpu if reports_cpu is not None else worker_cpu + worker_cpu_before
        per_core = reports_seconds * args.workers / max(sent, 1)
        projected = per_core * 10_000 / args.workers / 60
        print(f"weekly reports: {sent:,} of {len(reports_due):,} sent in {reports_seconds:.1f} s with {args.workers} "
              f"worker processes: {sent / reports_seconds:.2f} reports/s, {per_core:.3f} s per report per core; "
              f"worker CPU {reports_cpu - worker_cpu_before:.0f} s, {(reports_cpu - worker_cpu_before) / max(sent, 1):.3f}"
              f" CPU s per report (work: {', '.join(work)})")
        print(f"10,000 reports at this rate: {projected:.1f} min (target {TARGET_MINUTES_FOR_10000} min)")
        print(f"report mails received: {report_mails:,}, duplicates: {report_duplicates}, failed reports: {failed}")
    if "dunning" in work:
        print(f"dunning: {runs_done:,} of {len(dunning_due):,} runs done, {notices:,} notices, {messages:,} messages; "
              f"mails received: {dunning_mails:,}, duplicates: {dunning_duplicates}")
    if "credit" in work:
        print(f"credit: {reviews:,} reviews opened, {left['credit reviews']:,} credit files still due")
    print(f"everything done in {seconds:.1f} s; worker CPU {worker_cpu:.0f} s in all")
    print("peak RSS per worker process (MB): " + ", ".join(f"{peak:.0f}" for peak in sorted(peaks.values())))
    from bench.summary import summary_record

    if reports_due:
        summary_record(bench="monday", figure=f"{sent:,} weekly reports, {args.workers} workers: 10,000 projected",
                       value=projected, unit="min", target=f"<= {TARGET_MINUTES_FOR_10000} min",
                       met=projected <= TARGET_MINUTES_FOR_10000 and sent == len(reports_due))
    duplicates = report_duplicates + dunning_duplicates
    summary_record(bench="monday", figure="duplicate mails", value=duplicates, unit="", target="0", met=duplicates == 0)
    summary_record(bench="monday", figure="peak RSS of a worker process", value=max(peaks.values(), default=0),
                   unit="MB", target="bounded")


if __name__ == "__main__":
    main()
