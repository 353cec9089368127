"""Scheduled forecasting work, in the Celery worker (never the web request): the weekly retrain, the
daily refresh of open invoices' predictions and the weekly forecast snapshot. Thin and idempotent:
a retrain stores a new version, a refresh replaces the predictions, a snapshot is unique per week."""

from __future__ import annotations

from celery import shared_task

from tenancy.dates import local_today
from tenancy.models import Organization

from . import services


@shared_task(name="forecasting.tasks.payment_models_retrain_dispatch_task")
def payment_models_retrain_dispatch_task() -> None:
    for organization_id in Organization.objects.values_list("pk", flat=True):
        payment_model_retrain_task.delay(organization_id)


@shared_task(name="forecasting.tasks.payment_model_retrain_task", acks_late=True, time_limit=3600)
def payment_model_retrain_task(organization_id: int) -> int:
    """Train a new model version, then predict every open invoice with it."""
    organization = Organization.objects.get(pk=organization_id)
    stored = services.payment_model_train(organization=organization)
    services.predictions_refresh(organization=organization, as_of=local_today(organization.timezone))
    return stored.version


@shared_task(name="forecasting.tasks.forecast_daily_dispatch_task")
def forecast_daily_dispatch_task() -> None:
    for organization_id in Organization.objects.values_list("pk", flat=True):
        forecast_daily_task.delay(organization_id)


@shared_task(name="forecasting.tasks.forecast_daily_task", acks_late=True, time_limit=1800)
def forecast_daily_task(organization_id: int) -> int:
    """Refresh the predictions (new invoices, payments since yesterday), store this week's snapshot
    once (the first run of the week stores it; later runs find it) and calibrate today's loss rates."""
    from .cashflow import forecast_snapshot_store

    organization = Organization.objects.get(pk=organization_id)
    today = local_today(organization.timezone)
    count = services.predictions_refresh(organization=organization, as_of=today)
    forecast_snapshot_store(organization=organization, as_of=today)
    services.loss_rates_calibrate(organization=organization, as_of=today)
    return count
