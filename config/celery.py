"""The Celery application.

With REDIS_URL set, tasks go to Redis and run on `celery -A config worker`; without it,
settings make every task run eagerly in-process (the embedded default).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("inflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules in sub-packages of apps, which autodiscovery of <app>.tasks does not reach.
app.autodiscover_tasks(["receivables.reporting", "receivables.importing"])
