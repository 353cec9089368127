"""The insurance API as the issue names it: policies, cover requests and decide, deadlines as of a date,
declarations, claims answering with expected_indemnity; roles, tenancy (404s) and error bodies."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from insurance.models import CoverRequest
from tests.api.conftest import key_client
from tests.factories import PASSWORD, MembershipFactory

from .conftest import POLICY_TERMS, invoice

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 4, 1, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _clean_throttle():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api(organization):
    return key_client(organization)


def _policy_body(**changes):
    body = {k: (str(v) if isinstance(v, Decimal | dt.date) else v) for k, v in POLICY_TERMS.items()}
    body.update(changes)
    return body


def test_policy_create_and_read_back(api):
    created = api.post("/api/v1/insurance/policies/", _policy_body(), format="json")
    assert created.status_code == 201, created.json()
    body = api.get(created["Location"]).json()
    assert (body["insurer_name"], body["insured_percentage"], body["overdue_notification_days"],
            body["claim_threshold"], body["premium_rate"], body["starts_on"], body["ends_on"]) == (
        "Allianz Trade", "90.00", 60, "5000.0000", "0.2500", "2026-01-01", "2026-12-31")


def test_policy_rules_are_clear_errors(api):
    bad = api.post("/api/v1/insurance/policies/", _policy_body(claim_filing_days=30), format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == ("The claim-filing deadline cannot come before the overdue "
                                              "notification deadline.")
    api.post("/api/v1/insurance/policies/", _policy_body(), format="json")
    again = api.post("/api/v1/insurance/policies/", _policy_body(), format="json")
    assert again.status_code == 409


def test_cover_request_decide_once_then_409(api, policy, buyer):
    created = api.post("/api/v1/insurance/cover-requests/", {
        "policy": policy.pk, "customer": buyer.pk, "amount": "300000.00", "request_type": "new"}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    decided = api.post(f"/api/v1/insurance/cover-requests/{pk}/decide/", {
        "decision": "partial", "amount": "200000.00", "reason_code": "7", "reason_text": "Limited financials",
        "valid_until": "2026-12-31"}, format="json")
    assert decided.status_code == 200, decided.json()
    assert (decided.json()["decision"], decided.json()["decided_amount"], decided.json()["valid_until"]) == (
        "partial", "200000.0000", "2026-12-31")
    again = api.post(f"/api/v1/insurance/cover-requests/{pk}/decide/", {"decision": "approved"}, format="json")
    assert again.status_code == 409
    assert "decided already" in again.json()["error"]["message"]


def test_partial_must_be_less_than_requested(api, policy, buyer):
    pk = api.post("/api/v1/insurance/cover-requests/", {
        "policy": policy.pk, "customer": buyer.pk, "amount": "100.00", "request_type": "new"}, format="json").json()["id"]
    bad = api.post(f"/api/v1/insurance/cover-requests/{pk}/decide/", {"decision": "partial", "amount": "100.00"},
                   format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("A partial decision grants more than 0 and less than")
    refused = api.post(f"/api/v1/insurance/cover-requests/{pk}/decide/", {"decision": "refused"}, format="json")
    assert refused.json()["error"]["message"] == "A refusal needs a reason code or text."


def test_deadlines_notify_then_claim_with_expected_indemnity(api, policy, covered_buyer, three_invoices):
    a, b, c = three_invoices
    rows = api.get("/api/v1/insurance/deadlines/?as_of=2026-03-31").json()
    by_number = {r["invoice_number"]: r for r in rows}
    assert (by_number["A"]["state"], by_number["A"]["notify_by"], by_number["A"]["covered_amount"]) == (
        "due_soon", "2026-04-01", "120345.6700")
    assert set(rows[0]) >= {"invoice", "covered_amount", "notify_by", "extend_until", "claim_by", "state"}
    declared = api.post("/api/v1/insurance/declarations/", {
        "policy": policy.pk, "customer": covered_buyer.pk, "kind": "overdue", "invoices": [a.pk, b.pk, c.pk],
        "notified_on": "2026-04-01"}, format="json")
    assert declared.status_code == 201, declared.json()
    assert len(declared.json()["content_hash"]) == 64
    assert [line["invoice_number"] for line in declared.json()["invoices"]] == ["A", "B", "C"]
    states = {r["invoice_number"]: r["state"] for r in api.get("/api/v1/insurance/deadlines/").json()}
    assert states == {"A": "notified", "B": "notified", "C": "notified"}
    claim = api.post("/api/v1/insurance/claims/", {
        "policy": policy.pk, "customer": covered_buyer.pk, "invoices": [a.pk, b.pk, c.pk],
        "recoveries": "12345.67", "filed_on": "2026-04-01"}, format="json")
    assert claim.status_code == 201, claim.json()
    assert (claim.json()["status"], claim.json()["expected_indemnity"]) == ("filed", "167888.9000")
    assert [s["key"] for s in claim.json()["computation"]][-1] == "expected"
    claimed = {r["invoice_number"]: r["state"] for r in api.get("/api/v1/insurance/deadlines/?state=claimed").json()}
    assert claimed == {"A": "claimed", "B": "claimed", "C": "claimed"}
    zipped = api.get(f"/api/v1/insurance/claims/{claim.json()['id']}/claim-file/")
    assert zipped.status_code == 200 and zipped["Content-Type"] == "application/zip"


def test_another_organizations_rows_are_404_and_ids_do_not_exist(api, other_organization, policy, buyer):
    other = key_client(other_organization)
    pk = api.post("/api/v1/insurance/cover-requests/", {
        "policy": policy.pk, "customer": buyer.pk, "amount": "100.00", "request_type": "new"}, format="json").json()["id"]
    assert other.get(f"/api/v1/insurance/cover-requests/{pk}/").status_code == 404
    assert other.post(f"/api/v1/insurance/cover-requests/{pk}/decide/", {"decision": "approved"},
                      format="json").status_code == 404
    assert other.get(f"/api/v1/insurance/policies/{policy.pk}/").status_code == 404
    leak = other.post("/api/v1/insurance/cover-requests/", {
        "policy": policy.pk, "customer": buyer.pk, "amount": "1.00", "request_type": "new"}, format="json")
    assert leak.status_code == 400 and set(leak.json()["error"]["fields"]) == {"policy", "customer"}
    assert other.get("/api/v1/insurance/deadlines/").json() == []


def test_roles_are_checked_by_the_services(organization, policy, buyer):
    collector = MembershipFactory(organization=organization, role="collector").user
    client = APIClient()
    assert client.login(username=collector.username, password=PASSWORD)
    refused = client.post("/api/v1/insurance/cover-requests/", {
        "policy": policy.pk, "customer": buyer.pk, "amount": "100.00", "request_type": "new"}, format="json")
    assert refused.status_code == 403
    assert client.post("/api/v1/insurance/policies/", _policy_body(policy_number="X"), format="json").status_code == 403
    assert not CoverRequest.objects.exists()
    assert client.get("/api/v1/insurance/policies/").status_code == 200


def test_invoice_of_another_buyer_is_refused(api, policy, covered_buyer, organization):
    from tests.factories import CustomerFactory

    stranger = CustomerFactory(organization=organization, name="Other Buyer", currency="CNY")
    foreign = invoice(organization, stranger, "10.00", issued=dt.date(2026, 1, 1), due=dt.date(2026, 1, 31))
    bad = api.post("/api/v1/insurance/declarations/", {
        "policy": policy.pk, "customer": covered_buyer.pk, "kind": "overdue", "invoices": [foreign.pk]},
        format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "Every invoice must be the buyer's."
