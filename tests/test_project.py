"""The project's shape: compose file, settings in each environment, deploy checks."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_redis_web_worker_and_beat():
    services = _compose()["services"]

    assert set(services) == {"postgres", "redis", "web", "worker", "beat", "proxy"}  # proxy: TLS in front of web
    assert "gunicorn config.wsgi:application" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_compose_app_services_share_one_configuration():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "0"
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}


def test_compose_app_services_mount_media_and_reports_on_shared_volumes():
    compose = _compose()
    for name in ("web", "worker", "beat"):
        service = compose["services"][name]
        env, volumes = service["environment"], service["volumes"]
        # a worker writes a report that web serves: both folders must be the same volume everywhere
        assert f"media:{env['MEDIA_ROOT']}" in volumes, name
        assert f"reports:{env['REPORTS_ROOT']}" in volumes, name
        assert "http" in env["SITE_URL"], name  # links in mail need an absolute base (default or ${SITE_URL})
    assert {"media", "reports"} <= set(compose["volumes"])


def test_worker_recycling_is_left_to_the_settings():
    # CELERY_WORKER_MAX_TASKS_PER_CHILD is the documented setting; a command-line flag would override it.
    worker = _compose()["services"]["worker"]["command"]
    assert not any(arg.startswith("--max-tasks-per-child") for arg in worker)
    assert "--max-tasks-per-child" not in (ROOT / "Procfile").read_text()


def test_every_environment_variable_read_by_the_settings_is_in_the_readme():
    # the README and the manuals it links in docs/ (each feature's settings are on its page)
    names = re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", (ROOT / "config" / "settings.py").read_text())
    readme = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])

    assert len(names) > 30  # the pattern still finds the reads
    assert [name for name in names if f"`{name}`" not in readme] == []


def test_dockerfile_builds_from_requirements_and_serves_with_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "fonts-noto-cjk" in dockerfile
    assert 'CMD ["gunicorn", "config.wsgi:application"' in dockerfile


def _clean_environment() -> dict[str, str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests for their own process only.
    return {k: v for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DEBUG", "SECRET_KEY", "CELERY_TASK_ALWAYS_EAGER",
                         "DJANGO_ALLOW_ASYNC_UNSAFE", "EMBEDDED_SCHEDULER", "MEDIA_ROOT", "REPORTS_ROOT"}}


def _manage(*args, timeout: int = 120, **env):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**_clean_environment(), **env},
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_with_no_environment_the_app_uses_the_embedded_default():
    code = ("from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
            "s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.CACHES['default']['BACKEND'])")
    result = _manage("shell", "--no-imports", "-c", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tenancy.sqlite3", "True", "tenancy.mail.OutboxEmailBackend",
                                     "django.core.cache.backends.locmem.LocMemCache"]


def test_production_environment_selects_postgres_redis_and_smtp():
    code = ("from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'], "
            "s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.EMAIL_HOST)")
    result = _manage("shell", "--no-imports", "-c", code, DEBUG="0", SECRET_KEY="x" * 50,
                     DATABASE_URL="postgres://u:p@db:5432/inflow", REDIS_URL="redis://cache:6379/0",
                     EMAIL_URL="smtp://mailer:25")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tenancy.postgresql", "False", "redis://cache:6379/0",
                                     "django.core.mail.backends.smtp.EmailBackend", "mailer"]


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_deploy_check_is_clean_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="0",
                     SECRET_KEY="k3y-" + "q9Zx!vR2#mLp7$wT" * 4, ALLOWED_HOSTS="inflow.example.com")

    assert result.returncode == 0, result.stdout + result.stderr


def test_reports_root_and_embedded_scheduler_come_from_the_environment():
    code = "from django.conf import settings as s; print(s.REPORTS_ROOT, s.EMBEDDED_SCHEDULER)"
    default = _manage("shell", "--no-imports", "-c", code, MEDIA_ROOT="/srv/inflow/media")
    chosen = _manage("shell", "--no-imports", "-c", code, MEDIA_ROOT="/srv/inflow/media",
                     REPORTS_ROOT="/mnt/shared/reports", EMBEDDED_SCHEDULER="false")

    assert default.returncode == 0 and chosen.returncode == 0, default.stderr + chosen.stderr
    assert default.stdout.split() == ["/srv/inflow/reports", "True"]  # beside MEDIA_ROOT, as before
    assert chosen.stdout.split() == ["/mnt/shared/reports", "False"]


def test_a_server_process_loads_its_views_and_freezes_them_before_the_first_request():
    """config.wsgi ends with server_ready: the URL conf (every view) is imported, the project's messages
    read (tenancy.retranslate), and what is loaded is out of the garbage collector's scans (gc.freeze)
    before any request arrives."""
    code = ("import gc, sys; import config.wsgi; from tenancy.retranslate import project_msgids; "
            "print(gc.get_freeze_count() > 10000, 'receivables.api' in sys.modules, gc.get_count()[2], "
            "project_msgids.cache_info().currsize)")
    env = {**os.environ, "EMBEDDED_SCHEDULER": "false", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    frozen, views_loaded, old_generation, msgids_read = result.stdout.split()
    assert (frozen, views_loaded, old_generation) == ("True", "True", "0")
    assert msgids_read == "1"  # tenancy.retranslate's messages read at start, not in a request


def test_make_run_seeds_every_app_on_the_embedded_default(tmp_path):
    """`make run` on SQLite: migrations and the whole demo (ledger, credit, dunning, factoring, insurance,
    forecasts) must work there too, not only on the PostgreSQL the rest of the suite uses."""
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env = {"DATABASE_URL": database, "MEDIA_ROOT": str(tmp_path / "media"), "REPORTS_ROOT": str(tmp_path / "reports")}
    # The timeouts only stop a hung process (on a loaded 2-core machine migrate alone took 99 s).
    migrated = _manage("migrate", "--no-input", "--verbosity", "0", timeout=600, **env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = _manage("seed_demo", timeout=600, **env)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert "Demo data ready." in seeded.stdout
    counted = _manage("shell", "--no-imports", "-c", (
        "from factoring.models import Facility; from insurance.models import Policy; "
        "from forecasting.models import InvoicePrediction; from dunning.models import PaymentPlan; "
        "print(Facility.objects.count() > 0, Policy.objects.count() > 0, InvoicePrediction.objects.count() > 0, "
        "PaymentPlan.objects.count() > 0)"), **env)
    assert counted.returncode == 0, counted.stderr[-3000:]
    assert counted.stdout.split() == ["True", "True", "True", "True"]
    # The dashboard with every app's section (the provision's cohort SQL included) renders on SQLite.
    dashboard = _manage("shell", "--no-imports", "-c", (
        "from django.test import Client; from django.conf import settings; settings.ALLOWED_HOSTS = ['*']; "
        "c = Client(); c.post('/login/', {'username': 'demo-admin', 'password': 'inflow-demo'}); r = c.get('/'); "
        "import re; print(r.status_code, *sorted(set(re.findall(r'data-section=\"(\\w+)\"', r.content.decode()))))"), **env)
    assert dashboard.returncode == 0, dashboard.stderr[-3000:]
    status, *sections = dashboard.stdout.split()
    assert status == "200"
    assert {"factoring", "insurance", "forecasting"} <= set(sections), sections


def test_the_ledger_imports_no_app_above_it():
    # DESIGN.md's layers: receivables sits below credit, dunning, factoring, insurance and forecasting;
    # they reach it through its registries (gates, markers, panels, listactions, reporting sections).
    above = re.compile(r"^\s*(?:from|import)\s+(credit|dunning|factoring|insurance|forecasting)\b", re.MULTILINE)
    found = [f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
             for path in sorted((ROOT / "receivables").rglob("*.py")) if "migrations" not in path.parts
             for match in above.finditer(path.read_text())]

    assert found == []
