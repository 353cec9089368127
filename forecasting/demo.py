"""Forecasting's part of the demo (`manage.py seed_demo`): the payment-date model trained on the demo
ledger at seed time (as the weekly task would in the worker), every open invoice predicted, this week's
forecast snapshot (new sales at the run rate included, so the demo shows that source), and a
forward-looking overlay on the provision with its reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Min

from receivables.models import Invoice
from tenancy.dates import local_today
from tenancy.models import Membership, Organization, Role

from . import services
from .cashflow import forecast_snapshot_store
from .models import ForecastSettings


def forecasting_demo_seed(*, organization: Organization) -> dict[str, int]:
    today = local_today(organization.timezone)
    # The demo ledger is under a year old, so the rolling window (invoices issued 395-759 days ago) is
    # empty: the demo organization chooses its first half year as the loss-rate history instead.
    first_issue = Invoice.objects.filter(organization=organization).aggregate(first=Min("issue_date"))["first"] or today
    ForecastSettings.objects.update_or_create(organization=organization, defaults={
        "include_new_sales": True, "history_from": first_issue,
        "history_to": max(first_issue, min(first_issue + dt.timedelta(days=182), today - dt.timedelta(days=90)))})
    stored = services.payment_model_train(organization=organization)
    predicted = services.predictions_refresh(organization=organization, as_of=today)
    forecast_snapshot_store(organization=organization, as_of=today)
    services.loss_rates_calibrate(organization=organization, as_of=today)  # as the daily task does
    manager = (Membership.objects.filter(organization=organization, role__in=[Role.CREDIT_MANAGER, Role.ADMIN])
               .select_related("user").order_by("role", "pk").first())
    services.provision_overlay_set(
        organization=organization, actor=manager.user if manager else None, bucket_key="d1_30",
        multiplier=Decimal("1.1500"), effective_from=today.replace(day=1),
        reason="行业回款放缓，前瞻性上调 15% / sector payments slowing: forward-looking +15%")
    return {"model_version": stored.version, "predictions": predicted}
