"""Undoing money on the ledger: payment reversal (bounced, returned, recorded in error), unapply,
reassignment, refunds, credit-note and write-off reversals, and the organization's auto-apply option.

History is never edited: each undo is a NEW allocation row with a negative amount, dated the day it
happened and linked to the allocation it undoes (docs/ledger.md), so every report as of an earlier
date is unchanged. Locks follow the README's order: the source (payment, credit note, write-off)
first, then invoices by primary key, the audit chain last (audit entries are written after every
lock is held).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import OperationalError, transaction
from django.db.models import Model, Sum
from django.utils.translation import gettext as _

from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, minor_unit_check, parse_amount
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from .. import events
from ..models import (
    Allocation,
    AllocationKind,
    CreditNote,
    CreditNoteStatus,
    Customer,
    Invoice,
    InvoiceKind,
    LedgerSettings,
    Payment,
    PaymentStatus,
    Refund,
    WriteOff,
)
from .common import _invoice_status, _lock_invoices
from .fx import reversal_fields

# --- checks and locks ------------------------------------------------------------------------

def _lock(model: type[Model], organization: Organization, obj: Model, *, nowait: bool = False):
    """The row under lock, as it is now. `nowait`: a row another write holds is a 409 at once
    (two reversals of one payment: one wins, the other is told), never a second undo."""
    query = model.objects.select_for_update(of=("self",), no_key=True, nowait=nowait)
    try:
        return query.get(organization=organization, pk=obj.pk)
    except OperationalError as exc:
        # Only NOWAIT's lock_not_available is "in progress"; a deadlock (40P01) goes on to the API's retry.
        if getattr(exc.__cause__, "pgcode", None) != "55P03":
            raise
        raise DomainError(_("Another change to this %(what)s is in progress; retry in a moment.")
                          % {"what": model._meta.verbose_name}, code=ErrorCode.CONCURRENT_CHANGE) from None


def _date_check(organization: Organization, on: dt.date | None, *, not_before: dt.date, field: str,
                what: str) -> dt.date:
    """A reversal's date: today by default; never before the thing it undoes, never in the future."""
    today = local_today(organization.timezone)
    on = on or today
    if on < not_before:
        raise DomainError(_("The date cannot be before the %(what)s's own date (%(date)s).")
                          % {"what": what, "date": not_before.isoformat()}, field=field)
    if on > today:
        raise DomainError(_("The date cannot be in the future (today is %(today)s).") % {"today": today.isoformat()},
                          field=field)
    return on


def _reason_check(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why (a reason is required)."), field="reason")
    if len(reason) > 300:
        raise DomainError(_("reason: at most %(limit)s characters.") % {"limit": 300}, field="reason")
    return reason


def _remaining(allocations: list[Allocation]) -> dict[int, Decimal]:
    """What is still in force of each (positive) allocation: its amount plus its reversals (negative)."""
    undone = dict(Allocation.objects.filter(reverses__in=[a.pk for a in allocations]).values("reverses")
                  .annotate(s=Sum("amount")).values_list("reverses", "s"))
    return {a.pk: a.amount + (undone.get(a.pk) or ZERO) for a in allocations}


def _source_allocations(organization: Organization, **source) -> list[Allocation]:
    return list(Allocation.objects.filter(organization=organization, reverses__isnull=True, **source).order_by("pk"))


def _undo(organization: Organization, actor: Actor, allocation: Allocation, invoice: Invoice, amount: Decimal,
          on: dt.date, reason: str) -> tuple[Allocation, Decimal]:
    """Write the negative row undoing `amount` of `allocation` (invoice locked), reopen the invoice
    by it. Returns the row and what goes back to the source in its own currency."""
    # The same share of its FX leg (services/fx.py): a payment in another currency gets back its own
    # amount, and the realized difference is undone with it.
    extra = reversal_fields(allocation, amount, organization.base_currency)
    back = -extra["payment_amount"] if allocation.payment_currency else amount
    row = Allocation.objects.create(
        organization=organization, invoice=invoice, kind=allocation.kind, payment_id=allocation.payment_id,
        credit_note_id=allocation.credit_note_id, write_off_id=allocation.write_off_id, amount=-amount,
        currency=allocation.currency, applied_on=max(on, allocation.applied_on), reverses=allocation, reason=reason,
        created_by=actor if getattr(actor, "pk", None) else None, **extra)
    invoice.applied_amount -= amount
    if allocation.kind == AllocationKind.WRITE_OFF:
        invoice.written_off_amount -= amount
    invoice.status = _invoice_status(invoice)
    invoice.save(update_fields=["applied_amount", "written_off_amount", "status", "updated_at"])
    return row, back


def _undo_all(organization: Organization, actor: Actor, allocations: list[Allocation], on: dt.date,
              reason: str) -> tuple[list[tuple[Allocation, Invoice]], Decimal]:
    """Undo what remains of each allocation (invoices locked here, by primary key)."""
    remaining = _remaining(allocations)
    live = [a for a in allocations if remaining[a.pk] > 0]
    invoices = _lock_invoices(organization, [a.invoice_id for a in live])
    rows, back = [], ZERO
    for allocation in live:
        row, returned = _undo(organization, actor, allocation, invoices[allocation.invoice_id], remaining[allocation.pk],
                              on, reason)
        rows.append((row, invoices[allocation.invoice_id]))
        back += returned
    return rows, back


def _audit_undone(organization: Organization, actor: Actor, rows: Iterable[tuple[Allocation, Invoice]],
                  action: str) -> None:
    for row, invoice in rows:
        audit_record(organization=organization, actor=actor, action=action, obj=row, after={
            "invoice": invoice.number, "amount": row.amount, "currency": row.currency, "applied_on": row.applied_on,
            "reverses": row.reverses_id, "reason": row.reason, "invoice_balance": invoice.total_amount
            - invoice.applied_amount, "invoice_status": invoice.status})


def _reopened(organization: Organization, rows: Iterable[tuple[Allocation, Invoice]]) -> list[Invoice]:
    invoices = list({invoice.pk: invoice for _row, invoice in rows}.values())
    for invoice in invoices:
        events.invoice_reopened(organization, invoice)
    return invoices


def _payment_payload(payment: Payment) -> dict:
    from ..serializers import PaymentSerializer

    return PaymentSerializer(payment).data


def _not_reversed_check(payment: Payment) -> None:
    if payment.status == PaymentStatus.REVERSED:
        raise DomainError(_("This payment was reversed on %(date)s; it cannot be used again.")
                          % {"date": payment.reversed_on.isoformat()}, code=ErrorCode.INVALID)


# --- payments ----------------------------------------------------------------------------------

@transaction.atomic
def payment_reverse(*, organization: Organization, actor: Actor, payment: Payment, reversed_on: dt.date | None,
                    reason: str, fee: Decimal | None = None, fee_number: str | None = None) -> Payment:
    """Reverse a returned, bounced or mistaken payment as of `reversed_on`: every allocation is undone
    on that date (the invoices reopen), the unapplied rest leaves the books, the payment can no longer
    be used; an optional returned-payment fee becomes a charges invoice the customer owes."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, payment)
    reason = _reason_check(reason)
    fee = parse_amount(fee, field="fee") if fee not in (None, "") else None
    if fee is not None:
        minor_unit_check(fee, payment.currency, field="fee")
    payment = _lock(Payment, organization, payment, nowait=True)
    if payment.status == PaymentStatus.REVERSED:
        raise DomainError(_("This payment was already reversed on %(date)s.") % {"date": payment.reversed_on.isoformat()},
                          code=ErrorCode.INVALID)
    on = _date_check(organization, reversed_on, not_before=payment.received_on, field="reversed_on", what=_("payment"))
    rows, _back = _undo_all(organization, actor, _source_allocations(organization, payment=payment), on, reason)
    before = {"status": payment.status, "unapplied_amount": payment.unapplied_amount}
    payment.status, payment.reversed_on, payment.reversal_reason = PaymentStatus.REVERSED, on, reason
    payment.unapplied_amount = ZERO
    payment.save(update_fields=["status", "reversed_on", "reversal_reason", "unapplied_amount", "updated_at"])
    _audit_undone(organization, actor, rows, "payment.unapplied")
    audit_record(organization=organization, actor=actor, action="payment.reversed", obj=payment, before=before,
                 after={"status": payment.status, "reversed_on": on, "reason": reason, "fee": fee,
                        "invoices_reopened": sorted({invoice.number for _row, invoice in rows})})
    if fee is not None:
        from .invoices import invoice_create

        fee_invoice = invoice_create(
            organization=organization, actor=actor, customer=payment.customer, number=fee_number or
            f"RET-{payment.pk}", issue_date=on, net_amount=fee, currency=payment.currency, kind=InvoiceKind.CHARGES,
            description=_("Returned payment fee (payment %(reference)s)") % {"reference": payment}, auto_apply=False)
        payment.reversal_fee_invoice = fee_invoice
        payment.save(update_fields=["reversal_fee_invoice", "updated_at"])
    _reopened(organization, rows)
    events.ledger_event(organization, "payment.reversed", _payment_payload(payment))
    return payment


@transaction.atomic
def payment_unapply(*, organization: Organization, actor: Actor, payment: Payment, invoice: Invoice,
                    amount: Decimal | None = None, on: dt.date | None = None) -> list[Allocation]:
    """Move cash applied to `invoice` back to the payment's unapplied amount, dated `on` (default today);
    `amount` defaults to all of it. The payment can then be allocated elsewhere."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, payment)
    same_organization_check(organization, invoice)
    payment = _lock(Payment, organization, payment)
    _not_reversed_check(payment)
    on = _date_check(organization, on, not_before=payment.received_on, field="on", what=_("payment"))
    allocations = _source_allocations(organization, payment=payment, invoice_id=invoice.pk)
    remaining = _remaining(allocations)
    applied = sum(remaining.values(), ZERO)
    if applied <= 0:
        raise DomainError(_("Nothing of this payment is applied to invoice %(number)s.") % {"number": invoice.number},
                          field="invoice")
    amount = applied if amount in (None, "") else minor_unit_check(parse_amount(amount), invoice.currency)
    if amount > applied:
        raise DomainError(_("Only %(applied)s of this payment is applied to invoice %(number)s; %(amount)s cannot "
                            "be unapplied.") % {"applied": Money(applied, invoice.currency), "number": invoice.number,
                                                "amount": Money(amount, invoice.currency)}, field="amount")
    locked = _lock_invoices(organization, [invoice.pk])[invoice.pk]
    rows, back, left = [], ZERO, amount
    for allocation in reversed(allocations):  # the latest first
        take = min(left, remaining[allocation.pk])
        if take > 0:
            row, returned = _undo(organization, actor, allocation, locked, take, on, "")
            rows.append((row, locked))
            back += returned
            left -= take
    payment.unapplied_amount += back
    payment.save(update_fields=["unapplied_amount", "updated_at"])
    _audit_undone(organization, actor, rows, "payment.unapplied")
    _reopened(organization, rows)
    return [row for row, _invoice in rows]


@transaction.atomic
def payment_refund(*, organization: Organization, actor: Actor, payment: Payment, amount: Decimal,
                   refunded_on: dt.date | None = None, reference: str = "") -> Refund:
    """Pay unapplied cash back to the customer; never more than what is unapplied."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, payment)
    amount = minor_unit_check(parse_amount(amount, field="amount"), payment.currency)
    reference = (reference or "").strip()
    if len(reference) > 100:
        raise DomainError(_("reference: at most %(limit)s characters.") % {"limit": 100}, field="reference")
    payment = _lock(Payment, organization, payment)
    _not_reversed_check(payment)
    # Not before the cash was on account (received, or unapplied later): a past statement never goes negative.
    on = _date_check(organization, refunded_on, not_before=payment_available_on(payment), field="refunded_on",
                     what=_("payment"))
    if amount > payment.unapplied_amount:
        raise DomainError(_("Only %(left)s of this payment is unapplied; %(amount)s cannot be refunded.")
                          % {"left": Money(payment.unapplied_amount, payment.currency),
                             "amount": Money(amount, payment.currency)}, field="amount")
    refund = Refund.objects.create(organization=organization, payment=payment, amount=amount, currency=payment.currency,
                                   refunded_on=on, reference=reference,
                                   created_by=actor if getattr(actor, "pk", None) else None)
    payment.unapplied_amount -= amount
    payment.refunded_amount += amount
    payment.save(update_fields=["unapplied_amount", "refunded_amount", "updated_at"])
    audit_record(organization=organization, actor=actor, action="payment.refunded", obj=refund, after={
        "payment": payment.pk, "amount": amount, "currency": payment.currency, "refunded_on": on,
        "reference": reference, "unapplied_amount": payment.unapplied_amount})
    events.ledger_event(organization, "payment.refunded", {**_payment_payload(payment), "refund": {
        "id": refund.pk, "amount": str(amount), "currency": payment.currency, "refunded_on": on.isoformat(),
        "reference": reference}})
    return refund


@transaction.atomic
def payment_reassign(*, organization: Organization, actor: Actor, payment: Payment, customer: Customer) -> Payment:
    """Move a payment recorded against the wrong customer to the right one; only while nothing of it is applied."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, payment)
    same_organization_check(organization, customer)
    payment = _lock(Payment, organization, payment)
    _not_reversed_check(payment)
    applied = payment.amount - payment.unapplied_amount - payment.refunded_amount
    if applied > 0:
        raise DomainError(_("%(applied)s of this payment is applied to invoices; unapply it first.")
                          % {"applied": Money(applied, payment.currency)}, code=ErrorCode.INVOICE_HAS_APPLICATIONS,
                          field="customer")
    if customer.pk == payment.customer_id:
        return payment
    before = {"customer_id": payment.customer_id}
    payment.customer = customer
    payment.save(update_fields=["customer", "updated_at"])
    audit_record(organization=organization, actor=actor, action="payment.reassigned", obj=payment, before=before,
                 after={"customer_id": customer.pk})
    return payment


# --- credit notes and write-offs ------------------------------------------------------------------

@transaction.atomic
def credit_note_reverse(*, organization: Organization, actor: Actor, credit_note: CreditNote,
                        reversed_on: dt.date | None, reason: str) -> CreditNote:
    """Reverse a credit note as of `reversed_on`: its allocations are undone then (the invoices reopen)
    and it can no longer be applied."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, credit_note)
    reason = _reason_check(reason)
    note = _lock(CreditNote, organization, credit_note, nowait=True)
    if note.status == CreditNoteStatus.REVERSED:
        raise DomainError(_("This credit note was already reversed on %(date)s.") % {"date": note.reversed_on.isoformat()},
                          code=ErrorCode.INVALID)
    on = _date_check(organization, reversed_on, not_before=note.issued_on, field="reversed_on", what=_("credit note"))
    rows, _back = _undo_all(organization, actor, _source_allocations(organization, credit_note=note), on, reason)
    before = {"status": note.status, "unapplied_amount": note.unapplied_amount}
    note.status, note.reversed_on, note.reversal_reason, note.unapplied_amount = (
        CreditNoteStatus.REVERSED, on, reason, ZERO)
    note.save(update_fields=["status", "reversed_on", "reversal_reason", "unapplied_amount", "updated_at"])
    _audit_undone(organization, actor, rows, "credit_note.unapplied")
    audit_record(organization=organization, actor=actor, action="credit_note.reversed", obj=note, before=before,
                 after={"status": note.status, "reversed_on": on, "reason": reason,
                        "invoices_reopened": sorted({invoice.number for _row, invoice in rows})})
    _reopened(organization, rows)
    from ..serializers import CreditNoteSerializer

    events.ledger_event(organization, "credit_note.reversed", CreditNoteSerializer(note).data)
    return note


@transaction.atomic
def write_off_reverse(*, organization: Organization, actor: Actor, write_off: WriteOff, reversed_on: dt.date | None,
                      reason: str, amount: Decimal | None = None) -> Allocation:
    """Reverse all or part of a write-off as of `reversed_on` (a bad debt recovered): the invoice reopens
    by that amount, so the debtor's payment is then recorded as an ordinary payment."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, write_off)
    reason = _reason_check(reason)
    write_off = _lock(WriteOff, organization, write_off, nowait=True)
    on = _date_check(organization, reversed_on, not_before=write_off.written_off_on, field="reversed_on",
                     what=_("write-off"))
    left = write_off.amount - write_off.reversed_amount
    amount = left if amount in (None, "") else minor_unit_check(parse_amount(amount), write_off.currency)
    if left <= 0:
        raise DomainError(_("This write-off was already reversed in full."), code=ErrorCode.INVALID)
    if amount > left:
        raise DomainError(_("Only %(left)s of this write-off is still in force; %(amount)s cannot be reversed.")
                          % {"left": Money(left, write_off.currency), "amount": Money(amount, write_off.currency)},
                          field="amount")
    [allocation] = _source_allocations(organization, write_off=write_off)
    invoice = _lock_invoices(organization, [write_off.invoice_id])[write_off.invoice_id]
    if invoice.voided_on is not None:
        raise DomainError(_("Invoice %(number)s is void.") % {"number": invoice.number}, code=ErrorCode.INVOICE_NOT_OPEN)
    row, _back = _undo(organization, actor, allocation, invoice, amount, on, reason)
    write_off.reversed_amount += amount
    write_off.save(update_fields=["reversed_amount", "updated_at"])
    _audit_undone(organization, actor, [(row, invoice)], "write_off.reversed")
    _reopened(organization, [(row, invoice)])
    from ..serializers import WriteOffSerializer

    events.ledger_event(organization, "write_off.reversed", {
        **WriteOffSerializer(write_off).data, "reversal": {"amount": str(amount), "reversed_on": on.isoformat(),
                                                           "reason": reason, "invoice": invoice.pk}})
    return row


# --- auto-apply -------------------------------------------------------------------------------------

def ledger_settings_of(organization: Organization) -> LedgerSettings:
    return LedgerSettings.objects.filter(organization=organization).first() or LedgerSettings(organization=organization)


@transaction.atomic
def ledger_settings_update(*, organization: Organization, actor: Actor, auto_apply_unapplied_cash: bool) -> LedgerSettings:
    """Turn the automatic application of unapplied cash to new invoices on or off."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    settings, _created = LedgerSettings.objects.select_for_update(no_key=True).get_or_create(organization=organization)
    before = {"auto_apply_unapplied_cash": settings.auto_apply_unapplied_cash}
    settings.auto_apply_unapplied_cash = bool(auto_apply_unapplied_cash)
    settings.save()
    audit_record(organization=organization, actor=actor, action="ledger_settings.updated", obj=settings,
                 before=before, after={"auto_apply_unapplied_cash": settings.auto_apply_unapplied_cash})
    return settings


def unapplied_payments_lock(organization: Organization, customer: Customer, currency: str) -> list[Payment]:
    """The customer's payments with unapplied cash in `currency`, locked (before any invoice, as the lock
    order says), oldest received first: what auto-apply will use. Empty when the option is off."""
    if not ledger_settings_of(organization).auto_apply_unapplied_cash:
        return []
    payments = list(Payment.objects.select_for_update(of=("self",), no_key=True).filter(
        organization=organization, customer=customer, currency=currency, status=PaymentStatus.RECEIVED,
        unapplied_amount__gt=0).order_by("pk"))
    return sorted(payments, key=lambda p: (p.received_on, p.pk))


def payment_available_on(payment: Payment) -> dt.date:
    """The earliest date the payment's unapplied cash may be applied: its receipt date, or the last day
    cash of it was unapplied (applying that cash again is a new event, never dated before it)."""
    from django.db.models import Max

    last = (Allocation.objects.filter(organization_id=payment.organization_id, payment=payment,
                                      reverses__isnull=False).aggregate(on=Max("applied_on"))["on"])
    return max(payment.received_on, last) if last else payment.received_on


def unapplied_cash_apply(*, organization: Organization, actor: Actor, payments: list[Payment],
                         invoice: Invoice) -> list[Allocation]:
    """Apply the locked `payments` (oldest first) to a new invoice, audited like any allocation."""
    from .allocations import _allocate

    created: list[Allocation] = []
    for payment in payments:
        balance = invoice.total_amount - invoice.applied_amount
        if balance <= 0:
            break
        take = min(balance, payment.unapplied_amount)
        created += _allocate(organization=organization, actor=actor, source=payment, kind=AllocationKind.PAYMENT,
                             source_date=payment_available_on(payment), allocations=[(invoice, take)])
        invoice.refresh_from_db()
    return created
