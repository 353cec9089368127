"""Payment plans and their installments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, parse_amount
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from .. import selectors
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

@transaction.atomic
def payment_plan_create(*, organization: Organization, actor: Actor, customer: Customer,
                        invoices: Sequence[Invoice], installments: Sequence[tuple[dt.date, Decimal | str]],
                        interest_rate: Decimal | str = "0", grace_days: int = 3, notes: str = "") -> PaymentPlan:
    """Agree installments over invoices; they must add up to the covered balance plus interest."""
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
    schedule = sorted((due, parse_amount(amount, field="installments")) for due, amount in installments)
    if schedule[0][0] < today:
        raise DomainError(_("Installments cannot fall due in the past."), field="installments")
    if len({due for due, _a in schedule}) != len(schedule):
        raise DomainError(_("Two installments cannot fall due on the same day."), field="installments")
    covered = sum((i.balance for i in locked), ZERO)
    rate = parse_amount(interest_rate, field="interest_rate", allow_zero=True)
    interest = selectors.late_interest(covered, currency, rate, (schedule[-1][0] - today).days)
    needed = covered + interest
    given = sum((amount for _due, amount in schedule), ZERO)
    if given != needed:
        raise DomainError(
            _("The installments add up to %(given)s; the plan needs %(needed)s (covered balance %(covered)s "
              "plus interest %(interest)s).")
            % {"given": Money(given, currency), "needed": Money(needed, currency),
               "covered": Money(covered, currency), "interest": Money(interest, currency)}, field="installments")
    plan = PaymentPlan.objects.create(organization=organization, customer=customer, currency=currency,
                                      covered_amount=covered, interest_rate=rate, interest_amount=interest,
                                      total_amount=needed, start_date=today, grace_days=grace_days, notes=notes)
    plan.invoices.set(locked)
    Installment.objects.bulk_create([Installment(organization=organization, plan=plan, sequence=n, due_date=due,
                                                 amount=amount) for n, (due, amount) in enumerate(schedule, 1)])
    payload = {"id": plan.pk, "customer": customer.pk, "currency": currency, "covered": covered,
               "interest": interest, "total": needed, "invoices": sorted(i.number for i in locked),
               "installments": [{"due": due, "amount": amount} for due, amount in schedule]}
    audit_record(organization=organization, actor=actor, action="plan.created", obj=plan, after=payload)
    timeline_add(organization=organization, customer=customer, kind=EventKind.PLAN_CREATED,
                 summary=_("Payment plan: %(count)s installments, %(total)s")
                 % {"count": len(schedule), "total": Money(needed, currency)}, data=payload,
                 actor_label=_actor_label(actor))
    return plan


def plans_evaluate(*, organization: Organization, today: dt.date) -> dict[str, int]:
    """Completed when paid in full; defaulted (dunning resumes) when an installment is missed
    past its grace days. Payments count from the day the plan was agreed."""
    counts = {"completed": 0, "defaulted": 0}
    for plan in PaymentPlan.objects.filter(organization=organization, status=PlanStatus.ACTIVE) \
            .select_related("customer").prefetch_related("installments").order_by("pk"):
        paid = selectors.payments_between(organization, {plan.customer_id}, plan.start_date, today).get(
            (plan.customer_id, plan.currency), ZERO)
        owed = sum((i.amount for i in plan.installments.all()
                    if i.due_date + dt.timedelta(days=plan.grace_days) < today), ZERO)
        if paid >= plan.total_amount:
            _plan_end(organization, plan, PlanStatus.COMPLETED, paid, owed, today)
            counts["completed"] += 1
        elif paid < owed:
            _plan_end(organization, plan, PlanStatus.DEFAULTED, paid, owed, today)
            counts["defaulted"] += 1
    return counts


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
