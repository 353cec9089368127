"""The factoring pages: list, facility and position, eligibility (assign from it), assignment
(submit, fund, exports, notice, repurchase), statement import with row errors; English and
简体中文; another organization's rows are 404."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from factoring.models import Assignment, AssignmentStatus, LineState
from tenancy.services import user_language_set
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = pytest.mark.django_db


def test_the_flow_through_the_pages(client, organization, buyer, credit_manager):
    facility = facility_make(organization)
    first = invoice_make(organization, buyer, "10000")
    second = invoice_make(organization, buyer, "5000")
    client.force_login(credit_manager)
    listing = client.get("/factoring/")
    assert listing.status_code == 200 and facility.name in listing.content.decode()
    page = client.get(f"/factoring/facilities/{facility.pk}/eligibility/?as_of=2026-03-02")
    assert page.status_code == 200 and first.number in page.content.decode()
    # assign both from the eligibility page
    response = client.post(f"/factoring/facilities/{facility.pk}/eligibility/",
                           {"assigned_on": "2026-03-02", "invoice": [first.pk, second.pk]})
    assignment = Assignment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/factoring/assignments/{assignment.pk}/"
    client.post(f"/factoring/assignments/{assignment.pk}/submit/")
    client.post(f"/factoring/assignments/{assignment.pk}/fund/",
                {"funded_on": "2026-03-03", "amount_received": "12562.50"})
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.FUNDED
    detail = client.get(f"/factoring/assignments/{assignment.pk}/").content.decode()
    assert "Funded" in detail and first.number in detail
    # exports for the factor
    rows = list(csv.reader(io.StringIO(client.get(f"/factoring/assignments/{assignment.pk}/schedule.csv")
                                       .content.decode())))
    assert rows[0][0] == "Invoice 发票号"
    assert [r[0] for r in rows[1:]] == [first.number, second.number] and rows[1][5:8] == ["10000.00", "8500.00",
                                                                                           "125.00"]
    sheet = load_workbook(io.BytesIO(client.get(f"/factoring/assignments/{assignment.pk}/schedule.xlsx")
                                     .content)).active
    assert sheet["A2"].value == first.number and float(sheet["F2"].value) == 10000
    pdf = client.get(f"/factoring/assignments/{assignment.pk}/schedule.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    notice = client.get(f"/factoring/assignments/{assignment.pk}/notice/{buyer.pk}.pdf")
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    # a statement with a bad row is refused whole, with the row named
    bad = SimpleUploadedFile("s.csv", f"date,type,invoice,amount\n2026-03-20,collection,{first.number},99999\n".encode())
    refused = client.post(f"/factoring/facilities/{facility.pk}/statement/", {"file": bad})
    assert refused.status_code == 200 and "would pass its face value" in refused.content.decode()
    good = SimpleUploadedFile("s.csv", f"date,type,invoice,amount\n2026-03-20,collection,{first.number},10000\n"
                              .encode())
    assert client.post(f"/factoring/facilities/{facility.pk}/statement/", {"file": good}).status_code == 302
    # repurchase the other one
    line = assignment.lines.get(invoice=second)
    client.post(f"/factoring/lines/{line.pk}/repurchase/", {"repurchased_on": "2026-04-01"})
    line.refresh_from_db()
    assert line.state == LineState.REPURCHASED
    position = client.get(f"/factoring/facilities/{facility.pk}/?as_of=2026-04-01").content.decode()
    assert "Effective annual cost" in position


def test_pages_in_simplified_chinese(client, organization, buyer, credit_manager):
    facility = facility_make(organization)
    user_language_set(user=credit_manager, language="zh-hans")
    client.force_login(credit_manager)
    page = client.get(f"/factoring/facilities/{facility.pk}/").content.decode()
    assert "资金占用" in page and "保理" in page
    page = client.get(f"/factoring/facilities/{facility.pk}/eligibility/").content.decode()
    assert "借款基数" in page


def test_notice_only_for_disclosed_facilities(client, organization, buyer, credit_manager):
    facility = facility_make(organization, disclosed=False)
    invoice = invoice_make(organization, buyer, "10000")
    client.force_login(credit_manager)
    client.post(f"/factoring/facilities/{facility.pk}/eligibility/", {"assigned_on": "2026-03-02",
                                                                      "invoice": [invoice.pk]})
    assignment = Assignment.objects.get()
    assert client.get(f"/factoring/assignments/{assignment.pk}/notice/{buyer.pk}.pdf").status_code == 404


def test_another_organizations_pages_are_404(client, organization, other_organization, credit_manager):
    theirs = facility_make(other_organization, currency="USD")
    client.force_login(credit_manager)
    assert client.get(f"/factoring/facilities/{theirs.pk}/").status_code == 404
    assert client.get(f"/factoring/facilities/{theirs.pk}/eligibility/").status_code == 404


def test_admin_creates_a_facility_through_the_form(client, organization, admin_user):
    client.force_login(admin_user)
    response = client.post("/factoring/facilities/new/", {
        "name": "BOC", "factor_name": "Bank of China", "factor_bank_account": "1234", "mode": "discounting",
        "recourse": "on", "currency": "CNY", "limit": "100000", "advance_rate": "1.5", "fee_rate": "0",
        "interest_rate": "0.04", "day_count": "365", "min_invoice_amount": "0", "cross_aging_days": "90",
        "valid_from": "2026-01-01"})
    assert response.status_code == 200
    assert "The advance rate must be more than 0 and at most 1" in response.content.decode()
