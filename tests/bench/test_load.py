"""bench.load at toy size: a few organizations, gunicorn on loopback, wrk for a second per class.

The server is a separate process, so the data is committed (transactional_db) and the server reads the
test database. DEBUG is on here only so that no collected static files are needed (the bench itself runs
with DEBUG=0 and collected files)."""

import datetime as dt
import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

from bench import load


def test_wrk_is_installed():
    # The load tests below need Debian's wrk (.ci/run installs it): missing, they fail rather than skip.
    assert shutil.which("wrk"), "install wrk (apt-get install wrk)"


def test_sizes_sum_to_the_total_and_are_skewed():
    sizes = load.organization_sizes(1000, 1_000_000)
    assert sum(sizes) == 1_000_000 and min(sizes) >= 1
    assert max(sizes) <= 100_001 and max(sizes) > 20 * (1_000_000 // 1000)


def test_access_log_paths_are_classified():
    assert [load.path_kind("GET", p) for p in ("/", "/invoices/", "/invoices/12/", "/customers/", "/customers/7/",
                                                "/invoices/12/edit/", "/login/")] == [
        "dashboard", "invoice_list", "invoice_page", "customer_list", "customer_page", "other", "other"]
    assert load.path_kind("POST", "/api/v1/invoices/") == "api_invoice_create"
    assert load.path_kind("GET", "/api/v1/invoices/") == "api_invoice_list"


@pytest.fixture
def server(transactional_db, tmp_path):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = load.server_environment(secret_key=settings.SECRET_KEY, database_url=url,
                                  redis_url=settings.REDIS_URL or load.REDIS_URL, root=tmp_path, debug=True)
    server = load.Server(workers=1, env=env, access_log=tmp_path / "access.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
        load.queue_purge()


def test_every_kind_answers_a_short_load_has_no_errors_and_a_dead_session_counts(server, tmp_path):
    ids = load.organizations_ensure(3, 300, batch=2)
    assert load.organizations_ensure(3, 300) == ids  # reused, not generated again
    tenants = load.tenants_ensure(ids, 2, rows_per_tenant=2)
    assert len(tenants) == 2 and all(t.invoice_ids and t.customer_ids for t in tenants)

    for _run in range(2):  # a second run's invoice numbers are new too
        statuses = load.smoke(server.url, tenants, today=dt.date.today())
        assert set(statuses) == {kind for kinds in load.CLASSES.values() for kind in kinds}
        assert all(200 <= status < 300 for status in statuses.values()), statuses

    results, kinds = load.load_run(server=server, tenants=tenants, workdir=tmp_path, connections=2, seconds=1,
                                   warmup=0)
    assert [r.klass for r in results] == ["pages", "api_read", "api_write"]
    assert all(r.requests > 0 and r.errors == 0 for r in results), results
    assert all(r.worker_cpu_ms is not None and r.worker_cpu_ms > 0 for r in results), results  # read from /proc
    assert {k.kind for k in kinds} >= {"api_invoice_list", "api_invoice_create"}
    assert all(k.not_2xx == 0 for k in kinds)

    tenants[0].session_key = "no-such-session"  # pages answer 302 to the sign-in page: a failure, not a page
    results, _kinds = load.load_run(server=server, tenants=tenants[:1], workdir=tmp_path, connections=2, seconds=1,
                                    warmup=0, classes=("pages",))
    assert results[0].requests > 0
    assert results[0].errors == results[0].redirects == results[0].requests


def test_every_production_command_and_the_bench_read_gunicorn_conf(monkeypatch):
    # One place for the worker count and class: the bench measures what production runs.
    root = load.ROOT
    assert '"-c", "gunicorn.conf.py"' in (root / "Dockerfile").read_text()
    assert "gunicorn config.wsgi:application -c gunicorn.conf.py" in (root / "docker-compose.yml").read_text()
    assert "gunicorn config.wsgi:application -c gunicorn.conf.py" in (root / "Procfile").read_text()
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert load.production_workers() == 2 * len(os.sched_getaffinity(0)) + 1
    assert load.production_workers({"WEB_CONCURRENCY": "2"}) == 2
