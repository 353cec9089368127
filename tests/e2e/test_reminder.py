"""Issue 14 item 4 in a real browser: an admin rewords a dunning step (live preview), a collector
sends a one-off reminder with that wording, edited, to one customer; the mail arrives through a
real SMTP server (aiosmtpd) and the reminder is in the customer's timeline. Screenshots at desktop
and phone width go to the temp directory."""

import datetime as dt
import email
import tempfile
from email import policy as email_policy
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import expect

from dunning.models import DunningMessage, MessageStatus, MessageTemplate
from tests.dunning.conftest import at_local, eager_celery, smtp_inbox  # noqa: F401 (fixtures)
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, CustomerFactory, make_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 3, 18)  # a Wednesday
SHOTS = Path(tempfile.gettempdir()) / "inflow-e2e-reminder"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def context(browser, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = live_server.url
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.set_viewport_size(size)
    assert overflow <= 0, f"{name} is {overflow}px wider than a 390px phone"


def test_admin_rewords_a_step_and_a_collector_sends_a_one_off_reminder(
        context, organization, admin_user, collector, smtp_inbox):  # noqa: F811
    customer = CustomerFactory(organization=organization, name="Northwind <b>Traders</b>", language="en",
                               contact_emails=["ap@northwind.example"])
    make_invoice(organization, customer, amount="4200.00", issue_date=dt.date(2026, 1, 1),
                 due_date=dt.date(2026, 2, 1), number="INV-REM-1")  # 45 days late: the +30 step
    page = context.new_page()

    with time_machine.travel(at_local(TODAY), tick=True):
        # the admin rewords the +30 step ("second reminder") in English, watching the live preview
        sign_in(page, admin_user.username, PASSWORD)
        page.goto(reverse("dunning:policy_list"))
        page.get_by_test_id("message-wording").click()
        page.get_by_test_id("edit-second-en").click()
        page.fill("#id_subject", "{{ organization_name }}: {{ oldest_days_overdue }} days late, {{ customer_name }}")
        expect(page.get_by_test_id("template-preview-subject")).to_contain_text("45 days late, Sample Customer Ltd")
        body = page.input_value("#id_body").replace("Kind regards,", "Call us on 021-5555 if anything is wrong.\n"
                                                   "<script>alert('x')</script>\nKind regards,")
        page.fill("#id_body", body)
        expect(page.get_by_test_id("template-preview-text")).to_contain_text("021-5555")
        assert page.locator("script:text('alert')").count() == 0  # the preview shows the tag as text
        shoot(page, "wording-edit")
        with page.expect_navigation():
            page.get_by_test_id("template-save").click()
        assert "Wording saved" in page.locator(".messages").inner_text()
        assert MessageTemplate.objects.filter(organization=organization, template="second", language="en").exists()
        context.clear_cookies()

        # the collector opens the reminder page: the step of the oldest overdue invoice, own wording
        sign_in(page, collector.username, PASSWORD)
        page.goto(reverse("dunning:reminder_send", args=[customer.pk]))
        assert page.input_value("#id_subject") == "Acme Trading: 45 days late, Northwind <b>Traders</b>"
        text = page.input_value("#id_body")
        assert "INV-REM-1" in text and "021-5555" in text
        page.fill("#id_body", text.replace("Kind regards,", "As discussed on the phone today.\nKind regards,"))
        with page.expect_navigation():
            page.get_by_test_id("reminder-preview-button").click()
        preview = page.get_by_test_id("reminder-preview").inner_text()
        assert "As discussed on the phone today." in preview and "<script>alert('x')</script>" in preview
        shoot(page, "reminder-preview")
        with page.expect_navigation():
            page.get_by_test_id("reminder-send").click()

        assert page.url.endswith(reverse("dunning:timeline", args=[customer.pk]))
        assert "it is on its way to ap@northwind.example" in page.locator(".messages").inner_text()
        page.reload()
        assert "Acme Trading: 45 days late, Northwind <b>Traders</b>" in page.get_by_test_id("timeline-table").inner_text()
        shoot(page, "reminder-timeline")

        # the same page in Simplified Chinese, for the review screenshots
        with page.expect_navigation():
            page.select_option("[data-testid=language-switch]", "zh-hans")
        page.goto(reverse("dunning:reminder_send", args=[customer.pk]))
        assert page.get_by_test_id("reminder-send").inner_text() == "发送提醒"
        shoot(page, "reminder-zh")

    message = DunningMessage.objects.get(customer=customer)
    assert message.status == MessageStatus.SENT
    assert "As discussed on the phone today." in message.body_text
    [envelope] = smtp_inbox.envelopes
    sent = email.message_from_bytes(envelope.content, policy=email_policy.default)
    assert sent["Subject"] == "Acme Trading: 45 days late, Northwind <b>Traders</b>"
    assert "As discussed on the phone today." in sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
