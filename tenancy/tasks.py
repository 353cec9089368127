"""Celery tasks of tenancy: webhook deliveries, the overdue-event scan, idempotency cleanup.

Thin and safe to run twice: a delivery already made or held by another worker is skipped,
overdue events are unique per invoice and due date, and purging is a plain delete."""

from __future__ import annotations

from celery import shared_task

from .models import Organization
from .webhooks import webhook_attempt, webhook_backoff


@shared_task(bind=True, acks_late=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int) -> None:
    finished, attempts = webhook_attempt(delivery_id)
    while not finished and self.request.is_eager:
        # In-process (no broker, the embedded default): nothing can wait for a countdown.
        finished, attempts = webhook_attempt(delivery_id)
    if not finished:
        raise self.retry(countdown=webhook_backoff(attempts))


@shared_task(acks_late=True)
def invoice_overdue_events_task() -> int:
    """Emit invoice.overdue once per invoice and due date, for every organization."""
    from receivables.events import invoice_overdue_events_emit

    return sum(invoice_overdue_events_emit(organization) for organization in Organization.objects.all())


@shared_task(acks_late=True)
def idempotency_purge_task() -> int:
    from .api.idempotency import idempotency_purge

    return idempotency_purge()
