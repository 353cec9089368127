"""What the insurance services share: events, snapshots, content hashing."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models

from tenancy.models import Organization
from tenancy.services import canonical_json


def event(organization: Organization, type_: str, payload: dict[str, Any], *, dedupe_key: str | None = None) -> None:
    """Emit a webhook event when the type is registered (tenancy.webhooks.EVENT_TYPES)."""
    from tenancy import webhooks

    if type_ in webhooks.EVENT_TYPES:
        webhooks.event_emit(organization=organization, type=type_, payload=payload, dedupe_key=dedupe_key)


def snapshot(obj: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()
