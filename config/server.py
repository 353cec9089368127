"""What a server process does once the app is loaded (config.wsgi and config.asgi call it)."""

from __future__ import annotations

import gc


def server_ready() -> None:
    """Load the URL conf (and through it every view, serializer and model), then freeze what is
    loaded: it lives as long as the process, so the cyclic garbage collector need not walk it again
    on each full collection that a large request (a 10,000-row bulk upsert) triggers. The standard
    recipe for long-lived servers (see gc.freeze); the API benches call it too."""
    from django.urls import get_resolver

    from tenancy.retranslate import project_msgids

    get_resolver().url_patterns  # noqa: B018 (imports the URL conf)
    # Every message the project's code marks for translation, read from its sources once per process
    # (1.5 s of parsing on an idle core): here, not in the first request that shows stored text (a
    # worker's first customer page took 3.6 s at load 9 in bench.load, then 165 ms).
    project_msgids()
    gc.collect()
    gc.freeze()
