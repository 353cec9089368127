"""Exactly once with two real Celery workers on Redis running the same day's run."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from dunning.models import DunningMessage, DunningNotice, DunningRun, MessageStatus
from tenancy.models import OutboxMessage
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
WAIT_SECONDS = 120


def _worker(name: str, database_url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in {"EMAIL_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(DATABASE_URL=database_url, REDIS_URL=django_settings.REDIS_URL, CELERY_TASK_ALWAYS_EAGER="false",
               EMBEDDED_SCHEDULER="false", DEBUG="true")
    return subprocess.Popen(
        [str(CELERY), "-A", "config", "worker", "--pool=solo", "-n", f"{name}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-l", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_two_workers_running_the_same_day_send_each_message_once(organization, eager_celery):
    if not django_settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    customers = [CustomerFactory(organization=organization, name=f"Buyer {i}", contact_emails=[f"ap{i}@example.com"])
                 for i in range(4)]
    for customer in customers:
        make_invoice(organization, customer, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))
        make_invoice(organization, customer, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 3))
    redis.Redis.from_url(django_settings.REDIS_URL).delete("celery")  # nothing stale from other runs

    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    eager_celery.conf.task_always_eager = False
    workers = [_worker("dun-a", database_url), _worker("dun-b", database_url)]
    try:
        # the same day's run, twice at once (a second beat tick), and a third later (a retry)
        results = [eager_celery.send_task("dunning.tasks.dunning_run_task", args=[organization.pk, "2026-03-04"])
                   for _ in range(2)]
        outcomes = [r.get(timeout=WAIT_SECONDS) for r in results]
        retry = eager_celery.send_task("dunning.tasks.dunning_run_task", args=[organization.pk, "2026-03-04"])
        outcomes.append(retry.get(timeout=WAIT_SECONDS))
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and DunningMessage.objects.exclude(status=MessageStatus.SENT).exists():
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()

    assert DunningNotice.objects.count() == 8  # +30 and +1 for each of the 4 customers, once
    assert DunningMessage.objects.count() == 4
    assert set(DunningMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    sent_to = sorted(addr for m in OutboxMessage.objects.filter(organization=organization) for addr in m.to)
    assert sent_to == [f"ap{i}@example.com" for i in range(4)]
    runs_with_notices = DunningRun.objects.filter(notices_count__gt=0).count()
    assert runs_with_notices == 1, outcomes
