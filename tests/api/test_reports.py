"""Aging, DSO and statements as JSON, CSV and XLSX."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from openpyxl import load_workbook

from tests.api.conftest import error_of
from tests.factories import CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(organization, acme_customer):
    make_invoice(organization, acme_customer, amount="100.00", issue_date=dt.date(2026, 1, 1))  # due 01-31
    make_invoice(organization, acme_customer, amount="250.00", issue_date=dt.date(2026, 2, 20))  # due 03-22
    make_payment(organization, acme_customer, amount="40.00", received_on=dt.date(2026, 2, 25))
    return acme_customer


def test_aging_json(api, ledger):
    body = api.get("/api/v1/reports/aging/", {"as_of": "2026-03-01"}).json()
    assert body["as_of"] == "2026-03-01" and body["currency"] == "CNY"
    assert [b["key"] for b in body["buckets"]] == ["current", "d1_30", "d31_60", "d61_90", "d90_plus"]
    row = body["rows"][0]
    assert row["customer_id"] == ledger.pk and row["invoice_count"] == 2
    assert row["amounts"]["current"] == "250.0000" and row["amounts"]["d1_30"] == "60.0000"
    assert body["total"] == "310.0000" and body["overdue"] == "60.0000"


def test_aging_is_reproducible_for_a_past_date(api, ledger):
    body = api.get("/api/v1/reports/aging/", {"as_of": "2026-02-01"}).json()
    assert body["total"] == "100.0000"  # the payment of 02-25 is not yet received


def test_aging_with_custom_buckets(api, ledger):
    body = api.get("/api/v1/reports/aging/", {"as_of": "2026-03-01", "buckets": "15,45"}).json()
    assert [b["label"] for b in body["buckets"]] == ["Current", "1-15", "16-45", "46+"]
    assert body["totals"]["d16_45"] == "60.0000"


def test_aging_bad_buckets_is_400(api):
    response = api.get("/api/v1/reports/aging/", {"buckets": "60,30"})
    assert response.status_code == 400
    assert error_of(response)["fields"]["buckets"][0]["message"].startswith("Aging buckets must be 1 to 8 increasing")


@time_machine.travel(dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC), tick=False)
def test_aging_defaults_to_today_in_the_organizations_zone(api, ledger):
    assert api.get("/api/v1/reports/aging/").json()["as_of"] == "2026-03-01"


def test_aging_csv(api, ledger):
    response = api.get("/api/v1/reports/aging/", {"as_of": "2026-03-01", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="aging-2026-03-01.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["customer_id", "customer", "invoices", "Current", "1-30", "31-60", "61-90", "91+", "total"]
    assert rows[1][1:] == ["Shanghai East Trading", "2", "250.00", "60.00", "0", "0", "0", "310.00"]
    assert rows[-1][1] == "TOTAL"


def test_aging_xlsx(api, ledger):
    response = api.get("/api/v1/reports/aging/", {"as_of": "2026-03-01", "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[1][1] == "Shanghai East Trading"
    assert values[1][-1] == 310


def test_aging_error_is_json_even_when_csv_was_asked(api):
    response = api.get("/api/v1/reports/aging/", {"as_of": "not-a-date", "format": "csv"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["fields"]["as_of"][0]["code"] == "invalid"


def test_aging_of_another_organizations_customer_is_400(api, other_organization):
    foreign = CustomerFactory(organization=other_organization)
    response = api.get("/api/v1/reports/aging/", {"customer": foreign.pk})
    assert response.status_code == 400
    assert error_of(response)["fields"]["customer"][0]["code"] == "does_not_exist"


def test_dso(api, ledger):
    body = api.get("/api/v1/reports/dso/", {"as_of": "2026-03-01", "period_days": 60, "months": 3}).json()
    assert body["period_days"] == 60 and body["receivables"] == "310.0000" and body["sales"] == "350.0000"
    assert body["standard"] == "53.1"  # 310 / 350 x 60
    assert [p["period_end"] for p in body["trend"]] == ["2026-01-31", "2026-02-28", "2026-03-01"]


def test_dso_bad_period_is_400(api):
    response = api.get("/api/v1/reports/dso/", {"period_days": 0})
    assert response.status_code == 400
    assert error_of(response)["fields"]["period_days"][0]["code"] == "min_value"


def test_statement_json_csv_xlsx(api, ledger):
    url = f"/api/v1/customers/{ledger.pk}/statement/"
    body = api.get(url, {"as_of": "2026-03-01"}).json()
    cny = body["currencies"][0]
    assert cny["balance"] == "310.0000"
    assert [(line["balance"], line["running_balance"], line["days_overdue"]) for line in cny["lines"]] == [
        ("60.0000", "60.0000", 29), ("250.0000", "310.0000", 0)]
    text = api.get(url, {"as_of": "2026-03-01", "format": "csv"}).content.decode()
    assert text.splitlines()[0] == "currency,invoice,issue_date,due_date,total,balance,running_balance,days_overdue"
    sheet = load_workbook(io.BytesIO(api.get(url, {"as_of": "2026-03-01", "format": "xlsx"}).content)).active
    assert sheet.max_row == 3


def test_statement_of_another_organizations_customer_is_404(other_api, ledger):
    assert other_api.get(f"/api/v1/customers/{ledger.pk}/statement/").status_code == 404
