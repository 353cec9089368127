"""Applying a payment's or credit note's unapplied amount to invoices, and correcting a source's
amount or date (re-dating its allocations)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization
from tenancy.money import ZERO, Money, minor_unit_check, parse_amount
from tenancy.services import (
    Actor,
    audit_record,
    model_check,
    same_organization_check,
)

from ..models import (
    Allocation,
    AllocationKind,
    CreditNote,
    Invoice,
    Payment,
)
from .common import _apply_to_invoice, _lock_invoices, _save_unique, _snapshot, _source_match_check
from .fx import Conversion, FxLeg, fx_table, payment_leg


def _allocate(
    *,
    organization: Organization,
    actor: Actor,
    source: Payment | CreditNote,
    kind: AllocationKind,
    source_date: dt.date,
    allocations: Sequence[tuple] | None,
) -> list[Allocation]:
    """Apply a payment's or credit note's unapplied amount to invoices (locks held by caller). Each
    line is (invoice, amount) or, for a payment in another currency than the invoice's,
    (invoice, amount, Conversion) (services/fx.py)."""
    _not_reversed_check(source, kind.label.lower())
    conversions: dict[int, Conversion] = {}
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
        requested = [(line[0], parse_amount(line[1])) for line in allocations]
        conversions = {index: line[2] for index, line in enumerate(allocations) if len(line) > 2 and line[2]}
        if conversions and kind != AllocationKind.PAYMENT:
            raise DomainError(_("Only a payment converts from another currency."), field="rate")
        for invoice, _amount in requested:
            same_organization_check(organization, invoice)
        locked = _lock_invoices(organization, [invoice.pk for invoice, _amount in requested])
        plan = [(locked[invoice.pk], amount) for invoice, amount in requested]
        for invoice, amount in plan:
            minor_unit_check(amount, invoice.currency, field="amount")
        for invoice, _amount in plan:  # another customer's invoice is refused as such, before any conversion
            _source_match_check(invoice, customer_id=source.customer_id, currency=invoice.currency,
                                what=kind.label.lower())
    legs = _payment_legs(organization, source, plan, conversions) if kind == AllocationKind.PAYMENT else None
    if allocations is not None:
        total = sum((leg.used for leg in legs), ZERO) if legs else sum((amount for _invoice, amount in plan), ZERO)
        if total > source.unapplied_amount:
            raise DomainError(
                _("Only %(left)s of this %(what)s is unapplied; %(total)s was requested.")
                % {"left": Money(source.unapplied_amount, source.currency), "total": Money(total, source.currency),
                   "what": kind.label.lower()},
                code=ErrorCode.INSUFFICIENT_FUNDS, field="amount",
            )
    created = []
    for index, (invoice, amount) in enumerate(plan):
        leg = legs[index] if legs else None
        _source_match_check(invoice, customer_id=source.customer_id, what=kind.label.lower(),
                            currency=invoice.currency if leg and leg.payment_currency else source.currency)
        _apply_to_invoice(invoice, amount, cash=kind == AllocationKind.PAYMENT)
        allocation = Allocation.objects.create(
            organization=organization, invoice=invoice, kind=kind, amount=amount, currency=invoice.currency,
            applied_on=max(source_date, invoice.issue_date),
            **{"payment" if kind == AllocationKind.PAYMENT else "credit_note": source},
            **(leg.fields() if leg else {}),
        )
        created.append(allocation)
        audit_record(organization=organization, actor=actor, action=f"{kind}.allocated", obj=allocation,
                     after={"invoice": invoice.number, "amount": amount, "currency": invoice.currency,
                            "source_id": source.pk, "invoice_balance": invoice.total_amount - invoice.applied_amount,
                            **(leg.audit() if leg else {})})
    applied = sum((leg.used for leg in legs), ZERO) if legs else sum((a.amount for a in created), ZERO)
    if applied:
        source.unapplied_amount -= applied
        source.save(update_fields=["unapplied_amount", "updated_at"])
    return created


def _payment_legs(organization: Organization, payment: Payment, plan: Sequence[tuple[Invoice, Decimal]],
                  conversions: dict[int, Conversion]) -> list[FxLeg]:
    """Each line's FX leg (services/fx.py), in order, each after the lines before it on the same invoice."""
    fx = fx_table(organization, {payment.currency, *(invoice.currency for invoice, _amount in plan)},
                  payment.received_on)
    applied: dict[int, Decimal] = {}
    legs = []
    for index, (invoice, amount) in enumerate(plan):
        before = applied.get(invoice.pk, invoice.applied_amount)
        legs.append(payment_leg(organization, fx, payment=payment, invoice=invoice, amount=amount,
                                conversion=conversions.get(index), applied=before))
        applied[invoice.pk] = before + amount
    return legs


def _not_reversed_check(source: Payment | CreditNote, what: str) -> None:
    """A reversed payment or credit note is out of the ledger: it is never applied or corrected again."""
    if source.reversed_on is not None:
        raise DomainError(_("This %(what)s was reversed on %(date)s; it cannot be used again.")
                          % {"what": what, "date": source.reversed_on.isoformat()}, field="payment")


def _unapplied_after_amount_change(source: Payment | CreditNote, amount: Decimal, what: str) -> Decimal:
    """The unapplied amount once `amount` replaces the source's amount; never below what is applied."""
    applied = source.amount - source.unapplied_amount - getattr(source, "refunded_amount", 0)
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
    # Reversal rows keep their own dates (they happened when they happened).
    allocations = list(Allocation.objects.filter(organization=organization, reverses__isnull=True, **{fk: source})
                       .order_by("pk"))
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
    _not_reversed_check(source, what)
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
