"""Disputes: they pause dunning on the disputed amount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from receivables import services as ledger
from receivables.models import Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, minor_unit_check, parse_amount
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from ..models import (
    Dispute,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
    EventKind,
    Source,
)
from .common import _actor_label, _emit, timeline_add

DISPUTE_SLA_DAYS = 14


# --- disputes ------------------------------------------------------------------------------

def _disputed_open(invoice: Invoice) -> Decimal:
    return Dispute.objects.filter(invoice=invoice, status=DisputeStatus.OPEN).aggregate(
        s=Sum("amount"))["s"] or ZERO


def _dispute_payload(dispute: Dispute) -> dict:
    return {"id": dispute.pk, "invoice": dispute.invoice.number, "customer": dispute.customer_id,
            "amount": dispute.amount, "currency": dispute.currency, "reason": dispute.reason,
            "status": dispute.status, "resolution": dispute.resolution, "opened_on": dispute.opened_on,
            "due_on": dispute.due_on, "resolved_on": dispute.resolved_on, "source": dispute.source}


@transaction.atomic
def dispute_open(*, organization: Organization, actor: Actor, invoice: Invoice, reason: str,
                 amount: Decimal | str | None = None, description: str = "", owner=None,
                 due_on: dt.date | None = None, source: str = Source.COLLECTOR,
                 actor_label: str | None = None) -> Dispute:
    """Dispute an invoice (or part of it): dunning pauses on the disputed amount."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, invoice)
    invoice = Invoice.objects.select_for_update(of=("self",), no_key=True).get(pk=invoice.pk)
    if reason not in DisputeReason.values:
        raise DomainError(_("Choose a reason: price, quantity, quality, not received, duplicate or other."),
                          field="reason")
    available = invoice.balance - _disputed_open(invoice)
    if available <= 0:
        raise DomainError(_("Invoice %(number)s has nothing left to dispute.") % {"number": invoice.number},
                          code=ErrorCode.INVOICE_NOT_OPEN, field="invoice")
    amount = available if amount in (None, "") else minor_unit_check(parse_amount(amount), invoice.currency)
    if amount > available:
        raise DomainError(_("At most %(available)s of invoice %(number)s can be disputed.")
                          % {"available": Money(available, invoice.currency), "number": invoice.number},
                          field="amount")
    today = local_today(organization.timezone)
    due_on = due_on or today + dt.timedelta(days=DISPUTE_SLA_DAYS)
    if due_on < today:
        raise DomainError(_("The resolve-by date cannot be in the past."), field="due_on")
    dispute = Dispute.objects.create(organization=organization, invoice=invoice, customer_id=invoice.customer_id,
                                     amount=amount, currency=invoice.currency, reason=reason, description=description,
                                     owner=owner, opened_on=today, due_on=due_on, source=source)
    label = actor_label or _actor_label(actor)
    payload = _dispute_payload(dispute)
    audit_record(organization=organization, actor=actor, action="dispute.opened", obj=dispute, after=payload,
                 actor_label=actor_label)
    timeline_add(organization=organization, customer=invoice.customer,
                 kind=EventKind.PORTAL_DISPUTE if source == Source.PORTAL else EventKind.DISPUTE_OPENED,
                 summary=_("Dispute on %(number)s: %(amount)s (%(reason)s)")
                 % {"number": invoice.number, "amount": Money(amount, invoice.currency),
                    "reason": dispute.get_reason_display()}, data={**payload, "description": description},
                 actor_label=label)
    _emit(organization, "dispute.opened", payload)
    return dispute


@transaction.atomic
def dispute_resolve(*, organization: Organization, actor: Actor, dispute: Dispute, resolution: str, notes: str = "",
                    credit_note_number: str | None = None, credit_amount: Decimal | str | None = None) -> Dispute:
    """Close a dispute: credit note issued (created here), invoice corrected, or rejected."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, dispute)
    dispute = Dispute.objects.select_for_update(no_key=True).select_related("invoice", "customer").get(pk=dispute.pk)
    if dispute.status != DisputeStatus.OPEN:
        raise DomainError(_("This dispute is already resolved."), field="status")
    if resolution not in DisputeResolution.values:
        raise DomainError(_("Choose a resolution: credit note issued, invoice corrected or rejected."),
                          field="resolution")
    today = local_today(organization.timezone)
    if resolution == DisputeResolution.CREDIT_NOTE:
        if not credit_note_number:
            raise DomainError(_("Give the credit note a number."), field="credit_note_number")
        amount = dispute.amount if credit_amount in (None, "") else parse_amount(credit_amount)
        ledger.credit_note_create(organization=organization, actor=actor, customer=dispute.customer,
                                  number=credit_note_number, issued_on=today, amount=amount,
                                  currency=dispute.currency, reason=_("Dispute %(id)s") % {"id": dispute.pk},
                                  invoice=dispute.invoice)
    dispute.status, dispute.resolution, dispute.resolution_notes, dispute.resolved_on = (
        DisputeStatus.RESOLVED, resolution, notes, today)
    dispute.save()
    payload = _dispute_payload(dispute)
    audit_record(organization=organization, actor=actor, action="dispute.resolved", obj=dispute, after=payload)
    timeline_add(organization=organization, customer=dispute.customer, kind=EventKind.DISPUTE_RESOLVED,
                 summary=_("Dispute on %(number)s resolved: %(resolution)s")
                 % {"number": dispute.invoice.number, "resolution": dispute.get_resolution_display()},
                 data={**payload, "notes": notes}, actor_label=_actor_label(actor))
    _emit(organization, "dispute.resolved", payload)
    return dispute


@transaction.atomic
def disputes_open(*, organization: Organization, actor: Actor, customer, invoices: list[Invoice], reason: str,
                  amount: Decimal | str | None = None, description: str = "", owner=None,
                  due_on: dt.date | None = None) -> list[Dispute]:
    """Dispute several of a customer's invoices at once: each in full, or `amount` spread over
    them oldest due date first (one currency then). One dispute per invoice, all or none."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    if not invoices:
        raise DomainError(_("Choose at least one invoice."), field="invoices")
    for invoice in invoices:
        same_organization_check(organization, invoice)
        if invoice.customer_id != customer.pk:
            raise DomainError(_("Invoice %(number)s belongs to another customer.") % {"number": invoice.number},
                              code=ErrorCode.CUSTOMER_MISMATCH, field="invoices")
    locked = list(Invoice.objects.select_for_update(of=("self",), no_key=True)
                  .filter(pk__in=[i.pk for i in invoices]).order_by("pk"))
    locked.sort(key=lambda i: (i.due_date, i.pk))
    if amount in (None, ""):
        return [dispute_open(organization=organization, actor=actor, invoice=invoice, reason=reason,
                             description=description, owner=owner, due_on=due_on) for invoice in locked]
    currencies = {i.currency for i in locked}
    if len(currencies) > 1:
        raise DomainError(_("The invoices must share one currency to split an amount between them."),
                          code=ErrorCode.CURRENCY_MISMATCH, field="amount")
    currency = locked[0].currency
    amount = minor_unit_check(parse_amount(amount), currency)
    if amount <= 0:
        raise DomainError(_("The disputed amount must be more than zero."), field="amount")
    available = {i.pk: i.balance - _disputed_open(i) for i in locked}
    total = sum((a for a in available.values() if a > 0), ZERO)
    if amount > total:
        raise DomainError(_("At most %(available)s of these invoices can be disputed.")
                          % {"available": Money(total, currency)}, field="amount")
    disputes, left = [], amount
    for invoice in locked:
        part = min(left, max(available[invoice.pk], ZERO))
        if part <= 0:
            continue
        disputes.append(dispute_open(organization=organization, actor=actor, invoice=invoice, reason=reason,
                                     amount=part, description=description, owner=owner, due_on=due_on))
        left -= part
        if left <= 0:
            break
    return disputes
