"""The forecast and provision in the weekly PDF and on the dashboard (receivables.reporting.sections),
and each open invoice's expected date beside it on the ledger's pages (receivables.markers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.models import Organization

from .models import InvoicePrediction, PaymentModel


def forecast_section(organization: Organization, as_of: dt.date, language: str) -> dict | None:
    from .cashflow import cash_forecast
    from .charts import band_chart, band_chart_data
    from .provisions import provision_matrix

    # Nothing to add before forecasting has run for the organization (no model, no stored prediction).
    if not (PaymentModel.objects.filter(organization=organization).exists()
            or InvoicePrediction.objects.filter(organization=organization).exists()):
        return None
    forecast = cash_forecast(organization, as_of=as_of)
    provision = provision_matrix(organization, as_of=as_of)
    if not forecast.open_balance and not provision.total_balance:
        return None
    return {"forecast": forecast, "provision": provision, "chart": band_chart(forecast.weeks),
            "chart_data": band_chart_data(forecast.weeks, forecast.currency),
            "next_four": sum((w.p50 for w in forecast.weeks[:4]), Decimal(0))}


def prediction_markers(organization: Organization, invoice_ids: list[int]) -> dict:
    from receivables.markers import InvoiceMarker

    found = {}
    for invoice_id, expected, p10, p90, late in InvoicePrediction.objects.filter(
            organization=organization, invoice_id__in=invoice_ids).values_list(
            "invoice_id", "expected_date", "p10_date", "p90_date", "probability_late"):
        label = _("Expected %(date)s (%(p10)s – %(p90)s), %(late)s%% likely late") % {
            "date": expected.isoformat(), "p10": p10.isoformat(), "p90": p90.isoformat(),
            "late": f"{late * 100:.0f}"}
        found[invoice_id] = [InvoiceMarker(label, reverse("forecasting:invoice", args=[invoice_id]))]
    return found


def register() -> None:
    from receivables.markers import invoice_marker_source_register
    from receivables.reporting.sections import ReportSection, section_register

    invoice_marker_source_register(prediction_markers)
    section_register(ReportSection(key="forecasting", order=70, build=forecast_section,
                                   template="forecasting/weekly_section.html",
                                   dashboard_template="forecasting/dashboard_section.html"))

