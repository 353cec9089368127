"""Insurance pages, English and Chinese: policies, buyer cover beside the credit limit, deadlines,
declarations, claims; notify and claim through the browser forms; another organization's rows 404."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from insurance.models import Claim, Declaration
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(dt.datetime(2026, 4, 1, 4, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def browser_client(credit_manager):
    client = Client()
    assert client.login(username=credit_manager.username, password=PASSWORD)
    return client


def test_pages_render(browser_client, policy, covered_buyer, three_invoices):
    for url in ("/insurance/", f"/insurance/policies/{policy.pk}/", f"/insurance/customers/{covered_buyer.pk}/",
                "/insurance/deadlines/", "/insurance/deadlines/?state=due_soon&as_of=2026-03-31",
                "/insurance/declarations/", "/insurance/claims/"):
        response = browser_client.get(url)
        assert response.status_code == 200, url
    page = browser_client.get(f"/insurance/customers/{covered_buyer.pk}/").content.decode()
    assert "200,000.00 CNY" in page and 'data-testid="cover-beside-limit"' in page
    assert "Due soon" in browser_client.get("/insurance/deadlines/").content.decode()


def test_pages_in_chinese(browser_client, credit_manager, policy, covered_buyer, three_invoices):
    from tenancy.services import user_language_set

    user_language_set(user=credit_manager, language="zh-hans")
    page = browser_client.get("/insurance/deadlines/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "保险期限" in page and "即将到期" in page
    page = browser_client.get(f"/insurance/customers/{covered_buyer.pk}/").content.decode()
    assert "买方信用限额" in page and "信用额度" in page


def test_notify_then_claim_through_the_forms(browser_client, policy, covered_buyer, three_invoices):
    a, b, _c = three_invoices
    response = browser_client.post(f"/insurance/customers/{covered_buyer.pk}/declare/", {
        "policy": policy.pk, "invoices": [a.pk, b.pk], "kind": "overdue"})
    assert response.status_code == 302
    assert Declaration.objects.get().lines.count() == 2
    response = browser_client.post(f"/insurance/customers/{covered_buyer.pk}/claim/", {
        "policy": policy.pk, "invoices": [a.pk, b.pk], "recoveries": ""})
    claim = Claim.objects.get()
    assert response["Location"] == f"/insurance/claims/{claim.pk}/"
    page = browser_client.get(response["Location"]).content.decode()
    assert "179,000.00 CNY" in page
    browser_client.post(f"/insurance/claims/{claim.pk}/file/")
    claim.refresh_from_db()
    assert claim.status == "filed"
    zipped = browser_client.get(f"/insurance/claims/{claim.pk}/claim-file.zip")
    assert zipped["Content-Type"] == "application/zip"
    # the insurer accepts: the payment form starts from the accepted indemnity, to the cent
    browser_client.post(f"/insurance/claims/{claim.pk}/decide/", {"accepted": "yes", "amount": "161100.00"})
    claim.refresh_from_db()
    assert claim.accepted_amount == Decimal("161100.00")
    page = browser_client.get(f"/insurance/claims/{claim.pk}/").content.decode()
    assert 'value="161100.00"' in page and "161100.0000" not in page


def test_other_organization_is_404(other_organization, policy, covered_buyer):
    from tests.factories import MembershipFactory

    stranger = MembershipFactory(organization=other_organization, role="admin").user
    client = Client()
    assert client.login(username=stranger.username, password=PASSWORD)
    assert client.get(f"/insurance/customers/{covered_buyer.pk}/").status_code == 404
    assert client.get(f"/insurance/policies/{policy.pk}/").status_code == 404


def test_credit_page_shows_cover_beside_the_limit(browser_client, covered_buyer):
    page = browser_client.get(f"/credit/customers/{covered_buyer.pk}/").content.decode()
    assert 'data-testid="insurance-cover"' in page and "200,000.00 CNY" in page


def test_invoice_page_marks_the_insured_invoice(browser_client, three_invoices):
    page = browser_client.get(f"/invoices/{three_invoices[0].pk}/").content.decode()
    assert 'data-testid="invoice-marker"' in page and "Insured: notify by 2026-04-01 (Due soon)" in page
