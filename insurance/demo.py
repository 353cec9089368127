"""Insurance's part of the demo (`manage.py seed_demo`): a credit-insurance policy of the year, buyer
cover for the customers with the largest balances (approved, one partial, one refused, one
discretionary, one request still waiting for the insurer), overdue notifications for the buyers whose
oldest invoices are overdue, a filed claim and the daily warnings. Written through the services (audit
chain, events), deterministic for a given ledger and day."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from django.db import transaction

from receivables.models import Customer
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.models import Organization

from . import selectors, services
from .models import DeclarationKind

STEP = Decimal("50000")


def _rounded_up(amount: Decimal) -> Decimal:
    return max((amount / STEP).to_integral_value(rounding=ROUND_CEILING) * STEP, STEP)


def _attempt(action):
    """One demo step in a savepoint: a step the ledger does not allow is left out, the rest stays."""
    try:
        with transaction.atomic():
            return action()
    except DomainError:
        return None


def insurance_demo_seed(*, organization: Organization) -> None:
    today = local_today(organization.timezone)
    currency = organization.base_currency
    policy = services.policy_create(
        organization=organization, actor=None, insurer_name="Allianz Trade 安联贸易", policy_number="EH-2026-0418",
        currency=currency, starts_on=today - dt.timedelta(days=330), ends_on=today + dt.timedelta(days=35),
        insured_percentage=Decimal("90"), max_credit_period_days=120, overdue_notification_days=60,
        max_extension_days=90, claim_filing_days=150, waiting_period_days=150,
        discretionary_limit=Decimal("200000"), discretionary_conditions="No overdue over 60 days in the last 12 months.",
        claim_threshold=Decimal("5000"), deductible=Decimal("2000"), premium_rate=Decimal("0.2500"),
        covered_countries=[], warning_days=10)
    # The buyers with the largest open balances in the base currency, largest first.
    balances: dict[int, Decimal] = {}
    for customer in Customer.objects.filter(organization=organization, currency=currency).prefetch_related("invoices"):
        open_total = sum((i.balance for i in customer.invoices.all() if i.voided_on is None), Decimal(0))
        if open_total > 0:
            balances[customer.pk] = open_total
    ranked = sorted(balances, key=lambda pk: (-balances[pk], pk))[:10]
    customers = Customer.objects.in_bulk(ranked)
    requested_on = policy.starts_on + dt.timedelta(days=3)
    for index, pk in enumerate(ranked):
        customer, wanted = customers[pk], _rounded_up(balances[pk])
        if index == 8:  # discretionary: set by the policyholder within its limit
            capped = min(wanted, policy.discretionary_limit)
            _attempt(lambda c=customer, w=capped: services.cover_request_create(
                organization=organization, actor=None, policy=policy, customer=c, request_type="new",
                amount=w, requested_on=requested_on, discretionary=True))
            continue
        request = _attempt(lambda c=customer, w=wanted: services.cover_request_create(
            organization=organization, actor=None, policy=policy, customer=c, request_type="new", amount=w,
            requested_on=requested_on))
        if request is None or index == 9:  # the last one still waits for the insurer
            continue
        decision = {"decision": "approved"}
        if index == 3:
            decision = {"decision": "partial", "amount": _rounded_up(wanted * Decimal("0.6")) - STEP,
                        "reason_code": "7", "reason_text": "Limited financial information"}
        if index == 6:
            decision = {"decision": "refused", "reason_code": "3", "reason_text": "Payment experience unfavourable"}
        _attempt(lambda r=request, d=decision: services.cover_request_decide(
            organization=organization, actor=None, request=r, decided_on=requested_on + dt.timedelta(days=4),
            valid_until=policy.ends_on, **d))
    # Overdue notifications: each buyer's invoices that are overdue and still within the deadline.
    rows = selectors.insured_deadlines(organization, as_of=today)
    by_customer: dict[int, list] = {}
    for row in rows:
        if row.effective_due < today - dt.timedelta(days=15) and row.state in ("ok", "due_soon"):
            by_customer.setdefault(row.customer_id, []).append(row)
    from receivables.models import Invoice

    notified = []
    for customer_pk in sorted(by_customer)[:3]:
        invoice_rows = by_customer[customer_pk]
        notified_on = min(max(r.effective_due for r in invoice_rows) + dt.timedelta(days=1), today)
        invoices = list(Invoice.objects.filter(pk__in=[r.invoice_id for r in invoice_rows]))
        buyer = Customer.objects.get(pk=customer_pk)
        if _attempt(lambda c=buyer, i=invoices, n=notified_on: services.declaration_create(
                organization=organization, actor=None, policy=policy, customer=c,
                kind=DeclarationKind.OVERDUE, invoices=i, notified_on=n)):
            notified.append((customer_pk, invoices))
    # A claim for the first notified buyer, filed today.
    if notified:
        customer_pk, invoices = notified[0]
        claim = _attempt(lambda: services.claim_create(
            organization=organization, actor=None, policy=policy, customer=Customer.objects.get(pk=customer_pk),
            invoices=invoices, recoveries=Decimal("0"), as_of=today))
        if claim is not None:
            _attempt(lambda: services.claim_file(organization=organization, actor=None, claim=claim, filed_on=today))
    services.deadline_warnings_run(organization=organization, as_of=today)
