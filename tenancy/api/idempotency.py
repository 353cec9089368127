"""Idempotency-Key on POST: the first response is stored and replayed to retries.

Claiming a key is inserting an IdempotencyRecord (committed at once, so a concurrent request
with the same key sees it and gets 409). The work and the stored response then commit in one
transaction: a crash between them rolls both back, so a stale claim can be taken over safely.
Only successful responses are kept; a rejected request releases the key, so a corrected retry
with the same key runs.

The fingerprint covers the caller too (the API key, or the signed-in user): a replay answers
only the caller whose request ran, after its scope and role checks. Another caller sending the
same key gets 422 `idempotency_key_mismatch`, as for a different body, and nothing runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from tenancy.models import IdempotencyRecord, IdempotencyState, Organization

from .errors import IdempotencyKeyInUse, IdempotencyKeyMismatch

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "ETag")
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


def idempotency_key_parse(raw: str) -> str:
    if not KEY_PATTERN.match(raw):
        raise exceptions.ValidationError(
            {HEADER: [_("An Idempotency-Key is 1 to 255 printable ASCII characters without spaces.")]})
    return raw


def request_fingerprint(method: str, path: str, body: bytes, *, principal: str) -> str:
    """The request's identity: who sent it (`principal`, e.g. "api-key:12" or "user:7"), method,
    full path and body (JSON compared by content, not spacing)."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(b"\n".join([principal.encode(), method.encode(), path.encode(), canonical])).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    return Response(record.response_body, status=record.status_code,
                    headers={**record.response_headers, REPLAY_HEADER: "true"})


def idempotency_claim(*, organization: Organization, key: str,
                      fingerprint: str) -> tuple[IdempotencyRecord | None, Response | None]:
    """Claim `key` for this request (record, None), or answer it from an earlier one (None, replay).

    Raises 422 when the key was used for a different request and 409 while it is in progress."""
    ttl = dt.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    lock = dt.timedelta(seconds=settings.API_IDEMPOTENCY_LOCK_SECONDS)
    for _attempt in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(organization=organization, key=key, fingerprint=fingerprint,
                                                        created_at=now), None
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(organization=organization, key=key).first()
        if existing is None:
            continue  # released in the meantime
        if existing.created_at < now - ttl:
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyMismatch()
        if existing.state == IdempotencyState.COMPLETED:
            return None, _replay(existing)
        if existing.created_at < now - lock:
            # The claimant died; its work rolled back with its unfinished record (see module doc).
            taken = IdempotencyRecord.objects.filter(pk=existing.pk, state=IdempotencyState.IN_PROGRESS,
                                                     created_at=existing.created_at).update(created_at=now)
            if taken:
                existing.created_at = now
                return existing, None
            continue
        raise IdempotencyKeyInUse()
    raise IdempotencyKeyInUse()


def idempotency_complete(record: IdempotencyRecord, response: Response) -> None:
    """Store the response, in the transaction of the work it answers."""
    body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyState.COMPLETED, status_code=response.status_code, response_body=body,
        response_headers=headers)


def idempotency_release(record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed (nothing was written), so a retry can run."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyState.IN_PROGRESS).delete()


def idempotency_purge(*, now: dt.datetime | None = None) -> int:
    """Delete records past their replay window (a beat task runs this hourly)."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    deleted, _detail = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
