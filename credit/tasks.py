"""Scheduled credit work: the review run and the daily alert scan + digest. Thin and idempotent:
reviews are unique per customer and due date, alerts per dedupe key, a digest marks what it sent."""

from __future__ import annotations

from celery import shared_task

from tenancy.models import Organization

from . import services


@shared_task(name="credit.tasks.credit_reviews_dispatch_task")
def credit_reviews_dispatch_task() -> None:
    for organization_id in Organization.objects.values_list("pk", flat=True):
        credit_reviews_run_task.delay(organization_id)


@shared_task(name="credit.tasks.credit_reviews_run_task")
def credit_reviews_run_task(organization_id: int) -> int:
    organization = Organization.objects.get(pk=organization_id)
    return len(services.reviews_run(organization=organization))


@shared_task(name="credit.tasks.credit_alerts_dispatch_task")
def credit_alerts_dispatch_task() -> None:
    for organization_id in Organization.objects.values_list("pk", flat=True):
        credit_alerts_daily_task.delay(organization_id)


@shared_task(name="credit.tasks.credit_alerts_daily_task")
def credit_alerts_daily_task(organization_id: int) -> int:
    """Scan for alerts, then mail the digest of everything not yet sent."""
    organization = Organization.objects.get(pk=organization_id)
    services.alerts_scan(organization=organization)
    return services.alerts_digest_send(organization=organization)
