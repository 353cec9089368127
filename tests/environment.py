"""Loaded as a pytest plugin (`-p tests.environment` in pyproject.toml), i.e. before
pytest-django imports the settings, so a bare `pytest` runs like `make test`: on PostgreSQL
and Redis for real, with Celery eager unless a test starts real workers itself."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/inflow")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DEBUG", "true")
# The in-process scheduler is for `make run`; a live-server test loads config.wsgi and must not start it.
os.environ.setdefault("EMBEDDED_SCHEDULER", "false")
