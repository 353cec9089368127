"""The ledger's undo calls over the API: reverse, unapply + allocate, refund, reassign, credit-note and
write-off reversal; clear 400s that write nothing; two concurrent reversals of one payment over two
real database connections: one 200, one 409."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections, transaction

from receivables import services
from receivables.models import Allocation, Invoice, Payment
from tenancy.dates import local_today
from tests.api.conftest import error_of, key_client
from tests.factories import CustomerFactory, OrganizationFactory, make_invoice, make_payment

D = Decimal


@pytest.fixture
def paid(organization, acme_customer):
    invoice = make_invoice(organization, acme_customer, number="INV-1", amount="1130.00",
                           issue_date=dt.date(2026, 1, 5))
    payment = make_payment(organization, acme_customer, amount="1200.00", received_on=dt.date(2026, 2, 1))
    return invoice, payment


def test_reverse_over_the_api_reopens_and_bills_the_fee(api, organization, paid):
    invoice, payment = paid
    response = api.post(f"/api/v1/payments/{payment.pk}/reverse/",
                        {"reversed_on": "2026-02-10", "reason": "Cheque returned", "fee": "50.00"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["reversed_on"], body["unapplied_amount"]) == ("reversed", "2026-02-10", "0.0000")
    assert [a["amount"] for a in body["allocations"]] == ["1130.0000", "-1130.0000"]
    assert body["allocations"][1]["reverses"] == body["allocations"][0]["id"]
    fee = Invoice.objects.get(pk=body["reversal_fee_invoice"])
    assert (fee.kind, fee.total_amount) == ("charges", D("50.0000"))
    invoice.refresh_from_db()
    assert invoice.status == "open"

    again = api.post(f"/api/v1/payments/{payment.pk}/reverse/", {"reversed_on": "2026-02-11", "reason": "x"},
                     format="json")
    assert again.status_code == 400
    assert error_of(again)["message"] == "This payment was already reversed on 2026-02-10."
    allocate = api.post(f"/api/v1/payments/{payment.pk}/allocate/",
                        {"allocations": [{"invoice": invoice.pk, "amount": "1.00"}]}, format="json")
    assert allocate.status_code == 400
    assert "reversed on 2026-02-10; it cannot be used again" in error_of(allocate)["message"]


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"reversed_on": "2026-01-31", "reason": "x"}, "reversed_on", "before the payment's own date (2026-02-01)"),
    ({"reversed_on": "2999-01-01", "reason": "x"}, "reversed_on", "cannot be in the future"),
    ({"reversed_on": "2026-02-10", "reason": ""}, "reason", "may not be blank"),
    ({"reversed_on": "2026-02-10", "reason": "x", "fee": "-1"}, "fee", ""),
])
def test_bad_reversals_are_400_and_write_nothing(api, paid, body, field, message):
    _invoice, payment = paid
    count = Allocation.objects.count()
    response = api.post(f"/api/v1/payments/{payment.pk}/reverse/", body, format="json")
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert field in error["fields"] and message in error["message"] + str(error["fields"])
    assert Allocation.objects.count() == count
    assert Payment.objects.get(pk=payment.pk).status == "received"


def test_unapply_allocate_refund_reassign(api, organization, acme_customer, paid):
    invoice, payment = paid
    other = make_invoice(organization, acme_customer, number="INV-2", amount="500.00", issue_date=dt.date(2026, 1, 20))
    today = local_today(organization.timezone).isoformat()
    unapply = api.post(f"/api/v1/payments/{payment.pk}/unapply/",
                       {"invoice": invoice.pk, "amount": "300.00", "on": today}, format="json")
    assert unapply.status_code == 200, unapply.content
    assert unapply.json()["unapplied_amount"] == "370.0000"  # 70.00 was never applied + 300.00 moved back
    allocate = api.post(f"/api/v1/payments/{payment.pk}/allocate/",
                        {"allocations": [{"invoice": other.pk, "amount": "320.00"}]}, format="json")
    assert allocate.status_code == 200, allocate.content
    too_much = api.post(f"/api/v1/payments/{payment.pk}/refund/", {"amount": "50.01"}, format="json")
    assert too_much.status_code == 400
    assert error_of(too_much)["message"] == ("Only 50.00 CNY of this payment is unapplied; 50.01 CNY cannot be "
                                             "refunded.")
    refund = api.post(f"/api/v1/payments/{payment.pk}/refund/", {"amount": "50.00", "reference": "TT-1"},
                      format="json")
    assert refund.status_code == 200
    assert (refund.json()["unapplied_amount"], refund.json()["refunded_amount"]) == ("0.0000", "50.0000")

    stray = make_payment(organization, acme_customer, amount="10.00", received_on=dt.date(2026, 2, 2),
                         auto_allocate=False)
    right = CustomerFactory(organization=organization, name="Right")
    moved = api.post(f"/api/v1/payments/{stray.pk}/reassign/", {"customer": right.pk}, format="json")
    assert moved.status_code == 200 and moved.json()["customer"] == right.pk
    refused = api.post(f"/api/v1/payments/{payment.pk}/reassign/", {"customer": right.pk}, format="json")
    assert refused.status_code == 409


def test_credit_note_and_write_off_reversal(api, organization, acme_customer):
    invoice = make_invoice(organization, acme_customer, number="INV-3", amount="200.00", issue_date=dt.date(2026, 1, 5))
    note = services.credit_note_create(organization=organization, actor=None, customer=acme_customer, number="CN-1",
                                       issued_on=dt.date(2026, 1, 6), amount=D("50.00"), invoice=invoice)
    write_off = services.invoice_write_off(organization=organization, actor=None, invoice=invoice, reason="Lost",
                                           written_off_on=dt.date(2026, 1, 7))
    reversed_note = api.post(f"/api/v1/credit-notes/{note.pk}/reverse/",
                             {"reversed_on": "2026-01-10", "reason": "Issued in error"}, format="json")
    assert reversed_note.status_code == 200 and reversed_note.json()["status"] == "reversed"
    partial = api.post(f"/api/v1/write-offs/{write_off.pk}/reverse/",
                       {"reversed_on": "2026-01-12", "reason": "Dividend", "amount": "60.00"}, format="json")
    assert partial.status_code == 200 and partial.json()["reversed_amount"] == "60.0000"
    invoice.refresh_from_db()
    assert (invoice.applied_amount, invoice.written_off_amount) == (D("90.00"), D("90.00"))
    types = set(api.get("/api/v1/events/").json()["results"][i]["type"] for i in range(5))
    assert {"credit_note.reversed", "write_off.reversed", "invoice.reopened"} <= types | set(
        e["type"] for e in api.get("/api/v1/events/?limit=100").json()["results"])


def test_another_organizations_payment_is_a_404(other_api, paid):
    _invoice, payment = paid
    response = other_api.post(f"/api/v1/payments/{payment.pk}/reverse/", {"reversed_on": "2026-02-10", "reason": "x"},
                              format="json")
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reversals_one_succeeds_one_is_409():
    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization, currency="CNY")
    make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 5))
    payment = make_payment(organization, customer, amount="100.00", received_on=dt.date(2026, 1, 10))
    client = key_client(organization)  # before the race: making a key appends to the audit chain too
    first_holds, let_first_commit = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                services.payment_reverse(organization=organization, actor=None, payment=payment,
                                         reversed_on=dt.date(2026, 1, 20), reason="Bounced")
                first_holds.set()
                let_first_commit.wait(timeout=10)
            outcome["first"] = "ok"
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_holds.wait(timeout=10)
    second = client.post(f"/api/v1/payments/{payment.pk}/reverse/", {"reversed_on": "2026-01-21", "reason": "Again"},
                         format="json")
    let_first_commit.set()
    thread.join(timeout=10)

    assert outcome == {"first": "ok"}
    assert second.status_code == 409, second.content
    assert error_of(second)["code"] == "concurrent_change"
    reversals = Allocation.objects.filter(organization=organization, reverses__isnull=False)
    assert [(r.amount, r.applied_on) for r in reversals] == [(D("-100.0000"), dt.date(2026, 1, 20))]
