"""Cross-currency receipts over the API: a USD invoice paid in CNY, the realized FX report, and the
aging's unrealized revaluation (issue 11, item 5). Base currency CNY (the `organization` fixture)."""

import datetime as dt
from decimal import Decimal

import pytest

from receivables import services
from receivables.models import Allocation, Payment
from tests.api.conftest import error_of
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def northwind(organization):
    return CustomerFactory(organization=organization, name="Northwind Traders", currency="USD", external_id="C-2001")


@pytest.fixture
def usd_invoice(organization, northwind):
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 3, 2),
                         rate=D("7.1"))
    return make_invoice(organization, northwind, amount="1000.00", issue_date=dt.date(2026, 3, 2), number="INV-USD-1")


def _receipt(invoice, **line):
    return {"customer_external_id": "C-2001", "received_on": "2026-03-31", "amount": "7200.00", "currency": "CNY",
            "allocations": [{"invoice": invoice.pk, "amount": "1000.00", **line}]}


def test_a_usd_invoice_paid_in_cny_with_payment_amount(api, usd_invoice):
    response = api.post("/api/v1/payments/", _receipt(usd_invoice, payment_amount="7200.00"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["currency"] == "CNY" and body["unapplied_amount"] == "0.0000"
    [line] = body["allocations"]
    assert line["amount"] == "1000.0000" and line["currency"] == "USD"
    assert line["payment_amount"] == "7200.0000" and line["payment_currency"] == "CNY"
    assert line["base_amount"] == "7200.0000" and line["fx_difference"] == "100.0000"
    invoice = api.get(f"/api/v1/invoices/{usd_invoice.pk}/").json()
    assert invoice["status"] == "paid"
    assert invoice["issue_rate"] == "7.1000000000" and invoice["base_amount"] == "7100.0000"
    # The list shows the same allocation fields as the single payment.
    listed = api.get("/api/v1/payments/").json()["results"][0]["allocations"][0]
    assert listed == line


def test_allocate_with_a_rate(api, usd_invoice):
    body = {**_receipt(usd_invoice), "auto_allocate": False}
    del body["allocations"]
    created = api.post("/api/v1/payments/", body, format="json")
    assert created.status_code == 201, created.content
    payment = created.json()
    assert payment["allocations"] == [] and payment["unapplied_amount"] == "7200.0000"
    response = api.post(f"/api/v1/payments/{payment['id']}/allocate/",
                        {"allocations": [{"invoice": usd_invoice.pk, "amount": "500.00", "rate": "7.25"}]},
                        format="json")
    assert response.status_code == 200, response.content
    assert response.json()["unapplied_amount"] == "3575.0000"  # 7,200 - 500 x 7.25
    assert response.json()["allocations"][0]["fx_difference"] == "75.0000"  # 3,625 - 3,550


def test_a_stored_rate_of_the_receipt_date_needs_neither(api, organization, usd_invoice):
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 3, 31),
                         rate=D("7.2"))
    response = api.post("/api/v1/payments/", _receipt(usd_invoice), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["allocations"][0]["payment_amount"] == "7200.0000"


def test_no_rate_at_all_is_a_clear_400_and_writes_nothing(api, organization, northwind):
    invoice = make_invoice(organization, northwind, amount="1000.00", issue_date=dt.date(2026, 3, 2))
    response = api.post("/api/v1/payments/", _receipt(invoice), format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "fx_rate_required"
    assert "payment_amount" in error["message"] and "rate" in error["message"]
    assert not Payment.objects.filter(organization=organization).exists()


@pytest.mark.parametrize("line", [{"rate": "0"}, {"rate": "-7.2"}, {"payment_amount": "0"},
                                  {"rate": "7.2", "payment_amount": "7200.00"}, {"rate": 7.2}])
def test_a_bad_conversion_is_a_400_and_writes_nothing(api, organization, usd_invoice, line):
    response = api.post("/api/v1/payments/", _receipt(usd_invoice, **line), format="json")
    assert response.status_code == 400, response.content
    assert not Payment.objects.filter(organization=organization).exists()
    assert not Allocation.objects.filter(organization=organization).exists()


def test_the_realized_fx_report(api, usd_invoice):
    api.post("/api/v1/payments/", _receipt(usd_invoice, rate="7.2"), format="json")
    body = api.get("/api/v1/reports/realized-fx/", {"as_of": "2026-04-30", "months": "2"}).json()
    assert body["as_of"] == "2026-04-30" and body["currency"] == "CNY"
    assert body["periods"] == [
        {"start": "2026-03-01", "end": "2026-03-31", "amount": "100.0000", "count": 1,
         "by_currency": {"USD": "100.0000"}},
        {"start": "2026-04-01", "end": "2026-04-30", "amount": "0.0000", "count": 0, "by_currency": {}}]
    assert body["total"] == "100.0000" and body["unknown"] == 0


def test_the_realized_fx_report_is_scoped(api, other_api, usd_invoice):
    api.post("/api/v1/payments/", _receipt(usd_invoice, rate="7.2"), format="json")
    body = other_api.get("/api/v1/reports/realized-fx/", {"as_of": "2026-04-30", "months": "2"}).json()
    assert body["total"] == "0.0000"


def test_aging_totals_carry_the_unrealized_revaluation(api, organization, usd_invoice):
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 4, 1),
                         rate=D("7.3"))
    body = api.get("/api/v1/reports/aging/", {"as_of": "2026-04-15"}).json()
    assert body["total"] == "7300.0000"
    assert body["unrealized_fx"] == "200.0000" and body["unrealized_fx_unknown"] == 0
