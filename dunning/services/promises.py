"""Promises to pay: made, then decided kept or broken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, minor_unit_check, parse_amount
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from .. import selectors
from ..models import (
    CustomerDunning,
    EventKind,
    PromiseStatus,
    PromiseToPay,
    Source,
)
from .common import _actor_label, _emit, _follow_up, timeline_add

# --- promises to pay -----------------------------------------------------------------------

def _customer_invoices(organization: Organization, customer: Customer, invoices: Sequence[Invoice]) -> list[Invoice]:
    if not invoices:
        raise DomainError(_("Choose at least one invoice."), field="invoices")
    for invoice in invoices:
        same_organization_check(organization, invoice)
        if invoice.customer_id != customer.pk:
            raise DomainError(_("Invoice %(number)s belongs to another customer.") % {"number": invoice.number},
                              code=ErrorCode.CUSTOMER_MISMATCH, field="invoices")
    locked = list(Invoice.objects.select_for_update(of=("self",), no_key=True).filter(pk__in=[i.pk for i in invoices])
                  .order_by("pk"))
    currencies = {i.currency for i in locked}
    if len(currencies) > 1:
        raise DomainError(_("The invoices must share one currency."), code=ErrorCode.CURRENCY_MISMATCH,
                          field="invoices")
    for invoice in locked:
        if invoice.balance <= 0:
            raise DomainError(_("Invoice %(number)s is not open.") % {"number": invoice.number},
                              code=ErrorCode.INVOICE_NOT_OPEN, field="invoices")
    return locked


def _promise_payload(promise: PromiseToPay) -> dict:
    return {"id": promise.pk, "customer": promise.customer_id, "amount": promise.amount, "currency": promise.currency,
            "promised_date": promise.promised_date, "pause_until": promise.pause_until, "status": promise.status,
            "paid_amount": promise.paid_amount, "source": promise.source,
            "invoices": sorted(promise.invoices.values_list("number", flat=True))}


@transaction.atomic
def promise_create(*, organization: Organization, actor: Actor, customer: Customer, invoices: Sequence[Invoice],
                   amount: Decimal | str, promised_date: dt.date, grace_days: int = 3, notes: str = "",
                   source: str = Source.COLLECTOR, actor_label: str | None = None) -> PromiseToPay:
    """Record a promise to pay: the invoices are not dunned until the date plus the grace days."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    locked = _customer_invoices(organization, customer, invoices)
    amount = parse_amount(amount)
    total = sum((i.balance for i in locked), ZERO)
    currency = locked[0].currency
    minor_unit_check(amount, currency)
    if amount > total:
        raise DomainError(_("The promise of %(amount)s is more than the %(total)s these invoices owe.")
                          % {"amount": Money(amount, currency), "total": Money(total, currency)}, field="amount")
    today = local_today(organization.timezone)
    if promised_date < today:
        raise DomainError(_("The promised date cannot be in the past."), field="promised_date")
    if not 0 <= grace_days <= 60:
        raise DomainError(_("Grace days must be between 0 and 60."), field="grace_days")
    busy = PromiseToPay.objects.filter(organization=organization, status=PromiseStatus.OPEN,
                                       invoices__in=locked).values_list("invoices__number", flat=True).first()
    if busy:
        raise DomainError(_("Invoice %(number)s already has an open promise.") % {"number": busy},
                          code=ErrorCode.DUPLICATE, field="invoices")
    promise = PromiseToPay.objects.create(
        organization=organization, customer=customer, amount=amount, currency=currency, promised_date=promised_date,
        grace_days=grace_days, pause_until=promised_date + dt.timedelta(days=grace_days), made_on=today, notes=notes,
        source=source, created_by=actor)
    promise.invoices.set(locked)
    payload = _promise_payload(promise)
    audit_record(organization=organization, actor=actor, action="promise.created", obj=promise, after=payload,
                 actor_label=actor_label)
    timeline_add(organization=organization, customer=customer,
                 kind=EventKind.PORTAL_PROMISE if source == Source.PORTAL else EventKind.PROMISE_MADE,
                 summary=_("Promise to pay %(amount)s by %(date)s")
                 % {"amount": Money(amount, currency), "date": promised_date.isoformat()},
                 data={**payload, "notes": notes}, actor_label=actor_label or _actor_label(actor))
    return promise


def promise_invoices_covering(organization: Organization, customer: Customer, amount: Decimal | None,
                              today: dt.date) -> list[Invoice]:
    """The invoices a promise made on the phone covers: the customer's open invoices without an
    open promise, in the currency of the oldest, overdue ones first by due date, as many as the
    promised amount needs (all overdue ones when no amount was named)."""
    promised = PromiseToPay.invoices.through.objects.filter(
        promisetopay__organization=organization, promisetopay__status=PromiseStatus.OPEN).values("invoice_id")
    candidates = list(Invoice.objects.filter(organization=organization, customer=customer, voided_on__isnull=True,
                                             applied_amount__lt=F("total_amount"))
                      .exclude(pk__in=promised).order_by("due_date", "pk"))
    if not candidates:
        return []
    currency = candidates[0].currency
    candidates = [i for i in candidates if i.currency == currency]
    overdue = [i for i in candidates if i.due_date < today]
    if amount in (None, ""):
        return overdue or candidates
    chosen, covered = [], ZERO
    for invoice in candidates:
        if covered >= amount:
            break
        chosen.append(invoice)
        covered += invoice.balance
    return chosen


def promises_evaluate(*, organization: Organization, today: dt.date) -> dict[str, int]:
    """Decide promises from cash applied to the promised invoices (signed allocations: another
    invoice's payment never counts, a reversed one stops counting): kept once the promised amount
    was applied between the promise and its deadline, broken once the deadline passed without it.
    A kept promise whose payment is reversed is open again (or broken, past its deadline)."""
    counts = {"kept": 0, "broken": 0, "reopened": 0}
    reversed_invoices = selectors.invoices_with_reversals(organization)
    promises = PromiseToPay.objects.filter(organization=organization).filter(
        Q(status=PromiseStatus.OPEN) | Q(status=PromiseStatus.KEPT, invoices__in=reversed_invoices))
    for promise in promises.distinct().select_related("customer").prefetch_related("invoices").order_by("pk"):
        ids = [i.pk for i in promise.invoices.all()]
        paid = selectors.cash_applied(organization, ids, promise.made_on, min(today, promise.pause_until),
                                      until=today)
        settled = not Invoice.objects.filter(pk__in=ids, voided_on__isnull=True,
                                             applied_amount__lt=F("total_amount")).exists()
        kept = paid >= promise.amount or settled
        if promise.status == PromiseStatus.KEPT:
            if not kept:
                status = PromiseStatus.OPEN if today <= promise.pause_until else PromiseStatus.BROKEN
                _promise_decide(organization, promise, status, paid, today)
                counts["reopened"] += 1
            continue
        if kept:
            _promise_decide(organization, promise, PromiseStatus.KEPT, min(paid, promise.amount), today)
            counts["kept"] += 1
        elif today > promise.pause_until:
            _promise_decide(organization, promise, PromiseStatus.BROKEN, paid, today)
            counts["broken"] += 1
    return counts


@transaction.atomic
def _promise_decide(organization: Organization, promise: PromiseToPay, status: str, paid: Decimal,
                    today: dt.date) -> None:
    promise.status, promise.paid_amount = status, paid
    promise.settled_on = None if status == PromiseStatus.OPEN else today
    promise.save(update_fields=["status", "paid_amount", "settled_on"])
    payload = _promise_payload(promise)
    audit_record(organization=organization, actor=None, action=f"promise.{status}", obj=promise, after=payload)
    if status == PromiseStatus.OPEN:  # its payment was reversed: pauses dunning again until its deadline
        return
    if status == PromiseStatus.KEPT:
        timeline_add(organization=organization, customer=promise.customer, kind=EventKind.PROMISE_KEPT,
                     summary=_("Promise of %(amount)s kept") % {"amount": Money(promise.amount, promise.currency)},
                     data=payload)
        return
    setting, _created = CustomerDunning.objects.get_or_create(organization=organization, customer=promise.customer)
    CustomerDunning.objects.filter(pk=setting.pk).update(broken_promises=F("broken_promises") + 1)
    timeline_add(organization=organization, customer=promise.customer, kind=EventKind.PROMISE_BROKEN,
                 summary=_("Promise of %(amount)s by %(date)s broken: %(paid)s received")
                 % {"amount": Money(promise.amount, promise.currency), "date": promise.promised_date.isoformat(),
                    "paid": Money(paid, promise.currency)}, data=payload)
    _follow_up(organization, promise.customer, _("Broken promise: call %(customer)s") % {
        "customer": promise.customer.name}, today, setting.collector_id)
    _emit(organization, "promise.broken", payload)
