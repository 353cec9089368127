"""Issue 14 item 5 / issue 17 item 2: the cash forecast's chart figures (json_script) on the forecast
page and the dashboard are the forecast's figures to the cent; accuracy per horizon as a chart."""

import datetime as dt
import json
import re
from decimal import Decimal as D  # noqa: N817 - figures read like the issue

import pytest
import time_machine

from forecasting import services
from forecasting.cashflow import cash_forecast
from tests.factories import CustomerFactory, make_invoice

TODAY = dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def embedded(page: str, script_id: str):
    match = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', page, re.S)
    assert match, f"no json_script {script_id}"
    return json.loads(match.group(1))


@pytest.fixture
def open_invoices(organization):
    steady = CustomerFactory(organization=organization, name="Steady", currency="CNY")
    late = CustomerFactory(organization=organization, name="Late", currency="CNY")
    make_invoice(organization, steady, amount="1000.00", issue_date=dt.date(2026, 2, 8), due_date=dt.date(2026, 3, 10))
    make_invoice(organization, late, amount="2345.67", issue_date=dt.date(2026, 2, 1), due_date=dt.date(2026, 4, 2))
    make_invoice(organization, late, amount="98.76", issue_date=dt.date(2026, 2, 20), due_date=dt.date(2026, 5, 1))
    services.predictions_refresh(organization=organization, as_of=dt.date(2026, 3, 4))
    return organization


def test_forecast_page_and_dashboard_embed_the_forecast_to_the_cent(client, viewer, open_invoices):
    client.force_login(viewer)
    page = client.get("/forecast/").content.decode()
    dashboard = client.get("/").content.decode()

    forecast = cash_forecast(open_invoices, as_of=dt.date(2026, 3, 4))
    for chart in (embedded(page, "forecast-chart-data"), embedded(dashboard, "forecast-dashboard-chart-data")):
        assert chart["weeks"] == [w.week_start.isoformat() for w in forecast.weeks]
        assert len(chart["weeks"]) == 13
        for key in ("p10", "p50", "p90", "baseline"):
            assert [D(v) for v in chart[key]] == [getattr(w, key).quantize(D("0.01")) for w in forecast.weeks], key
            assert all(re.fullmatch(r"-?\d+\.\d\d", v) for v in chart[key])
        assert sum(D(v) for v in chart["p50"]) + forecast.later.quantize(D("0.01")) <= D("3444.43")
        assert chart["currency"] == "CNY"
        assert chart["names"]["band"] == "P10 to P90"
    assert 'data-testid="forecast-dashboard-table"' in dashboard


def test_forecast_chart_labels_in_chinese(client, viewer, open_invoices):
    from tenancy.models import UserProfile

    UserProfile.objects.update_or_create(user=viewer, defaults={"language": "zh-hans"})
    client.force_login(viewer)
    chart = embedded(client.get("/forecast/").content.decode(), "forecast-chart-data")

    assert not re.search(r"[A-Za-z]{3,}", chart["names"]["band"] + chart["names"]["p50"] + chart["names"]["baseline"]
                         + chart["week_label"]), chart


def test_weekly_pdf_draws_the_forecast_band_as_svg(open_invoices):
    from receivables.reporting.pdf import weekly_report_pdf
    from receivables.reporting.selectors import weekly_report_data

    pdf = weekly_report_pdf(weekly_report_data(open_invoices, dt.date(2026, 3, 4)), "zh-hans")

    assert pdf.content.startswith(b"%PDF")
    section = next(s for s in weekly_report_data(open_invoices, dt.date(2026, 3, 4)).sections if s.key == "forecasting")
    assert section.context["chart"].band  # the polygon the PDF draws
