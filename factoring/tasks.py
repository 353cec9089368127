"""Scheduled factoring work: the automatic repurchase of recourse invoices unpaid N days after
due, and the advances of silently financed invoices the customer paid to us. Thin and
idempotent: a line that ended is never ended twice."""

from __future__ import annotations

from celery import shared_task

from tenancy.models import Organization

from . import services
from .models import Facility


@shared_task(name="factoring.tasks.factoring_daily_dispatch_task")
def factoring_daily_dispatch_task() -> None:
    for organization_id in Facility.objects.values_list("organization_id", flat=True).distinct():
        factoring_daily_task.delay(organization_id)


@shared_task(name="factoring.tasks.factoring_daily_task")
def factoring_daily_task(organization_id: int) -> dict[str, int]:
    organization = Organization.objects.get(pk=organization_id)
    settled = sum(services.seller_collections_settle(organization=organization, actor=None, facility=facility)
                  for facility in Facility.objects.filter(organization=organization).order_by("pk"))
    return {"repurchased": services.repurchases_run(organization=organization), "settled": settled}
