"""Queue an importer task once the caller's transaction commits, without ever holding a request.

With a worker (REDIS_URL set) the task goes to Celery. On the embedded default (no Redis,
CELERY_TASK_ALWAYS_EAGER) `.delay()` would run the task inside the request that queued it, so a
100,000-row file would hold the upload for tens of seconds: there the task runs in a thread of
the same process instead, and reports its progress to the local-memory cache that the polling
page reads. IMPORT_TASKS_IN_THREAD (default: eager mode without Redis) chooses; tests that drive
tasks by hand leave it off and run the queued callbacks themselves."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connections, transaction
from django.utils import translation

logger = logging.getLogger(__name__)


def in_thread() -> bool:
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    return bool(getattr(settings, "IMPORT_TASKS_IN_THREAD", not settings.REDIS_URL))


def task_enqueue(task, job_id: int) -> None:
    """Run `task(job_id, language)` after commit: on a worker, or in a thread on the embedded default."""
    language = translation.get_language() or settings.LANGUAGE_CODE  # messages the task stores, in the user's language
    if in_thread():
        transaction.on_commit(lambda: threading.Thread(
            target=_run, args=(task, job_id, language), name=f"inflow-import-{job_id}", daemon=True).start())
    else:
        transaction.on_commit(lambda: task.delay(job_id, language))


def _run(task, job_id: int, language: str) -> None:
    try:
        task.apply(args=(job_id, language))
    except Exception:  # the task records its own failure on the job; never kill the server thread
        logger.exception("import task %s for job %s failed", task.name, job_id)
    finally:
        connections.close_all()  # this thread's connections; the server's own are untouched
