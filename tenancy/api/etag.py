"""ETags for optimistic concurrency: a hash of the representation the client last read.

PATCH with `If-Match` compares it under a row lock, so two writers cannot both win."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework.renderers import JSONRenderer

from .errors import PreconditionFailed


def etag_of(data: Any) -> str:
    canonical = json.dumps(json.loads(JSONRenderer().render(data)), sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def if_match_check(header: str | None, current: str) -> None:
    """Raise 412 unless If-Match is absent, `*`, or lists the current ETag (weak or strong)."""
    if header is None:
        return
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed()
