"""Payment plans and their installments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from receivables import services as ledger
from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, parse_amount
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from .. import selectors
from ..accrual import plan_schedule
from ..models import (
    CustomerDunning,
    EventKind,
    Installment,
    PaymentPlan,
    PlanStatus,
)
from .common import _actor_label, _follow_up, timeline_add
from .promises import _customer_invoices

# --- payment plans -------------------------------------------------------------------------

def _installments_parse(installments: Sequence) -> tuple[list[dt.date], list[Decimal] | None]:
    """Dates, and principal parts when every row gives one (else equal parts)."""
    rows = [row if isinstance(row, tuple | list) else (row, None) for row in installments]
    rows = sorted(((due, None if amount in (None, "") else parse_amount(amount, field="installments"))
                   for due, amount in rows), key=lambda r: r[0])
    dates = [due for due, _a in rows]
    parts = [amount for _d, amount in rows]
    return dates, (None if any(a is None for a in parts) else parts)


def _interest_number(plan: PaymentPlan, invoices: list[Invoice]) -> str:
    """The number of the plan's interest invoice: from its first invoice and the customer's plan
    count, so a rebuilt book gets the same numbers."""
    count = PaymentPlan.objects.filter(organization=plan.organization_id, customer=plan.customer_id).count()
    return f"{invoices[0].number}-INT{count}"[:64]


@transaction.atomic
def payment_plan_create(*, organization: Organization, actor: Actor, customer: Customer,
                        invoices: Sequence[Invoice], installments: Sequence,
                        interest_rate: Decimal | str = "0", grace_days: int = 3, notes: str = "") -> PaymentPlan:
    """Agree installments over invoices. Each row is a due date, or (due date, principal part); the
    parts add up to the covered balance (equal parts when none are given). Interest runs on the
    declining balance (accrual.plan_schedule) and is billed on the ledger as a charges invoice
    that the plan covers, so paying the schedule settles the ledger exactly."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    locked = _customer_invoices(organization, customer, invoices)
    currency = locked[0].currency
    busy = PaymentPlan.objects.filter(organization=organization, status=PlanStatus.ACTIVE,
                                      invoices__in=locked).values_list("invoices__number", flat=True).first()
    if busy:
        raise DomainError(_("Invoice %(number)s is already in an active payment plan.") % {"number": busy},
                          code=ErrorCode.DUPLICATE, field="invoices")
    if not installments:
        raise DomainError(_("A plan needs at least one installment."), field="installments")
    today = local_today(organization.timezone)
    dates, parts = _installments_parse(installments)
    if dates[0] < today:
        raise DomainError(_("Installments cannot fall due in the past."), field="installments")
    if len(set(dates)) != len(dates):
        raise DomainError(_("Two installments cannot fall due on the same day."), field="installments")
    covered = sum((i.balance for i in locked), ZERO)
    if parts is not None and sum(parts, ZERO) != covered:
        raise DomainError(
            _("The installments' principal adds up to %(given)s; the covered balance is %(covered)s "
              "(interest is added on the declining balance).")
            % {"given": Money(sum(parts, ZERO), currency), "covered": Money(covered, currency)},
            field="installments")
    rate = parse_amount(interest_rate, field="interest_rate", allow_zero=True)
    schedule = plan_schedule(principal=covered, currency=currency, start=today, due_dates=dates,
                             annual_rate_percent=rate, principals=parts)
    interest = sum((line.interest for line in schedule), ZERO)
    needed = covered + interest
    plan = PaymentPlan.objects.create(organization=organization, customer=customer, currency=currency,
                                      covered_amount=covered, interest_rate=rate, interest_amount=interest,
                                      total_amount=needed, start_date=today, grace_days=grace_days, notes=notes)
    covered_invoices = list(locked)
    if interest:
        charges = ledger.invoice_create(
            organization=organization, actor=actor, customer=customer, number=_interest_number(plan, locked),
            issue_date=today, due_date=dates[-1], net_amount=interest, currency=currency, kind="charges",
            description=_("Interest of payment plan %(id)s") % {"id": plan.pk})
        plan.charges_invoice = charges
        plan.save(update_fields=["charges_invoice"])
        covered_invoices.append(charges)
    plan.invoices.set(covered_invoices)
    Installment.objects.bulk_create([
        Installment(organization=organization, plan=plan, sequence=line.sequence, due_date=line.due_date,
                    amount=line.amount, principal=line.principal, interest=line.interest,
                    balance_after=line.balance_after) for line in schedule])
    payload = {"id": plan.pk, "customer": customer.pk, "currency": currency, "covered": covered,
               "interest": interest, "total": needed, "invoices": sorted(i.number for i in covered_invoices),
               "installments": [{"due": line.due_date, "amount": line.amount, "principal": line.principal,
                                 "interest": line.interest, "balance_after": line.balance_after}
                                for line in schedule]}
    audit_record(organization=organization, actor=actor, action="plan.created", obj=plan, after=payload)
    timeline_add(organization=organization, customer=customer, kind=EventKind.PLAN_CREATED,
                 summary=_("Payment plan: %(count)s installments, %(total)s")
                 % {"count": len(schedule), "total": Money(needed, currency)}, data=payload,
                 actor_label=_actor_label(actor))
    return plan


def plans_evaluate(*, organization: Organization, today: dt.date) -> dict[str, int]:
    """Completed when paid in full; defaulted (dunning resumes) when an installment is missed
    past its grace days. Only cash applied to the plan's invoices from the day it was agreed counts
    (signed: a reversed payment no longer does)."""
    counts = {"completed": 0, "defaulted": 0, "reopened": 0}
    plans = PaymentPlan.objects.filter(organization=organization).filter(
        Q(status=PlanStatus.ACTIVE)
        | Q(status=PlanStatus.COMPLETED, invoices__in=selectors.invoices_with_reversals(organization)))
    for plan in plans.distinct().select_related("customer").prefetch_related("installments", "invoices") \
            .order_by("pk"):
        paid = selectors.cash_applied(organization, [i.pk for i in plan.invoices.all()], plan.start_date, today,
                                      until=today)
        owed = sum((i.amount for i in plan.installments.all()
                    if i.due_date + dt.timedelta(days=plan.grace_days) < today), ZERO)
        if plan.status == PlanStatus.COMPLETED:
            if paid < plan.total_amount:  # a payment that completed it was reversed: active again
                _plan_reopen(organization, plan, paid)
                counts["reopened"] += 1
            continue
        if paid >= plan.total_amount:
            _plan_end(organization, plan, PlanStatus.COMPLETED, paid, owed, today)
            counts["completed"] += 1
        elif paid < owed:
            _plan_end(organization, plan, PlanStatus.DEFAULTED, paid, owed, today)
            counts["defaulted"] += 1
    return counts


@transaction.atomic
def _plan_reopen(organization: Organization, plan: PaymentPlan, paid: Decimal) -> None:
    plan.status, plan.ended_on = PlanStatus.ACTIVE, None
    plan.save(update_fields=["status", "ended_on"])
    audit_record(organization=organization, actor=None, action="plan.reopened", obj=plan,
                 after={"id": plan.pk, "status": plan.status, "paid": paid, "total": plan.total_amount})


@transaction.atomic
def _plan_end(organization: Organization, plan: PaymentPlan, status: str, paid: Decimal, owed: Decimal,
              today: dt.date) -> None:
    plan.status, plan.ended_on = status, today
    plan.save(update_fields=["status", "ended_on"])
    payload = {"id": plan.pk, "status": status, "paid": paid, "owed_by_now": owed, "total": plan.total_amount}
    audit_record(organization=organization, actor=None, action=f"plan.{status}", obj=plan, after=payload)
    if status == PlanStatus.COMPLETED:
        timeline_add(organization=organization, customer=plan.customer, kind=EventKind.PLAN_COMPLETED,
                     summary=_("Payment plan completed"), data=payload)
        return
    timeline_add(organization=organization, customer=plan.customer, kind=EventKind.PLAN_DEFAULTED,
                 summary=_("Installment missed: %(paid)s paid of %(owed)s due")
                 % {"paid": Money(paid, plan.currency), "owed": Money(owed, plan.currency)}, data=payload)
    setting = CustomerDunning.objects.filter(organization=organization, customer=plan.customer).first()
    _follow_up(organization, plan.customer, _("Missed installment: call %(customer)s") % {
        "customer": plan.customer.name}, today, setting.collector_id if setting else None)
