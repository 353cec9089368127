"""Celery tasks of the weekly report: thin, take ids, safe to run twice or on two workers.

beat -> weekly_report_dispatch_task (every few minutes)
     -> weekly_report_claim_task(organization_id, week_start) for each organization due
     -> weekly_report_deliver_task(report_id), queued on commit by the claim that inserted the row
     -> weekly_report_deliver_task(report_id) again for each report whose delivery was lost
        (rendering by a worker that died, pending for long: see selectors.weekly_reports_stuck)
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from celery.signals import worker_init, worker_process_init
from django.utils import timezone

from tenancy.models import Organization

from . import pdf, selectors, services

# Exponential back-off: 1, 2, 4, 8, 16 minutes (capped at an hour), with jitter.
DELIVERY_RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task
def weekly_report_dispatch_task() -> list[list]:
    """Queue a claim for every organization whose weekly slot has come, and the delivery of
    every stuck report again (fired by beat). Returns the claims queued."""
    due = selectors.weekly_reports_due(timezone.now())
    for organization_id, week_start in due:
        weekly_report_claim_task.delay(organization_id, week_start.isoformat())
    services.weekly_reports_requeue_stuck()
    return [[org_id, week.isoformat()] for org_id, week in due]


@shared_task
def weekly_report_claim_task(organization_id: int, week_start: str) -> int | None:
    """Insert the week's report row (first caller only); its delivery is queued on commit."""
    organization = Organization.objects.get(pk=organization_id)
    report = services.weekly_report_claim(organization=organization, week_start=dt.date.fromisoformat(week_start))
    return report.pk if report is not None else None


@shared_task(**DELIVERY_RETRY)
def weekly_report_deliver_task(report_id: int) -> int | None:
    """Render and mail one report; a failure is recorded on the row, then retried with back-off."""
    report = services.weekly_report_deliver(report_id=report_id)
    return report.pk if report is not None else None


@worker_init.connect
def pdf_renderer_warm_up_on_worker_start(**_kwargs) -> None:
    """A worker pays the PDF renderer's one-time costs (~0.5-1.5 s) once at start, in the parent
    so that forked children share them, not in the first report of every child."""
    pdf.pdf_renderer_warm_up()


@worker_process_init.connect
def pdf_renderer_prepare_in_child(**_kwargs) -> None:
    """Each forked child makes its own renderer (font configuration, stylesheet, fonts loaded) before
    its first task: Pango objects are never shared across the fork."""
    pdf.pdf_renderer_prepare()
