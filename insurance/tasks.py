"""Scheduled insurance work, thin and idempotent: the daily deadline run (warnings unique per dedupe
key) and polling the insurer's API for submitted cover requests."""

from __future__ import annotations

from celery import shared_task

from tenancy.models import Organization

from . import services
from .models import Policy


@shared_task(name="insurance.tasks.insurance_deadlines_dispatch_task")
def insurance_deadlines_dispatch_task() -> None:
    for organization_id in Policy.objects.values_list("organization_id", flat=True).distinct():
        insurance_deadlines_daily_task.delay(organization_id)


@shared_task(name="insurance.tasks.insurance_deadlines_daily_task")
def insurance_deadlines_daily_task(organization_id: int) -> int:
    """Recompute every insured invoice's deadlines and raise the warnings due today."""
    organization = Organization.objects.get(pk=organization_id)
    services.cover_requests_poll(organization=organization)
    return len(services.deadline_warnings_run(organization=organization))
