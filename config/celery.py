"""The Celery application.

With REDIS_URL set, tasks go to Redis and run on `celery -A config worker`; without it,
settings make every task run eagerly in-process (the embedded default).
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("inflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules in sub-packages of apps, which autodiscovery of <app>.tasks does not reach.
app.autodiscover_tasks(["receivables.reporting", "receivables.importing"])


@task_prerun.connect
@task_postrun.connect
def database_connections_tidy(task=None, **_kwargs) -> None:
    """Around every task on a worker, close the database connections that are past CONN_MAX_AGE or
    broken, and keep the others, as Django does around a web request. Celery's own fix-up closes every
    connection around every task unless CELERY_DB_REUSE_MAX is set (settings sets it): a new
    PostgreSQL backend per task, which on Monday morning meant one per claim and one per report.
    A task run eagerly (in-process, tests) is left alone: it runs inside its caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
