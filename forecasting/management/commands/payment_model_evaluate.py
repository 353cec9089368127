"""`manage.py payment_model_evaluate --organization SLUG --split-date YYYY-MM-DD`: train the payment-date
model on the invoices settled before the split, measure it and the baseline on the settled invoices
issued on or after it. Nothing is stored."""

from __future__ import annotations

import datetime as dt
import math

from django.core.management.base import BaseCommand, CommandError

from forecasting.services import payment_model_evaluate
from tenancy.models import Organization


def _figure(value: float, places: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{places}f}"


class Command(BaseCommand):
    help = "Measure the payment-date model against the baseline on a date split."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="The organization's slug.")
        parser.add_argument("--split-date", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")

    def handle(self, *args, organization: str, split_date: dt.date, **options):
        found = Organization.objects.filter(slug=organization).first()
        if found is None:
            raise CommandError(f"No organization has the slug {organization!r}.")
        result = payment_model_evaluate(organization=found, split_date=split_date)
        write = self.stdout.write
        write(f"train invoices: {result.train_count}")
        write(f"test invoices: {result.test_count}")
        write(f"model MAE: {_figure(result.model_mae, 2)}")
        write(f"baseline MAE: {_figure(result.baseline_mae, 2)}")
        write(f"late AUC: {_figure(result.late_auc, 3)}")
        write(f"improvement: {_figure(result.improvement * 100, 1)}%")
