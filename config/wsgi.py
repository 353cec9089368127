import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# The embedded default has no beat process: run the schedule in this process (no-op with Redis).
from config.scheduler import scheduler_start  # noqa: E402

scheduler_start()

# Last: what is loaded by now stays for the process's life.
from config.server import server_ready  # noqa: E402

server_ready()
