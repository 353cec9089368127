"""Credit notes and write-offs: issue, apply, correct."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import minor_unit_check, parse_amount, validate_currency
from tenancy.services import (
    Actor,
    audit_record,
    model_check,
    role_require,
    same_organization_check,
)

from ..models import (
    Allocation,
    AllocationKind,
    CreditNote,
    Customer,
    Invoice,
    WriteOff,
)
from .allocations import _allocate, _source_update
from .common import _apply_to_invoice, _editable_check, _lock_invoices, _required_text, _save_unique, _snapshot


@transaction.atomic
def credit_note_create(
    *,
    organization: Organization,
    actor: Actor,
    customer: Customer,
    number: str,
    issued_on: dt.date,
    amount: Decimal,
    currency: str | None = None,
    reason: str = "",
    invoice: Invoice | None = None,
    external_id: str | None = None,
) -> CreditNote:
    """Issue a credit note; with `invoice`, apply it to that invoice at once."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    amount = parse_amount(amount)
    note = CreditNote(
        organization=organization, customer=customer, number=number.strip(), issued_on=issued_on, amount=amount,
        unapplied_amount=amount, currency=validate_currency(currency or customer.currency), reason=reason,
        external_id=external_id or None,
    )
    model_check(note, exclude=["organization", "customer"])
    _save_unique(note, what=_("credit note"))
    if invoice is not None:  # the lock order: the invoice before the audit chain
        same_organization_check(organization, invoice)
        _lock_invoices(organization, [invoice.pk])
    audit_record(organization=organization, actor=actor, action="credit_note.created", obj=note,
                 after=_snapshot(note, ("number", "customer_id", "issued_on", "amount", "currency", "reason")))
    if invoice is not None:
        _allocate(organization=organization, actor=actor, source=note, kind=AllocationKind.CREDIT_NOTE,
                  source_date=issued_on, allocations=[(invoice, amount)])
    return note


@transaction.atomic
def credit_note_apply(
    *, organization: Organization, actor: Actor, credit_note: CreditNote,
    allocations: Sequence[tuple[Invoice, Decimal]] | None = None,
) -> list[Allocation]:
    """Apply a credit note's unapplied amount to invoices (or oldest-due-first)."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, credit_note)
    note = CreditNote.objects.select_for_update(of=("self",), no_key=True).get(pk=credit_note.pk, organization=organization)
    return _allocate(organization=organization, actor=actor, source=note, kind=AllocationKind.CREDIT_NOTE,
                     source_date=note.issued_on, allocations=allocations)


CREDIT_NOTE_EDITABLE_FIELDS = ("number", "issued_on", "amount", "reason", "external_id")


@transaction.atomic
def credit_note_update(*, organization: Organization, credit_note: CreditNote, actor: Actor,
                       **changes: Any) -> CreditNote:
    """Correct a credit note's number, date, amount (never below what is applied), reason or external id."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, credit_note)
    _editable_check(changes, CREDIT_NOTE_EDITABLE_FIELDS, _("credit note"))
    note = CreditNote.objects.select_for_update(of=("self",), no_key=True).get(pk=credit_note.pk, organization=organization)
    _required_text(changes, "number", _("A credit note needs a number."))
    return _source_update(organization=organization, actor=actor, source=note, changes=changes,
                          what=_("credit note"), date_field="issued_on", kind=AllocationKind.CREDIT_NOTE)


@transaction.atomic
def invoice_write_off(
    *,
    organization: Organization,
    actor: Actor,
    invoice: Invoice,
    reason: str,
    amount: Decimal | None = None,
    written_off_on: dt.date | None = None,
) -> WriteOff:
    """Write off part or all (the default) of an invoice's balance as bad debt."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, invoice)
    if not reason.strip():
        raise DomainError(_("A write-off needs a reason."), field="reason")
    invoice = _lock_invoices(organization, [invoice.pk])[invoice.pk]
    balance = invoice.total_amount - invoice.applied_amount
    amount = balance if amount is None else minor_unit_check(parse_amount(amount), invoice.currency)
    if balance <= 0:
        raise DomainError(_("Invoice %(number)s has nothing outstanding.") % {"number": invoice.number},
                          code=ErrorCode.INVOICE_NOT_OPEN)
    on = max(written_off_on or local_today(organization.timezone), invoice.issue_date)
    _apply_to_invoice(invoice, amount, written_off=True)
    write_off = WriteOff.objects.create(organization=organization, invoice=invoice, written_off_on=on,
                                        amount=amount, currency=invoice.currency, reason=reason.strip())
    Allocation.objects.create(organization=organization, invoice=invoice, kind=AllocationKind.WRITE_OFF,
                              write_off=write_off, amount=amount, currency=invoice.currency, applied_on=on)
    audit_record(organization=organization, actor=actor, action="invoice.written_off", obj=invoice,
                 before={"balance": balance}, after={"written_off": amount, "reason": reason, "status": invoice.status})
    return write_off


# Only the reason: a write-off's amount and date are ledger facts; changing them is a reversal.
WRITE_OFF_EDITABLE_FIELDS = ("reason",)


@transaction.atomic
def write_off_update(*, organization: Organization, write_off: WriteOff, actor: Actor, **changes: Any) -> WriteOff:
    """Correct the reason recorded for a write-off."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, write_off)
    _editable_check(changes, WRITE_OFF_EDITABLE_FIELDS, _("write-off"))
    write_off = WriteOff.objects.select_for_update(of=("self",), no_key=True).get(pk=write_off.pk, organization=organization)
    _required_text(changes, "reason", _("A write-off needs a reason."))
    changed = {k: v for k, v in changes.items() if getattr(write_off, k) != v}
    if not changed:
        return write_off
    before = _snapshot(write_off, changed)
    for field, value in changed.items():
        setattr(write_off, field, value)
    model_check(write_off, exclude=["organization", "invoice"])
    write_off.save(update_fields=[*changed, "updated_at"])
    audit_record(organization=organization, actor=actor, action="write_off.updated", obj=write_off,
                 before=before, after=changed)
    return write_off
