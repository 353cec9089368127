"""Correcting an invoice in the browser: the Edit button, the prefilled form, the saved due date."""

import datetime as dt

import pytest
from django.urls import reverse

from receivables.models import Invoice
from tenancy.models import AuditEntry
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, make_invoice

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_collector_pushes_an_invoice_due_date_and_sees_it_on_the_detail_page(page, organization, customer, collector):
    invoice = make_invoice(organization, customer, amount="5000.00", issue_date=dt.date(2026, 3, 1),
                           due_date=dt.date(2026, 3, 31), number="INV-E2E-1")
    sign_in(page, collector.username, PASSWORD)
    page.wait_for_selector("[data-testid=aging-table]")

    page.goto(reverse("invoice_detail", args=[invoice.pk]))
    assert page.get_by_test_id("invoice-due-date").inner_text().startswith("2026-03-31")
    with page.expect_navigation():
        page.get_by_test_id("invoice-edit").click()
    assert page.url.endswith(reverse("invoice_update", args=[invoice.pk]))
    assert page.input_value("#id_due_date") == "2026-03-31"  # prefilled with the current value

    page.fill("#id_due_date", "2026-05-15")
    with page.expect_navigation():
        page.get_by_test_id("edit-submit").click()

    assert page.url.endswith(reverse("invoice_detail", args=[invoice.pk]))
    assert "Invoice INV-E2E-1 saved." in page.locator(".messages").inner_text()
    assert page.get_by_test_id("invoice-due-date").inner_text().startswith("2026-05-15")
    assert Invoice.objects.get(pk=invoice.pk).due_date == dt.date(2026, 5, 15)
    entry = AuditEntry.objects.get(action="invoice.updated", object_id=str(invoice.pk))
    assert (entry.actor_id, entry.after) == (collector.pk, {"due_date": "2026-05-15"})


def test_collector_corrects_a_credit_notes_reason_from_the_invoice_it_settled(page, organization, customer, collector):
    from decimal import Decimal

    from receivables import services
    from receivables.models import CreditNote

    invoice = make_invoice(organization, customer, amount="5000.00", issue_date=dt.date(2026, 3, 1),
                           due_date=dt.date(2026, 3, 31), number="INV-E2E-2")
    note = services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-E2E",
                                       issued_on=dt.date(2026, 3, 5), amount=Decimal("500.00"), currency="CNY",
                                       reason="Short shipment", invoice=invoice)
    sign_in(page, collector.username, PASSWORD)
    page.wait_for_selector("[data-testid=aging-table]")

    page.goto(reverse("invoice_detail", args=[invoice.pk]))
    with page.expect_navigation():
        page.get_by_role("link", name="CN-E2E").click()
    assert page.url.endswith(reverse("credit_note_update", args=[note.pk]))
    assert page.input_value("#id_reason") == "Short shipment"

    page.fill("#id_reason", "Short shipment: 20 cartons")
    with page.expect_navigation():
        page.get_by_test_id("edit-submit").click()

    assert "Credit note CN-E2E saved." in page.locator(".messages").inner_text()
    assert page.input_value("#id_reason") == "Short shipment: 20 cartons"
    assert CreditNote.objects.get(pk=note.pk).reason == "Short shipment: 20 cartons"
