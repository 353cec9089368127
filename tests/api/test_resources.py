"""Customers, invoices, payments, credit notes and write-offs: happy paths, actions, errors."""

import datetime as dt

import pytest
import time_machine

from receivables.models import Invoice, InvoiceStatus, Payment
from tests.api.conftest import error_of
from tests.factories import CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db


def _invoice_body(customer, **overrides):
    return {"customer": customer.pk, "number": "INV-100", "external_id": "SAP-100", "issue_date": "2026-01-10",
            "net_amount": "1000.00", "tax_amount": "130.00", **overrides}


# --- customers ---------------------------------------------------------------------------------

def test_customer_create_and_retrieve(api):
    response = api.post("/api/v1/customers/", {"name": "Shenzhen Parts", "external_id": "C-7", "currency": "USD",
                                               "contact_emails": ["ap@sz.example"]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Shenzhen Parts" and body["currency"] == "USD" and body["payment_terms_days"] == 30
    assert response.headers["Location"] == f"/api/v1/customers/{body['id']}/"
    again = api.get(response.headers["Location"])
    assert again.json() == body
    assert again.headers["ETag"] == response.headers["ETag"]


def test_customer_validation_errors_name_the_fields(api):
    response = api.post("/api/v1/customers/", {"currency": "XXX", "contact_emails": ["nope"]}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert error["fields"]["name"] == [{"code": "required", "message": "This field is required."}]
    assert error["fields"]["currency"] == [{"code": "invalid_choice", "message": '"XXX" is not a valid choice.'}]
    assert error["fields"]["contact_emails"] == {"0": [{"code": "invalid", "message": "Enter a valid email address."}]}


def test_duplicate_external_id_is_409(api, acme_customer):
    response = api.post("/api/v1/customers/", {"name": "Dup", "external_id": "C-1"}, format="json")
    assert response.status_code == 409
    assert error_of(response) == {"code": "duplicate", "message": "A customer with this external id already exists.",
                                  "fields": {"external_id": [{"code": "duplicate", "message":
                                                              "A customer with this external id already exists."}]}}


def test_customer_patch(api, acme_customer):
    response = api.patch(f"/api/v1/customers/{acme_customer.pk}/", {"payment_terms_days": 45}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200
    assert response.json()["payment_terms_days"] == 45
    acme_customer.refresh_from_db()
    assert acme_customer.payment_terms_days == 45


def test_customer_by_external_id(api, acme_customer):
    response = api.get("/api/v1/customers/by-external-id/C-1/")
    assert response.status_code == 200
    assert response.json()["id"] == acme_customer.pk
    assert api.get("/api/v1/customers/by-external-id/C-404/").status_code == 404


def test_put_and_delete_are_not_offered(api, acme_customer):
    assert api.put(f"/api/v1/customers/{acme_customer.pk}/", {"name": "x"}, format="json").status_code == 405
    response = api.delete(f"/api/v1/customers/{acme_customer.pk}/")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


# --- invoices ----------------------------------------------------------------------------------

def test_invoice_create_by_customer_external_id(api, acme_customer):
    body = _invoice_body(acme_customer)
    del body["customer"]
    response = api.post("/api/v1/invoices/", {**body, "customer_external_id": "C-1"}, format="json")
    assert response.status_code == 201
    invoice = response.json()
    assert invoice["customer"] == acme_customer.pk
    assert invoice["total_amount"] == "1130.0000" and invoice["balance"] == "1130.0000"
    assert invoice["due_date"] == "2026-02-09"  # issue date + the customer's 30 days
    assert invoice["status"] == "open"


def test_invoice_needs_exactly_one_customer_reference(api, acme_customer):
    response = api.post("/api/v1/invoices/", {**_invoice_body(acme_customer), "customer_external_id": "C-1"},
                        format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"]["customer"][0]["message"] == (
        "Give either customer (id) or customer_external_id.")


def test_invoice_amounts_as_floats_are_refused(api, acme_customer):
    response = api.post("/api/v1/invoices/", _invoice_body(acme_customer, net_amount=10.5), format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"]["net_amount"] == [
        {"code": "float", "message": 'Give amounts as decimal strings such as "1250.00", not JSON floats.'}]


def test_invoice_due_before_issue_is_400(api, acme_customer):
    response = api.post("/api/v1/invoices/", _invoice_body(acme_customer, due_date="2026-01-01"), format="json")
    assert response.status_code == 400
    assert error_of(response)["message"] == "The due date cannot be before the issue date."
    assert error_of(response)["code"] == "invalid"


def test_invoice_patch_and_by_external_id(api, acme_customer):
    created = api.post("/api/v1/invoices/", _invoice_body(acme_customer), format="json").json()
    response = api.patch(f"/api/v1/invoices/{created['id']}/", {"due_date": "2026-03-31"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200
    assert response.json()["due_date"] == "2026-03-31"
    assert api.get("/api/v1/invoices/by-external-id/SAP-100/").json()["due_date"] == "2026-03-31"


def test_invoice_void(api, organization, acme_customer):
    invoice = make_invoice(organization, acme_customer)
    response = api.post(f"/api/v1/invoices/{invoice.pk}/void/", {"voided_on": "2026-01-05", "reason": "typo"},
                        format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "void"
    again = api.post(f"/api/v1/invoices/{invoice.pk}/void/", {}, format="json")
    assert again.status_code == 409
    assert error_of(again) == {"code": "invoice_not_open", "message": f"Invoice {invoice.number} is already void.",
                               "fields": {}}


def test_invoice_write_off_and_allocations(api, organization, acme_customer):
    invoice = make_invoice(organization, acme_customer, amount="100.00")
    make_payment(organization, acme_customer, amount="60.00")
    response = api.post(f"/api/v1/invoices/{invoice.pk}/write-off/",
                        {"reason": "Customer insolvent", "written_off_on": "2026-02-01"}, format="json")
    assert response.status_code == 201
    assert response.json()["amount"] == "40.0000"
    ledger = api.get(f"/api/v1/invoices/{invoice.pk}/allocations/").json()
    assert [(row["kind"], row["amount"]) for row in ledger] == [("payment", "60.0000"), ("write_off", "40.0000")]
    assert api.get(f"/api/v1/invoices/{invoice.pk}/").json()["status"] == InvoiceStatus.WRITTEN_OFF


def test_write_off_needs_a_reason(api, organization, acme_customer):
    invoice = make_invoice(organization, acme_customer)
    response = api.post(f"/api/v1/invoices/{invoice.pk}/write-off/", {"reason": " "}, format="json")
    assert response.status_code == 400
    assert error_of(response)["fields"]["reason"][0]["code"] == "blank"


# --- payments ----------------------------------------------------------------------------------

def test_payment_record_applies_oldest_first(api, organization, acme_customer):
    older = make_invoice(organization, acme_customer, amount="50.00", issue_date=dt.date(2026, 1, 1))
    newer = make_invoice(organization, acme_customer, amount="80.00", issue_date=dt.date(2026, 1, 20))
    response = api.post("/api/v1/payments/", {"customer": acme_customer.pk, "received_on": "2026-02-01",
                                              "amount": "70.00", "external_id": "BANK-1"}, format="json")
    assert response.status_code == 201
    payment = response.json()
    assert payment["unapplied_amount"] == "0.0000"
    assert [(a["invoice"], a["amount"]) for a in payment["allocations"]] == [(older.pk, "50.0000"),
                                                                            (newer.pk, "20.0000")]


def test_payment_with_explicit_allocations(api, organization, acme_customer):
    make_invoice(organization, acme_customer, amount="50.00", issue_date=dt.date(2026, 1, 1))
    target = make_invoice(organization, acme_customer, amount="80.00", issue_date=dt.date(2026, 1, 20))
    response = api.post("/api/v1/payments/", {
        "customer": acme_customer.pk, "received_on": "2026-02-01", "amount": "100.00",
        "allocations": [{"invoice": target.pk, "amount": "80.00"}]}, format="json")
    assert response.status_code == 201
    assert response.json()["unapplied_amount"] == "20.0000"
    target.refresh_from_db()
    assert target.status == InvoiceStatus.PAID


def test_payment_over_allocation_is_409_and_writes_nothing(api, organization, acme_customer):
    target = make_invoice(organization, acme_customer, amount="80.00")
    response = api.post("/api/v1/payments/", {
        "customer": acme_customer.pk, "received_on": "2026-02-01", "amount": "100.00", "external_id": "BANK-9",
        "allocations": [{"invoice": target.pk, "amount": "90.00"}]}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "over_application"
    assert error_of(response)["message"] == (
        f"Invoice {target.number} has 80.00 CNY outstanding; 90.00 CNY cannot be applied.")
    assert not Payment.objects.filter(external_id="BANK-9").exists()


def test_payment_allocate_action(api, organization, acme_customer):
    invoice = make_invoice(organization, acme_customer, amount="80.00")
    payment = make_payment(organization, acme_customer, amount="100.00", auto_allocate=False)
    response = api.post(f"/api/v1/payments/{payment.pk}/allocate/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["unapplied_amount"] == "20.0000"
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID


def test_payment_by_external_id(api, organization, acme_customer):
    payment = make_payment(organization, acme_customer, external_id="BANK-77")
    assert api.get("/api/v1/payments/by-external-id/BANK-77/").json()["id"] == payment.pk


# --- credit notes and write-offs ---------------------------------------------------------------

def test_credit_note_create_apply_and_list(api, organization, acme_customer):
    invoice = make_invoice(organization, acme_customer, amount="100.00")
    response = api.post("/api/v1/credit-notes/", {"customer": acme_customer.pk, "number": "CN-1",
                                                  "issued_on": "2026-01-05", "amount": "30.00",
                                                  "external_id": "SAP-CN-1"}, format="json")
    assert response.status_code == 201
    note = response.json()
    applied = api.post(f"/api/v1/credit-notes/{note['id']}/apply/",
                       {"allocations": [{"invoice": invoice.pk, "amount": "30.00"}]}, format="json")
    assert applied.status_code == 200
    assert applied.json()["unapplied_amount"] == "0.0000"
    assert [n["number"] for n in api.get("/api/v1/credit-notes/").json()["results"]] == ["CN-1"]
    assert api.get("/api/v1/credit-notes/by-external-id/SAP-CN-1/").json()["id"] == note["id"]


def test_write_off_create_and_list(api, organization, acme_customer):
    invoice = make_invoice(organization, acme_customer, amount="100.00")
    response = api.post("/api/v1/write-offs/", {"invoice": invoice.pk, "amount": "25.00", "reason": "Settlement"},
                        format="json")
    assert response.status_code == 201
    rows = api.get("/api/v1/write-offs/", {"invoice": invoice.pk}).json()["results"]
    assert [(w["invoice_number"], w["amount"]) for w in rows] == [(invoice.number, "25.0000")]


# --- filters -----------------------------------------------------------------------------------

@time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_invoice_filters(api, organization, acme_customer):
    other = CustomerFactory(organization=organization, currency="USD")
    overdue = make_invoice(organization, acme_customer, amount="100.00", issue_date=dt.date(2026, 1, 1))
    current = make_invoice(organization, acme_customer, amount="500.00", issue_date=dt.date(2026, 2, 20))
    usd = make_invoice(organization, other, amount="70.00", issue_date=dt.date(2026, 1, 15), currency="USD")

    def ids(**params):
        return {row["id"] for row in api.get("/api/v1/invoices/", params).json()["results"]}

    assert ids(overdue="true") == {overdue.pk, usd.pk}
    assert ids(overdue="false") == {current.pk}
    assert ids(currency="USD") == {usd.pk}
    assert ids(customer=acme_customer.pk) == {overdue.pk, current.pk}
    assert ids(customer_external_id="C-1") == {overdue.pk, current.pk}
    assert ids(total_amount_min="100", total_amount_max="499.99") == {overdue.pk}
    assert ids(issue_date_from="2026-01-10", issue_date_to="2026-02-28") == {current.pk, usd.pk}
    assert ids(due_date_to="2026-02-10") == {overdue.pk}
    assert ids(status=["open", "paid"]) == {overdue.pk, current.pk, usd.pk}


def test_bad_filter_value_is_400(api):
    response = api.get("/api/v1/invoices/", {"status": "bogus", "due_date_from": "tomorrow"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["fields"]["due_date_from"] == [{"code": "invalid", "message": "Enter a valid date."}]
    assert error["fields"]["status"][0]["code"] == "invalid_choice"
