"""Payments: record, allocate, correct."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from tenancy.models import Organization, Role
from tenancy.money import parse_amount, validate_currency
from tenancy.services import (
    Actor,
    audit_record,
    model_check,
    role_require,
    same_organization_check,
)

from .. import events
from ..models import (
    Allocation,
    AllocationKind,
    Customer,
    Invoice,
    Payment,
)
from .allocations import _allocate, _source_update
from .common import PAYMENT_AUDIT_FIELDS, _editable_check, _lock_invoices, _save_unique, _snapshot
from .reversals import payment_available_on


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
    if auto_allocate:
        # The lock order: the invoices this cash may settle are locked before the audit chain is.
        _lock_invoices(organization, Invoice.objects.filter(
            organization=organization, customer_id=payment.customer_id, currency=payment.currency,
            voided_on__isnull=True, applied_amount__lt=F("total_amount")).values_list("pk", flat=True))
    audit_record(organization=organization, actor=actor, action="payment.recorded", obj=payment,
                 after=_snapshot(payment, PAYMENT_AUDIT_FIELDS))
    if auto_allocate:
        payment_allocate(organization=organization, actor=actor, payment=payment)
        payment.refresh_from_db()
    events.payment_received(organization, payment)
    return payment


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
                     source_date=payment_available_on(payment), allocations=allocations)


# Customer and currency are not editable: the allocations' composite foreign keys tie them to
# the invoices they settle. A different customer or currency is a different payment.
PAYMENT_EDITABLE_FIELDS = ("received_on", "amount", "method", "reference", "external_id")


@transaction.atomic
def payment_update(*, organization: Organization, payment: Payment, actor: Actor, **changes: Any) -> Payment:
    """Correct a payment's date, amount (never below what is allocated), method or references."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, payment)
    _editable_check(changes, PAYMENT_EDITABLE_FIELDS, _("payment"))
    payment = Payment.objects.select_for_update(of=("self",), no_key=True).get(pk=payment.pk, organization=organization)
    return _source_update(organization=organization, actor=actor, source=payment, changes=changes, what=_("payment"),
                          date_field="received_on", kind=AllocationKind.PAYMENT)


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
