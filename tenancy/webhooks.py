"""Events out: record an event, deliver it to the organization's endpoints, signed.

`event_emit` writes the event and its deliveries in the caller's transaction and queues the
deliveries when it commits, so a rolled-back write sends nothing. Each delivery is a POST of

    {"id": "<uuid>", "type": "invoice.paid", "created_at": "...", "organization": 7, "data": {...}}

with `Inflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, retried
with exponential back-off by `tenancy.tasks.webhook_deliver_task` until a 2xx or
WEBHOOK_MAX_ATTEMPTS. The event id is stable across retries and redeliveries: receivers
deduplicate on it."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .db import objects_insert
from .errors import DomainError, ErrorCode
from .models import Organization, Role, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEvent
from .services import Actor, audit_record, role_require

EVENT_TYPES = (
    "invoice.created",
    "invoice.updated",
    "invoice.overdue",
    "invoice.paid",
    "payment.received",
    "customer.updated",
    "credit.limit_changed",
    "credit.alert",
    "dispute.opened",
    "dispute.resolved",
    "promise.broken",
    "dunning.sent",
)
SIGNATURE_HEADER = "Inflow-Signature"
EVENT_ID_HEADER = "Inflow-Event-Id"
EVENT_TYPE_HEADER = "Inflow-Event-Type"
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_BACKOFF_SECONDS = 6 * 3600
USER_AGENT = "Inflow-Webhooks/1.0"


# --- signing -----------------------------------------------------------------------------------

def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Inflow-Signature header value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def webhook_signature_verify(secret: str, header: str, body: bytes, *, now: float | None = None,
                             tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver does (the README has the same code): recompute, compare in constant
    time, and refuse old timestamps so a captured request cannot be replayed later."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


# --- events --------------------------------------------------------------------------------------

_ENCODER = DjangoJSONEncoder()  # reused: json.dumps(cls=...) builds one per call


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(_ENCODER.encode(payload))


def event_emit(*, organization: Organization, type: str, payload: dict[str, Any],
               dedupe_key: str | None = None) -> WebhookEvent | None:
    """Record an event in the caller's transaction and queue its deliveries on commit.

    With `dedupe_key`, a second event with the same key is not recorded (returns None)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}")
    event = WebhookEvent(organization=organization, event_id=uuid.uuid4(), type=type, payload=_jsonable(payload),
                         dedupe_key=dedupe_key, created_at=timezone.now())
    if dedupe_key is None:
        event.save()
    else:
        try:
            with transaction.atomic():  # a savepoint: a duplicate must not break the caller's transaction
                event.save()
        except IntegrityError:
            return None
    endpoints = [e for e in WebhookEndpoint.objects.filter(organization=organization, is_active=True) if e.wants(type)]
    if endpoints:
        deliveries = WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(organization=organization, endpoint=endpoint, event=event) for endpoint in endpoints])
        _queue([delivery.pk for delivery in deliveries])
    return event


def events_emit(*, organization: Organization, type: str, payloads: list[dict[str, Any]],
                batch_size: int = 2000, json_ready: bool = False) -> list[WebhookEvent]:
    """event_emit for many events of one type: a fixed number of statements however many there are.

    `json_ready`: the payloads hold only JSON types already (as the API's representations do), so
    they are stored as they are; anything else would fail to encode rather than be stored changed."""
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}")
    now = timezone.now()
    events = objects_insert(
        [WebhookEvent(organization=organization, event_id=uuid.uuid4(), type=type,
                      payload=payload if json_ready else _jsonable(payload), created_at=now)
         for payload in payloads], batch_size=batch_size)
    endpoints = [e for e in WebhookEndpoint.objects.filter(organization=organization, is_active=True) if e.wants(type)]
    if endpoints and events:
        deliveries = objects_insert(
            [WebhookDelivery(organization=organization, endpoint=endpoint, event=event)
             for event in events for endpoint in endpoints], batch_size=batch_size)
        _queue([delivery.pk for delivery in deliveries])
    return events


def _queue(delivery_ids: list[int]) -> None:
    from .tasks import webhook_deliver_task

    transaction.on_commit(lambda: [webhook_deliver_task.delay(pk) for pk in delivery_ids])


def event_envelope(event: WebhookEvent) -> dict[str, Any]:
    return {"id": str(event.event_id), "type": event.type, "created_at": event.created_at.isoformat(),
            "organization": event.organization_id, "data": event.payload}


# --- delivery ------------------------------------------------------------------------------------

def webhook_backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: base, 2x base, 4x base... capped at 6 hours."""
    return min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def webhook_attempt(delivery_id: int) -> tuple[bool, int]:
    """Make one delivery attempt. Returns (finished, attempts): finished when delivered, given
    up, or not ours to do (already delivered, or another worker holds it)."""
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("endpoint", "event").filter(pk=delivery_id).first())
        if delivery is None or delivery.status != WebhookDeliveryStatus.PENDING:
            return True, delivery.attempts if delivery else 0
        body = json.dumps(event_envelope(delivery.event), separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: str(delivery.event.event_id),
            EVENT_TYPE_HEADER: delivery.event.type,
            SIGNATURE_HEADER: webhook_signature(delivery.endpoint.secret, int(time.time()), body),
        }
        started = time.monotonic()
        code, error = _post(delivery.endpoint.url, body, headers)
        latency_ms = int((time.monotonic() - started) * 1000)
        now = timezone.now()
        delivery.attempts += 1
        delivery.response_code, delivery.latency_ms, delivery.error = code, latency_ms, error
        delivery.last_attempt_at = now
        delivery.attempt_log = [*delivery.attempt_log, {"at": now.isoformat(), "response_code": code,
                                                        "latency_ms": latency_ms, "error": error}][-20:]
        if code is not None and 200 <= code < 300:
            delivery.status, delivery.delivered_at = WebhookDeliveryStatus.SUCCEEDED, now
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDeliveryStatus.FAILED
        delivery.save()
        return delivery.status != WebhookDeliveryStatus.PENDING, delivery.attempts


# --- endpoints (admins) --------------------------------------------------------------------------

def _event_types_check(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise DomainError(_("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}, field="event_types")
    return sorted(set(event_types))


@transaction.atomic
def webhook_endpoint_create(*, organization: Organization, actor: Actor, url: str, event_types: list[str],
                            description: str = "") -> WebhookEndpoint:
    """Register an endpoint (admins only) with a new signing secret."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise DomainError(_("Enter an http:// or https:// URL."), field="url") from None
    endpoint = WebhookEndpoint.objects.create(
        organization=organization, url=url, description=description.strip()[:200],
        secret="whsec_" + secrets.token_urlsafe(32), event_types=_event_types_check(event_types))
    audit_record(organization=organization, actor=actor, action="webhook_endpoint.created", obj=endpoint,
                 after={"url": url, "event_types": endpoint.event_types})
    return endpoint


@transaction.atomic
def webhook_endpoint_set_active(*, organization: Organization, actor: Actor, endpoint: WebhookEndpoint,
                                active: bool) -> WebhookEndpoint:
    """Pause or resume an endpoint (admins only); a paused endpoint gets no new deliveries."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    if endpoint.organization_id != organization.pk:
        raise DomainError(_("Not found."), code=ErrorCode.NOT_FOUND)
    if endpoint.is_active != active:
        endpoint.is_active = active
        endpoint.save(update_fields=["is_active"])
        audit_record(organization=organization, actor=actor, action="webhook_endpoint.updated", obj=endpoint,
                     after={"is_active": active})
    return endpoint


@transaction.atomic
def webhook_redeliver(*, organization: Organization, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (same event id), with a fresh set of attempts (admins only)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    if delivery.organization_id != organization.pk:
        raise DomainError(_("Not found."), code=ErrorCode.NOT_FOUND)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status, delivery.attempts = WebhookDeliveryStatus.PENDING, 0
    delivery.save(update_fields=["status", "attempts"])
    audit_record(organization=organization, actor=actor, action="webhook_delivery.redelivered", obj=delivery,
                 after={"event": str(delivery.event.event_id)})
    _queue([delivery.pk])
    return delivery
