"""Celery tasks of dunning: thin, take ids, safe to run twice or on two workers.

beat -> dunning_dispatch_task (every few minutes)
     -> dunning_run_task(organization_id, day) for each organization whose local day has
        reached DUNNING_RUN_HOUR and has no finished run for that day
     -> dunning_messages_send_task(ids), queued on commit by the run
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from tenancy.models import Organization

from . import services
from .models import DunningRun, RunStatus
from .services.worklist import collection_tasks_refresh

SEND_RETRY = {"autoretry_for": (Exception,), "retry_backoff": 60, "retry_backoff_max": 3600, "retry_jitter": True,
              "max_retries": services.MAX_SEND_ATTEMPTS - 1}


def organizations_due(now: dt.datetime) -> list[tuple[int, dt.date]]:
    """(organization id, local date) of every organization whose run hour has come today."""
    hour = settings.DUNNING_RUN_HOUR
    done = set(DunningRun.objects.filter(status=RunStatus.DONE, run_date__gte=(now - dt.timedelta(days=1)).date())
               .values_list("organization_id", "run_date"))
    due = []
    for org_id, tz_name in Organization.objects.values_list("pk", "timezone"):
        local = now.astimezone(zoneinfo.ZoneInfo(tz_name))
        if local.hour >= hour and (org_id, local.date()) not in done:
            due.append((org_id, local.date()))
    return due


@shared_task
def dunning_dispatch_task() -> list[list]:
    """Queue the daily run of every organization whose local run hour has come (fired by beat)."""
    due = organizations_due(timezone.now())
    for org_id, day in due:
        dunning_run_task.delay(org_id, day.isoformat())
    return [[org_id, day.isoformat()] for org_id, day in due]


@shared_task
def dunning_run_task(organization_id: int, day: str | None = None) -> int | None:
    """Run one organization's dunning for `day` (a concurrent duplicate is refused by the DB), then give
    every customer with overdue items a call task (the morning's queue; idempotent)."""
    organization = Organization.objects.get(pk=organization_id)
    try:
        run = services.dunning_run(organization=organization, today=dt.date.fromisoformat(day) if day else None)
    except IntegrityError:
        return None  # another worker recorded the same notices first: nothing to do
    collection_tasks_refresh(organization=organization, today=run.run_date)
    return run.pk


@shared_task(**SEND_RETRY)
def dunning_messages_send_task(message_ids: list[int]) -> list[int]:
    """Send recorded messages; each is claimed first, so a retried batch skips what went out."""
    sent, failed = [], None
    for message_id in message_ids:
        try:
            if services.dunning_message_send(message_id=message_id) is not None:
                sent.append(message_id)
        except Exception as exc:  # keep sending the rest; retry the batch (claims skip the sent ones)
            failed = exc
    if failed is not None:
        raise failed
    return sent
