"""payment_update, credit_note_update, write_off_update: corrections that keep the ledger whole."""

import datetime as dt
from decimal import Decimal

import pytest

from receivables import selectors, services
from receivables.models import Allocation, CreditNote, Invoice, Payment, WriteOff
from tenancy.errors import DomainError, ErrorCode, PermissionDenied
from tenancy.models import AuditEntry
from tenancy.selectors import audit_verify
from tests.factories import CustomerFactory, make_invoice, make_payment

D = Decimal


@pytest.fixture
def invoices(organization, customer):
    return [make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 1)),
            make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 2, 1))]


@pytest.fixture
def payment(organization, customer, invoices):
    """150.00 received 01-20, applied oldest first: 100.00 to the first invoice, 50.00 to the second."""
    return make_payment(organization, customer, amount="150.00", received_on=dt.date(2026, 1, 20))


@pytest.fixture
def note(organization, customer, invoices):
    """40.00 issued 01-05 and applied to the first invoice (all of it)."""
    return services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                       issued_on=dt.date(2026, 1, 5), amount="40.00", invoice=invoices[0])


def _ledger(organization):
    """What a correction must never change: invoices' figures and what was allocated."""
    return (list(Invoice.objects.filter(organization=organization).order_by("pk")
                 .values_list("applied_amount", "written_off_amount", "status")),
            list(Allocation.objects.filter(organization=organization).order_by("pk").values_list("invoice", "amount")))


# --- payments ------------------------------------------------------------------------------------

def test_payment_amount_change_moves_only_the_unapplied_amount(organization, collector, payment):
    ledger = _ledger(organization)

    updated = services.payment_update(organization=organization, payment=payment, actor=collector, amount="175.00")

    assert (updated.amount, updated.unapplied_amount) == (D("175.00"), D("25.00"))
    payment.refresh_from_db()
    assert (payment.amount, payment.unapplied_amount) == (D("175.00"), D("25.00"))
    assert _ledger(organization) == ledger


def test_payment_amount_equal_to_what_is_allocated_leaves_nothing_unapplied(organization, payment):
    updated = services.payment_update(organization=organization, payment=payment, actor=None, amount=D("150"))

    assert updated.unapplied_amount == D("0")


def test_payment_amount_below_what_is_allocated_is_refused(organization, payment):
    ledger = _ledger(organization)

    with pytest.raises(DomainError, match="less than the 150.00 CNY already applied from this payment") as exc:
        services.payment_update(organization=organization, payment=payment, actor=None, amount="149.99",
                                reference="changed too")

    assert exc.value.code == ErrorCode.OVER_APPLICATION and exc.value.field == "amount"
    payment.refresh_from_db()
    assert (payment.amount, payment.unapplied_amount, payment.reference) == (D("150.00"), D("0.00"), "")
    assert _ledger(organization) == ledger
    assert not AuditEntry.objects.filter(action="payment.updated").exists()


@pytest.mark.parametrize(("amount", "message"), [("0", "more than zero"), ("-1", "more than zero"),
                                                 ("abc", "not a number"), (12.5, "not floats")])
def test_payment_bad_amounts_are_refused(organization, payment, amount, message):
    with pytest.raises(DomainError, match=message):
        services.payment_update(organization=organization, payment=payment, actor=None, amount=amount)

    assert Payment.objects.get(pk=payment.pk).amount == D("150.00")


def test_payment_received_on_redates_allocations_never_before_the_invoice(organization, payment, invoices):
    services.payment_update(organization=organization, payment=payment, actor=None, received_on=dt.date(2026, 1, 10))

    dates = dict(Allocation.objects.filter(payment=payment).values_list("invoice", "applied_on"))
    assert dates == {invoices[0].pk: dt.date(2026, 1, 10), invoices[1].pk: dt.date(2026, 2, 1)}
    entry = AuditEntry.objects.get(action="payment.updated")
    assert entry.before["received_on"] == "2026-01-20" and entry.after["received_on"] == "2026-01-10"
    # Only the allocation whose date moved is listed (the other stays at its invoice's issue date).
    moved = Allocation.objects.get(payment=payment, invoice=invoices[0])
    assert entry.before["allocations_applied_on"] == {str(moved.pk): "2026-01-20"}
    assert entry.after["allocations_applied_on"] == {str(moved.pk): "2026-01-10"}


def test_payment_received_later_reopens_the_invoices_in_past_reports(organization, payment):
    assert selectors.aging_report(organization, dt.date(2026, 2, 15)).total == D("50.00")

    services.payment_update(organization=organization, payment=payment, actor=None, received_on=dt.date(2026, 3, 1))

    assert selectors.aging_report(organization, dt.date(2026, 2, 15)).total == D("200.00")
    assert selectors.aging_report(organization, dt.date(2026, 3, 1)).total == D("50.00")


@pytest.mark.parametrize("field", ["currency", "customer", "unapplied_amount", "created_at"])
def test_payment_fields_that_are_not_editable_are_refused(organization, customer, payment, field):
    with pytest.raises(DomainError, match=f"These payment fields cannot be changed: {field}") as exc:
        services.payment_update(organization=organization, payment=payment, actor=None, reference="new",
                                **{field: "USD"})

    assert exc.value.code == ErrorCode.INVALID and exc.value.field == field
    assert Payment.objects.get(pk=payment.pk).reference == ""


def test_payment_method_must_be_known(organization, payment):
    with pytest.raises(DomainError, match="^Method: ") as refused:  # the label people read
        services.payment_update(organization=organization, payment=payment, actor=None, method="bitcoin")
    assert refused.value.field == "method"  # the key the API reports

    assert Payment.objects.get(pk=payment.pk).method == "bank_transfer"


def test_payment_external_id_must_stay_unique(organization, customer, payment):
    make_payment(organization, customer, amount="1.00", auto_allocate=False, external_id="BANK-9")

    with pytest.raises(DomainError) as exc:
        services.payment_update(organization=organization, payment=payment, actor=None, external_id="BANK-9")

    assert exc.value.code == ErrorCode.DUPLICATE and exc.value.field == "external_id"
    assert Payment.objects.get(pk=payment.pk).external_id is None


def test_payment_blank_external_id_is_none(organization, customer):
    payment = make_payment(organization, customer, amount="1.00", auto_allocate=False, external_id="BANK-1")

    services.payment_update(organization=organization, payment=payment, actor=None, external_id="")

    assert Payment.objects.get(pk=payment.pk).external_id is None


def test_payment_update_needs_the_collector_role(organization, viewer, payment):
    with pytest.raises(PermissionDenied):
        services.payment_update(organization=organization, payment=payment, actor=viewer, reference="x")

    assert Payment.objects.get(pk=payment.pk).reference == ""


def test_payment_of_another_organization_is_not_found(organization, other_organization, payment):
    with pytest.raises(DomainError) as exc:
        services.payment_update(organization=other_organization, payment=payment, actor=None, reference="x")

    assert exc.value.code == ErrorCode.NOT_FOUND
    assert Payment.objects.get(pk=payment.pk).reference == ""


def test_payment_update_audits_who_and_what(organization, collector, payment):
    services.payment_update(organization=organization, payment=payment, actor=collector, reference="HSBC 1",
                            method="card")

    entry = AuditEntry.objects.get(action="payment.updated")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (collector.pk, "receivables.payment",
                                                                     str(payment.pk))
    assert entry.before == {"reference": "", "method": "bank_transfer"}
    assert entry.after == {"reference": "HSBC 1", "method": "card"}


def test_payment_update_with_the_same_values_writes_nothing(organization, payment):
    services.payment_update(organization=organization, payment=payment, actor=None, reference="",
                            received_on=dt.date(2026, 1, 20), amount="150.00")

    assert not AuditEntry.objects.filter(action="payment.updated").exists()


# --- credit notes --------------------------------------------------------------------------------

def test_credit_note_corrections_keep_the_invoices(organization, collector, note):
    ledger = _ledger(organization)

    updated = services.credit_note_update(organization=organization, credit_note=note, actor=collector,
                                          number=" CN-1A ", reason="price", amount="55.00", external_id="ERP-CN-1")

    assert (updated.number, updated.reason, updated.external_id) == ("CN-1A", "price", "ERP-CN-1")
    assert (updated.amount, updated.unapplied_amount) == (D("55.00"), D("15.00"))
    assert _ledger(organization) == ledger
    entry = AuditEntry.objects.get(action="credit_note.updated")
    assert entry.before == {"number": "CN-1", "reason": "", "amount": "40.0000", "external_id": None,
                            "unapplied_amount": "0.0000"}


def test_credit_note_amount_below_what_is_applied_is_refused(organization, note):
    with pytest.raises(DomainError, match="less than the 40.00 CNY already applied from this credit note") as exc:
        services.credit_note_update(organization=organization, credit_note=note, actor=None, amount="39.99")

    assert exc.value.code == ErrorCode.OVER_APPLICATION
    assert CreditNote.objects.get(pk=note.pk).amount == D("40.00")


def test_credit_note_needs_a_number(organization, note):
    with pytest.raises(DomainError, match="A credit note needs a number.") as exc:
        services.credit_note_update(organization=organization, credit_note=note, actor=None, number="  ")

    assert exc.value.field == "number"
    assert CreditNote.objects.get(pk=note.pk).number == "CN-1"


def test_credit_note_number_must_stay_unique(organization, customer, note):
    services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-2",
                                issued_on=dt.date(2026, 1, 6), amount="1.00")

    with pytest.raises(DomainError, match="A credit note with this number already exists.") as exc:
        services.credit_note_update(organization=organization, credit_note=note, actor=None, number="CN-2")

    assert exc.value.code == ErrorCode.DUPLICATE


def test_credit_note_issued_on_redates_its_allocations(organization, note, invoices):
    services.credit_note_update(organization=organization, credit_note=note, actor=None, issued_on=dt.date(2025, 12, 1))

    assert Allocation.objects.get(credit_note=note).applied_on == invoices[0].issue_date
    services.credit_note_update(organization=organization, credit_note=note, actor=None, issued_on=dt.date(2026, 2, 3))
    assert Allocation.objects.get(credit_note=note).applied_on == dt.date(2026, 2, 3)


@pytest.mark.parametrize("field", ["currency", "customer", "unapplied_amount", "invoice"])
def test_credit_note_fields_that_are_not_editable_are_refused(organization, note, field):
    with pytest.raises(DomainError, match=f"These credit note fields cannot be changed: {field}"):
        services.credit_note_update(organization=organization, credit_note=note, actor=None, **{field: "x"})


def test_credit_note_update_needs_the_collector_role_and_the_organization(organization, other_organization, viewer,
                                                                          note):
    with pytest.raises(PermissionDenied):
        services.credit_note_update(organization=organization, credit_note=note, actor=viewer, reason="x")
    with pytest.raises(DomainError) as exc:
        services.credit_note_update(organization=other_organization, credit_note=note, actor=None, reason="x")

    assert exc.value.code == ErrorCode.NOT_FOUND
    assert CreditNote.objects.get(pk=note.pk).reason == ""


# --- write-offs ----------------------------------------------------------------------------------

@pytest.fixture
def write_off(organization, customer):
    invoice = make_invoice(organization, customer, amount="80.00", issue_date=dt.date(2026, 1, 3))
    return services.invoice_write_off(organization=organization, actor=None, invoice=invoice, reason="insolvent",
                                      amount="30.00")


def test_write_off_reason_is_corrected_and_audited(organization, credit_manager, write_off):
    ledger = _ledger(organization)

    updated = services.write_off_update(organization=organization, write_off=write_off, actor=credit_manager,
                                        reason=" bankrupt ")

    assert updated.reason == "bankrupt" and WriteOff.objects.get(pk=write_off.pk).reason == "bankrupt"
    assert _ledger(organization) == ledger
    entry = AuditEntry.objects.get(action="write_off.updated")
    assert (entry.actor_id, entry.before, entry.after) == (credit_manager.pk, {"reason": "insolvent"},
                                                           {"reason": "bankrupt"})


@pytest.mark.parametrize("changes", [{"amount": "10.00"}, {"written_off_on": dt.date(2026, 3, 1)},
                                     {"invoice": None}, {"amount": "10.00", "reason": "smaller"}])
def test_write_off_amount_date_and_invoice_are_ledger_facts(organization, write_off, changes):
    with pytest.raises(DomainError, match="These write-off fields cannot be changed") as exc:
        services.write_off_update(organization=organization, write_off=write_off, actor=None, **changes)

    assert exc.value.code == ErrorCode.INVALID
    write_off.refresh_from_db()
    assert (write_off.amount, write_off.reason) == (D("30.00"), "insolvent")


def test_write_off_needs_a_reason(organization, write_off):
    with pytest.raises(DomainError, match="A write-off needs a reason."):
        services.write_off_update(organization=organization, write_off=write_off, actor=None, reason="   ")

    assert WriteOff.objects.get(pk=write_off.pk).reason == "insolvent"


def test_write_off_update_needs_the_credit_manager_role(organization, collector, write_off):
    with pytest.raises(PermissionDenied, match="Credit manager"):
        services.write_off_update(organization=organization, write_off=write_off, actor=collector, reason="x")

    assert WriteOff.objects.get(pk=write_off.pk).reason == "insolvent"


def test_write_off_of_another_organization_is_not_found(other_organization, write_off):
    with pytest.raises(DomainError) as exc:
        services.write_off_update(organization=other_organization, write_off=write_off, actor=None, reason="x")

    assert exc.value.code == ErrorCode.NOT_FOUND
    assert WriteOff.objects.get(pk=write_off.pk).reason == "insolvent"


def test_corrections_leave_the_audit_chain_verifiable(organization, customer, payment, write_off):
    note = services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-9",
                                       issued_on=dt.date(2026, 1, 5), amount="5.00")
    services.payment_update(organization=organization, payment=payment, actor=None, received_on=dt.date(2026, 1, 25))
    services.credit_note_update(organization=organization, credit_note=note, actor=None, reason="fixed")
    services.write_off_update(organization=organization, write_off=write_off, actor=None, reason="fixed")

    verification = audit_verify(organization)
    assert verification.ok and verification.checked == AuditEntry.objects.filter(organization=organization).count()
    assert {"payment.updated", "credit_note.updated", "write_off.updated"} <= set(
        AuditEntry.objects.values_list("action", flat=True))


def test_a_customer_from_another_organization_is_unaffected(organization, other_organization, payment):
    foreign = CustomerFactory(organization=other_organization, currency="USD")
    theirs = make_payment(other_organization, foreign, amount="9.00", auto_allocate=False, reference="theirs")

    services.payment_update(organization=organization, payment=payment, actor=None, reference="ours")

    assert Payment.objects.get(pk=theirs.pk).reference == "theirs"
