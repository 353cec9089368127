"""The embedded scheduler: Celery beat's schedule, run in-process when there is no broker.

In the production shape `celery -A config beat` fires CELERY_BEAT_SCHEDULE into Redis and
workers run the tasks. In the embedded default (no REDIS_URL, tasks eager) there is no beat
process, so the web process starts this thread instead: it checks the same schedule entries
every few seconds and applies each due task in-process. Tasks are idempotent (the weekly report
claims its week with a unique row), so two web processes each running a scheduler still
produce every report once.

Started from config/wsgi.py (runserver and gunicorn both load it); never in tests or workers.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from celery.schedules import maybe_schedule
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

_started = threading.Event()


def scheduler_enabled() -> bool:
    """On when tasks run eagerly (no broker to send them to), unless EMBEDDED_SCHEDULER=false."""
    return (bool(settings.EMBEDDED_SCHEDULER) and bool(settings.CELERY_TASK_ALWAYS_EAGER)
            and bool(settings.CELERY_BEAT_SCHEDULE))


class EmbeddedScheduler:
    """Beat's bookkeeping for each entry (last run, is it due), without a broker."""

    def __init__(self, entries: dict):
        from config.celery import app

        app.loader.import_default_modules()  # register every task, as a worker would
        self.entries = {name: (entry, maybe_schedule(entry["schedule"])) for name, entry in entries.items()}
        # Interval entries fire at once on start-up (a demo sees work soon), then every interval.
        self.last_run = {name: timezone.now() - getattr(schedule, "run_every", dt.timedelta(0))
                         for name, (_entry, schedule) in self.entries.items()}

    def tick(self) -> float:
        """Apply every due entry; return seconds until the next one is due."""
        from config.celery import app

        next_in = 60.0
        for name, (entry, schedule) in self.entries.items():
            due, wait = schedule.is_due(self.last_run[name])
            if due:
                self.last_run[name] = timezone.now()
                try:
                    app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
                except Exception:  # one failing entry must not stop the others or the thread
                    logger.exception("embedded scheduler: %s failed", name)
            next_in = min(next_in, max(float(wait), 1.0))
        return next_in

    def run_forever(self) -> None:
        import django.db

        while True:
            wait = self.tick()
            django.db.close_old_connections()
            time.sleep(wait)


def scheduler_start() -> bool:
    """Start the scheduler thread once per process, if enabled; True when started now."""
    if not scheduler_enabled() or _started.is_set():
        return False
    _started.set()
    scheduler = EmbeddedScheduler(settings.CELERY_BEAT_SCHEDULE)
    threading.Thread(target=scheduler.run_forever, name="inflow-scheduler", daemon=True).start()
    logger.info("embedded scheduler started: %s", ", ".join(settings.CELERY_BEAT_SCHEDULE))
    return True
