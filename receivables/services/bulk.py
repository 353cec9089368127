"""Many rows at once (the bulk API and the importer): the single-row services' rules, written in
a fixed number of statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.db import objects_insert, objects_update
from tenancy.errors import DomainError, ErrorCode, RowsInvalid
from tenancy.models import Organization, Role
from tenancy.money import ZERO
from tenancy.services import (
    Actor,
    AuditBatch,
    audit_record_many,
    role_require,
    same_organization_check,
)

from .. import events
from ..gates import credit_hold_many
from ..models import (
    Allocation,
    AllocationKind,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
)
from ..selectors import FxTable
from .common import (
    BULK_BATCH,
    CUSTOMER_FIELDS,
    INVOICE_EDITABLE_FIELDS,
    PAYMENT_AUDIT_FIELDS,
    _apply_check,
    _editable_check,
    _insert_many,
    _invoice_status,
    _lock_invoices,
    _save_many,
    _snapshot,
    _source_match_check,
)
from .customers import _customer_build, _customer_change
from .fx import (
    ISSUE_VALUE_FIELDS,
    Conversion,
    FxLeg,
    fx_table,
    issue_values_set,
    payment_in_invoice_currency,
    payment_leg,
)
from .invoices import (
    _created_snapshot,
    _increases_hold_check,
    _invoice_build,
    _invoice_change,
    _invoice_redate,
    _payments_lock_for_redate,
)
from .payments import _payment_build


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
    held = credit_hold_many(organization=organization, invoices=[(i.customer, i.total_amount, i.currency)
                                                                 for i in invoices])
    refused = {index: [DomainError(held[i.customer_id][0], code=ErrorCode.CREDIT_HOLD, field="customer")]
               for index, i in enumerate(invoices)
               if held.get(i.customer_id, ("", False))[1] and i.kind != InvoiceKind.CHARGES}
    if refused:
        raise RowsInvalid(refused)
    issue_values_set(organization, invoices)
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

    def explicit(self, payment: Payment, invoice_id: int, fx: FxTable) -> list[tuple[Invoice, Decimal]]:
        invoice = self.invoices[invoice_id]
        cross = invoice.currency != payment.currency  # the whole payment converts at the receipt date's rates
        _source_match_check(invoice, customer_id=payment.customer_id, what=AllocationKind.PAYMENT.label.lower(),
                            currency=invoice.currency if cross else payment.currency)
        amount = payment_in_invoice_currency(fx, payment=payment, invoice=invoice) if cross else payment.amount
        _apply_check(invoice, amount)
        return [(invoice, amount)]


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
    valid = [p for p in payments if p is not None]
    # The rates the FX legs need (one query; none when everything is in the base currency).
    fx = fx_table(organization, {p.currency for p in valid} | {i.currency for i in book.invoices.values()},
                  max((p.received_on for p in valid), default=dt.date.min))
    plans: list[list[tuple[Invoice, Decimal]]] = []
    legs: list[list[FxLeg]] = []
    touched: dict[int, Invoice] = {}
    for index, payment in enumerate(payments):
        plan: list[tuple[Invoice, Decimal]] = []
        payment_legs: list[FxLeg] = []
        if payment is not None:
            try:
                plan = (book.explicit(payment, explicit[index], fx) if index in explicit
                        else book.oldest_first(payment))
                for invoice, amount in plan:
                    whole = Conversion(payment_amount=payment.amount) if invoice.currency != payment.currency else None
                    payment_legs.append(payment_leg(organization, fx, payment=payment, invoice=invoice, amount=amount,
                                                    conversion=whole))
            except DomainError as exc:
                problems[index] = [exc]
                plan, payment_legs = [], []
        for invoice, amount in plan:
            invoice.applied_amount += amount
            invoice.status = _invoice_status(invoice)
            touched[invoice.pk] = invoice
        if payment is not None:
            payment.unapplied_amount = payment.amount - sum((leg.used for leg in payment_legs), ZERO)
        plans.append(plan)
        legs.append(payment_legs)
    return payments, plans, touched, problems, legs


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
    payments, plans, touched, problems, legs = _payments_plan(organization, rows)
    if problems:
        raise RowsInvalid(problems)
    _insert_many(payments, {"payment_external_id_unique": (
        "external_id", _("A payment with this external id was created meanwhile; retry."))})
    allocations, allocation_audit = [], []
    for payment, plan, payment_legs in zip(payments, plans, legs, strict=True):
        for (invoice, amount), leg in zip(plan, payment_legs, strict=True):
            allocation = Allocation(organization=organization, invoice=invoice, kind=AllocationKind.PAYMENT,
                                    payment=payment, amount=amount, currency=invoice.currency,
                                    applied_on=max(payment.received_on, invoice.issue_date), **leg.fields())
            allocations.append(allocation)
            allocation_audit.append((allocation, invoice, leg))
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
    for allocation, invoice, _leg in reversed(allocation_audit):
        after_each[id(allocation)] = running[invoice.pk]
        running[invoice.pk] += allocation.amount
    audit_record_many(organization=organization, actor=actor, action=f"{AllocationKind.PAYMENT}.allocated", entries=[
        (allocation, None, {"invoice": invoice.number, "amount": allocation.amount, "currency": invoice.currency,
                            "source_id": allocation.payment_id, "invoice_balance": after_each[id(allocation)],
                            **leg.audit()})
        for allocation, invoice, leg in allocation_audit])
    paid = [i for i in touched.values() if i.status == InvoiceStatus.PAID]
    events.invoices_event(organization, paid, "invoice.paid")
    events.invoices_event(organization, [i for i in touched.values() if i.status != InvoiceStatus.PAID],
                          "invoice.updated")
    events.payments_received(organization, payments)
    return payments


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
    updated, entries, fields, increases, revalued = [], [], set(), [], []
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
            if ISSUE_VALUE_FIELDS & set(changed):
                revalued.append(current)
                fields |= {"issue_rate", "base_amount"}
    if problems:
        raise RowsInvalid(problems)
    warnings = _increases_hold_check(organization, increases)  # indexes match `changes`: every row got here
    if not updated:
        return []
    issue_values_set(organization, revalued)
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
