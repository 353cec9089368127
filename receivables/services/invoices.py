"""Invoices: issue (the credit hold), correct, void."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.dates import local_today
from tenancy.db import object_builder
from tenancy.errors import DomainError, ErrorCode, RowsInvalid
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, parse_amount, validate_currency
from tenancy.services import (
    Actor,
    audit_record,
    model_check,
    nul_check,
    role_require,
    same_organization_check,
)

from .. import events
from ..gates import credit_hold_many, credit_hold_one
from ..models import (
    Allocation,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
)
from .common import (
    INVOICE_AUDIT_FIELDS,
    INVOICE_EDITABLE_FIELDS,
    _editable_check,
    _invoice_status,
    _lock_invoices,
    _save_unique,
    _snapshot,
)
from .fx import ISSUE_VALUE_FIELDS, issue_values_set
from .reversals import unapplied_cash_apply, unapplied_payments_lock


@transaction.atomic
def invoice_create(
    *,
    organization: Organization,
    actor: Actor,
    customer: Customer,
    number: str,
    issue_date: dt.date,
    net_amount: Decimal,
    tax_amount: Decimal = ZERO,
    due_date: dt.date | None = None,
    currency: str | None = None,
    description: str = "",
    po_reference: str = "",
    external_id: str | None = None,
    kind: str = InvoiceKind.STANDARD,
    auto_apply: bool = True,
) -> Invoice:
    """Issue an invoice to a customer; due date defaults to issue date + the customer's terms.

    A "charges" invoice (late interest, fees, a returned-payment fee) bills existing debt: it passes
    the credit hold, and its audit entry records the hold it passed."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    invoice = _invoice_build(organization, {
        "customer": customer, "number": number, "issue_date": issue_date, "net_amount": net_amount,
        "tax_amount": tax_amount, "due_date": due_date, "currency": currency, "description": description,
        "po_reference": po_reference, "external_id": external_id, "kind": kind})
    # Payments are locked before the invoice (the lock order), whose row is new and only ours anyway.
    payments = unapplied_payments_lock(organization, customer, invoice.currency) if auto_apply else []
    after_extra = {}
    if invoice.kind == InvoiceKind.CHARGES:
        held = credit_hold_many(organization=organization,
                                invoices=[(customer, invoice.total_amount, invoice.currency)])
        credit_warning = held[customer.pk][0] if customer.pk in held else None
        if credit_warning:
            after_extra["credit_hold_passed"] = credit_warning
    else:
        credit_warning = credit_hold_one(organization=organization, customer=customer,
                                         amount=invoice.total_amount, currency=invoice.currency)
    model_check(invoice, exclude=["organization", "customer"])
    issue_values_set(organization, [invoice])
    _save_unique(invoice, what=_("invoice"))
    audit_record(organization=organization, actor=actor, action="invoice.created", obj=invoice,
                 after={**_snapshot(invoice, INVOICE_AUDIT_FIELDS), **after_extra})
    events.invoice_event(organization, invoice, "invoice.created")
    if payments:  # the organization applies unapplied cash to new invoices (LedgerSettings)
        unapplied_cash_apply(organization=organization, actor=actor, payments=payments, invoice=invoice)
    invoice.credit_warning = credit_warning  # shown by the UI / API when the organization warns instead of refusing
    return invoice


def _payments_lock_for_redate(organization: Organization, invoice_ids: Iterable[int]) -> None:
    """A new issue date may re-date the payments' allocations: lock those payments first, as every
    service locks a payment before its invoices, so this cannot deadlock with an allocation."""
    list(Payment.objects.select_for_update(of=("self",), no_key=True).filter(
        organization=organization, pk__in=Allocation.objects.filter(
            organization=organization, invoice_id__in=list(invoice_ids), payment__isnull=False).values("payment_id"),
    ).order_by("pk").values_list("pk", flat=True))


def _invoice_change(invoice: Invoice, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """invoice_update's checks, applied to the locked `invoice` in memory: (before, changed), empty
    when nothing changes. Amounts never below what is applied; due date never before issue date."""
    if invoice.voided_on is not None:
        raise DomainError(_("A void invoice cannot be changed."), code=ErrorCode.INVOICE_NOT_OPEN)
    changes = dict(changes)
    if "net_amount" in changes:
        changes["net_amount"] = parse_amount(changes["net_amount"], field="net_amount")
    if "tax_amount" in changes:
        changes["tax_amount"] = parse_amount(changes["tax_amount"], field="tax_amount", allow_zero=True)
    changed = {k: v for k, v in changes.items() if getattr(invoice, k) != v}
    if not changed:
        return {}, {}
    before = _snapshot(invoice, changed)
    for field, value in changed.items():
        setattr(invoice, field, value)
    invoice.total_amount = parse_amount(invoice.net_amount + invoice.tax_amount, field="total_amount")
    if invoice.total_amount < invoice.applied_amount:
        raise DomainError(
            _("The new total %(total)s is less than the %(applied)s already applied to this invoice.")
            % {"total": Money(invoice.total_amount, invoice.currency),
               "applied": Money(invoice.applied_amount, invoice.currency)},
            code=ErrorCode.OVER_APPLICATION, field="net_amount",
        )
    if invoice.due_date < invoice.issue_date:
        raise DomainError(_("The due date cannot be before the issue date."), field="due_date")
    invoice.status = _invoice_status(invoice)
    model_check(invoice, exclude=["organization", "customer"])
    return before, changed


def _invoice_redate(organization: Organization, invoice: Invoice, before: dict[str, Any], after: dict[str, Any]) -> None:
    """After a new issue date: what settled the invoice is dated max(source date, issue date), as
    _allocate and invoice_write_off date it; re-date it (recorded in before/after), so reports as of a
    past date follow the corrected issue date. Its payments must be locked already."""
    allocations = list(invoice.allocations.filter(organization=organization, reverses__isnull=True)
                       .select_related("payment", "credit_note", "write_off").order_by("pk"))
    moved, write_offs, payment_ids = [], [], set()
    for allocation in allocations:
        source_date = (allocation.payment.received_on if allocation.payment_id
                       else allocation.credit_note.issued_on if allocation.credit_note_id
                       else allocation.write_off.written_off_on)
        applied_on = max(source_date, invoice.issue_date)
        if allocation.applied_on != applied_on:
            before.setdefault("allocations_applied_on", {})[str(allocation.pk)] = allocation.applied_on
            after.setdefault("allocations_applied_on", {})[str(allocation.pk)] = applied_on
            allocation.applied_on = applied_on
            moved.append(allocation)
            if allocation.payment_id:
                payment_ids.add(allocation.payment_id)
        if allocation.write_off_id and allocation.write_off.written_off_on != applied_on:
            # A write-off is dated as its allocation is (never before the issue date).
            write_off = allocation.write_off
            before.setdefault("write_offs_written_off_on", {})[str(write_off.pk)] = write_off.written_off_on
            after.setdefault("write_offs_written_off_on", {})[str(write_off.pk)] = applied_on
            write_off.written_off_on = applied_on
            write_offs.append(write_off)
    Allocation.objects.bulk_update(moved, ["applied_on"])
    for write_off in write_offs:
        write_off.save(update_fields=["written_off_on", "updated_at"])
    # A payment shows its allocations' dates: touch it (locked by the caller) so an `updated_since` sync re-reads it.
    Payment.objects.filter(organization=organization, pk__in=payment_ids).update(updated_at=timezone.now())


def _increases_hold_check(organization: Organization, increases: list[tuple[Invoice, Decimal]]) -> dict[int, str]:
    """Raising invoice totals is new credit: the credit hold applies to the increases as it does to
    new invoices. Refusals raise RowsInvalid by position in `increases`; returns {invoice id: warning}."""
    raised = [(invoice, amount) for invoice, amount in increases if amount > 0]
    if not raised:
        return {}
    customers = Customer.objects.filter(organization=organization).in_bulk({i.customer_id for i, _a in raised})
    held = credit_hold_many(organization=organization, invoices=[
        (customers[invoice.customer_id], amount, invoice.currency) for invoice, amount in raised])
    refused = {index: [DomainError(held[invoice.customer_id][0], code=ErrorCode.CREDIT_HOLD, field="customer")]
               for index, (invoice, _amount) in enumerate(increases)
               if _amount > 0 and held.get(invoice.customer_id, ("", False))[1]}
    if refused:
        raise RowsInvalid(refused)
    return {invoice.pk: held[invoice.customer_id][0] for invoice, amount in raised if invoice.customer_id in held}


@transaction.atomic
def invoice_update(*, organization: Organization, invoice: Invoice, actor: Actor,
                   precondition: Callable[[Invoice], None] | None = None, **changes: Any) -> Invoice:
    """Correct an invoice's dates, amounts or references; amounts never below what is applied; a higher
    total passes the credit hold as new invoicing does.

    `precondition(locked_invoice)` runs once the rows are locked and before anything changes (the
    API's If-Match, the edit page's version check): it raises to refuse."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, invoice)
    _editable_check(changes, INVOICE_EDITABLE_FIELDS, _("invoice"))
    if "issue_date" in changes:
        _payments_lock_for_redate(organization, [invoice.pk])
    invoice = _lock_invoices(organization, [invoice.pk])[invoice.pk]
    if precondition is not None:
        precondition(invoice)
    total_before = invoice.total_amount
    before, changed = _invoice_change(invoice, changes)
    if not changed:
        return invoice
    try:
        warnings = _increases_hold_check(organization, [(invoice, invoice.total_amount - total_before)])
    except RowsInvalid as exc:
        raise exc.rows[0][0] from None
    if ISSUE_VALUE_FIELDS & set(changed):
        issue_values_set(organization, [invoice])
    _save_unique(invoice, what=_("invoice"))
    after = dict(changed)
    if "issue_date" in changed:
        _invoice_redate(organization, invoice, before, after)
    audit_record(organization=organization, actor=actor, action="invoice.updated", obj=invoice,
                 before=before, after=after)
    events.invoice_event(organization, invoice, "invoice.updated")
    invoice.credit_warning = warnings.get(invoice.pk)
    return invoice


@transaction.atomic
def invoice_void(*, organization: Organization, invoice: Invoice, actor: Actor, voided_on: dt.date | None = None,
                 reason: str = "") -> Invoice:
    """Void an invoice; only possible while nothing has been applied to it."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, invoice)
    invoice = _lock_invoices(organization, [invoice.pk])[invoice.pk]
    if invoice.voided_on is not None:
        raise DomainError(_("Invoice %(number)s is already void.") % {"number": invoice.number},
                          code=ErrorCode.INVOICE_NOT_OPEN)
    if invoice.applied_amount > 0:
        raise DomainError(
            _("Invoice %(number)s has payments, credits or write-offs applied; reverse them before voiding.")
            % {"number": invoice.number},
            code=ErrorCode.INVOICE_HAS_APPLICATIONS,
        )
    invoice.voided_on = max(voided_on or local_today(organization.timezone), invoice.issue_date)
    invoice.status = _invoice_status(invoice)
    invoice.save(update_fields=["voided_on", "status", "updated_at"])
    audit_record(organization=organization, actor=actor, action="invoice.voided", obj=invoice,
                 before={"status": InvoiceStatus.OPEN}, after={"status": invoice.status, "voided_on": invoice.voided_on,
                                                              "reason": reason})
    events.invoice_event(organization, invoice, "invoice.updated")
    return invoice


_INVOICE_LIMITS = {name: Invoice._meta.get_field(name).max_length for name in ("number", "external_id", "po_reference")}


def _length_check(invoice: Invoice, fields: Iterable[str]) -> None:
    for name in fields:
        limit = _INVOICE_LIMITS[name]
        value = getattr(invoice, name)
        if value is not None and len(value) > limit:
            raise DomainError(_("%(field)s: at most %(limit)s characters.") % {"field": name, "limit": limit},
                              field=name)


# Invoice(organization=..., customer=..., ...) without the keyword path's cost (a bulk upsert builds 10,000).
_new_invoice = object_builder(Invoice, ("organization_id", "customer_id", "number", "external_id", "issue_date",
                                        "due_date", "currency", "net_amount", "tax_amount", "total_amount",
                                        "description", "po_reference", "kind"))


_INVOICE_ORGANIZATION, _INVOICE_CUSTOMER = Invoice._meta.get_field("organization"), Invoice._meta.get_field("customer")


def _invoice_build(organization: Organization, row: dict[str, Any]) -> Invoice:
    """invoice_create's checks on one row, without touching the database."""
    customer: Customer = row["customer"]
    same_organization_check(organization, customer)
    number = (row.get("number") or "").strip()
    if not number:
        raise DomainError(_("An invoice needs a number."), field="number")
    net = parse_amount(row["net_amount"], field="net_amount")
    tax = parse_amount(row.get("tax_amount", ZERO), field="tax_amount", allow_zero=True)
    issue_date = row["issue_date"]
    due_date = row.get("due_date") or issue_date + dt.timedelta(days=customer.payment_terms_days)
    if due_date < issue_date:
        raise DomainError(_("The due date cannot be before the issue date."), field="due_date")
    total = parse_amount(net + tax, field="total_amount")  # each part may fit while their sum does not
    kind = row.get("kind") or InvoiceKind.STANDARD
    if kind not in InvoiceKind.values:
        raise DomainError(_("An invoice's kind is one of: %(kinds)s.") % {"kinds": ", ".join(InvoiceKind.values)},
                          field="kind")
    invoice = _new_invoice(
        organization.pk, customer.pk, number, row.get("external_id") or None, issue_date, due_date,
        validate_currency(row.get("currency") or customer.currency), net, tax, total, row.get("description", ""),
        row.get("po_reference", ""), kind)
    _INVOICE_ORGANIZATION.set_cached_value(invoice, organization)
    _INVOICE_CUSTOMER.set_cached_value(invoice, customer)
    _length_check(invoice, ("number", "external_id", "po_reference"))
    nul_check(invoice, ("number", "external_id", "po_reference", "description"))
    return invoice


def _created_snapshot(invoice: Invoice, held: dict[int, tuple[str, bool]]) -> dict[str, Any]:
    """An invoice.created entry; a charges invoice records the credit hold it passed."""
    after = _snapshot(invoice, INVOICE_AUDIT_FIELDS)
    if invoice.kind == InvoiceKind.CHARGES and invoice.customer_id in held:
        after["credit_hold_passed"] = held[invoice.customer_id][0]
    return after
