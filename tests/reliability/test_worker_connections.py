"""A real Celery worker keeps its PostgreSQL connection from one task to the next (CONN_MAX_AGE, as a
web process between requests) instead of opening a backend per task, and replaces a connection
that broke between two tasks (health checks) without failing the task."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
TASK = "receivables.reporting.tasks.weekly_report_dispatch_task"  # reads the database, changes nothing here


def worker_backends() -> set[int]:
    """Backend pids connected to the test database, other than this process's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                       " AND backend_type = 'client backend'")
        return {pid for (pid,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_worker_reuses_its_connection_and_replaces_a_broken_one(tmp_path):
    from config.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "REDIS_URL": settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false", "DEBUG": "false",
           "CONN_MAX_AGE": "60", "SECRET_KEY": "test-worker-connections", "ALLOWED_HOSTS": "127.0.0.1"}
    app.control.purge()
    log = tmp_path / "worker.log"
    name = f"conn{os.getpid()}"  # this worker answers the ping, not another one on the same Redis
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-n", f"{name}@%h",
         "--without-mingle", "--without-gossip", "-l", "info"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not any(name in node for reply in app.control.ping(timeout=0.5) for node in reply):
            assert time.monotonic() < deadline, log.read_text()
        seen = []
        for _ in range(12):  # when: twelve tasks, one after the other
            assert app.send_task(TASK).get(timeout=20) == []
            seen.append(worker_backends())
        # then: one backend served them all, still open between tasks
        assert all(len(pids) == 1 for pids in seen), seen
        assert len(set.union(*seen)) == 1, seen
        # when: that backend dies between two tasks (a database restart, a proxy timeout)
        (old,) = seen[-1]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [old])  # waits until it has exited
        # then: the next task still succeeds, on a new connection
        assert app.send_task(TASK).get(timeout=20) == []
        after = worker_backends()
        assert len(after) == 1 and old not in after
    finally:
        app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
