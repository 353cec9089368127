"""Bulk upsert keyed on external_id: all rows or none, every row's outcome or every row's errors."""

import pytest
from django.test import override_settings

from receivables.models import Customer, Invoice, InvoiceStatus, Payment
from tests.api.conftest import error_of
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _invoice_row(n, **overrides):
    return {"external_id": f"SAP-{n}", "number": f"INV-{n}", "customer_external_id": "C-1",
            "issue_date": "2026-01-10", "net_amount": "100.00", "tax_amount": "13.00", **overrides}


def test_customers_bulk_created_updated_unchanged(api, acme_customer):
    rows = [{"external_id": "C-1", "name": acme_customer.name},
            {"external_id": "C-2", "name": "Wuhan Optics", "currency": "USD"},
            {"external_id": "C-3", "name": "Xi'an Motors"}]
    response = api.post("/api/v1/customers/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 1)
    assert [(r["index"], r["external_id"], r["outcome"]) for r in body["rows"]] == [
        (0, "C-1", "unchanged"), (1, "C-2", "created"), (2, "C-3", "created")]
    assert body["rows"][0]["id"] == acme_customer.pk
    again = api.post("/api/v1/customers/bulk/", {"rows": [{"external_id": "C-2", "name": "Wuhan Optics Ltd"}]},
                     format="json").json()
    assert again["rows"][0]["outcome"] == "updated"
    assert Customer.objects.get(external_id="C-2").name == "Wuhan Optics Ltd"


def test_invoices_bulk_upsert(api, acme_customer):
    response = api.post("/api/v1/invoices/bulk/", {"rows": [_invoice_row(n) for n in range(5)]}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 5
    assert Invoice.objects.get(external_id="SAP-3").total_amount == 113
    rows = [_invoice_row(0), _invoice_row(1, due_date="2026-03-31")]
    body = api.post("/api/v1/invoices/bulk/", {"rows": rows}, format="json").json()
    assert [r["outcome"] for r in body["rows"]] == ["unchanged", "updated"]


def test_invoice_bulk_with_any_bad_row_writes_nothing_and_lists_every_problem(api, acme_customer):
    rows = [_invoice_row(1), _invoice_row(2, net_amount="abc"), _invoice_row(3, customer_external_id="C-404"),
            _invoice_row(4, number="INV-1")]
    response = api.post("/api/v1/invoices/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bulk_invalid"
    assert error["message"] == "3 row(s) have errors; nothing was written."
    problems = {row["index"]: row["errors"] for row in error["rows"]}
    assert problems[1] == [{"field": "net_amount", "code": "invalid", "message": "A valid number is required."}]
    assert problems[2][0]["field"] == "customer_external_id"
    assert problems[2][0]["message"].startswith("No customer has external id C-404")
    assert problems[3] == [{"field": "number", "code": "invalid",
                            "message": "Invoice number INV-1 already belongs to another invoice (external id SAP-1)."}]
    assert not Invoice.objects.exists()


def test_payments_bulk_applies_to_the_named_invoice(api, acme_customer):
    api.post("/api/v1/invoices/bulk/", {"rows": [_invoice_row(1), _invoice_row(2)]}, format="json")
    rows = [{"external_id": "BANK-1", "customer_external_id": "C-1", "received_on": "2026-02-01", "amount": "113.00",
             "invoice_number": "INV-2"}]
    response = api.post("/api/v1/payments/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 1
    assert Invoice.objects.get(number="INV-2").status == InvoiceStatus.PAID
    assert Invoice.objects.get(number="INV-1").status == InvoiceStatus.OPEN
    replay = api.post("/api/v1/payments/bulk/", {"rows": rows}, format="json").json()
    assert replay["rows"][0]["outcome"] == "unchanged"
    assert Payment.objects.count() == 1


def test_payment_bulk_over_application_is_refused(api, acme_customer):
    api.post("/api/v1/invoices/bulk/", {"rows": [_invoice_row(1)]}, format="json")
    rows = [{"external_id": "BANK-1", "customer_external_id": "C-1", "received_on": "2026-02-01", "amount": "500.00",
             "invoice_number": "INV-1"}]
    response = api.post("/api/v1/payments/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 400
    message = error_of(response)["rows"][0]["errors"][0]["message"]
    # The importer's wording (amount formatting is its own); what matters is the invoice and the refusal.
    assert message.startswith("Invoice INV-1 has 113.00") and message.endswith("cannot be applied.")
    assert not Payment.objects.exists()


@override_settings(API_BULK_MAX_ROWS=3)
def test_too_many_rows_is_400(api):
    response = api.post("/api/v1/customers/bulk/", {"rows": [{"external_id": str(i), "name": "x"} for i in range(4)]},
                        format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"]["rows"][0]["message"] == "At most 3 rows per request; this one has 4."


def test_empty_or_missing_rows_is_400(api):
    for body in ({}, {"rows": []}, {"rows": "nope"}):
        response = api.post("/api/v1/customers/bulk/", body, format="json")
        assert response.status_code == 400
        assert error_of(response)["fields"]["rows"][0]["code"] == "invalid"


def test_bulk_never_reaches_another_organizations_rows(api, other_api, other_organization):
    CustomerFactory(organization=other_organization, external_id="C-1", name="Rival's own C-1")
    rows = [_invoice_row(1)]
    response = api.post("/api/v1/invoices/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 400  # Acme has no C-1: Rival's is invisible
    assert error_of(response)["rows"][0]["errors"][0]["field"] == "customer_external_id"
    bulk = other_api.post("/api/v1/customers/bulk/", {"rows": [{"external_id": "C-1", "name": "Renamed"}]},
                          format="json").json()
    assert bulk["rows"][0]["outcome"] == "updated"
    assert Customer.objects.filter(name="Renamed").get().organization == other_organization


def test_read_key_cannot_bulk(read_api):
    response = read_api.post("/api/v1/customers/bulk/", {"rows": [{"external_id": "1", "name": "x"}]},
                             format="json")
    assert response.status_code == 403
