"""Charges invoices (late interest, fees, a returned-payment fee) bill existing debt: the credit
hold lets them through, and the audit log says so."""

import datetime as dt
from decimal import Decimal

import pytest

from credit import services as credit_services
from receivables import services
from receivables.models import Invoice, InvoiceKind
from tenancy.errors import DomainError, ErrorCode, RowsInvalid
from tenancy.models import AuditEntry

D = Decimal


def _over_the_limit(organization, customer, collector):
    credit_services.profile_ensure(organization=organization, customer=customer)
    credit_services.credit_limit_apply(organization=organization, actor=None, customer=customer, limit=D("100.00"),
                                       terms_days=customer.payment_terms_days, source="test")
    services.invoice_create(organization=organization, actor=collector, customer=customer, number="INV-1",
                            issue_date=dt.date(2026, 1, 5), net_amount=D("90.00"))


def test_a_standard_invoice_is_held_but_a_charges_invoice_passes_and_is_audited(organization, customer, collector):
    # given: 90.00 CNY outstanding against a 100.00 CNY limit
    _over_the_limit(organization, customer, collector)
    with pytest.raises(DomainError) as held:
        services.invoice_create(organization=organization, actor=collector, customer=customer, number="INV-2",
                                issue_date=dt.date(2026, 1, 6), net_amount=D("25.00"))
    assert held.value.code == ErrorCode.CREDIT_HOLD

    # when: the same 25.00 CNY billed as late charges
    charges = services.invoice_create(organization=organization, actor=collector, customer=customer,
                                      number="FEE-1", issue_date=dt.date(2026, 1, 6), net_amount=D("25.00"),
                                      kind=InvoiceKind.CHARGES)

    # then
    charges.refresh_from_db()
    assert charges.kind == "charges" and charges.total_amount == D("25.00")
    entry = AuditEntry.objects.get(organization=organization, action="invoice.created", object_id=str(charges.pk))
    assert entry.after["kind"] == "charges"
    assert "is on credit hold" in entry.after["credit_hold_passed"]
    assert Invoice.objects.get(organization=organization, number="INV-1").kind == "standard"


def test_charges_pass_the_hold_in_bulk_too(organization, customer, collector):
    _over_the_limit(organization, customer, collector)
    row = {"customer": customer, "number": "FEE-2", "issue_date": dt.date(2026, 1, 6), "net_amount": D("25.00")}
    with pytest.raises(RowsInvalid):
        services.invoices_create_many(organization=organization, actor=collector, rows=[row])

    [created] = services.invoices_create_many(organization=organization, actor=collector,
                                              rows=[{**row, "kind": InvoiceKind.CHARGES}])
    assert created.kind == "charges"


def test_an_unknown_kind_is_refused(organization, customer, collector):
    with pytest.raises(DomainError, match="kind is one of: standard, charges"):
        services.invoice_create(organization=organization, actor=collector, customer=customer, number="X-1",
                                issue_date=dt.date(2026, 1, 6), net_amount=D("1.00"), kind="fees")
    assert not Invoice.objects.filter(organization=organization).exists()


def test_the_api_creates_a_charges_invoice_and_shows_its_kind(organization, customer, collector):
    from tests.api.conftest import key_client

    client = key_client(organization)
    response = client.post("/api/v1/invoices/", {"customer": customer.pk, "number": "FEE-9", "issue_date": "2026-01-06",
                                                 "net_amount": "12.50", "kind": "charges"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "charges"
    bad = client.post("/api/v1/invoices/", {"customer": customer.pk, "number": "FEE-10", "issue_date": "2026-01-06",
                                            "net_amount": "12.50", "kind": "other"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.content.decode()
