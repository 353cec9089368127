"""Celery tasks of tenancy: webhook deliveries and their retries, the overdue-event scan,
idempotency cleanup.

Thin and safe to run twice: a delivery already made, not yet due or held by another worker is
skipped, overdue events are unique per invoice and due date, and purging is a plain delete."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .models import Organization
from .webhooks import webhook_attempt, webhook_backoff, webhook_deliveries_due


@shared_task(bind=True, acks_late=True, max_retries=None)
def webhook_deliver_task(self, delivery_id: int) -> None:
    """One attempt. On a worker, a failed attempt schedules the next after its back-off; in-process
    (the embedded default, often inside a web request's on_commit) nothing can wait for a
    countdown, so the delivery stays pending for webhook_deliveries_retry_task."""
    outcome = webhook_attempt(delivery_id)
    if outcome.attempted and not outcome.finished and not self.request.is_eager:
        raise self.retry(countdown=webhook_backoff(outcome.attempts))


@shared_task(acks_late=True)
def webhook_deliveries_retry_task() -> int:
    """Queue an attempt for each pending delivery whose back-off has run out (beat, every minute)."""
    due = webhook_deliveries_due(now=timezone.now())
    for delivery_id in due:
        webhook_deliver_task.delay(delivery_id)
    return len(due)


@shared_task(acks_late=True)
def invoice_overdue_events_task() -> int:
    """Emit invoice.overdue once per invoice and due date, for every organization."""
    from receivables.events import invoice_overdue_events_emit

    return sum(invoice_overdue_events_emit(organization) for organization in Organization.objects.all())


@shared_task(acks_late=True)
def idempotency_purge_task() -> int:
    from .api.idempotency import idempotency_purge

    return idempotency_purge()


@shared_task(acks_late=True)
def audit_checkpoints_task() -> int:
    """Anchor every organization's audit chain head (a signed checkpoint when it moved)."""
    from .checkpoints import audit_checkpoint_write
    from .models import Organization

    written = 0
    for organization in Organization.objects.order_by("pk").iterator():
        written += audit_checkpoint_write(organization=organization) is not None
    return written
