"""The dashboard: total receivables, overdue, DSO with its trend, aging by customer."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenancy.errors import DomainError
from tenancy.views import organization_required

from .. import selectors
from ..reporting.sections import sections_build
from .common import as_of_from


def _trend_bars(dso) -> list[dict]:
    """The monthly DSO trend as bars scaled to the highest month (no chart library)."""
    highest = max((p.standard for p in dso.trend if p.standard is not None), default=None)
    bars = []
    for point in dso.trend:
        height = int(point.standard / highest * 100) if highest and point.standard is not None else 0
        bars.append({"point": point, "height": max(height, 1 if point.standard else 0)})
    return bars


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
        context.update(report=report, aging=_aging_table(report), dso=dso, trend=_trend_bars(dso),
                       fx_gaps=selectors.fx_gaps_merge(report.fx_gaps, dso.fx_gaps))
    # Higher apps' panels (factoring position, insurance deadlines, forecast, provision): sections.py.
    context["sections"] = sections_build(request.organization, as_of, request.LANGUAGE_CODE, where="dashboard")
    return render(request, "receivables/dashboard.html", context)
