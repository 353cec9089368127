import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from receivables import services
from receivables.models import Allocation, AllocationKind, Invoice, InvoiceStatus, Payment
from tenancy.errors import DomainError, ErrorCode, PermissionDenied
from tests.factories import CustomerFactory, make_invoice, make_payment

D = Decimal


# --- invoices ------------------------------------------------------------------------------

def test_invoice_due_date_defaults_to_customer_terms(organization, customer, collector):
    invoice = services.invoice_create(
        organization=organization, actor=collector, customer=customer, number="INV-1",
        issue_date=dt.date(2026, 1, 31), net_amount=D("100.00"), tax_amount=D("13.00"),
    )

    assert invoice.due_date == dt.date(2026, 3, 2)
    assert invoice.total_amount == D("113.00")
    assert invoice.currency == "CNY"
    assert invoice.status == InvoiceStatus.OPEN


def test_duplicate_invoice_number_is_refused_with_a_clear_message(organization, customer):
    make_invoice(organization, customer, number="INV-7")

    with pytest.raises(DomainError, match="already exists") as exc:
        make_invoice(organization, customer, number="INV-7")

    assert exc.value.code == ErrorCode.DUPLICATE and exc.value.field == "number"
    assert Invoice.objects.filter(organization=organization).count() == 1


def test_same_invoice_number_is_fine_in_another_organization(organization, other_organization, customer):
    make_invoice(organization, customer, number="INV-7")
    other_customer = CustomerFactory(organization=other_organization, currency="USD")

    assert make_invoice(other_organization, other_customer, number="INV-7").number == "INV-7"


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5", "more than zero"), ("0", "more than zero"), ("12.34567", "4 decimal places"), ("abc", "not a number"),
     (12.5, "not floats")],
)
def test_bad_amounts_are_refused(organization, customer, amount, message):
    with pytest.raises(DomainError, match=message):
        services.invoice_create(organization=organization, actor=None, customer=customer, number="X",
                                issue_date=dt.date(2026, 1, 1), net_amount=amount)
    assert not Invoice.objects.exists()


def test_due_date_before_issue_date_is_refused(organization, customer):
    with pytest.raises(DomainError, match="due date cannot be before the issue date"):
        make_invoice(organization, customer, issue_date=dt.date(2026, 2, 1), due_date=dt.date(2026, 1, 1))


def test_unknown_currency_is_refused(organization, customer):
    with pytest.raises(DomainError, match="Unknown currency 'XXX'"):
        make_invoice(organization, customer, currency="XXX")


def test_viewer_cannot_create_invoices(organization, customer, viewer):
    with pytest.raises(PermissionDenied, match="This needs the Collector role in Acme Trading"):
        services.invoice_create(organization=organization, actor=viewer, customer=customer, number="INV-1",
                                issue_date=dt.date(2026, 1, 1), net_amount=D("1"))
    assert not Invoice.objects.exists()


def test_user_of_another_organization_cannot_write(organization, other_organization, customer, user_factory):
    outsider = user_factory()
    from tenancy.models import Membership, Role
    Membership.objects.create(organization=other_organization, user=outsider, role=Role.ADMIN)

    with pytest.raises(PermissionDenied):
        services.invoice_create(organization=organization, actor=outsider, customer=customer, number="INV-1",
                                issue_date=dt.date(2026, 1, 1), net_amount=D("1"))


def test_invoice_for_another_organizations_customer_is_not_found(organization, other_organization):
    foreign = CustomerFactory(organization=other_organization)

    with pytest.raises(DomainError, match="Not found") as exc:
        make_invoice(organization, foreign)
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_invoice_total_cannot_drop_below_what_is_applied(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00")
    make_payment(organization, customer, amount="60.00")

    with pytest.raises(DomainError, match="The new total 50.00 CNY is less than the 60.00 CNY already applied"):
        services.invoice_update(organization=organization, invoice=invoice, actor=None, net_amount="50.00")
    invoice.refresh_from_db()
    assert invoice.total_amount == D("100.00")


def test_void_only_while_nothing_is_applied(organization, customer):
    paid_into = make_invoice(organization, customer, amount="100.00")
    untouched = make_invoice(organization, customer, amount="50.00", issue_date=dt.date(2026, 3, 1))
    make_payment(organization, customer, amount="10.00")

    with pytest.raises(DomainError, match="reverse them before voiding") as exc:
        services.invoice_void(organization=organization, invoice=paid_into, actor=None)
    assert exc.value.code == ErrorCode.INVOICE_HAS_APPLICATIONS

    voided = services.invoice_void(organization=organization, invoice=untouched, actor=None,
                                   voided_on=dt.date(2026, 3, 5))
    assert voided.status == InvoiceStatus.VOID and voided.balance == 0
    with pytest.raises(DomainError, match="already void"):
        services.invoice_void(organization=organization, invoice=untouched, actor=None)


# --- payments --------------------------------------------------------------------------------

def test_payment_is_applied_oldest_due_first_and_the_rest_kept_unapplied(organization, customer):
    newer = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 2, 1))
    older = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 1))

    payment = make_payment(organization, customer, amount="250.00", received_on=dt.date(2026, 3, 1))

    older.refresh_from_db(), newer.refresh_from_db()
    assert older.status == newer.status == InvoiceStatus.PAID
    assert payment.unapplied_amount == D("50.00")
    assert [a.invoice_id for a in Allocation.objects.order_by("pk")] == [older.pk, newer.pk]


def test_partial_payment_leaves_invoice_partially_paid(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00")

    make_payment(organization, customer, amount="30.00")

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice.balance == D("70.00")


def test_explicit_allocation_beyond_the_invoice_balance_is_refused(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00", number="INV-9")
    payment = make_payment(organization, customer, amount="500.00", auto_allocate=False)

    with pytest.raises(DomainError, match="INV-9 has 100.00 CNY outstanding; 120.00 CNY cannot be applied") as exc:
        services.payment_allocate(organization=organization, actor=None, payment=payment,
                                  allocations=[(invoice, D("120.00"))])

    assert exc.value.code == ErrorCode.OVER_APPLICATION
    assert not Allocation.objects.exists()


def test_allocation_beyond_the_payment_is_refused(organization, customer):
    first = make_invoice(organization, customer, amount="100.00")
    second = make_invoice(organization, customer, amount="100.00")
    payment = make_payment(organization, customer, amount="150.00", auto_allocate=False)

    with pytest.raises(DomainError, match="Only 150.00 CNY of this payment is unapplied; 200.00 CNY was requested"):
        services.payment_allocate(organization=organization, actor=None, payment=payment,
                                  allocations=[(first, D("100.00")), (second, D("100.00"))])

    first.refresh_from_db()
    assert first.applied_amount == 0


def test_a_cross_currency_allocation_without_any_rate_is_refused(organization, customer):
    # A CNY payment may settle a USD invoice (issue 11 item 5; tests/receivables/test_fx_receipts.py), but
    # only with payment_amount, a rate, or a stored rate of the receipt date.
    invoice = make_invoice(organization, customer, amount="100.00", currency="USD", number="INV-USD")
    payment = make_payment(organization, customer, amount="100.00", auto_allocate=False)  # CNY

    with pytest.raises(DomainError, match="Invoice INV-USD is in USD and the payment in CNY, and no stored rate "
                                          "converts them on 2026-01-15") as exc:
        services.payment_allocate(organization=organization, actor=None, payment=payment,
                                  allocations=[(invoice, D("10"))])
    assert exc.value.code == ErrorCode.FX_RATE_REQUIRED


def test_a_credit_note_never_settles_another_currency(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00", currency="USD", number="INV-USD")
    note = services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                       issued_on=dt.date(2026, 1, 15), amount=D("10.00"))  # CNY

    with pytest.raises(DomainError, match="INV-USD is in USD; a CNY credit note cannot settle it") as exc:
        services.credit_note_apply(organization=organization, actor=None, credit_note=note,
                                   allocations=[(invoice, D("10"))])
    assert exc.value.code == ErrorCode.CURRENCY_MISMATCH


def test_auto_allocation_skips_invoices_in_other_currencies(organization, customer):
    usd = make_invoice(organization, customer, amount="100.00", currency="USD", issue_date=dt.date(2025, 1, 1))
    cny = make_invoice(organization, customer, amount="100.00")

    make_payment(organization, customer, amount="100.00")

    usd.refresh_from_db(), cny.refresh_from_db()
    assert (usd.status, cny.status) == (InvoiceStatus.OPEN, InvoiceStatus.PAID)


def test_payment_cannot_settle_another_customers_invoice(organization, customer):
    other = CustomerFactory(organization=organization)
    invoice = make_invoice(organization, other, number="INV-OTHER")
    payment = make_payment(organization, customer, amount="100.00", auto_allocate=False)

    with pytest.raises(DomainError, match="INV-OTHER belongs to another customer"):
        services.payment_allocate(organization=organization, actor=None, payment=payment,
                                  allocations=[(invoice, D("10"))])


def test_allocation_to_another_organizations_invoice_is_not_found(organization, other_organization, customer):
    foreign_customer = CustomerFactory(organization=other_organization, currency="CNY")
    foreign_invoice = make_invoice(other_organization, foreign_customer)
    payment = make_payment(organization, customer, amount="100.00", auto_allocate=False)

    with pytest.raises(DomainError, match="Not found"):
        services.payment_allocate(organization=organization, actor=None, payment=payment,
                                  allocations=[(foreign_invoice, D("10"))])
    foreign_invoice.refresh_from_db()
    assert foreign_invoice.applied_amount == 0


def test_allocation_is_dated_no_earlier_than_the_invoice(organization, customer):
    payment = make_payment(organization, customer, amount="100.00", received_on=dt.date(2026, 1, 1))
    invoice = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 2, 1))

    services.payment_allocate(organization=organization, actor=None, payment=payment)

    assert Allocation.objects.get(invoice=invoice).applied_on == dt.date(2026, 2, 1)


# --- credit notes and write-offs -------------------------------------------------------------

def test_credit_note_reduces_the_invoice_balance(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00")

    note = services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                       issued_on=dt.date(2026, 1, 10), amount=D("30.00"), invoice=invoice,
                                       reason="Damaged goods")

    invoice.refresh_from_db()
    assert invoice.balance == D("70.00")
    assert note.allocations.get().kind == AllocationKind.CREDIT_NOTE
    note.refresh_from_db()
    assert note.unapplied_amount == 0


def test_write_off_needs_a_credit_manager(organization, customer, collector, credit_manager):
    invoice = make_invoice(organization, customer, amount="100.00")
    make_payment(organization, customer, amount="40.00")

    with pytest.raises(PermissionDenied, match="Credit manager"):
        services.invoice_write_off(organization=organization, actor=collector, invoice=invoice, reason="Bankrupt")

    write_off = services.invoice_write_off(organization=organization, actor=credit_manager, invoice=invoice,
                                           reason="Bankrupt", written_off_on=dt.date(2026, 6, 1))
    invoice.refresh_from_db()
    assert write_off.amount == D("60.00")
    assert invoice.status == InvoiceStatus.WRITTEN_OFF
    assert (invoice.paid_amount, invoice.written_off_amount, invoice.balance) == (D("40"), D("60"), D("0"))


def test_write_off_needs_a_reason(organization, customer):
    invoice = make_invoice(organization, customer)
    with pytest.raises(DomainError, match="needs a reason"):
        services.invoice_write_off(organization=organization, actor=None, invoice=invoice, reason="  ")


# --- the database as the last line -----------------------------------------------------------

def test_database_refuses_an_over_applied_invoice(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00")

    with pytest.raises(IntegrityError, match="invoice_never_over_applied"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(applied_amount=D("100.01"), status=InvoiceStatus.PARTIALLY_PAID)


def test_database_refuses_a_status_that_contradicts_the_ledger(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00")

    with pytest.raises(IntegrityError, match="invoice_status_matches_ledger"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.PAID)


def test_database_refuses_a_payment_applied_beyond_its_amount(organization, customer):
    payment = make_payment(organization, customer, amount="10.00", auto_allocate=False)

    with pytest.raises(IntegrityError, match="payment_never_over_applied"), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(unapplied_amount=D("-0.01"))


def test_database_refuses_an_allocation_across_organizations(organization, other_organization, customer):
    foreign_customer = CustomerFactory(organization=other_organization, currency="CNY")
    foreign_invoice = make_invoice(other_organization, foreign_customer)
    payment = make_payment(organization, customer, amount="10.00", auto_allocate=False)

    with pytest.raises(IntegrityError, match="allocation_invoice_same_org_currency"), transaction.atomic():
        Allocation.objects.create(organization=organization, invoice=foreign_invoice, payment=payment,
                                  kind=AllocationKind.PAYMENT, amount=D("1"), currency="CNY",
                                  applied_on=dt.date(2026, 1, 1))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_database_refuses_an_allocation_in_another_currency(organization, customer):
    invoice = make_invoice(organization, customer, currency="USD")
    payment = make_payment(organization, customer, amount="10.00", auto_allocate=False, currency="USD")

    with pytest.raises(IntegrityError, match="same_org_currency"), transaction.atomic():
        Allocation.objects.create(organization=organization, invoice=invoice, payment=payment,
                                  kind=AllocationKind.PAYMENT, amount=D("1"), currency="CNY",
                                  applied_on=dt.date(2026, 1, 1))
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
