"""Events out: record an event, deliver it to the organization's endpoints, signed.

`event_emit` writes the event and its deliveries in the caller's transaction and queues the
deliveries when it commits, so a rolled-back write sends nothing. Each delivery is a POST of

    {"id": "<uuid>", "type": "invoice.paid", "created_at": "...", "organization": 7, "data": {...}}

with `Inflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, retried
with exponential back-off until a 2xx or WEBHOOK_MAX_ATTEMPTS: by `webhook_deliver_task`
scheduling its own retry on a worker, and by the periodic `webhook_deliveries_retry_task`
(the only retries when tasks run in-process, where nothing can wait for a countdown). The
event id is stable across retries and redeliveries: receivers deduplicate on it. Where a
delivery may be sent, and how, is tenancy.webhook_transport."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .db import RawJson, objects_insert, rows_insert
from .errors import DomainError, ErrorCode
from .models import Organization, Role, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEvent
from .services import Actor, audit_record, canonical_json, jsonable, role_require
from .webhook_transport import AddressRefused, url_addresses, webhook_post

EVENT_TYPES = (
    "invoice.created",
    "invoice.updated",
    "invoice.overdue",
    "invoice.paid",
    "invoice.settled",
    "invoice.reopened",
    "payment.received",
    "payment.reversed",
    "payment.refunded",
    "credit_note.reversed",
    "write_off.reversed",
    "customer.updated",
    "credit.limit_changed",
    "credit.alert",
    "dispute.opened",
    "dispute.resolved",
    "promise.broken",
    "dunning.sent",
    "insurance.cover_decided",
    "insurance.declared",
    "insurance.deadline_warning",
    "insurance.cover_lost",
    "insurance.claim_updated",
    "factoring.assignment_created",
    "factoring.assignment_funded",
    "factoring.reserve_released",
    "factoring.invoice_repurchased",
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

def event_emit(*, organization: Organization, type: str, payload: dict[str, Any],
               dedupe_key: str | None = None) -> WebhookEvent | None:
    """Record an event in the caller's transaction and queue its deliveries on commit.

    With `dedupe_key`, a second event with the same key is not recorded (returns None)."""
    _type_check(type)
    event = WebhookEvent(organization=organization, event_id=event_ids(1)[0], type=type, payload=jsonable(payload),
                         dedupe_key=dedupe_key, created_at=timezone.now())
    if dedupe_key is None:
        event.save()
    else:
        try:
            with transaction.atomic():  # a savepoint: a duplicate must not break the caller's transaction
                event.save()
        except IntegrityError:
            return None
    _deliveries_queue(organization, type, [event.pk])
    return event


def _type_check(type: str) -> None:
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}")


def _deliveries_queue(organization: Organization, type: str, event_pks: list[int], batch_size: int = 2000) -> None:
    """One delivery per (event, active endpoint that wants `type`), sent once the transaction commits."""
    endpoints = [e for e in WebhookEndpoint.objects.filter(organization=organization, is_active=True) if e.wants(type)]
    if endpoints and event_pks:
        deliveries = objects_insert(
            [WebhookDelivery(organization=organization, endpoint=endpoint, event_id=event_pk)
             for event_pk in event_pks for endpoint in endpoints], batch_size=batch_size)
        _queue([delivery.pk for delivery in deliveries])


def event_ids(count: int) -> list[str]:
    """`count` new event ids: UUIDs of version 7 (RFC 9562), a millisecond timestamp then 74 random
    bits. Time-ordered, so the unique index on event_id grows at its end as the id index does,
    instead of touching a random page per event; drawn from one call to the OS's random source."""
    stamp = f"{time.time_ns() // 1_000_000:012x}"
    random = os.urandom(10 * count).hex()
    ids = []
    for start in range(0, 20 * count, 20):
        bits = random[start:start + 20]
        variant = "89ab"[int(bits[3], 16) & 3]  # 10xx: the RFC's variant
        ids.append(f"{stamp[:8]}-{stamp[8:]}-7{bits[:3]}-{variant}{bits[4:7]}-{bits[7:19]}")
    return ids


def events_emit(*, organization: Organization, type: str, payloads: Iterable[dict[str, Any]],
                count: int | None = None, batch_size: int = 2000, json_ready: bool = False) -> list[int]:
    """event_emit for many events of one type: a fixed number of statements however many there are.
    Returns the events' ids, in order.

    `json_ready`: the payloads hold only JSON types already (as the API's representations do), so
    they are stored as they are; anything else would fail to encode rather than be stored changed.
    With `count`, `payloads` may be lazy (exactly `count` of them), each made as its row is stored."""
    _type_check(type)
    if count is None:
        payloads = list(payloads)
        count = len(payloads)
    now = timezone.now()
    encode = orjson.dumps if json_ready else canonical_json
    ids = rows_insert(WebhookEvent, ("organization_id", "event_id", "type", "payload", "dedupe_key", "created_at"),
                      ((organization.pk, event_id, type, RawJson(encode(payload).decode()), None, now)
                       for event_id, payload in zip(event_ids(count), payloads, strict=True)),
                      count=count, batch_size=batch_size)
    _deliveries_queue(organization, type, ids, batch_size)
    return ids


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


def webhook_due(delivery: WebhookDelivery, now: dt.datetime) -> bool:
    """Whether the next attempt of a pending delivery may be made at `now`: the first at once,
    each later one when the back-off after the previous attempt has run out."""
    if delivery.attempts == 0 or delivery.last_attempt_at is None:
        return True
    return delivery.last_attempt_at + dt.timedelta(seconds=webhook_backoff(delivery.attempts)) <= now


def webhook_deliveries_due(*, now: dt.datetime, limit: int = 100) -> list[int]:
    """Ids of pending deliveries whose next attempt is due (webhook_due) and that no worker holds,
    oldest attempt first: what the retry sweep picks up."""
    due = Q(attempts=0)
    for attempts in range(1, settings.WEBHOOK_MAX_ATTEMPTS):
        wait = webhook_backoff(attempts)
        if wait >= MAX_BACKOFF_SECONDS:  # from here on the wait is the cap: one condition for the rest
            due |= Q(attempts__gte=attempts, last_attempt_at__lte=now - dt.timedelta(seconds=wait))
            break
        due |= Q(attempts=attempts, last_attempt_at__lte=now - dt.timedelta(seconds=wait))
    return list(
        WebhookDelivery.objects.filter(due, status=WebhookDeliveryStatus.PENDING,
                                       attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .order_by(F("last_attempt_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit])


def _lease_seconds() -> float:
    # Longer than one attempt can take (resolve, connect to each address, send, read the status),
    # so a lease only runs out when its worker died; then the next claim may go ahead.
    return 4 * settings.WEBHOOK_TIMEOUT_SECONDS + 30


@dataclass(frozen=True)
class AttemptOutcome:
    attempted: bool  # an HTTP request was made now (False: not due, held by another worker, or done)
    finished: bool  # delivered or given up: no attempt will follow
    attempts: int


def _claim(delivery_id: int) -> tuple[WebhookDelivery | None, AttemptOutcome | None]:
    """Take a short lease on a due pending delivery: (delivery, None), or (None, why not)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
                    .select_related("endpoint", "event").filter(pk=delivery_id).first())
        if delivery is None:  # gone, or its row is locked by another worker's claim this instant
            return None, AttemptOutcome(attempted=False, finished=not WebhookDelivery.objects.filter(
                pk=delivery_id).exists(), attempts=0)
        if delivery.status != WebhookDeliveryStatus.PENDING:
            return None, AttemptOutcome(attempted=False, finished=True, attempts=delivery.attempts)
        held = delivery.leased_until is not None and delivery.leased_until > now
        if held or not webhook_due(delivery, now):
            return None, AttemptOutcome(attempted=False, finished=False, attempts=delivery.attempts)
        delivery.leased_until = now + dt.timedelta(seconds=_lease_seconds())
        delivery.save(update_fields=["leased_until"])
    return delivery, None


def webhook_attempt(delivery_id: int) -> AttemptOutcome:
    """Make one delivery attempt, if it is due and no other worker holds it.

    The row is locked only to claim it (a lease) and to record the result: the HTTP request,
    up to WEBHOOK_TIMEOUT_SECONDS per step, runs with no transaction open."""
    delivery, skipped = _claim(delivery_id)
    if delivery is None:
        return skipped
    lease = delivery.leased_until
    body = json.dumps(event_envelope(delivery.event), separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: str(delivery.event.event_id),
        EVENT_TYPE_HEADER: delivery.event.type,
        SIGNATURE_HEADER: webhook_signature(delivery.endpoint.secret, int(time.time()), body),
    }
    started = time.monotonic()
    code, error = webhook_post(delivery.endpoint.url, body, headers)
    latency_ms = int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(of=("self",), no_key=True).get(pk=delivery_id)
        now = timezone.now()
        delivery.attempts += 1
        delivery.response_code, delivery.latency_ms, delivery.error = code, latency_ms, error
        delivery.last_attempt_at = now
        delivery.attempt_log = [*delivery.attempt_log, {"at": now.isoformat(), "response_code": code,
                                                        "latency_ms": latency_ms, "error": error}][-20:]
        if delivery.leased_until == lease:  # not taken over meanwhile (only after a lease ran out)
            delivery.leased_until = None
        if delivery.status == WebhookDeliveryStatus.PENDING:
            if code is not None and 200 <= code < 300:
                delivery.status, delivery.delivered_at = WebhookDeliveryStatus.SUCCEEDED, now
            elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
                delivery.status = WebhookDeliveryStatus.FAILED
        delivery.save()
    return AttemptOutcome(attempted=True, finished=delivery.status != WebhookDeliveryStatus.PENDING,
                          attempts=delivery.attempts)


# --- endpoints (admins) --------------------------------------------------------------------------

def _url_check(url: str) -> None:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise DomainError(_("Enter an http:// or https:// URL."), field="url") from None
    try:
        url_addresses(url)
    except AddressRefused:
        raise DomainError(_("Webhooks go to public addresses only: this URL's host is, or resolves to, a private, "
                            "loopback, link-local, reserved or multicast address."), field="url") from None
    except OSError:
        pass  # does not resolve now: checked again before every attempt


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
    _url_check(url)
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
    delivery = WebhookDelivery.objects.select_for_update(no_key=True).get(pk=delivery.pk)
    delivery.status, delivery.attempts = WebhookDeliveryStatus.PENDING, 0
    delivery.save(update_fields=["status", "attempts"])
    audit_record(organization=organization, actor=actor, action="webhook_delivery.redelivered", obj=delivery,
                 after={"event": str(delivery.event.event_id)})
    _queue([delivery.pk])
    return delivery
