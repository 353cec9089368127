"""Dunning's part of the demo (`manage.py seed_demo`): a gentle policy for strategic customers,
a past run with its notices and call tasks, a dispute, a kept and a broken promise, a payment
plan, and tasks assigned to the demo collector. Written through the services, so the audit
chain and the customer timelines cover it; deterministic for a given ledger and day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables import services as ledger
from receivables.models import Invoice, Segment
from tenancy.dates import local_today
from tenancy.models import Membership, Organization, Role
from tenancy.money import ZERO, quantize

from . import calendars, services
from .models import Channel, CollectionTask, DisputeReason, StepTemplate, TaskStatus, Tone

GENTLE_STEPS = (
    {"days_from_due": -5, "channel": Channel.EMAIL, "template": StepTemplate.COURTESY},
    {"days_from_due": 7, "channel": Channel.EMAIL, "template": StepTemplate.REMINDER},
    {"days_from_due": 45, "channel": Channel.EMAIL, "template": StepTemplate.SECOND, "call_task": True},
)


def _last_business_day_before(day: dt.date, days: int) -> dt.date:
    day -= dt.timedelta(days=days)
    while not calendars.is_business_day(day, "CN"):
        day -= dt.timedelta(days=1)
    return day


def _overdue_by_customer(organization: Organization, today: dt.date) -> dict[int, list[Invoice]]:
    """Open overdue invoices per customer, oldest due first (customers in id order)."""
    rows: dict[int, list[Invoice]] = {}
    invoices = (Invoice.objects.filter(organization=organization, voided_on__isnull=True, due_date__lt=today)
                .exclude(status__in=["paid", "written_off", "void"]).select_related("customer")
                .order_by("customer_id", "due_date", "pk"))
    for invoice in invoices:
        if invoice.balance > 0:
            rows.setdefault(invoice.customer_id, []).append(invoice)
    return rows


def _user_with_role(organization: Organization, role: Role):
    membership = Membership.objects.filter(organization=organization, role=role).select_related("user").first()
    return membership.user if membership else None


def _installments(total: Decimal, currency: str, start: dt.date, count: int) -> list[tuple[dt.date, Decimal]]:
    part = quantize(total / count, currency)
    amounts = [part] * (count - 1) + [total - part * (count - 1)]
    return [(start + dt.timedelta(days=30 * (n + 1)), amount) for n, amount in enumerate(amounts)]


def dunning_demo_seed(*, organization: Organization) -> dict[str, int]:
    """Give the demo organization a dunning history a collector can work with today."""
    today = local_today(organization.timezone)
    admin = _user_with_role(organization, Role.ADMIN)
    collector = _user_with_role(organization, Role.COLLECTOR)
    gentle = services.dunning_policy_create(organization=organization, actor=admin, name="Gentle / 温和",
                                            steps=GENTLE_STEPS, tone=Tone.GENTLE)
    services.segment_policy_set(organization=organization, actor=admin, segment=Segment.STRATEGIC, policy=gentle)

    # Business days follow the mainland China calendar (statutory holidays and 调休 working days).
    services.dunning_policy_update(organization=organization, actor=admin,
                                   policy=services.dunning_policy_default(organization=organization),
                                   holiday_calendars="CN", interest_mode="fixed", interest_rate=Decimal("6"))
    # Past runs two months, five weeks and a week ago: their notices, messages and call tasks are the
    # history (each invoice went through the steps in sequence; today's run goes on from there).
    runs = [services.dunning_run(organization=organization, actor=None, today=_last_business_day_before(today, days))
            for days in (63, 35, 7)]

    overdue = _overdue_by_customer(organization, today)
    picks = iter(sorted(overdue, key=lambda cid: (-len(overdue[cid]), cid)))
    disputed, kept, broken, planned = (overdue[next(picks)] for _ in range(4))

    invoice = disputed[0]
    services.dispute_open(organization=organization, actor=collector, invoice=invoice, reason=DisputeReason.QUALITY,
                          amount=quantize(invoice.balance / 2, invoice.currency), owner=collector,
                          description="部分货物破损 / part of the goods arrived damaged")

    invoice = kept[0]
    promise = services.promise_create(organization=organization, actor=collector, customer=invoice.customer,
                                      invoices=[invoice], amount=invoice.balance,
                                      promised_date=today + dt.timedelta(days=3), notes="Phone call with AP")
    payment = ledger.payment_record(organization=organization, actor=collector, customer=invoice.customer,
                                    received_on=today, amount=promise.amount, currency=invoice.currency,
                                    reference="PROMISE-KEPT", auto_allocate=False)
    ledger.payment_allocate(organization=organization, actor=collector, payment=payment,
                            allocations=[(invoice, promise.amount)])

    invoice = broken[0]
    services.promise_create(organization=organization, actor=collector, customer=invoice.customer,
                            invoices=[invoice], amount=invoice.balance, promised_date=today, grace_days=0,
                            notes="Promised on the phone; nothing came")
    # Decided as tomorrow's run would: the kept one from the payment, the other broken (a follow-up task).
    services.promises_evaluate(organization=organization, today=today + dt.timedelta(days=1))

    currency = planned[0].currency
    covered = [i for i in planned if i.currency == currency]
    services.payment_plan_create(organization=organization, actor=collector, customer=planned[0].customer,
                                 invoices=covered,
                                 installments=[due for due, _part in _installments(
                                     sum((i.balance for i in covered), ZERO), currency, today, 3)],
                                 interest_rate=Decimal("8"),
                                 notes="Temporary cash-flow difficulty; 3 monthly installments at 8% a year")

    open_tasks = CollectionTask.objects.filter(organization=organization, status=TaskStatus.OPEN).order_by("pk")
    if collector is not None:
        for task in open_tasks[:3]:
            services.collection_task_assign(organization=organization, actor=collector, task=task, user=collector)
    return {"runs": len(runs), "messages": sum(r.messages_count for r in runs),
            "notices": sum(r.notices_count for r in runs),
            "tasks": open_tasks.count()}
