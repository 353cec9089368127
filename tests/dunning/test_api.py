"""The dunning API: disputes, promises, payment plans and the messages sent, through real API
keys of two organizations (scopes, validation messages, tenancy)."""

import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from dunning import selectors, services
from dunning.models import Dispute, PaymentPlan, PromiseToPay
from tenancy.models import ApiScope, WebhookEvent
from tests.api.conftest import key_client
from tests.dunning.conftest import highest_catch_up, travel
from tests.factories import CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 4)  # a Wednesday


@pytest.fixture(autouse=True)
def _clean(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()  # throttle counters
    with travel(TODAY):
        yield


@pytest.fixture
def api(organization):
    return key_client(organization)


@pytest.fixture
def read_api(organization):
    return key_client(organization, scopes=[ApiScope.READ])


@pytest.fixture
def other_api(other_organization):
    return key_client(other_organization)


@pytest.fixture
def invoice(organization, english):
    return make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                        due_date=dt.date(2026, 2, 1), number="INV-A")


@pytest.fixture
def second(organization, english):
    return make_invoice(organization, english, amount="500.00", issue_date=dt.date(2026, 1, 15),
                        due_date=dt.date(2026, 2, 15), number="INV-B")


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


# --- disputes --------------------------------------------------------------------------------


def test_open_a_dispute_on_part_of_an_invoice(api, invoice):
    response = api.post("/api/v1/disputes/", {"invoice": invoice.pk, "reason": "quantity", "amount": "300.00",
                                              "description": "Two pallets short."}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["invoice_number"], body["amount"], body["currency"]) == ("INV-A", "300.0000", "CNY")
    assert (body["status"], body["source"], body["opened_on"], body["due_on"]) == (
        "open", "api", "2026-03-04", "2026-03-18")
    assert response["Location"] == f"/api/v1/disputes/{body['id']}/"
    assert response["ETag"]
    event = WebhookEvent.objects.get(type="dispute.opened")
    assert event.payload["invoice"] == "INV-A"
    assert api.get(f"/api/v1/disputes/{body['id']}/").json()["reason"] == "quantity"


def test_dispute_validation_errors_say_what_is_wrong(api, invoice):
    missing = api.post("/api/v1/disputes/", {"invoice": invoice.pk}, format="json")
    assert missing.status_code == 400
    error = error_of(missing)
    assert error["code"] == "validation_error"
    assert error["fields"]["reason"] == [{"code": "required", "message": "This field is required."}]

    bad_reason = api.post("/api/v1/disputes/", {"invoice": invoice.pk, "reason": "mood"}, format="json")
    assert error_of(bad_reason)["fields"]["reason"][0]["message"] == '"mood" is not a valid choice.'

    too_much = api.post("/api/v1/disputes/", {"invoice": invoice.pk, "reason": "price", "amount": "1200.00"},
                        format="json")
    assert too_much.status_code == 400
    error = error_of(too_much)
    assert error["code"] == "invalid"
    assert error["message"] == "At most 1,000.00 CNY of invoice INV-A can be disputed."
    assert error["fields"]["amount"][0]["message"] == error["message"]

    float_amount = api.post("/api/v1/disputes/", {"invoice": invoice.pk, "reason": "price", "amount": 12.5},
                            format="json")
    assert error_of(float_amount)["fields"]["amount"][0]["message"].startswith("Give amounts as decimal strings")
    assert not Dispute.objects.exists()


def test_resolve_a_dispute_with_a_credit_note_and_not_twice(api, invoice):
    dispute = services.dispute_open(organization=invoice.organization, actor=None, invoice=invoice, reason="price",
                                    amount="100.00")
    url = f"/api/v1/disputes/{dispute.pk}/resolve/"
    no_number = api.post(url, {"resolution": "credit_note"}, format="json")
    assert no_number.status_code == 400
    assert error_of(no_number)["fields"]["credit_note_number"][0]["message"] == "Give the credit note a number."

    resolved = api.post(url, {"resolution": "credit_note", "credit_note_number": "CN-9", "notes": "Agreed."},
                        format="json")
    assert resolved.status_code == 200, resolved.content
    assert (resolved.json()["status"], resolved.json()["resolution"]) == ("resolved", "credit_note")
    invoice.refresh_from_db()
    assert invoice.balance == 900
    assert WebhookEvent.objects.filter(type="dispute.resolved").count() == 1

    again = api.post(url, {"resolution": "rejected"}, format="json")
    assert again.status_code == 400
    assert error_of(again)["message"] == "This dispute is already resolved."


def test_disputes_filter_by_status(api, invoice, second):
    services.dispute_open(organization=invoice.organization, actor=None, invoice=invoice, reason="price")
    closed = services.dispute_open(organization=invoice.organization, actor=None, invoice=second, reason="other")
    services.dispute_resolve(organization=invoice.organization, actor=None, dispute=closed, resolution="rejected")
    numbers = [d["invoice_number"] for d in api.get("/api/v1/disputes/", {"status": "open"}).json()["results"]]
    assert numbers == ["INV-A"]


# --- promises --------------------------------------------------------------------------------


def test_promise_is_created_then_broken_and_its_status_shows_it(api, organization, english, invoice):
    response = api.post("/api/v1/promises/", {"customer": english.pk, "invoices": [invoice.pk], "amount": "400.00",
                                              "promised_date": "2026-03-10", "grace_days": 2}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["pause_until"], body["invoices"], body["source"]) == (
        "open", "2026-03-12", [invoice.pk], "api")
    with travel(dt.date(2026, 3, 13)):
        services.dunning_run(organization=organization)
    after = api.get(f"/api/v1/promises/{body['id']}/").json()
    assert (after["status"], after["paid_amount"]) == ("broken", "0.0000")
    assert WebhookEvent.objects.get(type="promise.broken").payload["id"] == body["id"]
    broken = api.get("/api/v1/promises/", {"status": "broken"}).json()["results"]
    assert [p["id"] for p in broken] == [body["id"]]


def test_promise_kept_from_a_payment(api, organization, english, invoice):
    promise = api.post("/api/v1/promises/", {"customer": english.pk, "invoices": [invoice.pk], "amount": "400.00",
                                             "promised_date": "2026-03-10"}, format="json").json()
    make_payment(organization, english, amount="400.00", received_on=dt.date(2026, 3, 9))
    with travel(dt.date(2026, 3, 10)):
        services.dunning_run(organization=organization)
    assert api.get(f"/api/v1/promises/{promise['id']}/").json()["status"] == "kept"


def test_promise_validation_errors(api, organization, english, invoice):
    too_much = api.post("/api/v1/promises/", {"customer": english.pk, "invoices": [invoice.pk], "amount": "5000",
                                              "promised_date": "2026-03-10"}, format="json")
    assert too_much.status_code == 400
    assert error_of(too_much)["message"] == (
        "The promise of 5,000.00 CNY is more than the 1,000.00 CNY these invoices owe.")

    past = api.post("/api/v1/promises/", {"customer": english.pk, "invoices": [invoice.pk], "amount": "10",
                                          "promised_date": "2026-03-01"}, format="json")
    assert error_of(past)["fields"]["promised_date"][0]["message"] == "The promised date cannot be in the past."

    someone_else = CustomerFactory(organization=organization)
    mismatch = api.post("/api/v1/promises/", {"customer": someone_else.pk, "invoices": [invoice.pk], "amount": "10",
                                              "promised_date": "2026-03-10"}, format="json")
    error = error_of(mismatch)
    assert (mismatch.status_code, error["code"]) == (400, "customer_mismatch")
    assert error["message"] == "Invoice INV-A belongs to another customer."

    empty = api.post("/api/v1/promises/", {"customer": english.pk, "invoices": [], "amount": "10",
                                           "promised_date": "2026-03-10"}, format="json")
    assert error_of(empty)["fields"]["invoices"][0]["code"] == "empty"
    assert not PromiseToPay.objects.exists()


# --- payment plans ---------------------------------------------------------------------------


def test_create_a_payment_plan_with_installments(api, english, invoice, second):
    response = api.post("/api/v1/payment-plans/", {
        "customer": english.pk, "invoices": [invoice.pk, second.pk],
        "installments": [{"due_date": "2026-04-15", "amount": "750.00"}, {"due_date": "2026-05-15", "amount": "750"}],
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["covered_amount"], body["total_amount"], body["status"]) == ("1500.0000", "1500.0000", "active")
    assert [(i["sequence"], i["due_date"], i["amount"]) for i in body["installments"]] == [
        (1, "2026-04-15", "750.0000"), (2, "2026-05-15", "750.0000")]
    assert sorted(body["invoices"]) == sorted([invoice.pk, second.pk])
    listed = api.get("/api/v1/payment-plans/", {"status": "active"}).json()["results"]
    assert [p["id"] for p in listed] == [body["id"]]


def test_installments_that_do_not_add_up_are_refused_with_the_figures(api, english, invoice):
    response = api.post("/api/v1/payment-plans/", {
        "customer": english.pk, "invoices": [invoice.pk],
        "installments": [{"due_date": "2026-04-15", "amount": "500.00"}, {"due_date": "2026-05-15", "amount": "400"}],
    }, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["message"] == ("The installments' principal adds up to 900.00 CNY; the covered balance is "
                                "1,000.00 CNY (interest is added on the declining balance).")
    assert error["fields"]["installments"][0]["message"] == error["message"]

    shape = api.post("/api/v1/payment-plans/", {"customer": english.pk, "invoices": [invoice.pk],
                                                "installments": [{"due_date": "soon", "amount": "-1"}]},
                     format="json")
    fields = error_of(shape)["fields"]["installments"]["0"]
    assert fields["due_date"][0]["code"] == "invalid"
    assert fields["amount"][0]["code"] == "min_value"
    assert not PaymentPlan.objects.exists()


# --- messages sent ---------------------------------------------------------------------------


def test_messages_sent_are_listed_read_only_with_their_notices(api, organization, invoice):
    highest_catch_up(organization)
    services.dunning_run(organization=organization)
    results = api.get("/api/v1/dunning-messages/").json()["results"]
    assert len(results) == 1
    message = results[0]
    assert message["to"] == ["ap@northwind.example"]
    assert [(n["invoice_number"], n["step_days"]) for n in message["notices"]] == [("INV-A", 30)]
    assert len(message["content_hash"]) == 64
    refused = api.post("/api/v1/dunning-messages/", {}, format="json")
    assert refused.status_code == 405
    assert error_of(refused)["code"] == "method_not_allowed"


# --- scopes, roles, tenancy ------------------------------------------------------------------


def test_read_key_reads_but_cannot_write(read_api, invoice):
    assert read_api.get("/api/v1/disputes/").status_code == 200
    response = read_api.post("/api/v1/disputes/", {"invoice": invoice.pk, "reason": "price"}, format="json")
    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["message"]) == ("insufficient_scope", "This API key lacks the write scope.")
    assert not Dispute.objects.exists()


def test_a_session_viewer_cannot_open_a_dispute(organization, viewer, invoice):
    client = APIClient()
    client.force_login(viewer)
    response = client.post("/api/v1/disputes/", {"invoice": invoice.pk, "reason": "price"}, format="json")
    assert response.status_code == 403
    assert error_of(response)["message"] == "This needs the Collector role in Acme Trading."


@pytest.fixture
def acme_rows(organization, english, invoice, second):
    dispute = services.dispute_open(organization=organization, actor=None, invoice=invoice, reason="price")
    promise = services.promise_create(organization=organization, actor=None, customer=english, invoices=[second],
                                      amount="100", promised_date=dt.date(2026, 3, 20))
    third = make_invoice(organization, english, amount="300.00", issue_date=dt.date(2026, 1, 2),
                         due_date=dt.date(2026, 2, 2), number="INV-C")
    plan = services.payment_plan_create(organization=organization, actor=None, customer=english, invoices=[third],
                                        installments=[(dt.date(2026, 4, 1), "300.00")])
    fourth = make_invoice(organization, english, amount="50.00", issue_date=dt.date(2026, 1, 3),
                          due_date=dt.date(2026, 2, 3), number="INV-D")
    services.dunning_run(organization=organization)
    message = selectors.message_list(organization).get()
    assert message.notices.get().invoice == fourth  # the others are paused
    return {"disputes": dispute, "promises": promise, "payment-plans": plan, "dunning-messages": message}


def test_another_organizations_objects_are_404_and_never_listed(api, other_api, acme_rows):
    for resource, obj in acme_rows.items():
        url = f"/api/v1/{resource}/{obj.pk}/"
        assert api.get(url).status_code == 200, url  # control: the owner sees it
        response = other_api.get(url)
        assert response.status_code == 404, url
        assert error_of(response) == {"code": "not_found", "message": "Not found.", "fields": {}}
        assert other_api.get(f"/api/v1/{resource}/").json()["results"] == [], resource
    resolve = other_api.post(f"/api/v1/disputes/{acme_rows['disputes'].pk}/resolve/", {"resolution": "rejected"},
                             format="json")
    assert resolve.status_code == 404
    assert Dispute.objects.get().status == "open"


def test_foreign_keys_into_another_organization_are_400(other_api, other_organization, english, invoice):
    mine = CustomerFactory(organization=other_organization, currency="USD")
    dispute = other_api.post("/api/v1/disputes/", {"invoice": invoice.pk, "reason": "price"}, format="json")
    assert dispute.status_code == 400
    assert error_of(dispute)["fields"]["invoice"][0]["code"] == "does_not_exist"

    promise = other_api.post("/api/v1/promises/", {"customer": english.pk, "invoices": [invoice.pk], "amount": "1",
                                                   "promised_date": "2026-03-10"}, format="json")
    fields = error_of(promise)["fields"]
    assert fields["customer"][0]["code"] == "does_not_exist"
    assert fields["invoices"]["0"][0]["code"] == "does_not_exist"

    plan = other_api.post("/api/v1/payment-plans/", {"customer": mine.pk, "invoices": [invoice.pk],
                                                     "installments": [{"due_date": "2026-04-01", "amount": "1"}]},
                          format="json")
    assert plan.status_code == 400
    assert error_of(plan)["fields"]["invoices"]["0"][0]["message"] == (
        f'Invalid pk "{invoice.pk}" - object does not exist.')
    assert not (Dispute.objects.exists() or PromiseToPay.objects.exists() or PaymentPlan.objects.exists())


def test_idempotency_key_replays_a_dispute_instead_of_opening_two(api, invoice):
    body = {"invoice": invoice.pk, "reason": "price", "amount": "10.00"}
    first = api.post("/api/v1/disputes/", body, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    second = api.post("/api/v1/disputes/", body, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert Dispute.objects.count() == 1
