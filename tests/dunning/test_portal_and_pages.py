"""The customer portal (signed links, actions that pause dunning, refusals, rate limit), the
collector's pages, tenancy, and the evidence bundle."""

import datetime as dt
import io
import json
import zipfile

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from dunning import services
from dunning.models import CollectionTask, Dispute, DunningMessage, DunningNotice, EventKind, PromiseToPay, Source
from dunning.portal import portal_token
from tests.dunning.conftest import at_local, travel
from tests.factories import PASSWORD, CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def setup(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def invoices(organization, english):
    return [make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                         due_date=dt.date(2026, 3, 1), number="INV-A"),
            make_invoice(organization, english, amount="250.00", issue_date=dt.date(2026, 1, 1),
                         due_date=dt.date(2026, 3, 20), number="INV-B")]


def portal(organization, customer):
    return reverse("portal:home", args=[portal_token(organization, customer)])


def test_portal_shows_only_this_customers_open_invoices(client, organization, english, invoices):
    other = CustomerFactory(organization=organization, name="Someone Else")
    make_invoice(organization, other, amount="9.99", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1),
                 number="INV-OTHER")
    with travel(dt.date(2026, 3, 4)):
        response = client.get(portal(organization, english))
    body = response.content.decode()
    assert response.status_code == 200
    assert "INV-A" in body and "INV-B" in body and "INV-OTHER" not in body
    assert "CN¥1,250.00" in body
    assert response["Cache-Control"] == "no-store"


def test_portal_cannot_act_on_another_customers_invoice(client, organization, english, invoices):
    other = CustomerFactory(organization=organization)
    foreign = make_invoice(organization, other, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))
    with travel(dt.date(2026, 3, 4)):  # links are signed when sent (one dated in the future is refused)
        url = reverse("portal:dispute", args=[portal_token(organization, english), foreign.pk])
        response = client.post(url, {f"d{foreign.pk}-reason": "price", f"d{foreign.pk}-description": "x"})
    assert response.status_code == 404
    assert not Dispute.objects.exists()


def test_tampered_and_expired_links_are_refused_cleanly(client, organization, english, invoices, settings):
    url = portal(organization, english)
    tampered = url[:-3] + ("x" if url[-3] != "x" else "y") + url[-2:]
    response = client.get(tampered)
    assert response.status_code == 403
    assert "This link is not valid." in response.content.decode()

    settings.DUNNING_PORTAL_LINK_DAYS = 30
    with time_machine.travel(at_local(dt.date(2026, 3, 1)), tick=False):
        url = portal(organization, english)
    with time_machine.travel(at_local(dt.date(2026, 4, 1)), tick=False):
        response = client.get(url)
    assert response.status_code == 410
    assert "This link has expired. Ask your supplier for a new one." in response.content.decode()


def test_portal_is_rate_limited(client, organization, english, invoices, settings):
    settings.DUNNING_PORTAL_RATE_PER_MINUTE = 3
    with travel(dt.date(2026, 3, 4)):
        url = portal(organization, english)
        codes = [client.get(url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_portal_dispute_pauses_dunning_and_notifies_the_collector(
        client, organization, english, invoices, collector, django_capture_on_commit_callbacks):
    services.customer_dunning_set(organization=organization, actor=None, customer=english, collector=collector)
    invoice = invoices[0]
    with travel(dt.date(2026, 3, 1)), django_capture_on_commit_callbacks(execute=True):
        url = reverse("portal:dispute", args=[portal_token(organization, english), invoice.pk])
        response = client.post(url, {f"d{invoice.pk}-reason": "quantity",
                                     f"d{invoice.pk}-description": "Only 80 of 100 delivered"})
    assert response.status_code == 302 and response["Location"].endswith("/?done=dispute")

    dispute = Dispute.objects.get()
    assert (dispute.source, dispute.amount, dispute.reason) == (Source.PORTAL, invoice.total_amount, "quantity")
    task = CollectionTask.objects.get(customer=english)
    assert task.assigned_to == collector
    assert task.title == "Northwind Traders disputes invoice INV-A"
    assert mail.outbox[0].to == [collector.email] and "Only 80 of 100 delivered" in mail.outbox[0].body

    with travel(dt.date(2026, 3, 4)), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=organization)
    assert not DunningNotice.objects.filter(invoice=invoice).exists()


def test_a_collector_who_left_the_organization_is_not_told_about_its_customers(
        client, organization, english, invoices, collector, credit_manager, django_capture_on_commit_callbacks):
    from tenancy.models import Membership

    services.customer_dunning_set(organization=organization, actor=None, customer=english, collector=collector)
    Membership.objects.filter(organization=organization, user=collector).delete()  # they left
    invoice = invoices[0]
    with travel(dt.date(2026, 3, 1)), django_capture_on_commit_callbacks(execute=True):
        url = reverse("portal:dispute", args=[portal_token(organization, english), invoice.pk])
        client.post(url, {f"d{invoice.pk}-reason": "quantity", f"d{invoice.pk}-description": "Short"})

    assert len(mail.outbox) == 1 and collector.email not in mail.outbox[0].to
    assert mail.outbox[0].to == [credit_manager.email]  # the organization's collectors (and above) instead


def test_portal_promise_in_the_past_shows_the_error(client, organization, english, invoices):
    invoice = invoices[0]
    with travel(dt.date(2026, 3, 4)):
        url = reverse("portal:promise", args=[portal_token(organization, english), invoice.pk])
        response = client.post(url, {f"p{invoice.pk}-promised_date": "2026-03-01", f"p{invoice.pk}-amount": "100"})
    assert response.status_code == 400
    assert "The promised date cannot be in the past." in response.content.decode()
    assert not PromiseToPay.objects.exists()


def test_portal_and_its_statement_show_cash_on_account_and_the_net_balance(client, organization, english, invoices):
    from pypdf import PdfReader

    make_payment(organization, english, amount="5000.00", received_on=dt.date(2026, 3, 2), auto_allocate=False)
    with travel(dt.date(2026, 3, 4)):
        token = portal_token(organization, english)
        page = client.get(reverse("portal:home", args=[token])).content.decode()
        pdf = client.get(reverse("portal:statement_pdf", args=[token])).content
    totals = " ".join(page.split('data-testid="portal-totals"')[1].split("</ul>")[0].split())
    assert "Open CN¥1,250.00 − unapplied payments and credits on account CN¥5,000.00 = net -CN¥3,750.00" in totals
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Unapplied payments and credits on account −5,000.00" in text
    assert "Net balance CNY -3,750.00" in text


def test_portal_statement_pdf(client, organization, english, invoices):
    with travel(dt.date(2026, 3, 4)):
        response = client.get(reverse("portal:statement_pdf", args=[portal_token(organization, english)]))
    assert response.status_code == 200 and response.content[:5] == b"%PDF-"


def test_pages_render_and_another_organizations_customer_is_404(
        client, organization, other_organization, english, invoices, collector, django_capture_on_commit_callbacks):
    collector.set_password(PASSWORD)
    collector.save()
    client.login(username=collector.username, password=PASSWORD)
    with travel(dt.date(2026, 3, 4)):
        preview = client.get(reverse("dunning:preview"))
        assert "INV-A" in preview.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            ran = client.post(reverse("dunning:run_now"))
        assert ran.status_code == 302
        for name in ("run_list", "policy_list", "worklist", "dispute_list", "promise_list", "plan_list"):
            assert client.get(reverse(f"dunning:{name}")).status_code == 200, name
        timeline = client.get(reverse("dunning:timeline", args=[english.pk]))
    assert "Acme Trading: payment reminder" in timeline.content.decode()
    stranger = CustomerFactory(organization=other_organization)
    assert client.get(reverse("dunning:timeline", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("dunning:evidence", args=[stranger.pk])).status_code == 404


def test_preview_of_a_customer_id_that_is_not_a_number_is_404(client, organization, english, invoices, collector):
    client.force_login(collector)
    with travel(dt.date(2026, 3, 4)):
        assert client.get(reverse("dunning:preview"), {"customer": "abc"}).status_code == 404
        assert client.get(reverse("dunning:preview"), {"customer": "9999999"}).status_code == 404
        page = client.get(reverse("dunning:preview"), {"customer": str(english.pk)})
    assert page.status_code == 200 and "INV-A" in page.content.decode()


def test_dunning_pages_need_a_sign_in_and_an_organization(client, user_factory):
    anonymous = client.get(reverse("dunning:worklist"))
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    client.force_login(user_factory())  # signed in, member of no organization
    assert client.get(reverse("dunning:worklist")).status_code == 404
    assert client.post(reverse("dunning:run_now")).status_code == 404


def test_evidence_bundle_audit_holds_only_this_customers_sent_notices(
        client, organization, english, chinese, invoices, admin_user, django_capture_on_commit_callbacks):
    make_invoice(organization, chinese, amount="300.00", issue_date=dt.date(2026, 1, 1),
                 due_date=dt.date(2026, 3, 1), number="INV-C")
    with travel(dt.date(2026, 3, 4)), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=organization)
    client.force_login(admin_user)

    archive = zipfile.ZipFile(io.BytesIO(client.get(reverse("dunning:evidence", args=[english.pk])).content))

    [message] = DunningMessage.objects.filter(customer=english)
    audit = json.loads(archive.read("audit.json"))
    assert [(e["action"], e["object"]) for e in audit] == [("dunning.sent", f"dunning.dunningmessage:{message.pk}")]
    assert [i["number"] for i in audit[0]["after"]["invoices"]] == ["INV-A"]


def test_evidence_bundle_holds_notices_timeline_and_a_manifest(
        client, organization, english, invoices, admin_user, django_capture_on_commit_callbacks):
    with travel(dt.date(2026, 3, 4)), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=organization)
    admin_user.set_password(PASSWORD)
    admin_user.save()
    client.login(username=admin_user.username, password=PASSWORD)

    response = client.get(reverse("dunning:evidence", args=[english.pk]))

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"invoices.csv", "timeline.csv", "audit.json", "manifest.json"} <= names
    notice = next(n for n in names if n.startswith("notices/") and n.endswith(".txt"))
    assert "INV-A" in archive.read(notice).decode()
    manifest = json.loads(archive.read("manifest.json"))
    import hashlib

    assert manifest["files"][notice] == hashlib.sha256(archive.read(notice)).hexdigest()
    assert EventKind.NOTICE_SENT in archive.read("timeline.csv").decode()
