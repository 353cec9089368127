"""The credit REST API: files, financials, signals, limit requests (with approvals), scores, alerts;
validation errors with codes and messages, scopes, tenancy, and the credit hold on invoice creation."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from credit import services
from credit.models import CreditProfile, CreditScore, HoldMode, LimitRequest, LimitRequestStatus
from tests.api.conftest import error_of, key_client
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)
STATEMENT = {"year": 2025, "revenue": "50000000", "ebit": "4000000", "net_income": "3000000",
             "current_assets": "20000000", "current_liabilities": "12000000", "total_assets": "40000000",
             "total_liabilities": "22000000", "retained_earnings": "9000000", "equity": "18000000"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(autouse=True)
def _clean_throttle():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def api(organization):
    return key_client(organization)


@pytest.fixture
def session(organization):
    """Log an APIClient in as a user (session auth): limit decisions need a person."""
    def login(user) -> APIClient:
        client = APIClient()
        assert client.login(username=user.username, password=PASSWORD)
        return client
    return login


def test_credit_file_is_created_then_updated(api, customer):
    created = api.post("/api/v1/credit-profiles/", {"customer": customer.pk, "uscc": "91440300708461136T",
                                                    "founding_year": 2001, "ownership": "private"}, format="json")
    assert created.status_code == 201, created.json()
    assert created["Location"] == f"/api/v1/credit-profiles/{created.json()['id']}/"
    again = api.post("/api/v1/credit-profiles/", {"customer": customer.pk, "industry": "Textiles"}, format="json")
    assert again.status_code == 200
    body = api.get(f"/api/v1/credit-profiles/{created.json()['id']}/").json()
    assert (body["uscc"], body["founding_year"], body["industry"]) == ("91440300708461136T", 2001, "Textiles")
    assert body["customer_name"] == customer.name and body["latest_score"] is None


def test_bad_uscc_is_400_with_the_reason(api, customer):
    response = api.post("/api/v1/credit-profiles/", {"customer": customer.pk, "uscc": "91440300708461136X"},
                        format="json")
    assert response.status_code == 400
    assert error_of(response) == {"code": "invalid", "message": (
        "Unified social credit code 91440300708461136X: check character is X, expected T: a character is mistyped."),
        "fields": {"uscc": [{"code": "invalid", "message": (
            "Unified social credit code 91440300708461136X: check character is X, expected T: a character is "
            "mistyped.")}]}}
    assert not CreditProfile.objects.filter(customer=customer).exists()


def test_patch_with_stale_if_match_is_412(api, customer):
    profile = services.profile_ensure(organization=customer.organization, customer=customer)
    etag = api.get(f"/api/v1/credit-profiles/{profile.pk}/")["ETag"]
    first = api.patch(f"/api/v1/credit-profiles/{profile.pk}/", {"industry": "Steel"}, format="json",
                      HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first.json()["industry"] == "Steel"
    stale = api.patch(f"/api/v1/credit-profiles/{profile.pk}/", {"industry": "Glass"}, format="json",
                      HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert error_of(stale)["code"] == "precondition_failed"


def test_financial_statement_recorded_and_listed_by_customer(api, organization, customer):
    other = CustomerFactory(organization=organization)
    response = api.post("/api/v1/credit-financials/", {"customer": customer.pk, **STATEMENT}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["working_capital"] == "8000000.0000"  # CA - CL when not given
    api.post("/api/v1/credit-financials/", {"customer": other.pk, **STATEMENT}, format="json")
    listed = api.get("/api/v1/credit-financials/", {"customer": customer.pk}).json()["results"]
    assert [(row["customer"], row["year"]) for row in listed] == [(customer.pk, 2025)]


def test_financial_statement_validation_errors(api, customer):
    missing = api.post("/api/v1/credit-financials/", {"customer": customer.pk, "year": 2025}, format="json")
    assert missing.status_code == 400
    assert error_of(missing)["fields"]["total_assets"] == [{"code": "required", "message": "This field is required."}]
    floats = api.post("/api/v1/credit-financials/", {"customer": customer.pk, **STATEMENT, "revenue": 1.5},
                      format="json")
    assert error_of(floats)["fields"]["revenue"][0]["message"] == (
        'Give amounts as decimal strings such as "1250.00", not JSON floats.')
    no_assets = api.post("/api/v1/credit-financials/", {"customer": customer.pk, **STATEMENT, "total_assets": "0"},
                         format="json")
    assert no_assets.status_code == 400
    assert error_of(no_assets)["message"] == "Total assets must be more than zero."


def test_signal_by_api_raises_an_alert(api, customer):
    response = api.post("/api/v1/credit-signals/", {"customer": customer.pk, "kind": "litigation", "severity": "high",
                                                   "observed_on": "2026-03-20", "description": "Sued by a supplier"},
                        format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "api"
    alerts = api.get("/api/v1/credit-alerts/").json()["results"]
    assert [a["kind"] for a in alerts] == ["new_signal"]
    assert alerts[0]["message"] == (f"New high external signal for {customer.name}: litigation, Sued by a supplier")
    bad = api.post("/api/v1/credit-signals/", {"customer": customer.pk, "kind": "rumour", "observed_on": "2026-03-20",
                                              "description": "x"}, format="json")
    assert error_of(bad)["fields"]["kind"][0] == {"code": "invalid_choice", "message": '"rumour" is not a valid choice.'}


def test_score_action_returns_the_factor_breakdown(api, customer):
    profile = services.profile_ensure(organization=customer.organization, customer=customer)
    response = api.post(f"/api/v1/credit-profiles/{profile.pk}/score/", format="json")
    assert response.status_code == 201
    score = api.get(response["Location"]).json()
    assert score["provisional"] is True
    assert [f["key"] for f in score["factors"]][:2] == ["payment_days_late", "payment_on_time"]
    assert score["factors"][0] == {"key": "payment_days_late", "value": "no data", "points": "7.5",
                                   "max_points": 15, "missing": True}
    assert score["inputs"]["as_of"] == "2026-03-31"
    listed = api.get("/api/v1/credit-scores/", {"customer": customer.pk}).json()["results"]
    assert [s["id"] for s in listed] == [score["id"]]
    assert api.get(f"/api/v1/credit-profiles/{profile.pk}/").json()["latest_score"]["id"] == score["id"]


def test_limit_request_approved_through_both_levels(api, session, organization, customer, credit_manager,
                                                    admin_user):
    services.policy_update(organization=organization, actor=admin_user, manager_approval_limit=Decimal("100000"))
    created = api.post("/api/v1/credit-limit-requests/", {"customer": customer.pk, "requested_limit": "250000.00",
                                                          "requested_terms_days": 45, "reason": "New contract"},
                       format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["levels_required"], body["next_level"]) == (["credit_manager", "admin"], "credit_manager")
    url = f"/api/v1/credit-limit-requests/{body['id']}/approve/"

    by_key = api.post(url, {}, format="json")
    assert by_key.status_code == 403
    assert error_of(by_key)["message"] == "A limit decision needs a person, not the system."

    first = session(credit_manager).post(url, {"comment": "ok"}, format="json")
    assert first.status_code == 200, first.json()
    assert (first.json()["status"], first.json()["next_level"]) == ("pending", "admin")
    again = session(credit_manager).post(url, {}, format="json")
    assert again.status_code == 403
    assert error_of(again)["message"] == "This needs the Admin role in Acme Trading."
    final = session(admin_user).post(url, {}, format="json")
    assert final.json()["status"] == "approved"
    assert [s["level"] for s in final.json()["steps"]] == ["credit_manager", "admin"]
    score = CreditScore.objects.get(customer=customer)  # scored once, when the request was made
    snapshot = final.json()["steps"][0]["score_snapshot"]
    assert (snapshot["score_id"], snapshot["grade"]) == (score.pk, score.grade)
    assert CreditProfile.objects.get(customer=customer).credit_limit == Decimal("250000.00")


def test_limit_request_rejected_needs_a_reason(api, session, customer, credit_manager):
    created = api.post("/api/v1/credit-limit-requests/", {"customer": customer.pk, "requested_limit": "1000",
                                                          "requested_terms_days": 30, "reason": "Trial"},
                       format="json").json()
    url = f"/api/v1/credit-limit-requests/{created['id']}/reject/"
    client = session(credit_manager)
    missing = client.post(url, {}, format="json")
    assert error_of(missing)["fields"]["reason"] == [{"code": "required", "message": "This field is required."}]
    response = client.post(url, {"reason": "Too early"}, format="json")
    assert response.json()["status"] == "rejected" and response.json()["rejection_reason"] == "Too early"
    assert LimitRequest.objects.get(pk=created["id"]).status == LimitRequestStatus.REJECTED


def test_second_pending_request_is_409(api, customer):
    body = {"customer": customer.pk, "requested_limit": "1000", "requested_terms_days": 30, "reason": "Trial"}
    assert api.post("/api/v1/credit-limit-requests/", body, format="json").status_code == 201
    second = api.post("/api/v1/credit-limit-requests/", body, format="json")
    assert second.status_code == 409
    assert error_of(second) == {"code": "duplicate", "fields": {},
                                "message": f"{customer.name} already has a limit request waiting for approval."}


def test_read_key_reads_but_cannot_write(organization, customer):
    read_api = key_client(organization, scopes=["read"])
    assert read_api.get("/api/v1/credit-profiles/").status_code == 200
    response = read_api.post("/api/v1/credit-signals/", {"customer": customer.pk, "kind": "litigation",
                                                        "observed_on": "2026-03-01", "description": "x"},
                             format="json")
    assert response.status_code == 403
    assert error_of(response) == {"code": "insufficient_scope", "message": "This API key lacks the write scope.",
                                  "fields": {}}


def test_session_viewer_cannot_write(session, organization, customer, viewer):
    response = session(viewer).post("/api/v1/credit-profiles/", {"customer": customer.pk}, format="json")
    assert response.status_code == 403
    assert error_of(response)["message"] == "This needs the Collector role in Acme Trading."


def test_another_organizations_objects_are_404_and_foreign_keys_400(api, organization, other_organization):
    stranger = CustomerFactory(organization=other_organization, currency="USD")
    profile = services.profile_ensure(organization=other_organization, customer=stranger)
    score = services.customer_score(organization=other_organization, customer=stranger)
    for url in (f"/api/v1/credit-profiles/{profile.pk}/", f"/api/v1/credit-scores/{score.pk}/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert error_of(response) == {"code": "not_found", "message": "Not found.", "fields": {}}
    assert api.post(f"/api/v1/credit-profiles/{profile.pk}/score/").status_code == 404
    assert api.get("/api/v1/credit-scores/").json()["results"] == []
    foreign = api.post("/api/v1/credit-limit-requests/", {"customer": stranger.pk, "requested_limit": "1",
                                                          "requested_terms_days": 1, "reason": "x"}, format="json")
    assert foreign.status_code == 400
    assert error_of(foreign)["fields"]["customer"][0] == {
        "code": "does_not_exist", "message": f'Invalid pk "{stranger.pk}" - object does not exist.'}


def test_another_organizations_session_user_gets_404_on_decisions(session, api, organization, other_organization,
                                                                  customer):
    created = api.post("/api/v1/credit-limit-requests/", {"customer": customer.pk, "requested_limit": "1000",
                                                          "requested_terms_days": 30, "reason": "Trial"},
                       format="json").json()
    outsider = MembershipFactory(organization=other_organization, role="admin").user
    response = session(outsider).post(f"/api/v1/credit-limit-requests/{created['id']}/approve/", {}, format="json")
    assert response.status_code == 404
    assert LimitRequest.objects.get(pk=created["id"]).status == LimitRequestStatus.PENDING


# --- the credit hold on invoice creation -----------------------------------------------------

def _over_limit(organization, customer, *, mode):
    services.policy_ensure(organization)
    services.credit_limit_apply(organization=organization, actor=None, customer=customer, limit=Decimal("100"),
                                terms_days=30, source="test")
    from credit.models import CreditPolicy

    CreditPolicy.objects.filter(organization=organization).update(hold_mode=mode)


INVOICE = {"number": "INV-HOLD-1", "issue_date": "2026-03-30", "net_amount": "500.00"}


def test_invoice_over_the_limit_is_409_credit_hold(api, organization, customer):
    _over_limit(organization, customer, mode=HoldMode.REFUSE)
    response = api.post("/api/v1/invoices/", {"customer": customer.pk, **INVOICE}, format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "credit_hold"
    assert error["message"].startswith(f"{customer.name} is on credit hold: Exposure 0.00 CNY plus this invoice "
                                       f"(500.00 CNY) exceeds the credit limit of 100.00 CNY.")


def test_invoice_over_the_limit_in_warn_mode_carries_the_warning(api, organization, customer):
    _over_limit(organization, customer, mode=HoldMode.WARN)
    response = api.post("/api/v1/invoices/", {"customer": customer.pk, **INVOICE}, format="json")
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        f"{customer.name} is on credit hold: Exposure 0.00 CNY plus this invoice (500.00 CNY) exceeds the credit "
        f"limit of 100.00 CNY."]
    # The ETag is that of the invoice itself, so a later If-Match still matches a plain read.
    assert api.get(response["Location"])["ETag"] == response["ETag"]


def test_invoice_without_hold_has_no_warnings(api, organization, customer):
    make_invoice(organization, customer, amount="10.00")
    response = api.post("/api/v1/invoices/", {"customer": customer.pk, **INVOICE}, format="json")
    assert response.status_code == 201 and response.json()["warnings"] == []
