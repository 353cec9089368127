"""Disclosed vs silent: a disclosed factor collects its invoices (the seller's dunning stops for
them unless collection is delegated), reminders, the portal and statements say "pay to" the
factor's account; silent factoring and discounting change nothing the customer sees; a
repurchased invoice is dunned again."""

import datetime as dt

import pytest
from django.core import mail

from dunning import services as dunning_services
from dunning.models import DunningNotice
from dunning.portal import portal_token
from factoring import services
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = pytest.mark.django_db

ACCOUNT = "6222 0000 1234 5678"


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def debtor(organization):
    return CustomerFactory(organization=organization, name="Northwind Traders", language="en", currency="CNY",
                           contact_emails=["ap@northwind.example"])


def _assigned(organization, facility, debtor):
    assigned = invoice_make(organization, debtor, "1000", issue=dt.date(2026, 1, 1), due=dt.date(2026, 2, 20))
    own = invoice_make(organization, debtor, "700", issue=dt.date(2026, 1, 1), due=dt.date(2026, 2, 21))
    assignment = services.assignment_create(organization=organization, actor=None, facility=facility,
                                            invoices=[assigned.pk], assigned_on=dt.date(2026, 3, 2))
    services.assignment_submit(organization=organization, actor=None, assignment=assignment)
    services.assignment_fund(organization=organization, actor=None, assignment=assignment,
                             funded_on=dt.date(2026, 3, 2), amount_received="837.50")
    return assigned, own, assignment


def _run(organization, day, capture):
    with travel(day, organization.timezone), capture(execute=True):
        return dunning_services.dunning_run(organization=organization)


def test_disclosed_factor_collects_so_the_seller_does_not_dun_it(organization, debtor,
                                                                  django_capture_on_commit_callbacks):
    facility = facility_make(organization)  # disclosed, not delegated
    assigned, own, assignment = _assigned(organization, facility, debtor)
    _run(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)
    assert list(DunningNotice.objects.values_list("invoice_id", flat=True)) == [own.pk]
    assert assigned.number not in mail.outbox[0].body
    # repurchased: the invoice is the seller's again and dunning resumes
    services.line_repurchase(organization=organization, actor=None, line=assignment.lines.get(),
                             repurchased_on=dt.date(2026, 3, 10))
    _run(organization, dt.date(2026, 3, 11), django_capture_on_commit_callbacks)
    assert DunningNotice.objects.filter(invoice=assigned).exists()


def test_delegated_collection_keeps_dunning_and_says_pay_to(organization, debtor,
                                                            django_capture_on_commit_callbacks):
    facility = facility_make(organization, collection_delegated=True)
    assigned, own, _assignment = _assigned(organization, facility, debtor)
    _run(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)
    body = mail.outbox[0].body
    assert assigned.number in body and own.number in body
    assert (f"Pay to 汇丰保理 HSBC Factoring: invoices {assigned.number} have been assigned to 汇丰保理 HSBC Factoring; "
            f"pay them only to HSBC Shanghai account {ACCOUNT}.") in body
    html = mail.outbox[0].alternatives[0][0]
    assert ACCOUNT in html


def test_silent_factoring_changes_nothing_the_customer_sees(organization, debtor,
                                                            django_capture_on_commit_callbacks, client):
    facility = facility_make(organization, disclosed=False)
    assigned, own, _assignment = _assigned(organization, facility, debtor)
    _run(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)
    assert set(DunningNotice.objects.values_list("invoice_id", flat=True)) == {assigned.pk, own.pk}
    assert "Pay to" not in mail.outbox[0].body and ACCOUNT not in mail.outbox[0].body
    page = client.get(f"/portal/{portal_token(organization, debtor)}/")
    assert page.status_code == 200 and ACCOUNT not in page.content.decode()


def test_portal_and_statement_say_pay_to_for_disclosed_invoices(organization, debtor, client):
    facility = facility_make(organization)
    assigned, _own, _assignment = _assigned(organization, facility, debtor)
    token = portal_token(organization, debtor)
    page = client.get(f"/portal/{token}/").content.decode()
    assert f"invoices {assigned.number} have been assigned to 汇丰保理 HSBC Factoring" in page
    assert ACCOUNT in page
    pdf = client.get(f"/portal/{token}/statement.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
