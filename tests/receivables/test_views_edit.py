"""Correcting an invoice or a payment in the browser: the edit pages over invoice_update / payment_update."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from receivables import services
from receivables.models import Allocation, Invoice, Payment
from tenancy.models import AuditEntry, Role
from tests.factories import CustomerFactory, MembershipFactory, make_invoice, make_payment

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
STALE = "This record was changed by someone else since you opened it; review and save again."


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member_client(client, collector):
    client.force_login(collector)
    return client


@pytest.fixture
def invoice(organization, customer):
    return make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2026, 3, 1),
                        due_date=dt.date(2026, 3, 31), number="INV-E1", po_reference="PO-1")


@pytest.fixture
def payment(organization, customer, invoice):
    """600.00 received, 400.00 of it applied to the invoice."""
    payment = make_payment(organization, customer, amount="600.00", received_on=dt.date(2026, 3, 10),
                           auto_allocate=False, reference="BANK-O0")
    services.payment_allocate(organization=organization, actor=None, payment=payment,
                              allocations=[(invoice, Decimal("400.00"))])
    payment.refresh_from_db()
    return payment


def _invoice_post(invoice, **overrides):
    data = {
        "issue_date": invoice.issue_date.isoformat(), "due_date": invoice.due_date.isoformat(),
        "net_amount": str(invoice.net_amount), "tax_amount": str(invoice.tax_amount),
        "description": invoice.description, "po_reference": invoice.po_reference,
        "external_id": invoice.external_id or "", "updated_at": invoice.updated_at.isoformat(),
    }
    return {**data, **overrides}


def _payment_post(payment, **overrides):
    data = {
        "received_on": payment.received_on.isoformat(), "amount": str(payment.amount), "method": payment.method,
        "reference": payment.reference, "external_id": payment.external_id or "",
        "updated_at": payment.updated_at.isoformat(),
    }
    return {**data, **overrides}


def _later(minutes: int = 5):
    """Someone else's write, a little later than the page was opened."""
    return time_machine.travel(TODAY + dt.timedelta(minutes=minutes), tick=False)


# --- invoices ------------------------------------------------------------------------------

def test_invoice_edit_form_is_prefilled_with_the_current_values(member_client, invoice):
    response = member_client.get(reverse("invoice_update", args=[invoice.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["due_date"].value() == dt.date(2026, 3, 31)
    assert form["net_amount"].value() == Decimal("1000.00")
    assert form["po_reference"].value() == "PO-1"
    assert form["updated_at"].value() == invoice.updated_at.isoformat()
    html = response.content.decode()
    assert 'value="2026-03-31"' in html
    assert f'value="{invoice.updated_at.isoformat()}"' in html


def test_invoice_edit_saves_the_due_date_audits_it_and_redirects(member_client, collector, invoice):
    response = member_client.post(reverse("invoice_update", args=[invoice.pk]),
                                  _invoice_post(invoice, due_date="2026-04-30", po_reference="PO-2"))
    assert response.status_code == 302
    assert response["Location"] == reverse("invoice_detail", args=[invoice.pk])
    invoice.refresh_from_db()
    assert (invoice.due_date, invoice.po_reference) == (dt.date(2026, 4, 30), "PO-2")
    entry = AuditEntry.objects.get(action="invoice.updated", object_id=str(invoice.pk))
    assert entry.actor_id == collector.pk
    assert entry.before == {"due_date": "2026-03-31", "po_reference": "PO-1"}
    assert entry.after == {"due_date": "2026-04-30", "po_reference": "PO-2"}
    page = member_client.get(response["Location"]).content.decode()
    assert "Invoice INV-E1 saved." in page
    assert "2026-04-30" in page


def test_invoice_edit_without_changes_writes_no_audit_entry(member_client, invoice):
    response = member_client.post(reverse("invoice_update", args=[invoice.pk]), _invoice_post(invoice))
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="invoice.updated").exists()


def test_invoice_amount_below_what_is_applied_is_refused_on_the_amount_field(member_client, invoice, payment):
    before = Invoice.objects.get(pk=invoice.pk)
    audit_before = AuditEntry.objects.count()
    response = member_client.post(reverse("invoice_update", args=[invoice.pk]),
                                  _invoice_post(before, net_amount="300.00", due_date="2026-05-31"))
    assert response.status_code == 200
    message = "The new total 300.00 CNY is less than the 400.00 CNY already applied to this invoice."
    assert response.context["form"].errors["net_amount"] == [message]
    assert message in response.content.decode()
    after = Invoice.objects.get(pk=invoice.pk)
    assert (after.net_amount, after.total_amount, after.due_date) == (Decimal("1000.00"), Decimal("1000.00"),
                                                                      dt.date(2026, 3, 31))
    assert after.updated_at == before.updated_at
    assert AuditEntry.objects.count() == audit_before


def test_invoice_due_date_before_issue_date_is_refused_on_the_due_date(member_client, invoice):
    response = member_client.post(reverse("invoice_update", args=[invoice.pk]),
                                  _invoice_post(invoice, due_date="2026-02-01"))
    assert response.context["form"].errors["due_date"] == ["The due date cannot be before the issue date."]
    invoice.refresh_from_db()
    assert invoice.due_date == dt.date(2026, 3, 31)


def test_invoice_new_issue_date_re_dates_what_was_applied(member_client, invoice, payment):
    response = member_client.post(reverse("invoice_update", args=[invoice.pk]),
                                  _invoice_post(invoice, issue_date="2026-03-20", due_date="2026-04-20"))
    assert response.status_code == 302
    allocation = Allocation.objects.get(invoice=invoice, payment=payment)
    assert allocation.applied_on == dt.date(2026, 3, 20)  # was 2026-03-10, before the corrected issue date


def test_invoice_edit_over_someone_elses_change_is_refused_and_shows_the_current_values(
        member_client, organization, invoice):
    opened = member_client.get(reverse("invoice_update", args=[invoice.pk])).context["form"]
    with _later():
        services.invoice_update(organization=organization, invoice=invoice, actor=None, po_reference="PO-OTHER")
    response = member_client.post(reverse("invoice_update", args=[invoice.pk]), {
        **{name: opened[name].value() for name in ("issue_date", "net_amount", "tax_amount", "description",
                                                     "external_id", "updated_at")},
        "due_date": "2026-06-30", "po_reference": "PO-MINE",
    })
    assert response.status_code == 200
    assert response.context["stale_message"] == STALE
    assert STALE in response.content.decode()
    invoice.refresh_from_db()
    assert (invoice.due_date, invoice.po_reference) == (dt.date(2026, 3, 31), "PO-OTHER")
    form = response.context["form"]
    assert form["po_reference"].value() == "PO-OTHER"  # what is there now, to review
    assert form["updated_at"].value() == invoice.updated_at.isoformat()  # saving again is possible
    assert AuditEntry.objects.filter(action="invoice.updated").count() == 1


def test_invoice_edit_without_the_version_is_refused(member_client, invoice):
    response = member_client.post(reverse("invoice_update", args=[invoice.pk]),
                                  _invoice_post(invoice, due_date="2026-06-30", updated_at=""))
    assert response.context["form"].non_field_errors() == ["This form is incomplete; open the edit page again."]
    invoice.refresh_from_db()
    assert invoice.due_date == dt.date(2026, 3, 31)


def test_another_organizations_invoice_is_404(member_client, other_organization):
    stranger = make_invoice(other_organization, CustomerFactory(organization=other_organization, currency="USD"),
                            amount="50.00", number="RIVAL-1")
    url = reverse("invoice_update", args=[stranger.pk])
    assert member_client.get(url).status_code == 404
    assert member_client.post(url, _invoice_post(stranger, due_date="2027-01-01")).status_code == 404
    stranger.refresh_from_db()
    assert stranger.due_date != dt.date(2027, 1, 1)


def test_viewer_sees_no_edit_button_and_is_refused(client, organization, invoice):
    viewer = MembershipFactory(organization=organization, role=Role.VIEWER).user
    client.force_login(viewer)
    detail = client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert reverse("invoice_update", args=[invoice.pk]) not in detail
    response = client.post(reverse("invoice_update", args=[invoice.pk]), _invoice_post(invoice, due_date="2026-06-30"))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["This needs the Collector role in Acme Trading."]
    invoice.refresh_from_db()
    assert invoice.due_date == dt.date(2026, 3, 31)
    assert not AuditEntry.objects.filter(action="invoice.updated").exists()


def test_collector_sees_the_edit_button(member_client, invoice):
    detail = member_client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert f'href="{reverse("invoice_update", args=[invoice.pk])}"' in detail


def test_void_invoice_shows_why_it_cannot_be_edited_and_refuses_a_save(member_client, organization, invoice):
    services.invoice_void(organization=organization, invoice=invoice, actor=None, reason="issued twice")
    invoice.refresh_from_db()
    detail = member_client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert reverse("invoice_update", args=[invoice.pk]) not in detail

    page = member_client.get(reverse("invoice_update", args=[invoice.pk]))
    html = page.content.decode()
    assert "Invoice INV-E1 was voided on 2026-03-31; a void invoice cannot be changed." in html
    assert 'data-testid="edit-submit"' not in html
    assert page.context["form"].fields["due_date"].disabled

    response = member_client.post(reverse("invoice_update", args=[invoice.pk]),
                                  _invoice_post(invoice, due_date="2026-06-30"))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["A void invoice cannot be changed."]
    invoice.refresh_from_db()
    assert invoice.due_date == dt.date(2026, 3, 31)
    assert not AuditEntry.objects.filter(action="invoice.updated").exists()


def test_invoice_edit_page_in_chinese(client, collector, invoice):
    client.force_login(collector)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("invoice_update", args=[invoice.pk])).content.decode()
    assert "编辑发票 INV-E1" in html
    assert "到期日" in html
    assert "保存" in html
    assert "Edit invoice" not in html


# --- payments ------------------------------------------------------------------------------

def test_payment_edit_form_is_prefilled_with_the_current_values(member_client, payment):
    response = member_client.get(reverse("payment_update", args=[payment.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert (form["reference"].value(), form["amount"].value()) == ("BANK-O0", Decimal("600.00"))
    assert form["updated_at"].value() == payment.updated_at.isoformat()
    assert "CN¥400.00 applied" in response.content.decode()


def test_payment_edit_fixes_the_reference_audits_it_and_redirects(member_client, collector, payment):
    response = member_client.post(reverse("payment_update", args=[payment.pk]),
                                  _payment_post(payment, reference="BANK-00", method="cash"))
    assert response["Location"] == reverse("payment_detail", args=[payment.pk])
    payment.refresh_from_db()
    assert (payment.reference, payment.method) == ("BANK-00", "cash")
    entry = AuditEntry.objects.get(action="payment.updated", object_id=str(payment.pk))
    assert entry.actor_id == collector.pk
    assert entry.before == {"reference": "BANK-O0", "method": "bank_transfer"}
    assert entry.after == {"reference": "BANK-00", "method": "cash"}
    assert "Payment BANK-00 saved." in member_client.get(response["Location"]).content.decode()


def test_payment_amount_below_what_is_applied_is_refused_and_nothing_changes(member_client, payment):
    audit_before = AuditEntry.objects.count()
    response = member_client.post(reverse("payment_update", args=[payment.pk]),
                                  _payment_post(payment, amount="350.00", reference="CHANGED"))
    assert response.status_code == 200
    message = "The new amount 350.00 CNY is less than the 400.00 CNY already applied from this payment."
    assert response.context["form"].errors["amount"] == [message]
    assert message in response.content.decode()
    current = Payment.objects.get(pk=payment.pk)
    assert (current.amount, current.unapplied_amount, current.reference) == (
        Decimal("600.00"), Decimal("200.00"), "BANK-O0")
    assert current.updated_at == payment.updated_at
    assert AuditEntry.objects.count() == audit_before


def test_payment_amount_change_keeps_the_unapplied_amount_in_step(member_client, payment):
    member_client.post(reverse("payment_update", args=[payment.pk]), _payment_post(payment, amount="450.00"))
    payment.refresh_from_db()
    assert (payment.amount, payment.unapplied_amount) == (Decimal("450.00"), Decimal("50.00"))


def test_payment_edit_over_someone_elses_change_is_refused(member_client, organization, payment):
    opened = _payment_post(payment, reference="MINE")
    with _later():
        services.payment_update(organization=organization, payment=payment, actor=None, reference="THEIRS")
    response = member_client.post(reverse("payment_update", args=[payment.pk]), opened)
    assert response.status_code == 200
    assert STALE in response.content.decode()
    payment.refresh_from_db()
    assert payment.reference == "THEIRS"
    assert response.context["form"]["reference"].value() == "THEIRS"
    # The refreshed form carries the new version: saving it again goes through.
    again = member_client.post(reverse("payment_update", args=[payment.pk]), _payment_post(payment, reference="MINE"))
    assert again.status_code == 302
    payment.refresh_from_db()
    assert payment.reference == "MINE"


def test_another_organizations_payment_is_404(member_client, other_organization):
    stranger = make_payment(other_organization, CustomerFactory(organization=other_organization, currency="USD"),
                            amount="50.00", reference="RIVAL")
    url = reverse("payment_update", args=[stranger.pk])
    assert member_client.get(url).status_code == 404
    assert member_client.post(url, _payment_post(stranger, reference="MINE")).status_code == 404
    stranger.refresh_from_db()
    assert stranger.reference == "RIVAL"


def test_viewer_sees_no_payment_edit_button_and_is_refused(client, organization, payment):
    viewer = MembershipFactory(organization=organization, role=Role.VIEWER).user
    client.force_login(viewer)
    assert reverse("payment_update", args=[payment.pk]) not in client.get(
        reverse("payment_detail", args=[payment.pk])).content.decode()
    response = client.post(reverse("payment_update", args=[payment.pk]), _payment_post(payment, reference="X"))
    assert response.context["form"].non_field_errors() == ["This needs the Collector role in Acme Trading."]
    payment.refresh_from_db()
    assert payment.reference == "BANK-O0"


def test_collector_sees_the_payment_edit_button(member_client, payment):
    detail = member_client.get(reverse("payment_detail", args=[payment.pk])).content.decode()
    assert f'href="{reverse("payment_update", args=[payment.pk])}"' in detail


def test_payment_edit_page_in_chinese(client, collector, payment):
    client.force_login(collector)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("payment_update", args=[payment.pk])).content.decode()
    assert "编辑回款 BANK-O0" in html
    assert "已核销 ¥400.00" in html
    assert "Edit payment" not in html


def test_edit_form_shows_amounts_in_the_currencys_units_unless_that_would_round(organization, customer):
    from decimal import Decimal

    from receivables.forms import InvoiceUpdateForm

    plain = make_invoice(organization, customer, amount="9800.00", number="INV-PLAIN")
    plain.refresh_from_db()
    assert str(plain.net_amount) == "9800.0000"
    assert str(InvoiceUpdateForm.for_object(plain).initial["net_amount"]) == "9800.00"
    fine = make_invoice(organization, customer, amount="12.35", number="INV-FINE")
    # Sub-fen amounts are refused at entry now (issue 12); a row stored before that rule:
    type(fine).objects.filter(pk=fine.pk).update(net_amount=Decimal("12.3456"), total_amount=Decimal("12.3456"))
    fine.refresh_from_db()
    assert InvoiceUpdateForm.for_object(fine).initial["net_amount"] == Decimal("12.3456")


# --- customers -----------------------------------------------------------------------------

def _customer_post(form, **overrides):
    return {**{name: form[name].value() or "" for name in form.fields}, **overrides}


def test_customer_edit_saves_through_the_service_with_the_version_opened(member_client, customer):
    opened = member_client.get(reverse("customer_update", args=[customer.pk])).context["form"]
    response = member_client.post(reverse("customer_update", args=[customer.pk]),
                                  _customer_post(opened, payment_terms_days="45"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.payment_terms_days == 45
    assert AuditEntry.objects.filter(action="customer.updated").count() == 1


def test_customer_edit_over_someone_elses_change_is_refused_and_shows_the_current_values(
        member_client, organization, customer):
    opened = member_client.get(reverse("customer_update", args=[customer.pk])).context["form"]
    with _later():
        services.customer_update(organization=organization, customer=customer, actor=None, segment="strategic")
    response = member_client.post(reverse("customer_update", args=[customer.pk]),
                                  _customer_post(opened, name="Renamed by me"))

    assert response.status_code == 200 and response.context["stale_message"] == STALE
    assert STALE in response.content.decode()
    customer.refresh_from_db()
    assert (customer.name, customer.segment) != ("Renamed by me", opened["segment"].value())  # neither overwritten
    assert customer.segment == "strategic"
    form = response.context["form"]
    assert form["segment"].value() == "strategic" and form["updated_at"].value() == customer.updated_at.isoformat()
    assert AuditEntry.objects.filter(action="customer.updated").count() == 1


def test_customer_update_applies_changes_to_the_row_as_it_is_under_lock(organization, customer):
    """A stale in-memory customer must not write its stale fields back over a change made meanwhile."""
    stale_copy = type(customer).objects.get(pk=customer.pk)
    services.customer_update(organization=organization, customer=customer, actor=None, segment="strategic")

    services.customer_update(organization=organization, customer=stale_copy, actor=None, payment_terms_days=60)

    customer.refresh_from_db()
    assert (customer.segment, customer.payment_terms_days) == ("strategic", 60)


# --- credit notes ----------------------------------------------------------------------------

@pytest.fixture
def credit_note(organization, customer, invoice):
    """CN-1 of 300.00, 200.00 of it applied to the invoice on 2026-03-05."""
    note = services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                       issued_on=dt.date(2026, 3, 5), amount=Decimal("300.00"), currency="CNY",
                                       reason="Damaged goods")
    services.credit_note_apply(organization=organization, actor=None, credit_note=note,
                               allocations=[(invoice, Decimal("200.00"))])
    note.refresh_from_db()
    return note


def _credit_note_post(note, **overrides):
    return {"number": note.number, "issued_on": note.issued_on.isoformat(), "amount": str(note.amount),
            "reason": note.reason, "external_id": note.external_id or "", "updated_at": note.updated_at.isoformat(),
            **overrides}


def test_invoice_page_links_a_credit_note_to_its_edit_page(member_client, invoice, credit_note):
    page = member_client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert reverse("credit_note_update", args=[credit_note.pk]) in page


def test_credit_note_edit_corrects_it_audits_it_and_re_dates_what_it_settled(member_client, credit_note, invoice):
    page = member_client.get(reverse("credit_note_update", args=[credit_note.pk]))
    assert page.context["form"]["amount"].value() == Decimal("300.00") and invoice.number in page.content.decode()

    with _later():
        response = member_client.post(reverse("credit_note_update", args=[credit_note.pk]), _credit_note_post(
            credit_note, number="CN-1A", issued_on="2026-03-07", reason="Damaged goods (2 cartons)"))

    assert response.status_code == 302
    credit_note.refresh_from_db()
    assert (credit_note.number, credit_note.issued_on, credit_note.reason) == (
        "CN-1A", dt.date(2026, 3, 7), "Damaged goods (2 cartons)")
    assert Allocation.objects.get(credit_note=credit_note).applied_on == dt.date(2026, 3, 7)
    assert AuditEntry.objects.filter(action="credit_note.updated", object_id=str(credit_note.pk)).count() == 1


def test_credit_note_amount_below_what_is_applied_is_refused(member_client, credit_note):
    response = member_client.post(reverse("credit_note_update", args=[credit_note.pk]),
                                  _credit_note_post(credit_note, amount="150.00"))
    assert response.status_code == 200 and response.context["form"].errors["amount"]
    credit_note.refresh_from_db()
    assert credit_note.amount == Decimal("300.00")


def test_credit_note_edit_over_someone_elses_change_is_refused(member_client, organization, credit_note):
    opened = _credit_note_post(credit_note)
    with _later():
        services.credit_note_update(organization=organization, credit_note=credit_note, actor=None, reason="Other")
    response = member_client.post(reverse("credit_note_update", args=[credit_note.pk]), {**opened, "reason": "Mine"})
    assert response.status_code == 200 and STALE in response.content.decode()
    credit_note.refresh_from_db()
    assert credit_note.reason == "Other" and response.context["form"]["reason"].value() == "Other"


def test_another_organizations_credit_note_is_not_found(client, other_organization, credit_note):
    from tests.factories import MembershipFactory

    outsider = MembershipFactory(organization=other_organization, role="admin").user
    client.force_login(outsider)
    assert client.get(reverse("credit_note_update", args=[credit_note.pk])).status_code == 404
    assert client.post(reverse("credit_note_update", args=[credit_note.pk]),
                       _credit_note_post(credit_note, reason="x")).status_code == 404


# --- write-offs ------------------------------------------------------------------------------

@pytest.fixture
def write_off(organization, invoice):
    return services.invoice_write_off(organization=organization, actor=None, invoice=invoice, reason="Bankrupt",
                                      written_off_on=dt.date(2026, 3, 20))


def _write_off_of(invoice):
    from receivables.models import WriteOff

    return WriteOff.objects.get(invoice=invoice)


def test_credit_manager_corrects_a_write_offs_reason_from_the_invoice_page(client, credit_manager, invoice, write_off):
    client.force_login(credit_manager)
    record = _write_off_of(invoice)
    page = client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert reverse("write_off_update", args=[record.pk]) in page

    with _later():
        response = client.post(reverse("write_off_update", args=[record.pk]),
                               {"reason": "Bankrupt: liquidator's letter of 2026-03-18",
                                "updated_at": record.updated_at.isoformat()})

    assert response.status_code == 302 and response.url == reverse("invoice_detail", args=[invoice.pk])
    record.refresh_from_db()
    assert record.reason == "Bankrupt: liquidator's letter of 2026-03-18"
    assert AuditEntry.objects.filter(action="write_off.updated", object_id=str(record.pk)).count() == 1


def test_a_collector_cannot_change_a_write_off(member_client, invoice, write_off):
    record = _write_off_of(invoice)
    assert reverse("write_off_update", args=[record.pk]) not in member_client.get(
        reverse("invoice_detail", args=[invoice.pk])).content.decode()
    response = member_client.post(reverse("write_off_update", args=[record.pk]),
                                  {"reason": "Changed", "updated_at": record.updated_at.isoformat()})
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    record.refresh_from_db()
    assert record.reason == "Bankrupt"


def test_write_off_edit_over_someone_elses_change_is_refused(client, organization, credit_manager, invoice,
                                                             write_off):
    client.force_login(credit_manager)
    record = _write_off_of(invoice)
    opened = record.updated_at.isoformat()
    with _later():
        services.write_off_update(organization=organization, write_off=record, actor=None, reason="Other")
    response = client.post(reverse("write_off_update", args=[record.pk]), {"reason": "Mine", "updated_at": opened})
    assert response.status_code == 200 and STALE in response.content.decode()
    record.refresh_from_db()
    assert record.reason == "Other" and response.context["form"]["reason"].value() == "Other"
