"""ETags for optimistic concurrency: a hash of the representation the client last read.

PATCH with `If-Match` compares it under a row lock, so two writers cannot both win."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework.renderers import JSONRenderer

from .errors import PreconditionFailed, PreconditionRequired


def etag_of(data: Any) -> str:
    canonical = json.dumps(json.loads(JSONRenderer().render(data)), sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def if_match_check(header: str | None, current: str, *, required: bool = False) -> None:
    """Raise 412 unless If-Match is `*` or lists the current ETag (weak or strong); an absent
    If-Match passes unless `required` (then 428)."""
    if header is None:
        if required:
            raise PreconditionRequired()
        return
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed()
