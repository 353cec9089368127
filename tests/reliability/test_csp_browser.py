"""The Content-Security-Policy in a real browser: every page loads without a CSP violation (no
inline script without the response's nonce, nothing from elsewhere), and the header is on every
response."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail as django_mail
from django.urls import reverse

from tenancy.models import OutboxMessage
from tests.e2e.conftest import page, sign_in  # noqa: F401 - the browser page fixture
from tests.factories import PASSWORD, CustomerFactory, make_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def book(organization, admin_user):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    customer = CustomerFactory(organization=organization, name="Northwind Traders")
    invoice = make_invoice(organization, customer, amount="120.00", issue_date=dt.date(2026, 1, 1))
    message = django_mail.EmailMultiAlternatives("Reminder", "text", to=["ap@example.com"],
                                                 headers={"X-Inflow-Organization": str(organization.pk)})
    message.attach_alternative("<p style='color:red'>Hello <b>there</b></p>", "text/html")
    message.send()
    return customer, invoice


def test_pages_load_without_csp_violations(page, live_server, settings, book, admin_user, organization):  # noqa: F811
    settings.EMAIL_BACKEND = "tenancy.mail.OutboxEmailBackend"
    customer, invoice = book
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    sign_in(page, admin_user.username, PASSWORD)
    outbox = OutboxMessage.objects.filter(organization=organization).first()
    urls = [reverse("dashboard"), reverse("customer_list"), reverse("customer_detail", args=[customer.pk]),
            reverse("invoice_detail", args=[invoice.pk]), reverse("invoice_list"), reverse("payment_record"),
            reverse("organization_settings"), reverse("importing:start"), reverse("dunning:preview"),
            reverse("credit:portfolio"), reverse("reporting:archive"), reverse("api:docs")]
    if outbox is not None:
        urls.append(reverse("outbox_detail", args=[outbox.pk]))
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    assert violations == []
    # the API docs ran their (external) script: Swagger UI rendered the operations
    page.goto(reverse("api:docs"))
    page.wait_for_selector(".opblock", timeout=15_000)


def test_an_inline_script_without_the_nonce_is_blocked(page, live_server, book, admin_user):  # noqa: F811
    sign_in(page, admin_user.username, PASSWORD)
    page.goto(reverse("dashboard"))
    blocked = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                             document.body.appendChild(s); }""")
    assert page.evaluate("() => window.__ran === undefined")
    assert blocked
