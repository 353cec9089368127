"""Forecasting pages through Django's test client, in English and Simplified Chinese."""

import datetime as dt

import pytest
import time_machine

from forecasting import services
from forecasting.models import ProvisionOverlay
from tests.factories import CustomerFactory, make_invoice

TODAY = dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def open_invoice(organization):
    customer = CustomerFactory(organization=organization, name="Steady", currency="CNY")
    invoice = make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2026, 2, 8),
                           due_date=dt.date(2026, 3, 10))
    services.predictions_refresh(organization=organization, as_of=dt.date(2026, 3, 4))
    return invoice


def test_forecast_page_shows_the_band_chart_and_the_table(client, viewer, open_invoice):
    client.force_login(viewer)
    page = client.get("/forecast/").content.decode()
    assert 'data-testid="forecast-chart"' in page and '<script id="forecast-chart-data" type="application/json">' in page
    assert "2026-03-09" in page and "1,000.00" in page
    dashboard = client.get("/").content.decode()
    assert 'data-testid="forecast-dashboard"' in dashboard


def test_a_week_drills_down_and_the_invoice_shows_its_prediction(client, viewer, open_invoice):
    client.force_login(viewer)
    week = client.get("/forecast/weeks/2026-03-09/").content.decode()
    assert open_invoice.number in week
    detail = client.get(f"/forecast/invoices/{open_invoice.pk}/").content.decode()
    assert "2026-03-10" in detail and 'data-testid="prediction-reasons"' in detail
    # the ledger's invoice page carries the expected date as a marker linking here
    invoice_page = client.get(f"/invoices/{open_invoice.pk}/").content.decode()
    assert f"/forecast/invoices/{open_invoice.pk}/" in invoice_page and "Expected 2026-03-10" in invoice_page


def test_provision_page_and_an_overlay_by_a_credit_manager(client, credit_manager, open_invoice):
    client.force_login(credit_manager)
    page = client.get("/forecast/provisions/").content.decode()
    assert 'data-testid="provision-matrix"' in page and 'data-testid="provision-movement"' in page
    pdf = client.get("/forecast/provisions/pdf/?as_of=2026-03-04")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"] == 'attachment; filename="provision-2026-03-04.pdf"'
    response = client.post("/forecast/provisions/overlays/", {"bucket_key": "d1_30", "multiplier": "1.5",
                                                              "reason": "Downturn", "effective_from": "2026-03-01"})
    assert response.status_code == 302
    assert ProvisionOverlay.objects.get(organization=open_invoice.organization).reason == "Downturn"


def test_a_viewer_cannot_record_an_overlay(client, viewer, open_invoice):
    client.force_login(viewer)
    page = client.post("/forecast/provisions/overlays/", {"bucket_key": "d1_30", "multiplier": "1.5",
                                                          "reason": "Downturn", "effective_from": "2026-03-01"})
    assert page.status_code == 200 and "This needs the Credit manager role" in page.content.decode()
    assert not ProvisionOverlay.objects.exists()


def test_pages_in_simplified_chinese(client, viewer, open_invoice):
    from tenancy.services import user_language_set

    user_language_set(user=viewer, language="zh-hans")
    client.force_login(viewer)
    page = client.get("/forecast/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "现金流预测" in page
    provision = client.get("/forecast/provisions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "坏账准备" in provision


def test_another_organizations_invoice_is_a_404(client, other_organization, open_invoice):
    from tests.factories import MembershipFactory

    stranger = MembershipFactory(organization=other_organization, role="admin").user
    client.force_login(stranger)
    assert client.get(f"/forecast/invoices/{open_invoice.pk}/").status_code == 404


def test_no_section_before_forecasting_has_run(organization):
    from receivables.reporting.sections import sections_build

    customer = CustomerFactory(organization=organization, name="Steady", currency="CNY")
    make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2026, 2, 8), due_date=dt.date(2026, 3, 10))
    assert "forecasting" not in {s.key for s in sections_build(organization, dt.date(2026, 3, 4), "en")}


def test_the_dashboard_and_weekly_pdf_sections(organization, open_invoice):
    from receivables.reporting.sections import sections_build

    keys = {s.key for s in sections_build(organization, dt.date(2026, 3, 4), "en", where="dashboard")}
    assert "forecasting" in keys
    (built,) = [s for s in sections_build(organization, dt.date(2026, 3, 4), "en") if s.key == "forecasting"]
    assert built.context["forecast"].weeks[1].p50 == 1000
    # rendered as the PDF and the dashboard include it, in the report's language
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("zh-hans"):
        html = render_to_string(built.template, {"section": built.context})
    assert "现金流预测" in html and "1,000.00" in html and 'data-testid="provision-section"' in html
    assert "<polygon" in html  # the PDF's band chart is inline SVG (no script in a PDF)
    dashboard = render_to_string("forecasting/dashboard_section.html", {"section": built.context})
    assert 'data-testid="forecast-chart"' in dashboard


def test_accuracy_shows_as_a_chart_once_a_week_has_passed(client, viewer, open_invoice):
    from decimal import Decimal

    from forecasting.cashflow import forecast_snapshot_store
    from receivables import services as ledger

    forecast_snapshot_store(organization=open_invoice.organization, as_of=dt.date(2026, 3, 4))
    ledger.payment_record(organization=open_invoice.organization, actor=None, customer=open_invoice.customer,
                          amount=Decimal("900.00"), received_on=dt.date(2026, 3, 12))
    with time_machine.travel(dt.datetime(2026, 3, 20, 4, 0, tzinfo=dt.UTC), tick=False):
        client.force_login(viewer)
        page = client.get("/forecast/").content.decode()
    assert 'data-testid="accuracy-chart"' in page and "11.1%" in page


def test_the_pages_say_where_the_rates_and_new_sales_come_from(client, viewer, open_invoice):
    from forecasting.models import ForecastSettings

    client.force_login(viewer)
    live = client.get("/forecast/provisions/").content.decode()
    assert "Loss rates computed now from the ledger." in live
    services.loss_rates_calibrate(organization=open_invoice.organization, as_of=dt.date(2026, 3, 2))
    calibrated = client.get("/forecast/provisions/").content.decode()
    assert "Loss rates as calibrated on 2026-03-02" in calibrated
    assert "New sales" not in client.get("/forecast/").content.decode()
    ForecastSettings.objects.create(organization=open_invoice.organization, include_new_sales=True)
    assert "New sales" in client.get("/forecast/").content.decode()
