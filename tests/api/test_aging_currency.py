"""GET /api/v1/reports/aging/?currency=XXX: only that currency's invoices, unconverted, in JSON,
CSV and XLSX; without it, everything converted to the base currency as before."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator
from openpyxl import load_workbook

from receivables import services
from tests.api.conftest import error_of
from tests.factories import CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db

AS_OF = {"as_of": "2026-03-01"}


@pytest.fixture
def book(organization, other_organization, acme_customer):
    """Acme (base CNY): 310.00 CNY open (60.00 of it overdue) and 1,000.00 USD open (400.00 overdue) at
    7.1 CNY per USD; Rival has USD invoices of its own that must never count."""
    make_invoice(organization, acme_customer, amount="100.00", issue_date=dt.date(2026, 1, 1))  # due 01-31
    make_invoice(organization, acme_customer, amount="250.00", issue_date=dt.date(2026, 2, 20))  # due 03-22
    make_payment(organization, acme_customer, amount="40.00", received_on=dt.date(2026, 2, 25))
    dollars = CustomerFactory(organization=organization, name="Pacific Imports", currency="USD")
    make_invoice(organization, dollars, amount="400.00", issue_date=dt.date(2026, 1, 10))  # due 02-09
    make_invoice(organization, dollars, amount="600.00", issue_date=dt.date(2026, 2, 15))  # due 03-17
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 1, 1),
                         rate=Decimal("7.1"))
    rival = CustomerFactory(organization=other_organization, name="Rival buyer", currency="USD")
    make_invoice(other_organization, rival, amount="99999.00", issue_date=dt.date(2026, 1, 5))
    return {"cny": acme_customer, "usd": dollars}


def test_without_currency_everything_is_converted_to_the_base_currency(api, book):
    body = api.get("/api/v1/reports/aging/", AS_OF).json()

    assert body["currency"] == "CNY"
    assert body["total"] == "7410.0000"  # 310.00 + 1,000.00 x 7.1
    assert body["overdue"] == "2900.0000"  # 60.00 + 400.00 x 7.1


def test_currency_keeps_only_its_invoices_in_their_own_amounts(api, book):
    body = api.get("/api/v1/reports/aging/", {**AS_OF, "currency": "USD"}).json()

    assert body["currency"] == "USD"
    assert [(row["customer_name"], row["invoice_count"]) for row in body["rows"]] == [("Pacific Imports", 2)]
    assert body["rows"][0]["amounts"]["current"] == "600.0000"
    assert body["rows"][0]["amounts"]["d1_30"] == "400.0000"
    assert (body["total"], body["overdue"]) == ("1000.0000", "400.0000")  # not 7,100 nor Rival's 99,999


def test_base_currency_keeps_only_base_currency_invoices(api, book):
    body = api.get("/api/v1/reports/aging/", {**AS_OF, "currency": "CNY"}).json()

    assert body["currency"] == "CNY"
    assert [row["customer_id"] for row in body["rows"]] == [book["cny"].pk]
    assert body["total"] == "310.0000"


def test_a_currency_needs_no_fx_rate(api, organization, acme_customer):
    euros = CustomerFactory(organization=organization, currency="EUR")
    make_invoice(organization, euros, amount="70.00", issue_date=dt.date(2026, 2, 1))

    converted = api.get("/api/v1/reports/aging/", AS_OF)
    own = api.get("/api/v1/reports/aging/", {**AS_OF, "currency": "EUR"})

    assert converted.status_code == 409 and error_of(converted)["code"] == "missing_fx_rate"
    assert own.status_code == 200 and own.json()["total"] == "70.0000"


def test_currency_and_customer_combine(api, book):
    mixed = api.get("/api/v1/reports/aging/", {**AS_OF, "currency": "USD", "customer": book["cny"].pk}).json()
    match = api.get("/api/v1/reports/aging/", {**AS_OF, "currency": "USD", "customer": book["usd"].pk}).json()

    assert mixed["rows"] == [] and mixed["total"] == "0.0000"
    assert match["total"] == "1000.0000"


def test_another_organization_sees_only_its_own_invoices_in_that_currency(other_api, book):
    body = other_api.get("/api/v1/reports/aging/", {**AS_OF, "currency": "USD"}).json()

    assert [row["customer_name"] for row in body["rows"]] == ["Rival buyer"]
    assert body["total"] == "99999.0000"


@pytest.mark.parametrize("code", ["XXX", "usd", "US", "DOLLAR"])
def test_unknown_currency_is_400(api, book, code):
    response = api.get("/api/v1/reports/aging/", {"currency": code})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"]["currency"][0]["code"] == "invalid_choice"
    assert error["message"] == f'"{code}" is not a valid choice.'


def test_an_empty_currency_is_the_same_as_none(api, book):
    # As for every other query parameter (`as_of=`), an empty value is an omitted one.
    body = api.get("/api/v1/reports/aging/", {**AS_OF, "currency": ""}).json()

    assert (body["currency"], body["total"]) == ("CNY", "7410.0000")


def test_unknown_currency_is_json_even_when_a_file_was_asked(api):
    response = api.get("/api/v1/reports/aging/", {"currency": "XXX", "format": "csv"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_csv_in_one_currency_says_so(api, book):
    response = api.get("/api/v1/reports/aging/", {**AS_OF, "currency": "USD", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="aging-2026-03-01-USD.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["customer_id", "customer", "invoices", "Current", "1-30", "31-60", "61-90", "91+", "total",
                       "currency"]
    assert rows[1][1:] == ["Pacific Imports", "2", "600.00", "400.00", "0", "0", "0", "1000.00", "USD"]
    assert rows[-1][1:] == ["TOTAL", "2", "600.00", "400.00", "0", "0", "0", "1000.00", "USD"]
    assert len(rows) == 3


def test_xlsx_in_one_currency(api, book):
    response = api.get("/api/v1/reports/aging/", {**AS_OF, "currency": "USD", "format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="aging-2026-03-01-USD.xlsx"'
    values = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert values[0][-1] == "currency"
    assert values[1][1] == "Pacific Imports" and values[1][-2:] == (1000, "USD")
    assert len(values) == 3


def test_schema_documents_the_currency_parameter_with_an_example():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/reports/aging/"]["get"]["parameters"]}

    currency = parameters["currency"]
    assert currency["in"] == "query" and not currency.get("required", False)
    assert "USD" in currency["schema"]["enum"] and "XXX" not in currency["schema"]["enum"]
    assert currency["examples"]["USDollarsOnly"]["value"] == "USD"
    assert "no FX conversion" in currency["description"]
