"""Reads of the dunning app: which invoices reached which step today (one SQL statement for
the whole book), the preview, the worklist, disputes' ages, interest, and the timeline."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, QuerySet, Sum

from receivables.models import Customer, Invoice, Payment
from receivables.selectors import FxTable
from tenancy.errors import DomainError
from tenancy.models import ROLE_RANK, Organization, Role
from tenancy.money import ZERO, quantize

from . import financing
from .models import (
    CollectionTask,
    CustomerDunning,
    CustomerEvent,
    Dispute,
    DisputeStatus,
    DunningMessage,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    DunningStep,
    PaymentPlan,
    PlanStatus,
    PromiseStatus,
    PromiseToPay,
    SegmentPolicy,
    TaskStatus,
)

DAYS_PER_YEAR = Decimal(365)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _as_date(value) -> dt.date:
    # SQLite hands raw SQL dates back as strings.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _as_decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


# --- collectors ----------------------------------------------------------------------------

COLLECTOR_ROLES = tuple(role.value for role in Role if ROLE_RANK[role] >= ROLE_RANK[Role.COLLECTOR])


def collectors(organization: Organization) -> QuerySet:
    """The members who may collect (collector role or higher): a customer's collector and task
    assignees are chosen among them."""
    return get_user_model().objects.filter(memberships__organization=organization,
                                           memberships__role__in=COLLECTOR_ROLES).order_by("username")


# --- policies ------------------------------------------------------------------------------

def policy_list(organization: Organization) -> QuerySet[DunningPolicy]:
    """The organization's policies with their steps, default first."""
    return DunningPolicy.objects.filter(organization=organization).prefetch_related("steps")


@dataclass(frozen=True)
class PolicyBook:
    """Every policy and step of an organization, loaded once per run."""

    default: DunningPolicy
    policies: dict[int, DunningPolicy]
    steps: dict[int, DunningStep]
    steps_by_policy: dict[int, list[DunningStep]]  # highest days first

    @classmethod
    def load(cls, organization: Organization, default: DunningPolicy) -> PolicyBook:
        policies = {p.pk: p for p in DunningPolicy.objects.filter(organization=organization)}
        steps = {s.pk: s for s in DunningStep.objects.filter(organization=organization)}
        by_policy: dict[int, list[DunningStep]] = defaultdict(list)
        for step in sorted(steps.values(), key=lambda s: -s.days_from_due):
            by_policy[step.policy_id].append(step)
        return cls(default, policies, steps, dict(by_policy))


# --- the daily evaluation ------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """An open invoice that reached a step it was not yet dunned for."""

    invoice_id: int
    number: str
    customer_id: int
    issue_date: dt.date
    due_date: dt.date
    currency: str
    balance: Decimal
    disputed: Decimal
    step: DunningStep
    days_overdue: int

    @property
    def amount_due(self) -> Decimal:
        return self.balance - self.disputed


def _reached_case(book: PolicyBook, today: dt.date, params: dict) -> tuple[str, str]:
    """Two CASE expressions over the CTE row: the id and the days of the highest step its
    policy reached today. Cut-off dates are computed here, so the SQL needs no date
    arithmetic (it runs the same on PostgreSQL and SQLite)."""
    business_day = today.weekday() < 5
    whens_id, whens_days = [], []
    for policy_id, steps in book.steps_by_policy.items():
        if not business_day and book.policies[policy_id].business_days_only:
            continue
        for step in steps:
            key = f"s{step.pk}"
            params[f"{key}_cut"] = today - dt.timedelta(days=step.days_from_due)
            condition = f"inv.policy_id = {int(policy_id)} AND inv.due_date <= %({key}_cut)s"
            whens_id.append(f"WHEN {condition} THEN {int(step.pk)}")
            whens_days.append(f"WHEN {condition} THEN {int(step.days_from_due)}")
    if not whens_id:
        return "NULL", "NULL"
    return f"CASE {' '.join(whens_id)} END", f"CASE {' '.join(whens_days)} END"


def dunning_candidates(organization: Organization, book: PolicyBook, today: dt.date) -> list[Candidate]:
    """Every open invoice whose policy reached a step today that is higher than any step it was
    already dunned for, less what is disputed; excluded customers, promised and planned
    invoices left out. One statement, whatever the size of the book."""
    if not book.steps:
        return []
    params: dict = {"org": organization.pk, "default": book.default.pk, "today": today,
                    "open": DisputeStatus.OPEN, "promise_open": PromiseStatus.OPEN, "plan_active": PlanStatus.ACTIVE}
    step_id_sql, step_days_sql = _reached_case(book, today, params)
    if step_id_sql == "NULL":
        return []  # no policy sends today (a weekend)
    earliest = min(s.days_from_due for s in book.steps.values())
    params["max_due"] = today - dt.timedelta(days=earliest)
    promise_link = _table(PromiseToPay.invoices.through)
    plan_link = _table(PaymentPlan.invoices.through)
    # Only table names and integer ids from our own rows are formatted in; values are parameters.
    sql = f"""
        WITH inv AS (
            SELECT i.id, i.number, i.customer_id, i.issue_date, i.due_date, i.currency,
                   i.total_amount - i.applied_amount AS balance,
                   COALESCE(cd.policy_id, sp.policy_id, %(default)s) AS policy_id
            FROM {_table(Invoice)} i
            JOIN {_table(Customer)} c ON c.id = i.customer_id
            LEFT JOIN {_table(CustomerDunning)} cd ON cd.customer_id = i.customer_id
            LEFT JOIN {_table(SegmentPolicy)} sp ON sp.organization_id = i.organization_id AND sp.segment = c.segment
            WHERE i.organization_id = %(org)s AND i.voided_on IS NULL AND i.applied_amount < i.total_amount
              AND i.due_date <= %(max_due)s AND (cd.excluded IS NULL OR NOT cd.excluded)
        ),
        reached AS (
            SELECT inv.*, {step_id_sql} AS step_id, {step_days_sql} AS step_days FROM inv
        )
        SELECT r.id, r.number, r.customer_id, r.issue_date, r.due_date, r.currency, r.balance, r.step_id,
               COALESCE((SELECT SUM(d.amount) FROM {_table(Dispute)} d
                         WHERE d.invoice_id = r.id AND d.status = %(open)s), 0) AS disputed
        FROM reached r
        WHERE r.step_id IS NOT NULL
          AND r.step_days > COALESCE((SELECT MAX(n.step_days) FROM {_table(DunningNotice)} n
                                      WHERE n.invoice_id = r.id), -100000)
          AND NOT EXISTS (SELECT 1 FROM {promise_link} pl JOIN {_table(PromiseToPay)} p ON p.id = pl.promisetopay_id
                          WHERE pl.invoice_id = r.id AND p.status = %(promise_open)s)
          AND NOT EXISTS (SELECT 1 FROM {plan_link} ql JOIN {_table(PaymentPlan)} q ON q.id = ql.paymentplan_id
                          WHERE ql.invoice_id = r.id AND q.status = %(plan_active)s)
        ORDER BY r.customer_id, r.due_date, r.id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    candidates = []
    for pk, number, customer_id, issue_date, due_date, currency, balance, step_id, disputed in rows:
        balance, disputed = _as_decimal(balance), _as_decimal(disputed)
        if balance - disputed <= 0:
            continue  # everything still owed is under dispute
        due_date = _as_date(due_date)
        candidates.append(Candidate(pk, number, customer_id, _as_date(issue_date), due_date, currency, balance,
                                    disputed, book.steps[step_id], (today - due_date).days))
    # Invoices a factor collects (disclosed factoring) are not the seller's to dun (issue 15).
    stopped = financing.dunning_stopped(organization, [c.invoice_id for c in candidates])
    return [c for c in candidates if c.invoice_id not in stopped] if stopped else candidates


def late_interest(amount: Decimal, currency: str, annual_rate_percent: Decimal, days_late: int) -> Decimal:
    """Simple interest on `amount` for `days_late` days at an annual rate, rounded once."""
    if days_late <= 0 or not annual_rate_percent:
        return quantize(ZERO, currency)
    return quantize(amount * Decimal(annual_rate_percent) / 100 * days_late / DAYS_PER_YEAR, currency)


def charges_for(candidate: Candidate, annual_rate_percent: Decimal) -> tuple[Decimal, Decimal]:
    """The (fee, late interest) a candidate's notice charges, each rounded to the currency: the
    same figures in the message and on the recorded notice."""
    return (quantize(candidate.step.fee_amount, candidate.currency),
            late_interest(candidate.amount_due, candidate.currency, annual_rate_percent, candidate.days_overdue))


# --- payments received (promises and plans) -----------------------------------------------

def payments_between(organization: Organization, customer_ids: set[int], start: dt.date,
                     end: dt.date) -> dict[tuple[int, str], Decimal]:
    """Cash received per (customer, currency) in [start, end]."""
    rows = (Payment.objects.filter(organization=organization, customer_id__in=customer_ids,
                                   received_on__gte=start, received_on__lte=end)
            .values("customer_id", "currency").annotate(total=Sum("amount")))
    return {(r["customer_id"], r["currency"]): r["total"] for r in rows}


# --- disputes, promises, plans -------------------------------------------------------------

@dataclass(frozen=True)
class DisputeRow:
    dispute: Dispute
    age_days: int
    breached: bool


def dispute_list(organization: Organization, today: dt.date, *, status: str | None = None) -> list[DisputeRow]:
    """Disputes with their age and whether they passed their resolve-by date (SLA)."""
    qs = Dispute.objects.filter(organization=organization).select_related("invoice", "customer", "owner")
    if status:
        qs = qs.filter(status=status)
    rows = []
    for dispute in qs:
        end = dispute.resolved_on or today
        rows.append(DisputeRow(dispute, (end - dispute.opened_on).days, end > dispute.due_on))
    return rows


def promise_list(organization: Organization) -> QuerySet[PromiseToPay]:
    return PromiseToPay.objects.filter(organization=organization).select_related("customer").prefetch_related("invoices")


def plan_list(organization: Organization) -> QuerySet[PaymentPlan]:
    return (PaymentPlan.objects.filter(organization=organization).select_related("customer")
            .prefetch_related("invoices", "installments"))


def run_list(organization: Organization) -> QuerySet[DunningRun]:
    return DunningRun.objects.filter(organization=organization)


def message_list(organization: Organization, *, customer: Customer | None = None) -> QuerySet[DunningMessage]:
    qs = DunningMessage.objects.filter(organization=organization).select_related("customer")
    return qs.filter(customer=customer) if customer is not None else qs


def notice_list(organization: Organization, *, customer: Customer | None = None) -> QuerySet[DunningNotice]:
    qs = DunningNotice.objects.filter(organization=organization).select_related("invoice", "step")
    return qs.filter(customer=customer) if customer is not None else qs


# --- worklist ------------------------------------------------------------------------------

@dataclass
class WorklistRow:
    task: CollectionTask
    overdue: dict[str, Decimal] = field(default_factory=dict)
    max_days: int = 0
    risk: Decimal = Decimal(1)
    priority: Decimal = ZERO
    overdue_base: Decimal = ZERO  # in the organization's base currency
    fx_missing: list[str] = field(default_factory=list)  # currencies left out of the priority: no rate


def worklist(organization: Organization, today: dt.date, *, assigned_to=None) -> list[WorklistRow]:
    """Open call and follow-up tasks, highest priority first: overdue amount x days x risk.

    Risk grows with broken promises and open disputes. Amounts are shown per currency; the
    priority converts them to the base currency at today's stored rate (a currency without a
    rate is left out of the priority and named on the row)."""
    tasks = list(CollectionTask.objects.filter(organization=organization, status=TaskStatus.OPEN)
                 .select_related("customer", "assigned_to"))
    if assigned_to is not None:
        tasks = [t for t in tasks if t.assigned_to_id == assigned_to.pk]
    customer_ids = {t.customer_id for t in tasks}
    overdue: dict[int, dict[str, Decimal]] = defaultdict(dict)
    oldest: dict[int, dt.date] = {}
    rows = (Invoice.objects.filter(organization=organization, customer_id__in=customer_ids, voided_on__isnull=True,
                                   due_date__lt=today)
            .filter(applied_amount__lt=F("total_amount"))
            .values_list("customer_id", "currency", "due_date", "total_amount", "applied_amount"))
    for customer_id, currency, due_date, total, applied in rows:
        overdue[customer_id][currency] = overdue[customer_id].get(currency, ZERO) + (total - applied)
        oldest[customer_id] = min(oldest.get(customer_id, due_date), due_date)
    broken = dict(CustomerDunning.objects.filter(organization=organization, customer_id__in=customer_ids)
                  .values_list("customer_id", "broken_promises"))
    disputes = dict(Dispute.objects.filter(organization=organization, customer_id__in=customer_ids,
                                           status=DisputeStatus.OPEN)
                    .values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n"))
    fx = FxTable.load(organization, {c for amounts in overdue.values() for c in amounts}, today)
    result = []
    for task in tasks:
        amounts = overdue.get(task.customer_id, {})
        max_days = (today - oldest[task.customer_id]).days if task.customer_id in oldest else 0
        risk = Decimal(1) + Decimal("0.5") * broken.get(task.customer_id, 0) + Decimal("0.25") * disputes.get(
            task.customer_id, 0)
        base, missing = _in_base(fx, amounts, today)
        priority = base * max_days * risk
        result.append(WorklistRow(task, amounts, max_days, risk, priority.quantize(Decimal("1")), base, missing))
    result.sort(key=lambda r: (-r.priority, r.task.due_on, r.task.pk))
    return result


def _in_base(fx: FxTable, amounts: dict[str, Decimal], today: dt.date) -> tuple[Decimal, list[str]]:
    total, missing = ZERO, []
    for currency, amount in sorted(amounts.items()):
        try:
            total += fx.convert(amount, currency, today)
        except DomainError:
            missing.append(currency)
    return total, missing


# --- timeline ------------------------------------------------------------------------------

def customer_timeline(organization: Organization, customer: Customer) -> QuerySet[CustomerEvent]:
    """Every communication and collection action for a customer, newest first."""
    return CustomerEvent.objects.filter(organization=organization, customer=customer)
