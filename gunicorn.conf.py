"""gunicorn settings of the web process: one file read by every production command.

    gunicorn -c gunicorn.conf.py config.wsgi:application

(the Dockerfile, docker-compose.yml, the Procfile and bench/load.py all run exactly this; gunicorn
also reads ./gunicorn.conf.py by itself when started from the project root). A command-line option
overrides the value here (e.g. `--workers 1`), and so do the environment variables below.

Workers: sync workers, `2 x cores + 1` (gunicorn's own advice), `WEB_CONCURRENCY` to change it. A
request spends part of its time waiting on PostgreSQL (and, in the same box, PostgreSQL needs the
cores too): with one worker per core the cores idle during those waits; with 2 x cores + 1 one is
always ready to run. Measured with bench/load.py on the 2-core box: see bench/README.md, "Load test".
Sync workers because the app is CPU-bound Python (threads would share one interpreter lock) and
because Caddy, in front, hands gunicorn complete requests (no slow client holds a worker).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")


def cores() -> int:
    """The cores this process may run on (a container's cpuset, not the host's count where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return multiprocessing.cpu_count()


workers = int(os.environ.get("WEB_CONCURRENCY") or cores() * 2 + 1)
worker_class = "sync"
# The longest page (a large download) must finish inside it; gunicorn's default.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
