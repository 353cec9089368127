"""PATCH of payments, credit notes and write-offs: the same ETag / If-Match rules as customers and
invoices, only the editable fields, amounts never below what is applied, audited, scoped."""

import datetime as dt
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from receivables import services
from receivables.models import Allocation, CreditNote, Payment, WriteOff
from tenancy.models import AuditEntry
from tests.api.conftest import error_of
from tests.factories import PASSWORD, CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(organization, acme_customer):
    return make_invoice(organization, acme_customer, amount="100.00", number="INV-1", issue_date=dt.date(2026, 1, 1))


@pytest.fixture
def payment(organization, acme_customer, invoice):
    """100.00 received on 01-15, 60.00 of it allocated to INV-1 (so 40.00 unapplied)."""
    payment = make_payment(organization, acme_customer, amount="100.00", received_on=dt.date(2026, 1, 15),
                           auto_allocate=False, reference="HSBC 0042", external_id="BANK-1")
    services.payment_allocate(organization=organization, actor=None, payment=payment,
                              allocations=[(invoice, Decimal("60.00"))])
    payment.refresh_from_db()
    return payment


@pytest.fixture
def credit_note(organization, acme_customer, invoice):
    """50.00 issued on 01-10, 30.00 of it applied to INV-1."""
    note = services.credit_note_create(organization=organization, actor=None, customer=acme_customer,
                                       number="CN-1", issued_on=dt.date(2026, 1, 10), amount="50.00",
                                       reason="price", external_id="CN-EXT-1")
    services.credit_note_apply(organization=organization, actor=None, credit_note=note,
                               allocations=[(invoice, Decimal("30.00"))])
    note.refresh_from_db()
    return note


@pytest.fixture
def write_off(organization, acme_customer):
    other = make_invoice(organization, acme_customer, amount="80.00", number="INV-2", issue_date=dt.date(2026, 1, 2))
    return services.invoice_write_off(organization=organization, actor=None, invoice=other, reason="insolvent",
                                      amount="20.00", written_off_on=dt.date(2026, 2, 1))


def _etag(api, url):
    return api.get(url).headers["ETag"]


# --- payments ------------------------------------------------------------------------------------

def test_payment_patch_corrects_reference_and_method_and_is_audited(api, payment):
    url = f"/api/v1/payments/{payment.pk}/"
    etag = _etag(api, url)

    response = api.patch(url, {"reference": "HSBC 0042-B", "method": "check"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["reference"], body["method"]) == ("HSBC 0042-B", "check")
    assert body["amount"] == "100.0000" and body["unapplied_amount"] == "40.0000"
    assert response.headers["ETag"] != etag
    assert response.headers["ETag"] == _etag(api, url)  # the ETag of what a fresh read returns
    entry = AuditEntry.objects.get(action="payment.updated", object_id=str(payment.pk))
    assert entry.before == {"reference": "HSBC 0042", "method": "bank_transfer"}
    assert entry.after == {"reference": "HSBC 0042-B", "method": "check"}
    assert entry.actor_label == f"api-key:{api.api_key.prefix} (ERP)"


def test_payment_patch_with_a_stale_etag_is_412_and_changes_nothing(api, payment):
    url = f"/api/v1/payments/{payment.pk}/"
    etag = _etag(api, url)
    assert api.patch(url, {"reference": "first"}, format="json", HTTP_IF_MATCH=etag).status_code == 200

    stale = api.patch(url, {"reference": "second"}, format="json", HTTP_IF_MATCH=etag)

    assert stale.status_code == 412
    assert error_of(stale)["code"] == "precondition_failed"
    assert Payment.objects.get(pk=payment.pk).reference == "first"


def test_payment_etag_changes_when_it_is_allocated(api, organization, acme_customer, payment):
    url = f"/api/v1/payments/{payment.pk}/"
    before = _etag(api, url)
    make_invoice(organization, acme_customer, amount="10.00", issue_date=dt.date(2026, 1, 3))
    api.post(f"{url}allocate/", {}, format="json")

    response = api.patch(url, {"reference": "late"}, format="json", HTTP_IF_MATCH=before)

    assert response.status_code == 412
    assert Payment.objects.get(pk=payment.pk).reference == "HSBC 0042"


def test_payment_amount_above_what_is_allocated_moves_the_unapplied_amount(api, payment):
    response = api.patch(f"/api/v1/payments/{payment.pk}/", {"amount": "75.50"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert (response.json()["amount"], response.json()["unapplied_amount"]) == ("75.5000", "15.5000")
    entry = AuditEntry.objects.get(action="payment.updated", object_id=str(payment.pk))
    assert entry.before == {"amount": "100.0000", "unapplied_amount": "40.0000"}
    assert entry.after == {"amount": "75.5000", "unapplied_amount": "15.5000"}


def test_payment_amount_below_what_is_allocated_is_409_and_changes_nothing(api, payment):
    response = api.patch(f"/api/v1/payments/{payment.pk}/", {"amount": "59.99"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 409
    assert error_of(response) == {
        "code": "over_application",
        "message": "The new amount 59.99 CNY is less than the 60.00 CNY already applied from this payment.",
        "fields": {"amount": [{"code": "over_application", "message": "The new amount 59.99 CNY is less than the "
                                                                      "60.00 CNY already applied from this payment."}]},
    }
    payment.refresh_from_db()
    assert (payment.amount, payment.unapplied_amount) == (Decimal("100.00"), Decimal("40.00"))
    assert not AuditEntry.objects.filter(action="payment.updated").exists()


def test_payment_received_on_redates_its_allocations_and_the_aging_follows(api, payment, invoice):
    url = f"/api/v1/payments/{payment.pk}/"
    aging = {"as_of": "2026-02-01"}
    assert api.get("/api/v1/reports/aging/", aging).json()["total"] == "40.0000"

    response = api.patch(url, {"received_on": "2026-02-10"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert [a["applied_on"] for a in response.json()["allocations"]] == ["2026-02-10"]
    # On 02-01 the cash had not arrived: INV-1 was still fully open.
    assert api.get("/api/v1/reports/aging/", aging).json()["total"] == "100.0000"
    # Earlier than the invoice: the allocation is dated at its issue date, as when it was made.
    api.patch(url, {"received_on": "2025-12-20"}, format="json", HTTP_IF_MATCH="*")
    assert Allocation.objects.get(payment=payment).applied_on == invoice.issue_date


@pytest.mark.parametrize("body", [{"currency": "USD"}, {"customer": 1}, {"unapplied_amount": "0"},
                                  {"allocations": []}, {"reference": "x", "nonsense": 1}])
def test_payment_fields_that_cannot_change_are_400_and_nothing_changes(api, payment, body):
    response = api.patch(f"/api/v1/payments/{payment.pk}/", body, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    refused = sorted(set(body) - {"reference"})
    assert sorted(error["fields"]) == refused
    assert error["fields"][refused[0]] == [{
        "code": "not_editable",
        "message": "This field cannot be changed here; editable fields: received_on, amount, method, reference, "
                   "external_id."}]
    assert Payment.objects.get(pk=payment.pk).reference == "HSBC 0042"


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"amount": "abc"}, "amount", "invalid"),
    ({"amount": 12.5}, "amount", "float"),
    ({"amount": "1.23456"}, "amount", "max_decimal_places"),
    ({"method": "bitcoin"}, "method", "invalid_choice"),
    ({"received_on": "yesterday"}, "received_on", "invalid"),
    ({"reference": "x" * 101}, "reference", "max_length"),
])
def test_payment_bad_values_are_400(api, payment, body, field, code):
    response = api.patch(f"/api/v1/payments/{payment.pk}/", body, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 400
    assert error_of(response)["fields"][field][0]["code"] == code
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("100.00")


def test_payment_amount_zero_is_400_from_the_service(api, payment):
    response = api.patch(f"/api/v1/payments/{payment.pk}/", {"amount": "0"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"
    assert error_of(response)["message"] == "Amount: must be more than zero."  # the label; the key stays "amount"


def test_payment_external_id_taken_by_another_payment_is_409(api, organization, acme_customer, payment):
    make_payment(organization, acme_customer, amount="5.00", auto_allocate=False, external_id="BANK-2")

    response = api.patch(f"/api/v1/payments/{payment.pk}/", {"external_id": "BANK-2"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 409
    assert error_of(response)["code"] == "duplicate"
    assert Payment.objects.get(pk=payment.pk).external_id == "BANK-1"


def test_payment_patch_without_changes_writes_no_audit_entry(api, payment):
    response = api.patch(f"/api/v1/payments/{payment.pk}/", {"reference": "HSBC 0042"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="payment.updated").exists()


# --- credit notes --------------------------------------------------------------------------------

def test_credit_note_patch_corrects_number_and_reason_and_is_audited(api, credit_note):
    url = f"/api/v1/credit-notes/{credit_note.pk}/"
    etag = _etag(api, url)

    response = api.patch(url, {"number": " CN-1A ", "reason": "price adjustment"}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.json()
    assert (response.json()["number"], response.json()["reason"]) == ("CN-1A", "price adjustment")
    assert response.headers["ETag"] == _etag(api, url) != etag
    entry = AuditEntry.objects.get(action="credit_note.updated", object_id=str(credit_note.pk))
    assert entry.before == {"number": "CN-1", "reason": "price"}
    assert entry.after == {"number": "CN-1A", "reason": "price adjustment"}


def test_credit_note_patch_with_a_stale_etag_is_412(api, credit_note):
    url = f"/api/v1/credit-notes/{credit_note.pk}/"
    etag = _etag(api, url)
    api.patch(url, {"reason": "first"}, format="json", HTTP_IF_MATCH=etag)

    stale = api.patch(url, {"reason": "second"}, format="json", HTTP_IF_MATCH=etag)

    assert stale.status_code == 412
    assert CreditNote.objects.get(pk=credit_note.pk).reason == "first"


def test_credit_note_amount_below_what_is_applied_is_409(api, credit_note):
    response = api.patch(f"/api/v1/credit-notes/{credit_note.pk}/", {"amount": "29.00"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 409
    assert error_of(response)["code"] == "over_application"
    assert error_of(response)["message"] == ("The new amount 29.00 CNY is less than the 30.00 CNY already applied "
                                             "from this credit note.")
    assert CreditNote.objects.get(pk=credit_note.pk).amount == Decimal("50.00")


def test_credit_note_amount_down_to_what_is_applied_leaves_nothing_unapplied(api, credit_note):
    response = api.patch(f"/api/v1/credit-notes/{credit_note.pk}/", {"amount": "30.00"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert response.json()["unapplied_amount"] == "0.0000"


def test_credit_note_issued_on_redates_its_allocations(api, credit_note):
    response = api.patch(f"/api/v1/credit-notes/{credit_note.pk}/", {"issued_on": "2026-03-01"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert list(Allocation.objects.filter(credit_note=credit_note).values_list("applied_on", flat=True)) == [
        dt.date(2026, 3, 1)]
    entry = AuditEntry.objects.get(action="credit_note.updated")
    allocation = Allocation.objects.get(credit_note=credit_note)
    assert entry.before["allocations_applied_on"] == {str(allocation.pk): "2026-01-10"}
    assert entry.after["allocations_applied_on"] == {str(allocation.pk): "2026-03-01"}


@pytest.mark.parametrize(("body", "field", "code", "status"), [
    ({"currency": "USD"}, "currency", "not_editable", 400),
    ({"customer": 1}, "customer", "not_editable", 400),
    ({"number": ""}, "number", "blank", 400),
    ({"number": "x" * 65}, "number", "max_length", 400),
    ({"issued_on": "2026-02-30"}, "issued_on", "invalid", 400),
])
def test_credit_note_bad_input_is_400_and_changes_nothing(api, credit_note, body, field, code, status):
    response = api.patch(f"/api/v1/credit-notes/{credit_note.pk}/", body, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == status
    assert error_of(response)["fields"][field][0]["code"] == code
    assert CreditNote.objects.get(pk=credit_note.pk).number == "CN-1"


def test_credit_note_number_taken_is_409(api, organization, acme_customer, credit_note):
    services.credit_note_create(organization=organization, actor=None, customer=acme_customer, number="CN-2",
                                issued_on=dt.date(2026, 1, 11), amount="1.00")

    response = api.patch(f"/api/v1/credit-notes/{credit_note.pk}/", {"number": "CN-2"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 409
    assert error_of(response) == {"code": "duplicate", "message": "A credit note with this number already exists.",
                                  "fields": {"number": [{"code": "duplicate", "message": "A credit note with this "
                                                                                         "number already exists."}]}}


# --- write-offs ----------------------------------------------------------------------------------

def test_write_off_reason_can_be_corrected_and_is_audited(api, write_off):
    url = f"/api/v1/write-offs/{write_off.pk}/"
    etag = _etag(api, url)

    response = api.patch(url, {"reason": "  Customer insolvent (case 17)  "}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["reason"] == "Customer insolvent (case 17)"
    assert response.headers["ETag"] == _etag(api, url) != etag
    entry = AuditEntry.objects.get(action="write_off.updated", object_id=str(write_off.pk))
    assert (entry.before, entry.after) == ({"reason": "insolvent"}, {"reason": "Customer insolvent (case 17)"})


def test_write_off_patch_with_a_stale_etag_is_412(api, write_off):
    url = f"/api/v1/write-offs/{write_off.pk}/"
    etag = _etag(api, url)
    api.patch(url, {"reason": "first"}, format="json", HTTP_IF_MATCH=etag)

    stale = api.patch(url, {"reason": "second"}, format="json", HTTP_IF_MATCH=etag)

    assert stale.status_code == 412
    assert WriteOff.objects.get(pk=write_off.pk).reason == "first"


@pytest.mark.parametrize("body", [{"amount": "10.00"}, {"written_off_on": "2026-03-01"}, {"invoice": 1},
                                  {"amount": "10.00", "reason": "smaller"}])
def test_write_off_amount_date_and_invoice_cannot_change(api, write_off, body):
    response = api.patch(f"/api/v1/write-offs/{write_off.pk}/", body, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 400
    error = error_of(response)
    assert sorted(error["fields"]) == sorted(set(body) - {"reason"})
    assert error["message"] == "This field cannot be changed here; editable fields: reason."
    write_off.refresh_from_db()
    assert (write_off.amount, write_off.reason) == (Decimal("20.00"), "insolvent")


def test_write_off_blank_reason_is_400(api, write_off):
    response = api.patch(f"/api/v1/write-offs/{write_off.pk}/", {"reason": "   "}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 400
    assert error_of(response)["fields"]["reason"][0]["code"] == "blank"


def test_write_off_reason_needs_the_credit_manager_role_by_session(organization, collector, write_off):
    client = APIClient()
    assert client.login(username=collector.username, password=PASSWORD)

    response = client.patch(f"/api/v1/write-offs/{write_off.pk}/", {"reason": "mine"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 403
    assert error_of(response) == {"code": "permission_denied", "fields": {},
                                  "message": "This needs the Credit manager role in Acme Trading."}
    assert WriteOff.objects.get(pk=write_off.pk).reason == "insolvent"


# --- all three: scope and tenancy ----------------------------------------------------------------

BODIES = {"payments": {"reference": "mine"}, "credit-notes": {"reason": "mine"}, "write-offs": {"reason": "mine"}}


@pytest.fixture
def rows(payment, credit_note, write_off):
    return {"payments": payment, "credit-notes": credit_note, "write-offs": write_off}


def _unchanged(rows):
    return (Payment.objects.get(pk=rows["payments"].pk).reference == "HSBC 0042"
            and CreditNote.objects.get(pk=rows["credit-notes"].pk).reason == "price"
            and WriteOff.objects.get(pk=rows["write-offs"].pk).reason == "insolvent")


@pytest.mark.parametrize("resource", list(BODIES))
def test_read_only_key_cannot_patch(read_api, rows, resource):
    response = read_api.patch(f"/api/v1/{resource}/{rows[resource].pk}/", BODIES[resource], format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 403
    assert error_of(response) == {"code": "insufficient_scope", "message": "This API key lacks the write scope.",
                                  "fields": {}}
    assert _unchanged(rows)
    assert not AuditEntry.objects.filter(action__endswith=".updated").exists()


@pytest.mark.parametrize("resource", list(BODIES))
def test_another_organizations_object_is_404_whatever_the_body(other_api, rows, resource):
    for body in (BODIES[resource], {"currency": "USD"}, {"amount": "abc"}):
        response = other_api.patch(f"/api/v1/{resource}/{rows[resource].pk}/", body, format="json", HTTP_IF_MATCH="*")

        assert response.status_code == 404, (body, response.content)
        assert error_of(response) == {"code": "not_found", "message": "Not found.", "fields": {}}
    assert _unchanged(rows)


def test_another_organizations_own_rows_are_patched_independently(other_api, other_organization, rows):
    # Control for the 404s above: the other key can patch its own payment.
    mine = CustomerFactory(organization=other_organization, currency="USD")
    own = make_payment(other_organization, mine, amount="10.00", auto_allocate=False)

    response = other_api.patch(f"/api/v1/payments/{own.pk}/", {"reference": "mine"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200
    assert _unchanged(rows)


# --- schema --------------------------------------------------------------------------------------

def test_schema_documents_the_three_patches_with_their_bodies_and_examples():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, component, example in (
        ("/api/v1/payments/{id}/", "PatchedPaymentUpdateRequest", "CorrectTheBankReference"),
        ("/api/v1/credit-notes/{id}/", "PatchedCreditNoteUpdateRequest", "CorrectTheNumberAndReason"),
        ("/api/v1/write-offs/{id}/", "PatchedWriteOffUpdateRequest", "CorrectTheReason"),
    ):
        operation = schema["paths"][path]["patch"]
        body = operation["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{component}"}, path
        assert example in body["examples"], path
        assert {"400", "404", "409", "412"} <= set(operation["responses"]), path
        assert "If-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}, path
    assert set(schema["components"]["schemas"]["PatchedWriteOffUpdateRequest"]["properties"]) == {"reason"}


@pytest.mark.parametrize(("resource", "body", "refused"), [
    ("invoices", {"due_dat": "2026-03-01"}, ["due_dat"]),  # a typo must not pass for a change
    ("invoices", {"number": "INV-9", "due_date": "2026-03-01"}, ["number"]),
    ("invoices", {"customer": 1}, ["customer"]),
    ("customers", {"nmae": "Renamed"}, ["nmae"]),
    ("customers", {"name": "Renamed", "balance": "0"}, ["balance"]),
])
def test_invoice_and_customer_patch_refuse_fields_they_do_not_take(api, invoice, acme_customer, resource, body,
                                                                   refused):
    obj = invoice if resource == "invoices" else acme_customer
    before = api.get(f"/api/v1/{resource}/{obj.pk}/").json()

    response = api.patch(f"/api/v1/{resource}/{obj.pk}/", body, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 400
    error = error_of(response)
    assert sorted(error["fields"]) == refused
    assert error["fields"][refused[0]][0]["code"] == "not_editable"
    assert api.get(f"/api/v1/{resource}/{obj.pk}/").json() == before
    assert not AuditEntry.objects.filter(action__in=["invoice.updated", "customer.updated"]).exists()
