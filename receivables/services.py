"""Every write to the receivables ledger.

Services are keyword-only and atomic, check the actor's role, lock rows in a fixed order
(payment or credit note first, then invoices by primary key), keep `applied_amount` /
`unapplied_amount` in step with the allocations, and append to the audit chain in the same
transaction. The database's CHECK constraints are the last line: if a bug got past the
locks, the write would fail rather than over-apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.dates import local_today
from tenancy.db import object_builder, objects_insert, objects_update
from tenancy.errors import CurrencyMismatch, DomainError, ErrorCode, RowsInvalid
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, parse_amount, validate_currency
from tenancy.services import (
    Actor,
    AuditBatch,
    audit_record,
    audit_record_many,
    model_check,
    nul_check,
    role_require,
    same_organization_check,
)

from . import events
from .models import (
    Allocation,
    AllocationKind,
    CreditNote,
    Customer,
    FxRate,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    WriteOff,
)

CUSTOMER_FIELDS = (
    "name", "legal_name", "registration_number", "country", "currency", "payment_terms_days",
    "language", "contact_emails", "segment", "status", "external_id",
)
BULK_BATCH = 2000  # rows per INSERT
INVOICE_AUDIT_FIELDS = ("number", "customer_id", "issue_date", "due_date", "currency", "net_amount", "tax_amount",
                        "total_amount", "external_id", "kind")
PAYMENT_AUDIT_FIELDS = ("customer_id", "received_on", "amount", "currency", "method", "reference")
INVOICE_EDITABLE_FIELDS = ("due_date", "description", "po_reference", "external_id", "net_amount", "tax_amount", "issue_date")


# --- helpers -------------------------------------------------------------------------------

def _snapshot(obj: Model, fields: Iterable[str]) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in fields}


def _save_unique(obj: Model, *, what: str, **kwargs) -> None:
    """Save, turning a unique-constraint violation into a clear domain error."""
    # No savepoint of its own: the service's atomic block rolls back on the DomainError raised here.
    try:
        obj.save(**kwargs)
    except IntegrityError as exc:
        text = str(exc)
        if "external_id" in text:
            raise DomainError(_("A %(what)s with this external id already exists.") % {"what": what},
                              code=ErrorCode.DUPLICATE, field="external_id") from None
        if "number" in text:
            raise DomainError(_("A %(what)s with this number already exists.") % {"what": what},
                              code=ErrorCode.DUPLICATE, field="number") from None
        raise


def _invoice_status(invoice: Invoice) -> str:
    """The one place an invoice's status is derived from its ledger figures."""
    if invoice.voided_on is not None:
        return InvoiceStatus.VOID
    if invoice.applied_amount == 0:
        return InvoiceStatus.OPEN
    if invoice.applied_amount < invoice.total_amount:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.WRITTEN_OFF if invoice.written_off_amount > 0 else InvoiceStatus.PAID


def _lock_invoices(organization: Organization, invoice_ids: Iterable[int]) -> dict[int, Invoice]:
    rows = (
        Invoice.objects.select_for_update(of=("self",), no_key=True)
        .filter(organization=organization, pk__in=set(invoice_ids))
        .order_by("pk")
    )
    return {invoice.pk: invoice for invoice in rows}


def _source_match_check(invoice: Invoice, *, customer_id: int, currency: str, what: str) -> None:
    """Only the invoice's own customer's cash or credit, in the invoice's currency, settles it."""
    if invoice.customer_id != customer_id:
        raise DomainError(_("Invoice %(number)s belongs to another customer.") % {"number": invoice.number},
                          code=ErrorCode.CUSTOMER_MISMATCH, field="invoice")
    if invoice.currency != currency:
        raise CurrencyMismatch(
            _("Invoice %(number)s is in %(inv)s; a %(src)s %(what)s cannot settle it.")
            % {"number": invoice.number, "inv": invoice.currency, "src": currency, "what": what},
            field="invoice",
        )


def _apply_check(invoice: Invoice, amount: Decimal) -> None:
    """An amount may be applied to an invoice that is not void, up to its balance."""
    if invoice.voided_on is not None:
        raise DomainError(_("Invoice %(number)s is void.") % {"number": invoice.number}, code=ErrorCode.INVOICE_NOT_OPEN)
    balance = invoice.total_amount - invoice.applied_amount
    if amount > balance:
        raise DomainError(
            _("Invoice %(number)s has %(balance)s outstanding; %(amount)s cannot be applied.")
            % {"number": invoice.number, "balance": Money(balance, invoice.currency),
               "amount": Money(amount, invoice.currency)},
            code=ErrorCode.OVER_APPLICATION,
            field="amount",
        )


def _apply_to_invoice(invoice: Invoice, amount: Decimal, *, written_off: bool = False) -> None:
    _apply_check(invoice, amount)
    invoice.applied_amount += amount
    if written_off:
        invoice.written_off_amount += amount
    invoice.status = _invoice_status(invoice)
    invoice.save(update_fields=["applied_amount", "written_off_amount", "status", "updated_at"])
    events.invoice_settled(invoice.organization, invoice)


# --- customers -----------------------------------------------------------------------------

def _customer_build(organization: Organization, fields: dict[str, Any]) -> Customer:
    """customer_create's checks, without touching the database."""
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise DomainError(f"Unknown customer fields: {', '.join(sorted(unknown))}")
    fields = {"currency": organization.base_currency, "payment_terms_days": organization.default_payment_terms_days,
              "language": organization.default_language, **fields}
    fields["currency"] = validate_currency(fields["currency"])
    customer = Customer(organization=organization, **fields)
    model_check(customer, exclude=["organization"])
    return customer


def _customer_change(customer: Customer, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply customer_update's checked changes to `customer` in memory: (before, changed), empty when
    nothing changes."""
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise DomainError(f"Unknown customer fields: {', '.join(sorted(unknown))}")
    if "currency" in changes:
        changes = {**changes, "currency": validate_currency(changes["currency"])}
    changed = {k: v for k, v in changes.items() if getattr(customer, k) != v}
    if not changed:
        return {}, {}
    before = _snapshot(customer, changed)
    for field, value in changed.items():
        setattr(customer, field, value)
    model_check(customer, exclude=["organization"])
    return before, changed


@transaction.atomic
def customer_create(*, organization: Organization, actor: Actor, **fields: Any) -> Customer:
    """Create a customer."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    customer = _customer_build(organization, fields)
    _save_unique(customer, what=_("customer"))
    audit_record(organization=organization, actor=actor, action="customer.created", obj=customer,
                 after=_snapshot(customer, CUSTOMER_FIELDS))
    return customer


@transaction.atomic
def customer_update(*, organization: Organization, customer: Customer, actor: Actor,
                    precondition: Callable[[Customer], None] | None = None, **changes: Any) -> Customer:
    """Change a customer's details, on the row as it is under lock (a concurrent change of another
    field is kept, not overwritten). Returns the updated customer.

    `precondition(locked_customer)` runs before anything changes (the API's If-Match, the edit
    page's version check): it raises to refuse."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    given = customer
    customer = Customer.objects.select_for_update(no_key=True).get(organization=organization, pk=customer.pk)
    if precondition is not None:
        precondition(customer)
    before, changed = _customer_change(customer, changes)
    if not changed:
        return customer
    _save_unique(customer, what=_("customer"))
    for name in (*changed, "updated_at"):  # the caller's object shows what was saved, as it always did
        setattr(given, name, getattr(customer, name))
    audit_record(organization=organization, actor=actor, action="customer.updated", obj=customer,
                 before=before, after=changed)
    events.customer_updated(organization, customer)
    return customer


# --- invoices ------------------------------------------------------------------------------

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
) -> Invoice:
    """Issue an invoice to a customer; due date defaults to issue date + the customer's terms.

    A "charges" invoice (late interest, fees, a returned-payment fee) bills existing debt: it passes
    the credit hold, and its audit entry records the hold it passed."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    invoice = _invoice_build(organization, {
        "customer": customer, "number": number, "issue_date": issue_date, "net_amount": net_amount,
        "tax_amount": tax_amount, "due_date": due_date, "currency": currency, "description": description,
        "po_reference": po_reference, "external_id": external_id, "kind": kind})
    from credit.services import credit_hold_check, credit_hold_check_many  # lazily: credit sits above receivables
    after_extra = {}
    if invoice.kind == InvoiceKind.CHARGES:
        held = credit_hold_check_many(organization=organization,
                                      invoices=[(customer, invoice.total_amount, invoice.currency)])
        credit_warning = held[customer.pk][0] if customer.pk in held else None
        if credit_warning:
            after_extra["credit_hold_passed"] = credit_warning
    else:
        credit_warning = credit_hold_check(organization=organization, customer=customer,
                                           amount=invoice.total_amount, currency=invoice.currency)
    model_check(invoice, exclude=["organization", "customer"])
    _save_unique(invoice, what=_("invoice"))
    audit_record(organization=organization, actor=actor, action="invoice.created", obj=invoice,
                 after={**_snapshot(invoice, INVOICE_AUDIT_FIELDS), **after_extra})
    events.invoice_event(organization, invoice, "invoice.created")
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
    allocations = list(invoice.allocations.filter(organization=organization)
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
    from credit.services import credit_hold_check_many  # lazily: credit depends on receivables, not the reverse
    customers = Customer.objects.filter(organization=organization).in_bulk({i.customer_id for i, _a in raised})
    held = credit_hold_check_many(organization=organization, invoices=[
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


# --- payments and allocation ---------------------------------------------------------------

@transaction.atomic
def payment_record(
    *,
    organization: Organization,
    actor: Actor,
    customer: Customer,
    received_on: dt.date,
    amount: Decimal,
    currency: str | None = None,
    method: str = "bank_transfer",
    reference: str = "",
    external_id: str | None = None,
    auto_allocate: bool = True,
) -> Payment:
    """Record cash received from a customer; by default apply it oldest-due-first."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    payment = _payment_build(organization, {
        "customer": customer, "received_on": received_on, "amount": amount, "currency": currency, "method": method,
        "reference": reference, "external_id": external_id})
    _save_unique(payment, what=_("payment"))
    audit_record(organization=organization, actor=actor, action="payment.recorded", obj=payment,
                 after=_snapshot(payment, PAYMENT_AUDIT_FIELDS))
    if auto_allocate:
        payment_allocate(organization=organization, actor=actor, payment=payment)
        payment.refresh_from_db()
    events.payment_received(organization, payment)
    return payment


def _allocate(
    *,
    organization: Organization,
    actor: Actor,
    source: Payment | CreditNote,
    kind: AllocationKind,
    source_date: dt.date,
    allocations: Sequence[tuple[Invoice, Decimal]] | None,
) -> list[Allocation]:
    """Apply a payment's or credit note's unapplied amount to invoices (locks held by caller)."""
    if allocations is None:
        # Oldest due first, then oldest issued; only invoices in the source's currency.
        open_ids = list(
            Invoice.objects.filter(
                organization=organization, customer_id=source.customer_id, currency=source.currency,
                voided_on__isnull=True, applied_amount__lt=F("total_amount"),
            ).order_by("due_date", "issue_date", "pk").values_list("pk", flat=True)
        )
        invoices = _lock_invoices(organization, open_ids)
        remaining = source.unapplied_amount
        plan: list[tuple[Invoice, Decimal]] = []
        for invoice_id in open_ids:
            if remaining <= 0:
                break
            invoice = invoices[invoice_id]
            take = min(remaining, invoice.total_amount - invoice.applied_amount)
            if take > 0:
                plan.append((invoice, take))
                remaining -= take
    else:
        requested = [(invoice, parse_amount(amount)) for invoice, amount in allocations]
        for invoice, _amount in requested:
            same_organization_check(organization, invoice)
        locked = _lock_invoices(organization, [invoice.pk for invoice, _amount in requested])
        plan = [(locked[invoice.pk], amount) for invoice, amount in requested]
        total = sum((amount for _invoice, amount in plan), ZERO)
        if total > source.unapplied_amount:
            raise DomainError(
                _("Only %(left)s of this %(what)s is unapplied; %(total)s was requested.")
                % {"left": Money(source.unapplied_amount, source.currency), "total": Money(total, source.currency),
                   "what": kind.label.lower()},
                code=ErrorCode.INSUFFICIENT_FUNDS, field="amount",
            )
    created = []
    for invoice, amount in plan:
        _source_match_check(invoice, customer_id=source.customer_id, currency=source.currency,
                            what=kind.label.lower())
        _apply_to_invoice(invoice, amount)
        allocation = Allocation.objects.create(
            organization=organization, invoice=invoice, kind=kind, amount=amount, currency=invoice.currency,
            applied_on=max(source_date, invoice.issue_date),
            **{"payment" if kind == AllocationKind.PAYMENT else "credit_note": source},
        )
        created.append(allocation)
        audit_record(organization=organization, actor=actor, action=f"{kind}.allocated", obj=allocation,
                     after={"invoice": invoice.number, "amount": amount, "currency": invoice.currency,
                            "source_id": source.pk, "invoice_balance": invoice.total_amount - invoice.applied_amount})
    applied = sum((a.amount for a in created), ZERO)
    if applied:
        source.unapplied_amount -= applied
        source.save(update_fields=["unapplied_amount", "updated_at"])
    return created


@transaction.atomic
def payment_allocate(
    *,
    organization: Organization,
    actor: Actor,
    payment: Payment,
    allocations: Sequence[tuple[Invoice, Decimal]] | None = None,
) -> list[Allocation]:
    """Apply a payment to invoices: the given (invoice, amount) pairs, or oldest-due-first."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, payment)
    payment = Payment.objects.select_for_update(of=("self",), no_key=True).get(pk=payment.pk, organization=organization)
    return _allocate(organization=organization, actor=actor, source=payment, kind=AllocationKind.PAYMENT,
                     source_date=payment.received_on, allocations=allocations)


# --- credit notes and write-offs -----------------------------------------------------------

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


# --- corrections to payments and credit notes ----------------------------------------------

# Customer and currency are not editable: the allocations' composite foreign keys tie them to
# the invoices they settle. A different customer or currency is a different payment.
PAYMENT_EDITABLE_FIELDS = ("received_on", "amount", "method", "reference", "external_id")
CREDIT_NOTE_EDITABLE_FIELDS = ("number", "issued_on", "amount", "reason", "external_id")


def _editable_check(changes: dict[str, Any], editable: Sequence[str], what: str) -> None:
    refused = sorted(set(changes) - set(editable))
    if refused:
        raise DomainError(
            _("These %(what)s fields cannot be changed: %(fields)s (editable: %(editable)s).")
            % {"what": what, "fields": ", ".join(refused), "editable": ", ".join(editable)},
            field=refused[0],
        )


def _unapplied_after_amount_change(source: Payment | CreditNote, amount: Decimal, what: str) -> Decimal:
    """The unapplied amount once `amount` replaces the source's amount; never below what is applied."""
    applied = source.amount - source.unapplied_amount
    if amount < applied:
        raise DomainError(
            _("The new amount %(amount)s is less than the %(applied)s already applied from this %(what)s.")
            % {"amount": Money(amount, source.currency), "applied": Money(applied, source.currency), "what": what},
            code=ErrorCode.OVER_APPLICATION, field="amount",
        )
    return amount - applied


def _allocations_redate(organization: Organization, source: Payment | CreditNote, kind: AllocationKind,
                        source_date: dt.date) -> tuple[dict[str, dt.date], dict[str, dt.date]]:
    """Re-date a source's allocations as _allocate dates them (its date, or the invoice's issue
    date when later), so reports as of a past date follow a corrected date; the source's lock is
    held by the caller, the invoices are locked here (after it, by primary key)."""
    fk = "payment" if kind == AllocationKind.PAYMENT else "credit_note"
    allocations = list(Allocation.objects.filter(organization=organization, **{fk: source}).order_by("pk"))
    invoices = _lock_invoices(organization, [a.invoice_id for a in allocations])
    moved, before, after = [], {}, {}
    for allocation in allocations:
        applied_on = max(source_date, invoices[allocation.invoice_id].issue_date)
        if allocation.applied_on != applied_on:
            before[str(allocation.pk)], after[str(allocation.pk)] = allocation.applied_on, applied_on
            allocation.applied_on = applied_on
            moved.append(allocation)
    Allocation.objects.bulk_update(moved, ["applied_on"])
    return before, after


def _source_update(*, organization: Organization, actor: Actor, source: Payment | CreditNote, changes: dict[str, Any],
                   what: str, date_field: str, kind: AllocationKind) -> Payment | CreditNote:
    """The rest of payment_update / credit_note_update, on the locked row: amount never below what
    is applied, a new date re-dates the allocations, audited as `<kind>.updated`."""
    if "amount" in changes:
        changes["amount"] = parse_amount(changes["amount"])
    if "external_id" in changes:
        changes["external_id"] = changes["external_id"] or None
    changed = {k: v for k, v in changes.items() if getattr(source, k) != v}
    if not changed:
        return source
    before, after = _snapshot(source, changed), dict(changed)
    if "amount" in changed:
        before["unapplied_amount"] = source.unapplied_amount
        source.unapplied_amount = after["unapplied_amount"] = _unapplied_after_amount_change(
            source, changed["amount"], what)
    for field, value in changed.items():
        setattr(source, field, value)
    model_check(source, exclude=["organization", "customer"])
    _save_unique(source, what=what)
    if date_field in changed:
        moved_from, moved_to = _allocations_redate(organization, source, kind, getattr(source, date_field))
        if moved_to:
            before["allocations_applied_on"], after["allocations_applied_on"] = moved_from, moved_to
    audit_record(organization=organization, actor=actor, action=f"{kind}.updated", obj=source,
                 before=before, after=after)
    return source


@transaction.atomic
def payment_update(*, organization: Organization, payment: Payment, actor: Actor, **changes: Any) -> Payment:
    """Correct a payment's date, amount (never below what is allocated), method or references."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, payment)
    _editable_check(changes, PAYMENT_EDITABLE_FIELDS, _("payment"))
    payment = Payment.objects.select_for_update(of=("self",), no_key=True).get(pk=payment.pk, organization=organization)
    return _source_update(organization=organization, actor=actor, source=payment, changes=changes, what=_("payment"),
                          date_field="received_on", kind=AllocationKind.PAYMENT)


def _required_text(changes: dict[str, Any], field: str, message: str) -> None:
    """A correction of a required text field: trimmed, and refused (naming the field) when empty."""
    if field in changes:
        changes[field] = (changes[field] or "").strip()
        if not changes[field]:
            raise DomainError(message, field=field)


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
    amount = balance if amount is None else parse_amount(amount)
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


# --- FX ------------------------------------------------------------------------------------

@transaction.atomic
def fx_rate_set(*, organization: Organization, actor: Actor, currency: str, rate_date: dt.date, rate: Decimal) -> FxRate:
    """Record how many base-currency units one unit of `currency` was worth from `rate_date`."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    currency = validate_currency(currency)
    if currency == organization.base_currency:
        raise DomainError(_("The base currency needs no rate."), field="currency")
    rate = Decimal(str(rate))
    if not rate.is_finite() or rate <= 0:
        raise DomainError(_("A rate must be a positive number."), field="rate")
    fx, created = FxRate.objects.select_for_update(no_key=True).get_or_create(
        organization=organization, currency=currency, rate_date=rate_date, defaults={"rate": rate}
    )
    before = None if created else {"rate": fx.rate}
    if not created:
        fx.rate = rate
        fx.save(update_fields=["rate"])
    audit_record(organization=organization, actor=actor, action="fx_rate.set", obj=fx, before=before,
                 after={"currency": currency, "rate_date": rate_date, "rate": rate})
    return fx


# --- many at once ----------------------------------------------------------------------------

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


@transaction.atomic
def invoices_create_many(*, organization: Organization, actor: Actor, rows: Sequence[dict[str, Any]]) -> list[Invoice]:
    """invoice_create for many invoices at once, all or none (RowsInvalid names every bad row).

    Each row takes invoice_create's keyword arguments. The same rules apply to every row (amounts,
    currency, dates, credit hold counting all of a customer's new invoices together), then the
    invoices, their audit entries and their invoice.created events are written in bulk: a fixed
    number of statements per batch, not ten per invoice. Each invoice gets `credit_warning`."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    invoices: list[Invoice] = []
    problems: dict[int, list[DomainError]] = {}
    for index, row in enumerate(rows):
        try:
            invoices.append(_invoice_build(organization, row))
        except DomainError as exc:
            problems[index] = [exc]
    if problems:
        raise RowsInvalid(problems)
    from credit.services import credit_hold_check_many  # lazily: credit depends on receivables, not the reverse
    held = credit_hold_check_many(organization=organization, invoices=[(i.customer, i.total_amount, i.currency)
                                                                       for i in invoices])
    refused = {index: [DomainError(held[i.customer_id][0], code=ErrorCode.CREDIT_HOLD, field="customer")]
               for index, i in enumerate(invoices)
               if held.get(i.customer_id, ("", False))[1] and i.kind != InvoiceKind.CHARGES}
    if refused:
        raise RowsInvalid(refused)
    audit = AuditBatch(organization=organization, actor=actor, action="invoice.created")
    _insert_many(invoices, {f"invoice_{field}_unique": (
        field, _("An invoice with this %(field)s was created meanwhile; retry.") % {"field": field})
        for field in ("external_id", "number")},
        # Each audit entry is made while the database stores the invoices before it.
        meanwhile=lambda invoice: audit.add(invoice, None, _created_snapshot(invoice, held)))
    audit.write()
    events.invoices_event(organization, invoices, "invoice.created")
    for invoice in invoices:
        invoice.credit_warning = held.get(invoice.customer_id, (None, False))[0]
    return invoices


def _created_snapshot(invoice: Invoice, held: dict[int, tuple[str, bool]]) -> dict[str, Any]:
    """An invoice.created entry; a charges invoice records the credit hold it passed."""
    after = _snapshot(invoice, INVOICE_AUDIT_FIELDS)
    if invoice.kind == InvoiceKind.CHARGES and invoice.customer_id in held:
        after["credit_hold_passed"] = held[invoice.customer_id][0]
    return after


def _payment_build(organization: Organization, row: dict[str, Any]) -> Payment:
    """payment_record's checks on one row, without touching the database."""
    customer: Customer = row["customer"]
    same_organization_check(organization, customer)
    amount = parse_amount(row["amount"])
    payment = Payment(
        organization=organization, customer=customer, received_on=row["received_on"], amount=amount,
        unapplied_amount=amount, currency=validate_currency(row.get("currency") or customer.currency),
        method=row.get("method") or "bank_transfer", reference=row.get("reference", ""),
        external_id=row.get("external_id") or None,
    )
    model_check(payment, exclude=["organization", "customer"])
    if row.get("invoice") is not None:
        same_organization_check(organization, row["invoice"])
    return payment


class _OpenBook:
    """The invoices a batch of payments may settle, locked, with their balances kept current in
    memory as each payment is applied in turn (what the database would show the next payment)."""

    def __init__(self, organization: Organization, payments: list[Payment], explicit_ids: set[int]):
        customer_ids = {p.customer_id for p in payments}
        rows = (Invoice.objects.select_for_update(of=("self",), no_key=True).filter(organization=organization)
                .filter(Q(customer_id__in=customer_ids, voided_on__isnull=True, applied_amount__lt=F("total_amount"))
                        | Q(pk__in=explicit_ids))
                .order_by("pk"))
        self.invoices = {invoice.pk: invoice for invoice in rows}
        self.queues: dict[tuple[int, str], list[Invoice]] = {}
        for invoice in sorted(self.invoices.values(), key=lambda i: (i.due_date, i.issue_date, i.pk)):
            if invoice.voided_on is None and invoice.applied_amount < invoice.total_amount:
                self.queues.setdefault((invoice.customer_id, invoice.currency), []).append(invoice)

    def oldest_first(self, payment: Payment) -> list[tuple[Invoice, Decimal]]:
        remaining, plan = payment.unapplied_amount, []
        for invoice in self.queues.get((payment.customer_id, payment.currency), []):
            if remaining <= 0:
                break
            take = min(remaining, invoice.total_amount - invoice.applied_amount)
            if take > 0:
                plan.append((invoice, take))
                remaining -= take
        return plan

    def explicit(self, payment: Payment, invoice_id: int) -> list[tuple[Invoice, Decimal]]:
        invoice = self.invoices[invoice_id]
        _source_match_check(invoice, customer_id=payment.customer_id, currency=payment.currency,
                            what=AllocationKind.PAYMENT.label.lower())
        _apply_check(invoice, payment.amount)
        return [(invoice, payment.amount)]


def _payments_plan(organization: Organization, rows: Sequence[dict[str, Any]]):
    """payments_record_many's checks and plan, nothing written: (payments, each one's allocation plan,
    the invoices touched with their new figures, problems by row index). The invoices are locked."""
    payments: list[Payment | None] = []
    problems: dict[int, list[DomainError]] = {}
    for index, row in enumerate(rows):
        try:
            payments.append(_payment_build(organization, row))
        except DomainError as exc:
            problems[index] = [exc]
            payments.append(None)  # keeps indexes; never written (the caller refuses the batch)
    explicit = {index: row["invoice"].pk for index, row in enumerate(rows) if row.get("invoice") is not None}
    book = _OpenBook(organization, [p for p in payments if p is not None], set(explicit.values()))
    plans: list[list[tuple[Invoice, Decimal]]] = []
    touched: dict[int, Invoice] = {}
    for index, payment in enumerate(payments):
        plan: list[tuple[Invoice, Decimal]] = []
        if payment is not None:
            try:
                plan = book.explicit(payment, explicit[index]) if index in explicit else book.oldest_first(payment)
            except DomainError as exc:
                problems[index] = [exc]
                plan = []
        for invoice, amount in plan:
            invoice.applied_amount += amount
            invoice.status = _invoice_status(invoice)
            touched[invoice.pk] = invoice
        if payment is not None:
            payment.unapplied_amount = payment.amount - sum((amount for _i, amount in plan), ZERO)
        plans.append(plan)
    return payments, plans, touched, problems


def payments_check_many(*, organization: Organization, rows: Sequence[dict[str, Any]]) -> dict[int, list[DomainError]]:
    """What payments_record_many would refuse in these rows (by index), writing nothing: lets an import
    list every problem of a file in one pass."""
    return _payments_plan(organization, rows)[3]


@transaction.atomic
def payments_record_many(*, organization: Organization, actor: Actor, rows: Sequence[dict[str, Any]]) -> list[Payment]:
    """payment_record for many payments, in order, all or none (RowsInvalid names every bad row).

    Each row takes payment_record's keyword arguments, and optionally `invoice`: the whole payment
    goes to that invoice (payment_allocate's rules); without it, oldest due first as payment_record
    does, each payment seeing what the rows before it applied. The invoices are locked once, then the
    payments, allocations, the invoices' new figures, the audit entries and the events are written in
    bulk. One event per invoice touched (invoice.paid or invoice.updated, its final state) and one
    payment.received per payment."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    payments, plans, touched, problems = _payments_plan(organization, rows)
    if problems:
        raise RowsInvalid(problems)
    _insert_many(payments, {"payment_external_id_unique": (
        "external_id", _("A payment with this external id was created meanwhile; retry."))})
    allocations, allocation_audit = [], []
    for payment, plan in zip(payments, plans, strict=True):
        for invoice, amount in plan:
            allocation = Allocation(organization=organization, invoice=invoice, kind=AllocationKind.PAYMENT,
                                    payment=payment, amount=amount, currency=invoice.currency,
                                    applied_on=max(payment.received_on, invoice.issue_date))
            allocations.append(allocation)
            allocation_audit.append((allocation, invoice))
    objects_insert(allocations, batch_size=BULK_BATCH)
    now = timezone.now()
    for invoice in touched.values():
        invoice.updated_at = now
    objects_update(Invoice.objects.filter(organization=organization), list(touched.values()),
                   ["applied_amount", "status", "updated_at"], batch_size=BULK_BATCH)
    audit_record_many(organization=organization, actor=actor, action="payment.recorded", entries=[
        (p, None, _snapshot(p, PAYMENT_AUDIT_FIELDS))
        for p in payments])
    # Each allocation's entry shows the invoice's balance after it, as payment_allocate records it.
    running = {pk: invoice.total_amount - invoice.applied_amount for pk, invoice in touched.items()}
    after_each = {}
    for allocation, invoice in reversed(allocation_audit):
        after_each[id(allocation)] = running[invoice.pk]
        running[invoice.pk] += allocation.amount
    audit_record_many(organization=organization, actor=actor, action=f"{AllocationKind.PAYMENT}.allocated", entries=[
        (allocation, None, {"invoice": invoice.number, "amount": allocation.amount, "currency": invoice.currency,
                            "source_id": allocation.payment_id, "invoice_balance": after_each[id(allocation)]})
        for allocation, invoice in allocation_audit])
    paid = [i for i in touched.values() if i.status == InvoiceStatus.PAID]
    events.invoices_event(organization, paid, "invoice.paid")
    events.invoices_event(organization, [i for i in touched.values() if i.status != InvoiceStatus.PAID],
                          "invoice.updated")
    events.payments_received(organization, payments)
    return payments


def _insert_many(objects: list[Model], clashes: dict[str, tuple[str, str]],
                 meanwhile: Callable[[Model], object] | None = None) -> None:
    """Insert new objects of one model (COPY on PostgreSQL; `meanwhile` as objects_insert's). A
    clash on one of the unique constraints named in `clashes` ({constraint: (field, message)}; the
    callers check first, so this is a concurrent writer's row) is a DomainError with that message."""
    try:
        with transaction.atomic():  # a savepoint, so the clash can be reported as a domain error
            objects_insert(objects, batch_size=BULK_BATCH, meanwhile=meanwhile)
    except IntegrityError as exc:
        clash = next((clash for name, clash in clashes.items() if name in str(exc)), None)
        if clash is None:
            raise
        raise DomainError(clash[1], code=ErrorCode.DUPLICATE, field=clash[0]) from None


def _save_many(organization: Organization, objects: list[Model], fields: set[str], *, constraint: str,
               message: str) -> None:
    """Save changed objects of one model of `organization`: one UPDATE per batch, `updated_at` set now.
    A clash on the unique `constraint` (an external id taken meanwhile) is a DomainError with `message`."""
    now = timezone.now()
    for obj in objects:
        obj.updated_at = now
    try:
        with transaction.atomic():  # a savepoint, so the clash can be reported as a domain error
            objects_update(type(objects[0]).objects.filter(organization=organization), objects,
                           sorted(fields | {"updated_at"}), batch_size=BULK_BATCH)
    except IntegrityError as exc:
        if constraint not in str(exc):
            raise
        raise DomainError(message, code=ErrorCode.DUPLICATE, field="external_id") from None


@transaction.atomic
def customers_create_many(*, organization: Organization, actor: Actor,
                          rows: Sequence[dict[str, Any]]) -> list[Customer]:
    """customer_create for many customers, all or none (RowsInvalid names every bad row); written,
    with one audit entry each, in a fixed number of statements."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    customers: list[Customer] = []
    problems: dict[int, list[DomainError]] = {}
    for index, row in enumerate(rows):
        try:
            customers.append(_customer_build(organization, dict(row)))
        except DomainError as exc:
            problems[index] = [exc]
    if problems:
        raise RowsInvalid(problems)
    _insert_many(customers, {"customer_external_id_unique": (
        "external_id", _("A customer with this external id was created meanwhile; retry."))})
    audit_record_many(organization=organization, actor=actor, action="customer.created",
                      entries=[(c, None, _snapshot(c, CUSTOMER_FIELDS)) for c in customers])
    return customers


@transaction.atomic
def customers_update_many(*, organization: Organization, actor: Actor,
                          changes: Sequence[tuple[Customer, dict[str, Any]]]) -> list[Customer]:
    """customer_update for many customers, all or none (RowsInvalid names every bad row): the changed
    ones are saved in one UPDATE per batch, each audited, each announced (customer.updated)."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    changed_customers: list[Customer] = []
    entries = []
    fields: set[str] = set()
    problems: dict[int, list[DomainError]] = {}
    for index, (customer, _change) in enumerate(changes):
        try:
            same_organization_check(organization, customer)
        except DomainError as exc:
            problems[index] = [exc]
    if problems:
        raise RowsInvalid(problems)
    # The rows as they are now, locked: the changes apply to them, not to what the caller read earlier.
    locked = {c.pk: c for c in Customer.objects.select_for_update(of=("self",), no_key=True)
              .filter(organization=organization, pk__in=[c.pk for c, _change in changes]).order_by("pk")}
    for index, (customer, change) in enumerate(changes):
        customer = locked[customer.pk]
        try:
            before, changed = _customer_change(customer, dict(change))
        except DomainError as exc:
            problems[index] = [exc]
            continue
        if changed:
            changed_customers.append(customer)
            entries.append((customer, before, changed))
            fields |= set(changed)
    if problems:
        raise RowsInvalid(problems)
    if not changed_customers:
        return []
    _save_many(organization, changed_customers, fields, constraint="customer_external_id_unique",
               message=_("A customer with this external id already exists."))
    audit_record_many(organization=organization, actor=actor, action="customer.updated", entries=entries)
    events.customers_updated(organization, changed_customers)
    return changed_customers


@transaction.atomic
def invoices_update_many(*, organization: Organization, actor: Actor,
                         changes: Sequence[tuple[Invoice, dict[str, Any]]]) -> list[Invoice]:
    """invoice_update for many invoices, all or none (RowsInvalid names every bad row). The invoices
    are locked once; the changed ones are saved in one UPDATE per batch, each audited and announced
    (invoice.updated); a new issue date re-dates that invoice's allocations as invoice_update does."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    problems: dict[int, list[DomainError]] = {}
    for index, (invoice, change) in enumerate(changes):
        try:
            same_organization_check(organization, invoice)
            _editable_check(change, INVOICE_EDITABLE_FIELDS, _("invoice"))
        except DomainError as exc:
            problems[index] = [exc]
    if problems:
        raise RowsInvalid(problems)
    _payments_lock_for_redate(organization, [invoice.pk for invoice, change in changes if "issue_date" in change])
    locked = _lock_invoices(organization, [invoice.pk for invoice, _change in changes])
    updated, entries, fields, increases = [], [], set(), []
    for index, (invoice, change) in enumerate(changes):
        current = locked[invoice.pk]
        total_before = current.total_amount
        try:
            before, changed = _invoice_change(current, change)
        except DomainError as exc:
            problems[index] = [exc]
            continue
        increases.append((current, current.total_amount - total_before))
        if changed:
            updated.append(current)
            entries.append((current, before, dict(changed)))
            fields |= set(changed) | {"total_amount", "status"}
    if problems:
        raise RowsInvalid(problems)
    warnings = _increases_hold_check(organization, increases)  # indexes match `changes`: every row got here
    if not updated:
        return []
    _save_many(organization, updated, fields, constraint="invoice_external_id_unique",
               message=_("An invoice with this external id already exists."))
    for invoice, before, after in entries:
        if "issue_date" in after:
            _invoice_redate(organization, invoice, before, after)
    audit_record_many(organization=organization, actor=actor, action="invoice.updated", entries=entries)
    events.invoices_event(organization, updated, "invoice.updated")
    for invoice in updated:
        invoice.credit_warning = warnings.get(invoice.pk)
    return updated
