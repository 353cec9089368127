"""Credit pages through Django's test client."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from credit import services
from credit.models import CreditProfile, CreditScore, LimitRequest, LimitRequestStatus
from tenancy.models import AuditEntry, Role
from tests.factories import CustomerFactory, MembershipFactory, make_invoice

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_credit_page_shows_score_breakdown_and_hold(client, organization, customer, credit_manager):
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 3, 1))
    services.customer_score(organization=organization, customer=customer)
    services.blacklist_set(organization=organization, actor=credit_manager, customer=customer, blacklisted=True,
                           reason="Fraud")
    services.customer_score(organization=organization, customer=customer)
    client.force_login(credit_manager)

    page = client.get(reverse("credit:customer", args=[customer.pk])).content.decode()

    assert "Provisional:" in page and "Average days late" in page and "no data" in page
    assert 'data-testid="score-chart"' in page
    assert "is blacklisted (Fraud)." in page


def test_limit_request_approved_through_the_inbox(client, organization, customer, collector, credit_manager):
    client.force_login(collector)
    client.post(reverse("credit:customer_action", args=[customer.pk, "limit"]),
                {"requested_limit": "20000", "requested_terms_days": "30", "reason": "New contract"})
    request = LimitRequest.objects.get(customer=customer)
    client.force_login(credit_manager)
    assert "New contract" in client.get(reverse("credit:approvals")).content.decode()

    client.post(reverse("credit:approval_decide", args=[request.pk]), {"decision": "approve", "comment": "fine"})

    request.refresh_from_db()
    assert request.status == LimitRequestStatus.APPROVED


def test_viewing_a_customer_without_a_credit_file_creates_none_and_holds_nothing(client, organization, customer,
                                                                                 viewer):
    # An invoice 89 days overdue: past the 60-day hold threshold, were there a credit file.
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2025, 12, 1),
                 due_date=dt.date(2026, 1, 1))
    client.force_login(viewer)

    response = client.get(reverse("credit:customer", args=[customer.pk]))

    assert response.status_code == 200
    assert not CreditProfile.objects.filter(customer=customer).exists()
    assert not AuditEntry.objects.filter(organization=organization, action__startswith="credit.").exists()
    invoice = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 3, 30))
    assert invoice.pk is not None and invoice.credit_warning is None  # not held, not even warned
    page = response.content.decode()
    assert 'data-testid="no-credit-file"' in page and "No credit file yet." in page
    assert "Not scored yet." in page and 'data-testid="credit-hold"' not in page


def test_another_organizations_customer_is_404(client, organization, other_organization, credit_manager):
    stranger = CustomerFactory(organization=other_organization)
    client.force_login(credit_manager)
    assert client.get(reverse("credit:customer", args=[stranger.pk])).status_code == 404


def test_another_organizations_member_cannot_decide_or_act_on_a_credit_file(
        client, organization, other_organization, customer, collector):
    services.limit_request_create(organization=organization, actor=collector, customer=customer,
                                  requested_limit="20000", requested_terms_days=30, reason="New contract")
    request = LimitRequest.objects.get(customer=customer)
    outsider = MembershipFactory(organization=other_organization, role=Role.ADMIN).user
    client.force_login(outsider)

    decided = client.post(reverse("credit:approval_decide", args=[request.pk]),
                          {"decision": "approve", "comment": "from outside"})
    blacklisted = client.post(reverse("credit:customer_action", args=[customer.pk, "blacklist"]),
                              {"blacklisted": "on", "reason": "from outside"})
    scored = client.post(reverse("credit:customer_action", args=[customer.pk, "score"]))

    assert (decided.status_code, blacklisted.status_code, scored.status_code) == (404, 404, 404)
    request.refresh_from_db()
    assert request.status == LimitRequestStatus.PENDING and not request.steps.exists()
    profile = CreditProfile.objects.get(customer=customer)
    assert not profile.blacklisted and profile.blacklist_reason == ""
    assert not CreditScore.objects.filter(customer=customer).exclude(pk=request.score_id).exists()
    assert not AuditEntry.objects.filter(organization=other_organization).exists()


def test_portfolio_lists_over_limit_customers(client, organization, customer, credit_manager):
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 3, 1))
    services.credit_limit_apply(organization=organization, actor=None, customer=customer,
                                limit=services.Decimal("100"), terms_days=30, source="test")
    client.force_login(credit_manager)
    page = client.get(reverse("credit:portfolio")).content.decode()
    assert "上海华东贸易有限公司</a>: 500.00 / 100.00" in page


FIGURES = {"year": "2025", "revenue": "50000000", "ebit": "-400000", "net_income": "-300000",
           "current_assets": "20000000", "current_liabilities": "12000000", "total_assets": "40000000",
           "total_liabilities": "22000000", "retained_earnings": "9000000", "equity": "18000000"}


def test_financial_statement_form_saves_a_year(client, organization, customer, collector):
    client.force_login(collector)
    response = client.post(reverse("credit:customer_action", args=[customer.pk, "financials"]), FIGURES, follow=True)

    statement = customer.credit_profile.financials.get()
    assert (statement.year, statement.ebit, statement.working_capital) == (2025, -400000, 8000000)
    assert "Financial statement saved." in response.content.decode()
    assert 'data-testid="financials-form"' in response.content.decode()


def test_financial_statement_form_shows_the_services_refusal(client, organization, customer, collector):
    client.force_login(collector)
    response = client.post(reverse("credit:customer_action", args=[customer.pk, "financials"]),
                           {**FIGURES, "total_assets": "0"}, follow=True)
    assert "Total assets must be more than zero." in response.content.decode()
    assert not CreditProfile.objects.filter(customer=customer).exists()  # refused: not even an empty file


def test_document_is_attached_and_downloaded_only_by_its_organization(client, settings, tmp_path, organization,
                                                                      other_organization, customer, collector):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client.force_login(collector)
    upload = SimpleUploadedFile("accounts-2025.pdf", b"%PDF-1.4 audited accounts", content_type="application/pdf")
    page = client.post(reverse("credit:customer_action", args=[customer.pk, "document"]),
                       {"title": "Audited accounts 2025", "file": upload}, follow=True).content.decode()
    document = customer.credit_profile.documents.get()
    assert "Document attached." in page and "Audited accounts 2025" in page
    download = client.get(reverse("credit:customer_document", args=[customer.pk, document.pk]))
    assert b"".join(download.streaming_content) == b"%PDF-1.4 audited accounts"

    outsider = MembershipFactory(organization=other_organization).user
    client.force_login(outsider)
    assert client.get(reverse("credit:customer_document", args=[customer.pk, document.pk])).status_code == 404


def test_document_of_a_refused_type_is_not_attached(client, settings, tmp_path, organization, customer, collector):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client.force_login(collector)
    upload = SimpleUploadedFile("run-me.exe", b"MZ", content_type="application/octet-stream")
    page = client.post(reverse("credit:customer_action", args=[customer.pk, "document"]),
                       {"title": "Tool", "file": upload}, follow=True).content.decode()
    assert "run-me.exe: only pdf, png, jpg, jpeg, xlsx, xls, docx, doc, csv, txt files can be attached." in page
    assert not CreditProfile.objects.filter(customer=customer).exists()  # refused: not even an empty file


def test_invoice_form_shows_the_credit_warning_in_warn_mode(client, organization, customer, collector):
    from credit.models import CreditPolicy, HoldMode

    services.credit_limit_apply(organization=organization, actor=None, customer=customer,
                                limit=services.Decimal("100"), terms_days=30, source="test")
    services.policy_ensure(organization)
    CreditPolicy.objects.filter(organization=organization).update(hold_mode=HoldMode.WARN)
    client.force_login(collector)

    page = client.post(reverse("invoice_create"), {
        "customer": customer.pk, "number": "INV-W-1", "issue_date": "2026-03-30", "net_amount": "500.00",
        "tax_amount": "0", "currency": ""}, follow=True).content.decode()

    assert "Invoice INV-W-1 created." in page
    assert (f"{customer.name} is on credit hold: Exposure 0.00 CNY plus this invoice (500.00 CNY) exceeds the "
            f"credit limit of 100.00 CNY.") in page
