"""The dashboard: total receivables, overdue, DSO with its trend, aging by customer; the charts' figures
(drawn by static/js/charts.js from each chart's json_script)."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tenancy.errors import DomainError
from tenancy.money import quantize
from tenancy.views import organization_required, paginate

from .. import selectors
from ..reporting.sections import sections_build
from .common import as_of_from


def _aging_chart(report) -> dict:
    """The totals by bucket for the chart (amounts as exact decimal strings, labels translated)."""
    labels = [bucket.label if bucket.key == "current" else _("%(range)s days overdue") % {"range": bucket.label}
              for bucket in report.buckets]
    return {"keys": [bucket.key for bucket in report.buckets], "labels": labels,
            "short_labels": [bucket.label for bucket in report.buckets], "axis": _("Days overdue"),
            "values": [quantize(value, report.currency) for value in report.totals],
            "currency": report.currency, "series": _("Amount")}


def _dso_chart(dso) -> dict:
    """The DSO trend at each month end, on the headline's measures: the last point is the headline figure."""
    return {"dates": [point.period_end for point in dso.trend],
            "standard": [point.period_standard for point in dso.trend],
            "countback": [point.countback for point in dso.trend],
            "names": {"standard": pgettext("DSO method", "Standard"), "countback": pgettext("DSO method", "Countback")},
            "unit": _("days")}


def _aging_table(report) -> dict:
    rows = [
        {"customer_id": row.customer_id, "name": row.customer_name, "total": row.total,
         "cells": list(zip(report.buckets, row.amounts, strict=True))}
        for row in report.rows
    ]
    total = report.total
    shares = [(value / total * 100).quantize(Decimal("0.1")) if total else None for value in report.totals]
    return {"rows": rows, "totals": list(zip(report.buckets, report.totals, strict=True)),
            "summary": list(zip(report.buckets, report.totals, shares, strict=True))}


@organization_required
def dashboard(request: HttpRequest) -> HttpResponse:
    as_of, as_of_form = as_of_from(request)
    context = {"as_of": as_of, "as_of_form": as_of_form}
    try:
        report = selectors.aging_report(request.organization, as_of, lenient=True, unrealized=True)
        dso = selectors.dso_report(request.organization, as_of)
    except DomainError as exc:  # nothing left that should raise, but never fail the whole page
        context["report_error"] = exc.message
    else:
        context.update(report=report, aging=_aging_table(report), dso=dso,
                       aging_chart=_aging_chart(report), dso_chart=_dso_chart(dso),
                       fx_gaps=selectors.fx_gaps_merge(report.fx_gaps, dso.fx_gaps))
    if "aging" in context:  # aging by customer a page at a time; the totals stay over every customer
        context["aging_page"] = paginate(request, context["aging"]["rows"])
    # Higher apps' panels (factoring position, insurance deadlines, forecast, provision): sections.py.
    context["sections"] = sections_build(request.organization, as_of, request.LANGUAGE_CODE, where="dashboard")
    return render(request, "receivables/dashboard.html", context)
