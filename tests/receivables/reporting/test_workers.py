"""Exactly once on the production shape: two real Celery workers on Redis, PostgreSQL, SMTP.

Beat is simulated by sending the dispatcher twice; the per-organization claim is also sent
several times by hand, as a retry or a duplicate delivery would. Each organization still gets
one report and one email."""

import datetime as dt
import os
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
import redis
from django.conf import settings

from receivables.models import WeeklyReport, WeeklyReportStatus
from tests.factories import CustomerFactory, MembershipFactory, OrganizationFactory, make_invoice

from .conftest import make_schedule

ROOT = Path(__file__).resolve().parents[3]
TASKS = "receivables.reporting.tasks"
DEADLINE_SECONDS = 25


def a_time_zone_not_near_midnight() -> str:
    # The test and the workers each read the real clock; keep both inside the same local week.
    for name in ("Asia/Shanghai", "America/New_York", "Europe/London", "Pacific/Auckland"):
        local = dt.datetime.now(zoneinfo.ZoneInfo(name)).time()
        if dt.time(0, 10) < local < dt.time(23, 50):
            return name
    raise AssertionError("unreachable: these zones are never all near midnight at once")


def start_worker(name: str, env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-n", f"{name}@%h",
         "--without-mingle", "--without-gossip", "-l", "info"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )


def wait_for(condition, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_two_workers_produce_one_report_and_one_email_per_organization(smtp_server, tmp_path):
    from config.celery import app

    controller, inbox = smtp_server
    app.conf.task_always_eager = False  # this process sends to Redis too (restored by eager_tasks)
    tz = a_time_zone_not_near_midnight()
    today = dt.datetime.now(zoneinfo.ZoneInfo(tz)).date()
    week_start = today - dt.timedelta(days=today.weekday())
    organizations = []
    for i in range(2):
        organization = OrganizationFactory(name=f"Org {i}", timezone=tz)
        user = MembershipFactory(organization=organization).user
        make_invoice(organization, CustomerFactory(organization=organization, name=f"杭州客户 {i}"),
                     amount="1000.00", issue_date=today - dt.timedelta(days=60), due_date=today - dt.timedelta(days=30))
        make_schedule(organization, users=[user], weekday=today.weekday(), send_time=dt.time(0, 0), timezone=tz)
        organizations.append(organization)

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # no stale messages from other runs
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": f"smtp://127.0.0.1:{controller.port}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DEBUG": "true",
    }
    workers = [start_worker(f"w{i}", env, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        assert wait_for(lambda: len(app.control.ping(timeout=0.5)) >= 2, deadline), "workers did not start"
        # when: beat fires twice, and each claim is delivered three more times
        for _ in range(2):
            app.send_task(f"{TASKS}.weekly_report_dispatch_task")
        for organization in organizations:
            for _ in range(3):
                app.send_task(f"{TASKS}.weekly_report_claim_task", args=[organization.pk, week_start.isoformat()])
        # then
        sent = WeeklyReport.objects.filter(status=WeeklyReportStatus.SENT)
        assert wait_for(lambda: sent.count() >= 2 and len(inbox.envelopes) >= 2, deadline), (
            f"reports: {list(WeeklyReport.objects.values_list('status', 'error'))}")
        # let any duplicate still in the queue run to completion before counting
        assert wait_for(lambda: not any(app.control.inspect(timeout=0.5).active().values()), deadline)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    reports = WeeklyReport.objects.order_by("organization_id")
    assert [(r.organization_id, r.week_start, r.status, r.attempts) for r in reports] == [
        (o.pk, week_start, "sent", 1) for o in organizations]
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == sorted(
        o.weekly_report_schedule.recipients.get().email for o in organizations)
