"""Browser pages of the receivables ledger, through Django's test client."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from receivables import selectors
from receivables.models import CreditNote, FxRate, Invoice, Payment
from tenancy.models import AuditEntry, Role
from tests.factories import CustomerFactory, MembershipFactory, make_invoice, make_payment

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def ledger(organization, customer):
    """Two invoices of one customer, one partly paid; one invoice of another customer."""
    first = make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                         due_date=dt.date(2026, 1, 31), number="INV-A1")
    second = make_invoice(organization, customer, amount="2500.50", issue_date=dt.date(2026, 3, 1),
                          due_date=dt.date(2026, 4, 30), number="INV-A2")
    other = CustomerFactory(organization=organization, name="Beijing Parts Co", currency="CNY")
    third = make_invoice(organization, other, amount="300.00", issue_date=dt.date(2025, 11, 1),
                         due_date=dt.date(2025, 12, 1), number="INV-B1")
    payment = make_payment(organization, customer, amount="400.00", received_on=dt.date(2026, 2, 10))
    return {"first": first, "second": second, "third": third, "other": other, "payment": payment}


@pytest.fixture
def member_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_every_page_renders_for_a_member(member_client, organization, customer, ledger):
    pages = [
        reverse("dashboard"), reverse("customer_list"), reverse("customer_create"),
        reverse("customer_detail", args=[customer.pk]), reverse("customer_update", args=[customer.pk]),
        reverse("invoice_list"), reverse("invoice_create"), reverse("invoice_detail", args=[ledger["first"].pk]),
        reverse("payment_list"), reverse("payment_record"), reverse("payment_detail", args=[ledger["payment"].pk]),
        reverse("fx_rate_list"),
    ]
    for url in pages:
        response = member_client.get(url)
        assert response.status_code == 200, url
        assert b"Acme Trading" in response.content, url  # the organization switcher shows the current org


def test_pages_need_sign_in(client, organization):
    response = client.get(reverse("invoice_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_user_without_membership_gets_404(client, user_factory):
    client.force_login(user_factory())
    assert client.get(reverse("dashboard")).status_code == 404


def test_dashboard_shows_aging_totals_of_the_selector(member_client, organization, ledger):
    response = member_client.get(reverse("dashboard"), {"as_of": "2026-03-31"})
    report = selectors.aging_report(organization, dt.date(2026, 3, 31))
    html = response.content.decode()
    assert report.total == Decimal("3400.50")
    assert 'data-testid="aging-total-all">3,400.50<' in html
    assert 'data-testid="aging-total-current">2,500.50<' in html
    assert 'data-testid="aging-total-d31_60">600.00<' in html  # INV-A1, due 2026-01-31: 59 days late
    assert f'data-testid="aging-{ledger["other"].pk}-d90_plus">300.00<' in html  # INV-B1: 120 days late


def test_dashboard_as_of_an_earlier_date(member_client, ledger):
    html = member_client.get(reverse("dashboard"), {"as_of": "2026-02-15"}).content.decode()
    # INV-A2 was not issued yet; INV-B1 was 76 days late; INV-A1 15 days late and fully open before the payment
    assert 'data-testid="aging-total-current">0.00<' in html
    assert f'data-testid="aging-{ledger["other"].pk}-d61_90">300.00<' in html
    assert 'data-testid="aging-total-d1_30">600.00<' in html
    assert 'data-testid="aging-total-all">900.00<' in html


def test_dashboard_defaults_to_today_in_the_organization_time_zone(member_client):
    response = member_client.get(reverse("dashboard"))
    assert response.context["as_of"] == dt.date(2026, 3, 31)


def test_dashboard_names_a_missing_fx_rate_instead_of_failing(member_client, organization):
    usd = CustomerFactory(organization=organization, currency="USD")
    make_invoice(organization, usd, amount="50.00", issue_date=dt.date(2026, 3, 1))
    response = member_client.get(reverse("dashboard"), {"as_of": "2026-03-31"})
    assert response.status_code == 200
    assert "No USD to CNY exchange rate on or before 2026-03-31" in response.content.decode()


def test_customer_list_searches_and_sorts_by_outstanding(member_client, customer, ledger):
    response = member_client.get(reverse("customer_list"), {"search": "beijing"})
    assert [c.name for c in response.context["page"]] == ["Beijing Parts Co"]
    response = member_client.get(reverse("customer_list"), {"sort": "-outstanding"})
    names = [c.name for c in response.context["page"]]
    assert names == [customer.name, "Beijing Parts Co"]  # 3,100.50 before 300.00
    assert "CN¥3,100.50" in response.content.decode()  # Babel, English


def test_customer_detail_shows_statement_with_running_balance(member_client, customer, ledger):
    response = member_client.get(reverse("customer_detail", args=[customer.pk]), {"as_of": "2026-03-31"})
    html = response.content.decode()
    lines = response.context["statement"].lines_by_currency["CNY"]
    assert [line.running_balance for line in lines] == [Decimal("600.00"), Decimal("3100.50")]
    assert "CN¥3,100.50" in html


def test_customer_create_goes_through_the_service(member_client, organization):
    response = member_client.post(reverse("customer_create"), {
        "name": "深圳电子有限公司", "currency": "CNY", "payment_terms_days": "45", "language": "zh-hans",
        "contact_emails": "ap@sz.example, finance@sz.example", "segment": "standard", "status": "active",
    })
    assert response.status_code == 302
    created = AuditEntry.objects.get(organization=organization, action="customer.created")
    assert created.after["contact_emails"] == ["ap@sz.example", "finance@sz.example"]


def test_customer_duplicate_external_id_is_a_form_error(member_client, organization, customer):
    CustomerFactory(organization=organization, external_id="ERP-1")
    response = member_client.post(reverse("customer_update", args=[customer.pk]), {
        "name": customer.name, "currency": "CNY", "payment_terms_days": "30", "language": "en",
        "segment": "standard", "status": "active", "external_id": "ERP-1",
        "updated_at": customer.updated_at.isoformat(),  # the version the edit page was opened at
    })
    assert response.status_code == 200
    assert response.context["form"].errors["external_id"] == ["A customer with this external id already exists."]


def test_invoice_list_filters_by_overdue_and_customer(member_client, customer, ledger):
    response = member_client.get(reverse("invoice_list"), {"overdue": "on"})
    assert {i.number for i in response.context["page"]} == {"INV-A1", "INV-B1"}
    response = member_client.get(reverse("invoice_list"), {"customer": ledger["other"].pk, "sort": "-total"})
    assert [i.number for i in response.context["page"]] == ["INV-B1"]
    response = member_client.get(reverse("invoice_list"), {"status": "partially_paid"})
    assert [i.number for i in response.context["page"]] == ["INV-A1"]


def test_invoice_list_customer_filter_rejects_another_organizations_customer(
        member_client, other_organization, ledger):
    stranger = CustomerFactory(organization=other_organization, currency="USD")
    response = member_client.get(reverse("invoice_list"), {"customer": stranger.pk})
    assert "customer" in response.context["filter_form"].errors
    assert {i.number for i in response.context["page"]} == {"INV-A1", "INV-A2", "INV-B1"}


def test_invoice_create_shows_the_service_message(member_client, customer):
    response = member_client.post(reverse("invoice_create"), {
        "customer": customer.pk, "number": "INV-NEW", "issue_date": "2026-03-10", "due_date": "2026-03-01",
        "net_amount": "10.00", "tax_amount": "0",
    })
    assert response.status_code == 200
    assert response.context["form"].errors["due_date"] == ["The due date cannot be before the issue date."]
    assert not Invoice.objects.filter(number="INV-NEW").exists()


def test_invoice_create_rejects_a_negative_amount_with_the_service_message(member_client, customer):
    response = member_client.post(reverse("invoice_create"), {
        "customer": customer.pk, "number": "INV-NEG", "issue_date": "2026-03-10", "net_amount": "-5",
        "tax_amount": "0",
    })
    assert response.context["form"].errors["net_amount"] == ["Must be more than zero."]  # beside its field: no field name


def test_invoice_void_with_payments_shows_the_service_message(member_client, ledger):
    invoice = ledger["first"]
    response = member_client.post(reverse("invoice_void", args=[invoice.pk]), {"reason": "typo"})
    assert response.status_code == 200
    assert response.context["void_form"].non_field_errors() == [
        "Invoice INV-A1 has payments, credits or write-offs applied; reverse them before voiding."
    ]
    invoice.refresh_from_db()
    assert invoice.voided_on is None


def test_invoice_void_of_an_open_invoice(member_client, ledger):
    response = member_client.post(reverse("invoice_void", args=[ledger["second"].pk]), {"reason": "duplicate"})
    assert response.status_code == 302
    ledger["second"].refresh_from_db()
    assert ledger["second"].status == "void"


def test_invoice_write_off_and_credit_note(member_client, organization, ledger):
    invoice = ledger["first"]  # 600.00 open
    response = member_client.post(reverse("invoice_credit_note", args=[invoice.pk]), {
        "number": "CN-1", "issued_on": "2026-03-20", "amount": "100.00", "reason": "damaged goods"})
    assert response.status_code == 302
    assert CreditNote.objects.get(number="CN-1").unapplied_amount == 0
    response = member_client.post(reverse("invoice_write_off", args=[invoice.pk]), {"reason": "insolvent"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.written_off_amount) == ("written_off", Decimal("500.0000"))
    page = member_client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert "CN-1" in page and "insolvent" in page


def test_credit_note_over_the_balance_shows_the_service_message(member_client, ledger):
    response = member_client.post(reverse("invoice_credit_note", args=[ledger["first"].pk]), {
        "number": "CN-2", "issued_on": "2026-03-20", "amount": "700.00"})
    [message] = response.context["credit_form"].errors["amount"]
    assert message.startswith("Invoice INV-A1 has 600.00")
    assert message.endswith("cannot be applied.")
    assert message in response.content.decode()
    assert not CreditNote.objects.filter(number="CN-2").exists()


def test_collector_cannot_write_off(client, organization, ledger):
    collector = MembershipFactory(organization=organization, role=Role.COLLECTOR).user
    client.force_login(collector)
    response = client.post(reverse("invoice_write_off", args=[ledger["first"].pk]), {"reason": "bad"})
    assert response.context["write_off_form"].non_field_errors() == [
        "This needs the Credit manager role in Acme Trading."
    ]


def test_payment_record_auto_allocates(member_client, customer, ledger):
    response = member_client.post(reverse("payment_record"), {
        "customer": customer.pk, "received_on": "2026-03-30", "amount": "700.00", "method": "bank_transfer",
        "reference": "BANK-77", "allocation": "auto",
    })
    payment = Payment.objects.get(reference="BANK-77")
    assert response["Location"] == reverse("payment_detail", args=[payment.pk])
    ledger["first"].refresh_from_db()
    ledger["second"].refresh_from_db()
    assert ledger["first"].status == "paid"
    assert ledger["second"].applied_amount == Decimal("100.00")


def test_viewer_posting_a_payment_gets_the_permission_message_and_nothing_is_written(
        client, organization, customer, ledger):
    viewer = MembershipFactory(organization=organization, role=Role.VIEWER).user
    client.force_login(viewer)
    payments_before = Payment.objects.count()
    audit_before = AuditEntry.objects.count()
    response = client.post(reverse("payment_record"), {
        "customer": customer.pk, "received_on": "2026-03-30", "amount": "50.00", "method": "cash",
        "allocation": "auto",
    })
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["This needs the Collector role in Acme Trading."]
    assert "This needs the Collector role in Acme Trading." in response.content.decode()
    assert (Payment.objects.count(), AuditEntry.objects.count()) == (payments_before, audit_before)


def test_payment_record_cannot_pick_another_organizations_customer(member_client, other_organization):
    stranger = CustomerFactory(organization=other_organization, currency="USD")
    response = member_client.post(reverse("payment_record"), {
        "customer": stranger.pk, "received_on": "2026-03-30", "amount": "50.00", "method": "cash",
        "allocation": "none",
    })
    assert "customer" in response.context["form"].errors
    assert not Payment.objects.filter(customer=stranger).exists()


def test_payment_allocate_explicit_amounts(member_client, organization, customer, ledger):
    payment = make_payment(organization, customer, amount="500.00", received_on=dt.date(2026, 3, 15),
                           auto_allocate=False)
    url = reverse("payment_allocate", args=[payment.pk])
    response = member_client.post(url, {f"invoice_{ledger['second'].pk}": "450.00"})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.unapplied_amount == Decimal("50.00")
    response = member_client.post(url, {f"invoice_{ledger['first'].pk}": "60.00"})
    [message] = response.context["allocate_form"].non_field_errors()
    assert message.startswith("Only 50.00")
    assert "of this payment is unapplied; 60.00" in message
    response = member_client.post(url, {"auto": "1"})
    payment.refresh_from_db()
    assert payment.unapplied_amount == 0


def test_fx_rate_add(member_client, organization):
    response = member_client.post(reverse("fx_rate_list"), {"currency": "USD", "rate_date": "2026-03-01",
                                                             "rate": "7.1234"})
    assert response.status_code == 302
    assert FxRate.objects.get(organization=organization, currency="USD").rate == Decimal("7.1234")
    response = member_client.post(reverse("fx_rate_list"), {"currency": "CNY", "rate_date": "2026-03-01",
                                                             "rate": "1"})
    assert response.context["form"].errors["currency"] == ["The base currency needs no rate."]


@pytest.mark.parametrize("route", ["customer_detail", "customer_update", "invoice_detail", "payment_detail"])
def test_another_organizations_rows_are_404(member_client, other_organization, route):
    stranger = CustomerFactory(organization=other_organization, currency="USD")
    invoice = make_invoice(other_organization, stranger, amount="10.00", issue_date=dt.date(2026, 3, 1))
    payment = make_payment(other_organization, stranger, amount="5.00", received_on=dt.date(2026, 3, 2))
    pk = {"customer_detail": stranger.pk, "customer_update": stranger.pk, "invoice_detail": invoice.pk,
          "payment_detail": payment.pk}[route]
    assert member_client.get(reverse(route, args=[pk])).status_code == 404


@pytest.mark.parametrize("route", ["invoice_void", "invoice_write_off", "invoice_credit_note"])
def test_actions_on_another_organizations_invoice_are_404(member_client, other_organization, route):
    stranger = CustomerFactory(organization=other_organization, currency="USD")
    invoice = make_invoice(other_organization, stranger, amount="10.00", issue_date=dt.date(2026, 3, 1))
    response = member_client.post(reverse(route, args=[invoice.pk]), {"reason": "x", "amount": "1",
                                                                       "number": "CN", "issued_on": "2026-03-02"})
    assert response.status_code == 404
    invoice.refresh_from_db()
    assert (invoice.voided_on, invoice.applied_amount) == (None, 0)


def test_allocating_another_organizations_payment_is_404(member_client, other_organization):
    stranger = CustomerFactory(organization=other_organization, currency="USD")
    payment = make_payment(other_organization, stranger, amount="5.00", received_on=dt.date(2026, 3, 2),
                           auto_allocate=False)
    assert member_client.post(reverse("payment_allocate", args=[payment.pk]), {"auto": "1"}).status_code == 404
