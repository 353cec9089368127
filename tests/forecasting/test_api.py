"""The forecasting API: cash forecast, a week's invoices, accuracy, provisions (JSON/CSV/XLSX),
movement, an invoice's prediction; validation messages and tenancy."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from forecasting import services
from tests.api.conftest import key_client
from tests.factories import CustomerFactory, make_invoice
from tests.forecasting.test_provisions import AS_OF as PROVISION_AS_OF
from tests.forecasting.test_provisions import worked_example  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_throttle():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api(organization):
    return key_client(organization)


@pytest.fixture
def open_invoice(organization):
    customer = CustomerFactory(organization=organization, name="Steady", currency="CNY")
    invoice = make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2026, 2, 8),
                           due_date=dt.date(2026, 3, 10))
    services.predictions_refresh(organization=organization, as_of=dt.date(2026, 3, 4))
    return invoice


def test_cash_forecast_has_thirteen_weeks_with_bands_and_sources(api, open_invoice):
    with time_machine.travel(dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC), tick=False):
        body = api.get("/api/v1/forecast/cash/?weeks=13").json()
    assert body["currency"] == "CNY" and len(body["weeks"]) == 13
    week = body["weeks"][1]
    assert (week["week_start"], week["p10"], week["p50"], week["p90"]) == ("2026-03-09", "1000.00", "1000.00",
                                                                          "1000.00")
    assert week["sources"] == {"invoices": "1000.00", "promises": "0.00", "plans": "0.00", "factoring": "0.00",
                               "insurance": "0.00", "new_sales": "0.00"}
    assert body["new_sales_run_rate"] is None


def test_cash_forecast_adds_new_sales_when_asked(api, open_invoice):
    # given: 1,000.00 invoiced in the last 13 weeks, nothing collected yet: a run rate, a flat curve
    with time_machine.travel(dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC), tick=False):
        body = api.get("/api/v1/forecast/cash/?new_sales=true").json()
        bad = api.get("/api/v1/forecast/cash/?new_sales=perhaps")
    assert body["new_sales_run_rate"] == "76.92"  # 1,000.00 / 13
    assert {week["sources"]["new_sales"] for week in body["weeks"]} == {"0.00"}  # nothing paid yet: no curve
    assert bad.status_code == 400 and "new_sales" in str(bad.json())


def test_cash_forecast_refuses_more_than_thirteen_weeks(api):
    response = api.get("/api/v1/forecast/cash/?weeks=14")
    assert response.status_code == 400
    assert "13" in str(response.json())


def test_a_week_drills_down_to_its_invoices(api, open_invoice):
    body = api.get("/api/v1/forecast/cash/weeks/2026-03-09/?as_of=2026-03-04").json()
    assert [(line["number"], line["amount"]) for line in body["invoices"]] == [(open_invoice.number, "1000.00")]
    assert api.get("/api/v1/forecast/cash/weeks/not-a-date/").status_code == 404


def test_accuracy_lists_thirteen_horizons(api, open_invoice):
    body = api.get("/api/v1/forecast/accuracy/?as_of=2026-03-04").json()
    assert [row["horizon"] for row in body["horizons"]] == list(range(1, 14))
    assert body["snapshots"] == 0


def test_provisions_answer_the_worked_example(api, worked_example):  # noqa: F811
    body = api.get(f"/api/v1/provisions/?as_of={PROVISION_AS_OF}&history_from=2025-01-01&history_to=2025-03-31").json()
    assert [(b["key"], b["balance"], b["loss_rate"], b["ecl"]) for b in body["buckets"]] == [
        ("current", "200000.00", "0.110000", "22000.00"), ("d1_30", "50000.00", "0.220000", "11000.00"),
        ("d31_60", "20000.00", "0.500000", "10000.00"), ("d61_90", "7777.77", "0.916667", "7129.62"),
        ("d90_plus", "3000.00", "1.000000", "3000.00")]
    assert (body["total_balance"], body["ecl_gross"], body["ecl_net"]) == ("280777.77", "53129.62", "53129.62")


def test_provisions_export_as_csv(api, worked_example):  # noqa: F811
    response = api.get(f"/api/v1/provisions/?as_of={PROVISION_AS_OF}&history_from=2025-01-01&history_to=2025-03-31"
                       "&format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="provision-2026-06-30.csv"'
    text = response.content.decode("utf-8-sig")
    assert "TOTAL,280777.77" in text and "53129.62" in text


def test_provisions_need_both_ends_of_the_history(api):
    response = api.get("/api/v1/provisions/?history_from=2025-01-01")
    assert response.status_code == 400
    assert "Give both history_from and history_to" in str(response.json())


def test_movement_balances(api, worked_example):  # noqa: F811
    body = api.get("/api/v1/provisions/movement/?date_from=2026-06-30&date_to=2026-07-31").json()
    assert Decimal(body["opening"]) + Decimal(body["charge"]) - Decimal(body["used"]) == Decimal(body["closing"])


def test_an_invoice_prediction_and_another_organizations_is_a_404(api, open_invoice, other_organization):
    body = api.get(f"/api/v1/forecast/invoices/{open_invoice.pk}/").json()
    assert (body["expected_date"], body["method"]) == ("2026-03-10", "baseline")
    other = key_client(other_organization)
    assert other.get(f"/api/v1/forecast/invoices/{open_invoice.pk}/").status_code == 404
