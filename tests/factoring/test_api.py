"""The factoring API: facilities, eligibility with reasons, assignments (refusals naming each
invoice and reason, 400/409), submit/approve/fund/repurchase, the statement import with row
errors, roles and tenancy."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from factoring.models import Assignment, AssignmentStatus, Facility, LineState
from receivables.models import Invoice, InvoiceStatus
from tenancy.models import AuditEntry
from tests.api.conftest import key_client
from tests.factories import PASSWORD, CustomerFactory
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = pytest.mark.django_db

FACILITY = {"name": "ICBC discounting", "factor_name": "中国工商银行", "factor_bank_account": "1001 2345 6789",
            "mode": "discounting", "currency": "CNY", "limit": "500000.00", "advance_rate": "0.80",
            "fee_rate": "0.005", "interest_rate": "0.0435", "day_count": 365, "max_days_past_due": 30,
            "max_terms_days": 120, "min_invoice_amount": "1000.00", "concentration_limit": "0.5",
            "repurchase_after_days": 60, "valid_from": "2026-01-01"}


@pytest.fixture
def api(organization):
    return key_client(organization)


def session(user) -> APIClient:
    client = APIClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_facility_is_created_with_every_named_field(api, organization):
    response = api.post("/api/v1/factoring/facilities/", FACILITY, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    for name in ("name", "factor_name", "mode", "disclosed", "recourse", "currency", "limit", "advance_rate",
                 "fee_rate", "interest_rate", "max_days_past_due", "max_terms_days", "min_invoice_amount",
                 "concentration_limit", "repurchase_after_days"):
        assert name in body
    assert (body["advance_rate"], body["limit"], body["day_count"]) == ("0.800000", "500000.0000", 365)
    assert AuditEntry.objects.filter(organization=organization, action="factoring.facility_created").count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("advance_rate", "0", "The advance rate must be more than 0 and at most 1"),
    ("advance_rate", "1.2", "The advance rate must be more than 0 and at most 1"),
    ("fee_rate", "-0.01", "Ensure this value is greater than or equal to 0."),
    ("valid_to", "2025-12-31", "The facility cannot end before it starts."),
])
def test_bad_rates_and_dates_are_refused(api, field, value, message):
    response = api.post("/api/v1/factoring/facilities/", {**FACILITY, field: value}, format="json")
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert not Facility.objects.exists()


def test_discounting_cannot_be_disclosed(api):
    response = api.post("/api/v1/factoring/facilities/", {**FACILITY, "disclosed": True}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invoice discounting is never disclosed to customers."


def test_eligibility_lists_reasons_and_availability(api, organization, buyer, facility):
    good = invoice_make(organization, buyer, "10000")
    usd = invoice_make(organization, buyer, "500", currency="USD")
    body = api.get(f"/api/v1/factoring/facilities/{facility.pk}/eligibility/?as_of=2026-03-02").json()
    rows = {row["invoice"]: row for row in body["invoices"]}
    assert rows[good.pk]["eligible"] is True and rows[good.pk]["advance_amount"] == "8500.00"
    assert rows[usd.pk]["reasons"] == [{"code": "currency", "message": "Invoiced in USD; the facility finances CNY."}]
    assert body["availability"]["borrowing_base"] == "8500.0000"
    assert body["availability"]["available"] == "8500.0000"
    only = api.get(f"/api/v1/factoring/facilities/{facility.pk}/eligibility/?as_of=2026-03-02&eligible=false").json()
    assert [row["invoice"] for row in only["invoices"]] == [usd.pk]
    bad = api.get(f"/api/v1/factoring/facilities/{facility.pk}/eligibility/?as_of=yesterday")
    assert bad.status_code == 400


def test_another_organizations_facility_is_a_404(api, other_organization):
    theirs = facility_make(other_organization, currency="USD")
    assert api.get(f"/api/v1/factoring/facilities/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/v1/factoring/facilities/{theirs.pk}/eligibility/").status_code == 404
    response = api.post("/api/v1/factoring/assignments/", {"facility": theirs.pk, "invoices": [1],
                                                           "assigned_on": "2026-03-02"}, format="json")
    assert response.status_code == 400 and "facility" in response.json()["error"]["fields"]


def test_assignment_refusal_names_each_invoice_and_reason(api, organization, buyer):
    facility = facility_make(organization, max_days_past_due=10)
    good = invoice_make(organization, buyer, "10000")
    late = invoice_make(organization, buyer, "3000", issue=dt.date(2026, 1, 1), due=dt.date(2026, 2, 1))
    response = api.post("/api/v1/factoring/assignments/", {"facility": facility.pk, "invoices": [good.pk, late.pk],
                                                           "assigned_on": "2026-03-02"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["invoices"] == [{"invoice": late.pk, "number": late.number, "reasons": [
        {"code": "overdue", "message": "29 days past due; the facility takes invoices up to 10 days past due."}]}]
    assert late.number in error["message"]
    assert not Assignment.objects.exists()
    # the good one alone goes through; a second assignment of it is a conflict naming it
    first = api.post("/api/v1/factoring/assignments/", {"facility": facility.pk, "invoices": [good.pk],
                                                        "assigned_on": "2026-03-02"}, format="json")
    assert first.status_code == 201, first.json()
    line = first.json()["lines"][0]
    assert (line["advance_amount"], line["fee_amount"]) == ("8500.0000", "125.0000")
    again = api.post("/api/v1/factoring/assignments/", {"facility": facility.pk, "invoices": [good.pk],
                                                        "assigned_on": "2026-03-02"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["invoices"][0]["reasons"][0]["code"] == "already_assigned"


def test_lifecycle_with_admin_approval_above_the_threshold(organization, buyer, credit_manager, admin_user):
    facility = facility_make(organization, approval_threshold="5000")
    invoice = invoice_make(organization, buyer, "10000")
    manager = session(credit_manager)
    created = manager.post("/api/v1/factoring/assignments/", {"facility": facility.pk, "invoices": [invoice.pk],
                                                             "assigned_on": "2026-03-02", "submit": True},
                           format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["awaiting_approval"]) == ("submitted", True)
    url = f"/api/v1/factoring/assignments/{body['id']}/"
    fund = {"funded_on": "2026-03-03", "amount_received": "8375.00"}
    refused = manager.post(url + "fund/", fund, format="json")
    assert refused.status_code == 403
    assert "waits for an admin's approval" in refused.json()["error"]["message"]
    assert manager.post(url + "approve/").status_code == 403  # a credit manager cannot approve
    assert key_client(organization).post(url + "approve/").status_code == 403  # nor an API key
    approved = session(admin_user).post(url + "approve/")
    assert approved.status_code == 200 and approved.json()["awaiting_approval"] is False
    wrong = manager.post(url + "fund/", {**fund, "amount_received": "8500.00"}, format="json")
    assert wrong.status_code == 400 and "must equal the advances" in wrong.json()["error"]["message"]
    funded = manager.post(url + "fund/", fund, format="json")
    assert funded.status_code == 200 and funded.json()["status"] == "funded"
    # recourse: the invoice is taken back, the assignment closes
    taken = manager.post(url + "repurchase/", {"invoice": invoice.pk, "repurchased_on": "2026-04-02"},
                         format="json")
    assert taken.status_code == 200, taken.json()
    body = taken.json()
    assert (body["status"], body["lines"][0]["state"]) == ("closed", "repurchased")
    # 8,500 x 8.5% x 30 / 360 = 60.21
    assert body["lines"][0]["interest"] == "60.2100"
    actions = set(AuditEntry.objects.filter(organization=organization, action__startswith="factoring.")
                  .values_list("action", flat=True))
    assert {"factoring.assignment_created", "factoring.assignment_submitted", "factoring.assignment_approved",
            "factoring.assignment_funded", "factoring.invoice_repurchased", "factoring.assignment_closed"} <= actions


def test_a_viewer_cannot_propose(organization, buyer, facility, viewer):
    invoice = invoice_make(organization, buyer, "10000")
    response = session(viewer).post("/api/v1/factoring/assignments/", {
        "facility": facility.pk, "invoices": [invoice.pk], "assigned_on": "2026-03-02"}, format="json")
    assert response.status_code == 403


def _funded(api, facility, invoices):
    created = api.post("/api/v1/factoring/assignments/", {"facility": facility.pk, "invoices": [i.pk for i in invoices],
                                                          "assigned_on": "2026-03-02", "submit": True}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    received = Decimal(body["advance_total"]) - Decimal(body["fee_total"])
    funded = api.post(f"/api/v1/factoring/assignments/{body['id']}/fund/",
                      {"funded_on": "2026-03-02", "amount_received": str(received)}, format="json")
    assert funded.status_code == 200, funded.json()
    return funded.json()


def test_statement_import_settles_releases_and_repurchases(api, organization, buyer, facility):
    paid, part, back = (invoice_make(organization, buyer, amount) for amount in ("10000", "20000", "5000"))
    assignment = _funded(api, facility, [paid, part, back])
    csv = ("date,type,invoice,amount,reference\n"
           f"2026-03-20,collection,{paid.number},10000.00,COL-1\n"
           f"2026-03-21,collection,{part.number},5000.00,COL-2\n"
           f"2026-03-31,interest,{part.number},12.50,INT-MAR\n"
           f"2026-04-05,repurchase,{back.number},0,RP-1\n")
    url = f"/api/v1/factoring/facilities/{facility.pk}/statements/"
    response = api.post(url, {"file_name": "hsbc-2026-04.csv", "csv": csv}, format="json")
    assert response.status_code == 201, response.json()
    lines = {line.invoice_id: line for line in
             Assignment.objects.get(pk=assignment["id"]).lines.all()}
    assert lines[paid.pk].state == LineState.COLLECTED
    # 8,500 x 8.5% x 18 / 360 = 36.13; reserve 10,000 - 8,500 - 125 - 36.13
    assert (lines[paid.pk].interest, lines[paid.pk].reserve_released) == (Decimal("36.13"), Decimal("1338.87"))
    assert (lines[part.pk].state, lines[part.pk].collected) == (LineState.ASSIGNED, Decimal("5000"))
    assert lines[back.pk].state == LineState.REPURCHASED
    assert Invoice.objects.get(pk=paid.pk).status == InvoiceStatus.PAID
    assert Invoice.objects.get(pk=part.pk).status == InvoiceStatus.PARTIALLY_PAID
    again = api.post(url, {"file_name": "hsbc-2026-04.csv", "csv": csv}, format="json")
    assert again.status_code == 409


def test_statement_row_errors_name_row_and_column_and_write_nothing(api, organization, buyer, facility):
    invoice = invoice_make(organization, buyer, "10000")
    stranger = invoice_make(organization, CustomerFactory(organization=organization, currency="CNY"), "900")
    _funded(api, facility, [invoice])
    csv = ("date,type,invoice,amount,reference\n"
           f"2026-03-20,collection,{invoice.number},4000.00,A\n"
           f"2026-03-40,collection,{invoice.number},1.00,B\n"
           f"2026-03-21,bonus,{invoice.number},1.00,C\n"
           f"2026-03-21,collection,{stranger.number},1.00,D\n"
           f"2026-03-21,collection,NOPE-1,1.00,E\n"
           f"2026-03-22,collection,{invoice.number},7000.00,F\n")
    response = api.post(f"/api/v1/factoring/facilities/{facility.pk}/statements/", {"csv": csv}, format="json")
    assert response.status_code == 400
    rows = [(r["row"], r["column"]) for r in response.json()["error"]["rows"]]
    assert rows == [(3, "date"), (4, "type"), (5, "invoice"), (6, "invoice"), (7, "amount")]
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN
    assert Assignment.objects.get().lines.get().collected == 0


def test_cancelled_draft_frees_its_invoices(api, organization, buyer, facility):
    invoice = invoice_make(organization, buyer, "10000")
    created = api.post("/api/v1/factoring/assignments/", {"facility": facility.pk, "invoices": [invoice.pk],
                                                          "assigned_on": "2026-03-02"}, format="json").json()
    assert api.post(f"/api/v1/factoring/assignments/{created['id']}/cancel/").json()["status"] == "cancelled"
    again = api.post("/api/v1/factoring/assignments/", {"facility": facility.pk, "invoices": [invoice.pk],
                                                        "assigned_on": "2026-03-02"}, format="json")
    assert again.status_code == 201
    assert Assignment.objects.filter(status=AssignmentStatus.CANCELLED).count() == 1


def test_facility_change_needs_the_etag_and_is_audited(api, organization, facility):
    url = f"/api/v1/factoring/facilities/{facility.pk}/"
    etag = api.get(url)["ETag"]
    stale = api.patch(url, {"advance_rate": "0.80"}, format="json", HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    changed = api.patch(url, {"advance_rate": "0.80", "max_days_past_due": 45}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["advance_rate"], changed.json()["max_days_past_due"]) == ("0.800000", 45)
    entry = AuditEntry.objects.filter(organization=organization, action="factoring.facility_updated").get()
    assert entry.before["advance_rate"] == "0.850000" and entry.after["advance_rate"] == "0.800000"


def test_excluded_customers_and_sublimits_are_scoped(api, organization, other_organization, buyer):
    theirs = CustomerFactory(organization=other_organization, currency="USD")
    refused = api.post("/api/v1/factoring/facilities/", {**FACILITY, "excluded_customers": [theirs.pk]},
                       format="json")
    assert refused.status_code == 400 and "excluded_customers" in refused.json()["error"]["fields"]
    created = api.post("/api/v1/factoring/facilities/", {**FACILITY, "excluded_customers": [buyer.pk]},
                       format="json").json()
    assert created["excluded_customers"] == [buyer.pk]
    url = f"/api/v1/factoring/facilities/{created['id']}/sublimits/"
    assert api.post(url, {"customer": theirs.pk, "limit": "1000"}, format="json").status_code == 400
    body = api.post(url, {"customer": buyer.pk, "limit": "25000.00"}, format="json").json()
    assert body["sublimits"] == [{"customer": buyer.pk, "limit": "25000.0000"}]
