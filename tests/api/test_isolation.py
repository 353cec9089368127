"""Tenancy, endpoint by endpoint from the schema: organization B's key gets 404 on A's objects,
never sees A's rows in lists, exports or bulk results, and cannot point a foreign key at them."""

import datetime as dt
import json
import re

import pytest
import time_machine
from drf_spectacular.generators import SchemaGenerator

from credit import services as credit_services
from dunning import services as dunning_services
from factoring import services as factoring_services
from forecasting import services as forecasting_services
from insurance import services as insurance_services
from receivables import services
from tenancy.dates import local_today
from tests.factories import CustomerFactory, make_invoice, make_payment
from tests.factoring.conftest import facility_make
from tests.insurance.conftest import POLICY_TERMS, grant_cover

pytestmark = pytest.mark.django_db

SECRET = "ACME-SECRET"


@pytest.fixture
def acme(organization):
    customer = CustomerFactory(organization=organization, name=f"{SECRET} customer", external_id="EXT-C")
    invoice = make_invoice(organization, customer, amount="100.00", number=f"{SECRET}-1", external_id="EXT-I",
                           issue_date=dt.date(2026, 1, 1))
    other_invoice = make_invoice(organization, customer, amount="50.00", number=f"{SECRET}-2",
                                 issue_date=dt.date(2026, 1, 2))
    payment = make_payment(organization, customer, amount="30.00", external_id="EXT-P", auto_allocate=False)
    note = services.credit_note_create(organization=organization, actor=None, customer=customer, number=f"{SECRET}-CN",
                                       issued_on=dt.date(2026, 1, 3), amount="5.00", external_id="EXT-N")
    write_off = services.invoice_write_off(organization=organization, actor=None, invoice=other_invoice,
                                           reason=SECRET, amount="10.00")
    # Dunning: a run while the invoices are overdue records a message; then a dispute, a promise, a plan.
    dunning_services.dunning_run(organization=organization, today=dt.date(2026, 12, 31))
    message = dunning_services.selectors.message_list(organization).get()
    later = local_today(organization.timezone) + dt.timedelta(days=10)
    dispute = dunning_services.dispute_open(organization=organization, actor=None, invoice=invoice, reason="price",
                                            amount="1.00")
    promise = dunning_services.promise_create(organization=organization, actor=None, customer=customer,
                                              invoices=[invoice], amount="1.00", promised_date=later)
    other_invoice.refresh_from_db()
    plan = dunning_services.payment_plan_create(organization=organization, actor=None, customer=customer,
                                                invoices=[other_invoice], installments=[(later, other_invoice.balance)])
    credit = _acme_credit(organization, customer)
    # Forecasting: the open invoices' predictions (the invoice's prediction is read by the invoice's id).
    forecasting_services.predictions_refresh(organization=organization, as_of=local_today(organization.timezone))
    return {"customers": customer, "invoices": invoice, "payments": payment, "credit-notes": note,
            "write-offs": write_off, "disputes": dispute, "promises": promise, "payment-plans": plan,
            "dunning-messages": message, **credit, **_acme_insurance(organization), **_acme_factoring(organization),
            "forecast/invoices": invoice}


def _acme_insurance(organization) -> dict:
    """Insurance, on 1 April 2026 (a buyer of its own, so no credit hold of the ledger above applies): a policy,
    the buyer's cover, an overdue declaration and a filed claim."""
    with time_machine.travel(dt.datetime(2026, 4, 1, 4, 0, tzinfo=dt.UTC), tick=False):
        policy = insurance_services.policy_create(organization=organization, actor=None,
                                                  **{**POLICY_TERMS, "policy_number": f"{SECRET}-POLICY"})
        buyer = CustomerFactory(organization=organization, name=f"{SECRET} insured buyer", currency="CNY")
        cover = grant_cover(organization, policy, buyer)
        invoice = make_invoice(organization, buyer, amount="20000.00", number=f"{SECRET}-INS",
                               issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 1, 31))
        declaration = insurance_services.declaration_create(organization=organization, actor=None, policy=policy,
                                                            customer=buyer, kind="overdue", invoices=[invoice],
                                                            notified_on=dt.date(2026, 4, 1))
        claim = insurance_services.claim_create(organization=organization, actor=None, policy=policy, customer=buyer,
                                                invoices=[invoice], as_of=dt.date(2026, 4, 1))
    return {"insurance/policies": policy, "insurance/cover-requests": cover,
            "insurance/declarations": declaration, "insurance/claims": claim}


def _acme_factoring(organization) -> dict:
    """Factoring, on 2 March 2026: a facility and a draft assignment of a buyer's invoice not yet due."""
    with time_machine.travel(dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC), tick=False):
        facility = facility_make(organization, name=f"{SECRET} facility")
        buyer = CustomerFactory(organization=organization, name=f"{SECRET} factored buyer", currency="CNY")
        invoice = make_invoice(organization, buyer, amount="10000.00", number=f"{SECRET}-FAC",
                               issue_date=dt.date(2026, 2, 1), due_date=dt.date(2026, 4, 1))
        assignment = factoring_services.assignment_create(organization=organization, actor=None, facility=facility,
                                                          invoices=[invoice], assigned_on=dt.date(2026, 3, 2))
    return {"factoring/facilities": facility, "factoring/assignments": assignment}


def _acme_credit(organization, customer) -> dict:
    """Credit: a file with a statement and a signal (which raises an alert), a score, a limit request."""
    profile = credit_services.profile_update(organization=organization, actor=None, customer=customer,
                                             industry=SECRET)
    statement = credit_services.financial_statement_set(
        organization=organization, actor=None, customer=customer, year=2025, revenue="100", ebit="1",
        net_income="1", current_assets="10", current_liabilities="5", total_assets="50", total_liabilities="20",
        retained_earnings="1", equity="30")
    signal = credit_services.signal_record(organization=organization, actor=None, customer=customer,
                                           kind="litigation", description=SECRET, observed_on=dt.date(2026, 1, 5))
    score = credit_services.customer_score(organization=organization, customer=customer)
    request = credit_services.limit_request_create(organization=organization, actor=None, customer=customer,
                                                   requested_limit="1000", requested_terms_days=30, reason=SECRET)
    alert = credit_services.selectors.alert_list(organization).first()
    return {"credit-profiles": profile, "credit-financials": statement, "credit-signals": signal,
            "credit-scores": score, "credit-limit-requests": request, "credit-alerts": alert}


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in item:
            yield path, method


def _resource(path: str) -> str:
    parts = path.removeprefix("/api/v1/").split("/")
    return "/".join(parts[:2]) if parts[0] in ("insurance", "factoring", "forecast") else parts[0]


# Reads that need a query or a path value other than an id: what the test sends.
QUERIES = {"/api/v1/provisions/movement/": {"date_from": "2026-01-01", "date_to": "2026-12-31"}}
WEEK = "2026-03-30"


# A body that would be valid for A, so only the object lookup can refuse it.
ACTION_BODIES = {
    "void": {}, "write-off": {"reason": "x"}, "allocate": {}, "apply": {}, "resolve": {"resolution": "rejected"},
}


def test_every_detail_endpoint_is_404_for_another_organization(acme, api, other_api):
    checked = 0
    for path, method in _operations():
        if "{id}" not in path and "{external_id}" not in path:
            continue
        obj = acme[_resource(path)]
        url = path.replace("{id}", str(obj.pk)).replace("{external_id}", getattr(obj, "external_id", "") or "none")
        body = ACTION_BODIES.get(path.rstrip("/").split("/")[-1], {"description": "x"})
        response = getattr(other_api, method)(url, body, format="json") if method != "get" else other_api.get(url)
        assert response.status_code == 404, (method, url, response.content)
        assert SECRET not in response.content.decode()
        if method == "get":  # control: the same URL works for A, so the 404 is the tenancy check
            assert api.get(url).status_code == 200, url
        checked += 1
    assert checked >= 15


def test_no_list_or_report_shows_another_organizations_rows(acme, other_api):
    checked = 0
    for path, method in _operations():
        path = path.replace("{week_start}", WEEK)
        if "{" in path or method != "get":
            continue
        for fmt in ("json", "csv") if path.startswith("/api/v1/reports/aging") else ("json",):
            response = other_api.get(path, {**QUERIES.get(path, {}), **({"format": fmt} if fmt != "json" else {})})
            assert response.status_code == 200, (path, response.content)
            assert SECRET not in response.content.decode(), path
            assert "EXT-" not in response.content.decode(), path
            checked += 1
    assert checked >= 8


def test_foreign_keys_into_another_organization_are_400(acme, other_api):
    foreign = {
        "/api/v1/invoices/": {"customer": acme["customers"].pk, "number": "X", "issue_date": "2026-01-01",
                              "net_amount": "1"},
        "/api/v1/payments/": {"customer": acme["customers"].pk, "received_on": "2026-01-01", "amount": "1"},
        "/api/v1/credit-notes/": {"customer": acme["customers"].pk, "number": "X", "issued_on": "2026-01-01",
                                  "amount": "1"},
        "/api/v1/write-offs/": {"invoice": acme["invoices"].pk, "reason": "x"},
        "/api/v1/disputes/": {"invoice": acme["invoices"].pk, "reason": "price"},
        "/api/v1/promises/": {"customer": acme["customers"].pk, "invoices": [], "amount": "1",
                              "promised_date": "2030-01-01"},
        "/api/v1/payment-plans/": {"customer": acme["customers"].pk, "invoices": [],
                                   "installments": [{"due_date": "2030-01-01", "amount": "1"}]},
        "/api/v1/insurance/cover-requests/": {"policy": acme["insurance/policies"].pk, "customer": acme["customers"].pk,
                                              "request_type": "new", "amount": "1"},
        "/api/v1/insurance/declarations/": {"policy": acme["insurance/policies"].pk, "customer": acme["customers"].pk,
                                            "kind": "overdue", "invoices": [acme["invoices"].pk]},
        "/api/v1/insurance/claims/": {"policy": acme["insurance/policies"].pk, "customer": acme["customers"].pk,
                                      "invoices": [acme["invoices"].pk]},
        "/api/v1/factoring/assignments/": {"facility": acme["factoring/facilities"].pk,
                                           "invoices": [acme["invoices"].pk], "assigned_on": "2026-03-02"},
    }
    for url, body in foreign.items():
        response = other_api.post(url, body, format="json")
        assert response.status_code == 400, (url, response.content)
        field = "invoice" if "write-offs" in url or "disputes" in url else "customer"
        field = "facility" if "factoring" in url else field
        assert response.json()["error"]["fields"][field][0]["code"] == "does_not_exist", url
    by_ref = other_api.post("/api/v1/invoices/", {"customer_external_id": "EXT-C", "number": "X",
                                                  "issue_date": "2026-01-01", "net_amount": "1"}, format="json")
    assert by_ref.status_code == 400
    assert by_ref.json()["error"]["fields"]["customer_external_id"][0]["code"] == "does_not_exist"


def test_allocating_to_another_organizations_invoice_is_400(acme, other_api, other_organization):
    mine = CustomerFactory(organization=other_organization, currency="USD")
    payment = make_payment(other_organization, mine, amount="10.00", auto_allocate=False)
    response = other_api.post(f"/api/v1/payments/{payment.pk}/allocate/",
                              {"allocations": [{"invoice": acme["invoices"].pk, "amount": "1.00"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["allocations"]["0"]["invoice"][0]["code"] == "does_not_exist"


def test_every_collection_post_is_covered(acme):
    posts = {path for path, method in _operations() if method == "post" and "{" not in path}
    assert posts == {"/api/v1/customers/", "/api/v1/customers/bulk/", "/api/v1/invoices/",
                     "/api/v1/invoices/bulk/", "/api/v1/payments/", "/api/v1/payments/bulk/",
                     "/api/v1/credit-notes/", "/api/v1/write-offs/", "/api/v1/disputes/", "/api/v1/promises/",
                     "/api/v1/payment-plans/", "/api/v1/credit-profiles/", "/api/v1/credit-financials/",
                     "/api/v1/credit-signals/", "/api/v1/credit-limit-requests/", "/api/v1/insurance/policies/",
                     "/api/v1/insurance/cover-requests/", "/api/v1/insurance/declarations/",
                     "/api/v1/insurance/claims/", "/api/v1/factoring/facilities/", "/api/v1/factoring/assignments/"}


def test_bulk_results_never_include_another_organizations_rows(acme, other_api):
    response = other_api.post("/api/v1/customers/bulk/", {"rows": [{"external_id": "EXT-C", "name": "Mine"}]},
                              format="json")
    body = response.json()
    assert body["rows"][0]["outcome"] == "created"
    assert body["rows"][0]["id"] != acme["customers"].pk
    assert not re.search(SECRET, json.dumps(body))
