"""The collector's day in the browser (issue 14): find the first task on the worklist, log a call,
record a promise from the worklist and see dunning paused, open a dispute from the invoice page,
record a payment, send a one-off reminder. Screenshots at 1280 and 390 px in English and Chinese
go to /tmp/inflow-shots (INFLOW_SCREENSHOTS overrides), and no page scrolls sideways at 390 px."""

import datetime as dt
import os
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.models import CollectionTask, Dispute, DunningMessage, PromiseStatus, PromiseToPay, TaskStatus
from receivables.models import Payment
from tenancy.dates import local_today
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("INFLOW_SCREENSHOTS") or Path(tempfile.gettempdir()) / "inflow-shots")


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"collector-{name}.png"), full_page=True)


def _first_task(page):
    return page.locator("[data-testid=worklist-task]").first


def _log_on_first_task(page, outcome: str, **fields) -> None:
    task = _first_task(page)
    task.locator("[data-testid=log-call] summary").click()
    task.locator("[data-testid=outcome]").select_option(outcome)
    for name, value in fields.items():
        task.locator(f"[name={name}]").fill(value)
    task.locator("[data-testid=task-log-submit]").click()
    page.wait_for_load_state()


@pytest.fixture
def day(organization, collector):
    today = local_today(organization.timezone)
    huadong = CustomerFactory(organization=organization, name="华东贸易 Huadong Trading", currency="CNY",
                              contact_emails=["ap@huadong.example"], contact_name="王芳 Wang Fang",
                              contact_phone="+86 21 5555 0101")
    oldest = make_invoice(organization, huadong, number="HD-101", amount="8000.00",
                          issue_date=today - dt.timedelta(days=75), due_date=today - dt.timedelta(days=45))
    second = make_invoice(organization, huadong, number="HD-102", amount="5000.00",
                          issue_date=today - dt.timedelta(days=50), due_date=today - dt.timedelta(days=20))
    small = CustomerFactory(organization=organization, name="Small Buyer", currency="CNY",
                            contact_emails=["ap@small.example"])
    make_invoice(organization, small, number="SB-1", amount="100.00", issue_date=today - dt.timedelta(days=40),
                 due_date=today - dt.timedelta(days=10))
    return today, huadong, oldest, second


def test_a_collectors_day(page, organization, collector, day):
    today, huadong, oldest, second = day
    sign_in(page, collector.username, PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The worklist has a task for every overdue customer, though no dunning run ever made one.
    page.goto("/dunning/worklist/")
    first = _first_task(page)
    title = first.locator("[data-testid=task-title]").inner_text()
    assert title.startswith("#1 华东贸易 Huadong Trading · ") and "13,000.00" in title and title.endswith(" · 45 days")
    contact = first.locator("[data-testid=contact]")
    assert contact.inner_text() == "王芳 Wang Fang · +86 21 5555 0101 · ap@huadong.example"
    assert contact.locator("a[href^='tel:']").get_attribute("href") == "tel:+86 21 5555 0101"
    assert page.locator("[data-testid=worklist-task]").count() == 2
    _shot(page, "worklist-1280-en")

    # A call without an answer: the task stays open, due again today.
    _log_on_first_task(page, "no_answer", notes="Voicemail", follow_up_on=today.isoformat())
    assert "Call logged; the task stays open" in page.inner_text(".messages")
    task = CollectionTask.objects.get(customer=huadong, status=TaskStatus.OPEN)
    assert task.last_outcome == "no_answer"

    # Called back: a promise to pay the oldest invoice in a week, logged on the worklist.
    promised_on = today + dt.timedelta(days=7)
    _log_on_first_task(page, "promised", notes="Ms. Wang, finance", promised_date=promised_on.isoformat(),
                       promised_amount="8000.00")
    assert re.search(r"Promise to pay \S*8,000\.00", page.inner_text(".messages"))
    promise = PromiseToPay.objects.get(customer=huadong)
    assert (promise.status, promise.amount, [i.number for i in promise.invoices.all()]) == (
        PromiseStatus.OPEN, Decimal("8000.0000"), ["HD-101"])
    assert not CollectionTask.objects.filter(customer=huadong, status=TaskStatus.OPEN).exists()
    _shot(page, "worklist-after-promise-1280-en")

    # Dunning is paused for the promised invoice: today's preview leaves it out, the invoice says so.
    page.goto(f"/dunning/?customer={huadong.pk}")
    reminded = " ".join(page.locator("table.data tbody td:nth-child(2)").all_inner_texts())
    assert "HD-102" in reminded and "HD-101" not in reminded
    _shot(page, "dunning-paused-1280-en")
    page.goto(f"/invoices/{oldest.pk}/")
    assert f"Promised by {promised_on.isoformat()}" in page.inner_text("body")

    # A dispute opened from the invoice page, back on that page with its marker.
    page.goto(f"/invoices/{second.pk}/")
    _shot(page, "invoice-1280-en")
    page.locator("[data-testid=invoice-actions] [data-testid=action-dispute]").click()
    page.select_option("#id_reason", "quality")
    page.fill("#id_amount", "1000.00")
    page.fill("#id_description", "Two pallets damaged")
    _shot(page, "dispute-form-1280-en")
    page.click("[data-testid=action-submit]")
    page.wait_for_url(re.compile(rf"/invoices/{second.pk}/$"))
    assert re.search(r"Disputed: \S*1,000\.00", page.inner_text("body"))
    assert Dispute.objects.get(invoice=second).amount == Decimal("1000.0000")

    # The customer pays part of the undisputed rest.
    page.goto(f"/payments/new/?customer={huadong.pk}")
    page.fill("#id_received_on", today.isoformat())
    page.fill("#id_amount", "4000.00")
    page.fill("#id_reference", "BANK-0312")
    page.locator("form button[type=submit].btn-primary").last.click()
    page.wait_for_url(re.compile(r"/payments/\d+/$"))
    payment = Payment.objects.get(customer=huadong)
    assert payment.amount == Decimal("4000.0000")
    second.refresh_from_db()
    oldest.refresh_from_db()
    assert oldest.applied_amount + second.applied_amount == Decimal("4000.0000")

    # A one-off reminder from the customer page.
    page.goto(f"/customers/{huadong.pk}/")
    _shot(page, "customer-1280-en")
    page.locator("[data-testid=customer-actions] [data-testid=action-reminder]").click()
    page.wait_for_selector("[data-testid=reminder-form]")
    _shot(page, "reminder-1280-en")
    page.click("[data-testid=reminder-send]")
    page.wait_for_url(re.compile(rf"/dunning/customers/{huadong.pk}/timeline/$"))
    assert "Reminder to 华东贸易 Huadong Trading recorded" in page.inner_text(".messages")
    assert DunningMessage.objects.filter(customer=huadong).count() == 1


PAGES = (
    ("worklist", "/dunning/worklist/"),
    ("customer", "/customers/{customer}/"),
    ("invoice", "/invoices/{invoice}/"),
    ("call", "/dunning/customers/{customer}/call/"),
    ("promise", "/dunning/customers/{customer}/promise/"),
    ("dispute", "/dunning/customers/{customer}/dispute/"),
    ("invoice-promise", "/dunning/invoices/{invoice}/promise/"),
    ("plan", "/dunning/customers/{customer}/plan/"),
    ("promises", "/dunning/promises/"),
    ("disputes", "/dunning/disputes/"),
)


def test_the_collectors_pages_in_both_languages_at_desktop_and_phone_width(page, organization, collector, day):
    _today, huadong, oldest, _second = day
    sign_in(page, collector.username, PASSWORD)
    for language in ("en", "zh-hans"):
        page.goto("/dunning/worklist/")
        if page.locator("html").get_attribute("lang") != language:
            with page.expect_navigation():
                page.select_option("[data-testid=language-switch]", language)
        assert page.locator("html").get_attribute("lang") == language
        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            for name, url in PAGES:
                response = page.goto(url.format(customer=huadong.pk, invoice=oldest.pk))
                assert response.status == 200, url
                _shot(page, f"{name}-{width}-{language}")
                if width == 390:
                    assert _no_sideways_scroll(page), f"{url} at 390 px in {language}"
        if language == "zh-hans":
            page.goto("/dunning/worklist/")
            body = page.inner_text("body")
            assert "催收" in body and "记录本次通话" in body and "Log the call" not in body
