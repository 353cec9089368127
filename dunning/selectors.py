"""Reads of the dunning app: which invoices reached which step today (one SQL statement for
the whole book), the preview, the worklist, disputes' ages, interest, and the timeline."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, DecimalField, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from credit.models import CreditProfile
from receivables.models import Allocation, AllocationKind, CreditNote, Customer, Invoice, Payment
from receivables.selectors import FxTable
from tenancy.db import filter_in
from tenancy.errors import DomainError
from tenancy.models import ROLE_RANK, Organization, Role
from tenancy.money import ZERO, quantize

from . import calendars, financing
from .accrual import interest_accrued
from .models import (
    CatchUp,
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
    TaskKind,
    TaskStatus,
)


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
    kind: str = "standard"  # receivables' Invoice.kind: a "charges" invoice accrues no interest or fees
    last_days: int | None = None  # the step last sent for this invoice, if any
    last_date: dt.date | None = None  # and the day it was sent

    @property
    def amount_due(self) -> Decimal:
        return self.balance - self.disputed


def _reached_case(book: PolicyBook, today: dt.date, params: dict) -> tuple[str, str]:
    """Two CASE expressions over the CTE row: the id and the days of the highest step its
    policy reached today. Cut-off dates are computed here, so the SQL needs no date
    arithmetic (it runs the same on PostgreSQL and SQLite)."""
    whens_id, whens_days = [], []
    for policy_id, steps in book.steps_by_policy.items():
        policy = book.policies[policy_id]
        if policy.business_days_only and not calendars.is_business_day(today, policy.holiday_calendars):
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


def _catch_up_step(book: PolicyBook, candidate_step: DunningStep, due_date: dt.date, today: dt.date,
                   last_days: int | None, last_date: dt.date | None) -> DunningStep | None:
    """Under the FIRST_MISSED rule: the first step not yet sent, never a jump over missed ones.

    Never contacted and already overdue: the first overdue step (the courtesy reminder before the
    due date is no longer true). Contacted before: the next step in the sequence, once its day
    from the due date has come and, after an overdue reminder, as many days have passed since
    that reminder as lie between the two steps; None to wait."""
    policy = book.policies[candidate_step.policy_id]
    if policy.catch_up == CatchUp.HIGHEST:
        return candidate_step
    reached = sorted((s for s in book.steps_by_policy[policy.pk] if s.days_from_due <= candidate_step.days_from_due
                      and (last_days is None or s.days_from_due > last_days)), key=lambda s: s.days_from_due)
    if last_days is None:
        if today <= due_date:
            return candidate_step
        overdue_steps = [s for s in reached if s.days_from_due >= 1]
        return (overdue_steps or reached)[0]
    step = reached[0]
    # After an overdue reminder the escalation keeps its pace (a courtesy note before the due date
    # does not delay the first reminder).
    if last_days >= 1 and last_date is not None \
            and today < last_date + dt.timedelta(days=step.days_from_due - last_days):
        return None
    return step


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
    # Each reached invoice's highest step already sent and the day of that last notice's run. On
    # PostgreSQL its notices are read once for both (a lateral join: scalar subqueries were read
    # three times, the planner repeating the one the filter uses); SQLite has no LATERAL.
    notices, runs = _table(DunningNotice), _table(DunningRun)
    if connection.vendor == "postgresql":
        last_sent = f"""
            SELECT reached.*, last.last_days, last.last_date FROM reached
            LEFT JOIN LATERAL (SELECT MAX(n.step_days) AS last_days, MAX(dr.run_date) AS last_date
                               FROM {notices} n
                               JOIN {runs} dr ON dr.id = n.run_id AND dr.organization_id = n.organization_id
                               WHERE n.organization_id = %(org)s AND n.invoice_id = reached.id) last ON TRUE
            WHERE reached.step_id IS NOT NULL"""  # noqa: S608
    else:
        last_sent = f"""
            SELECT reached.*,
                   (SELECT MAX(n.step_days) FROM {notices} n
                    WHERE n.organization_id = %(org)s AND n.invoice_id = reached.id) AS last_days,
                   (SELECT MAX(dr.run_date) FROM {notices} n
                    JOIN {runs} dr ON dr.id = n.run_id AND dr.organization_id = n.organization_id
                    WHERE n.organization_id = %(org)s AND n.invoice_id = reached.id) AS last_date
            FROM reached WHERE reached.step_id IS NOT NULL"""  # noqa: S608
    promise_link = _table(PromiseToPay.invoices.through)
    plan_link = _table(PaymentPlan.invoices.through)
    # Only table names and integer ids from our own rows are formatted in; values are parameters.
    sql = f"""
        WITH inv AS (
            SELECT i.id, i.number, i.customer_id, i.issue_date, i.due_date, i.currency, i.kind, c.country,
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
                         WHERE d.invoice_id = r.id AND d.status = %(open)s), 0) AS disputed,
               r.kind, r.last_days, r.country, r.last_date
        FROM ({last_sent}) r
        WHERE r.step_id IS NOT NULL
          AND r.step_days > COALESCE(r.last_days, -100000)
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
    for pk, number, customer_id, issue_date, due_date, currency, balance, step_id, disputed, kind, last_days, \
            country, last_date in rows:
        balance, disputed = _as_decimal(balance), _as_decimal(disputed)
        if balance - disputed <= 0:
            continue  # everything still owed is under dispute
        due_date = _as_date(due_date)
        last_date = _as_date(last_date) if last_date is not None else None
        policy = book.policies[book.steps[step_id].policy_id]
        if policy.business_days_only and calendars.CUSTOMER in policy.holiday_calendars.split(",") \
                and not calendars.is_business_day(today, policy.holiday_calendars, country or ""):
            continue  # a holiday in the customer's country: its reminder waits
        step = _catch_up_step(book, book.steps[step_id], due_date, today, last_days, last_date)
        if step is None:
            continue
        candidates.append(Candidate(pk, number, customer_id, _as_date(issue_date), due_date, currency, balance,
                                    disputed, step, (today - due_date).days, kind, last_days, last_date))
    # Invoices a factor collects (disclosed factoring) are not the seller's to dun (issue 15).
    stopped = financing.dunning_stopped(organization, [c.invoice_id for c in candidates])
    return [c for c in candidates if c.invoice_id not in stopped] if stopped else candidates


@dataclass(frozen=True)
class Charges:
    """What a candidate's notice bills: the step's fee in the invoice's currency and the late
    interest accrued since the last notice, each rounded to the currency."""

    fee: Decimal
    interest: Decimal
    interest_through: dt.date | None = None
    missing_rate: str = ""  # the fee was not charged: no stored rate for this currency pair


NO_CHARGES = Charges(ZERO, ZERO)


def _fee_in(fx: FxTable, step: DunningStep, currency: str, today: dt.date) -> Decimal:
    """The step's fee in `currency`, through the base currency at the stored rates of `today`."""
    if step.fee_currency == currency:
        return quantize(step.fee_amount, currency)
    in_base = step.fee_amount * fx.rate(step.fee_currency, today)
    return quantize(in_base / fx.rate(currency, today), currency)


def charges_many(organization: Organization, book: PolicyBook, candidates: list[Candidate],
                 today: dt.date) -> dict[int, Charges]:
    """Fees and late interest of every candidate, by invoice id: three queries for the lot.

    Interest accrues per day on the balance outstanding (signed allocations as of each day, so a
    reversal puts interest back) and each notice bills only what earlier notices did not."""
    ids = [c.invoice_id for c in candidates]
    allocations: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    # The ids go as one array parameter (filter_in): a large run asks about 100,000 invoices or more.
    for invoice_id, applied_on, amount in filter_in(Allocation.objects.filter(organization=organization),
                                                    "invoice_id", ids).values_list("invoice_id", "applied_on", "amount"):
        allocations[invoice_id].append((applied_on, amount))
    disputes: dict[int, list[tuple[dt.date, dt.date | None, Decimal]]] = defaultdict(list)
    for invoice_id, opened, resolved, amount in filter_in(Dispute.objects.filter(organization=organization),
                                                          "invoice_id", ids).values_list("invoice_id", "opened_on",
                                                                                         "resolved_on", "amount"):
        disputes[invoice_id].append((opened, resolved, amount))
    billed = dict(filter_in(DunningNotice.objects.filter(organization=organization), "invoice_id", ids)
                  .values("invoice_id").annotate(s=Sum("interest_amount")).values_list("invoice_id", "s"))
    currencies = {c.currency for c in candidates} | {s.fee_currency for s in book.steps.values() if s.fee_amount}
    fx = FxTable.load(organization, currencies, today)
    result = {}
    for candidate in candidates:
        if candidate.kind == "charges":
            result[candidate.invoice_id] = NO_CHARGES  # no interest on interest, no fee on fees
            continue
        missing, fee = "", ZERO
        if candidate.step.fee_amount:
            try:
                fee = _fee_in(fx, candidate.step, candidate.currency, today)
            except DomainError:
                missing = f"{candidate.step.fee_currency}/{candidate.currency}"
        rate = book.policies[candidate.step.policy_id].annual_rate
        rows = allocations.get(candidate.invoice_id, [])
        total = candidate.balance + sum((amount for _d, amount in rows), ZERO)
        accrued = interest_accrued(total=total, currency=candidate.currency, due_date=candidate.due_date,
                                   through=today, annual_rate_percent=rate, allocations=rows,
                                   disputes=disputes.get(candidate.invoice_id, []))
        interest = max(accrued - (billed.get(candidate.invoice_id) or ZERO), ZERO)
        result[candidate.invoice_id] = Charges(quantize(fee, candidate.currency), quantize(interest, candidate.currency),
                                               today if rate else None, missing)
    return result


def on_account(organization: Organization, customer_ids: set[int]) -> dict[int, dict[str, Decimal]]:
    """Cash and credits received and not yet applied, per customer and currency. Two queries."""
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for model in (Payment, CreditNote):
        rows = (model.objects.filter(organization=organization, customer_id__in=customer_ids, unapplied_amount__gt=0)
                .values("customer_id", "currency").annotate(s=Sum("unapplied_amount")))
        for row in rows:
            by_currency = totals[row["customer_id"]]
            by_currency[row["currency"]] = by_currency.get(row["currency"], ZERO) + row["s"]
    return dict(totals)


# --- payments received (promises and plans) -----------------------------------------------

def cash_applied(organization: Organization, invoice_ids: list[int], start: dt.date, end: dt.date, *,
                 until: dt.date) -> Decimal:
    """Cash applied to these invoices in [start, end], less reversals of it up to `until`: payment
    allocations only (credit notes and write-offs are not cash), summed signed."""
    rows = Allocation.objects.filter(organization=organization, invoice_id__in=invoice_ids,
                                     kind=AllocationKind.PAYMENT, applied_on__gte=start)
    applied = rows.filter(amount__gt=0, applied_on__lte=end).aggregate(s=Sum("amount"))["s"] or ZERO
    reversed_ = rows.filter(amount__lt=0, applied_on__lte=until).aggregate(s=Sum("amount"))["s"] or ZERO
    return applied + reversed_


def invoices_with_reversals(organization: Organization) -> QuerySet:
    """Ids of invoices with a reversed (negative) payment allocation."""
    return Allocation.objects.filter(organization=organization, kind=AllocationKind.PAYMENT,
                                     amount__lt=0).values("invoice_id")


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


def invoices_promised_or_planned(organization: Organization) -> tuple[QuerySet, QuerySet]:
    """Ids (as subqueries) of the invoices an open promise covers, and of those an active plan covers."""
    return (PromiseToPay.invoices.through.objects.filter(promisetopay__organization=organization,
                                                         promisetopay__status=PromiseStatus.OPEN).values("invoice_id"),
            PaymentPlan.invoices.through.objects.filter(paymentplan__organization=organization,
                                                        paymentplan__status=PlanStatus.ACTIVE).values("invoice_id"))


def promise_list(organization: Organization) -> QuerySet[PromiseToPay]:
    return PromiseToPay.objects.filter(organization=organization).select_related("customer").prefetch_related("invoices")


def plan_list(organization: Organization) -> QuerySet[PaymentPlan]:
    return (PaymentPlan.objects.filter(organization=organization).select_related("customer", "charges_invoice")
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
class OverdueCustomer:
    """A customer's overdue amount that dunning does not pause, per currency, and its oldest due date."""

    name: str
    amounts: dict[str, Decimal] = field(default_factory=dict)
    oldest: dt.date | None = None
    today: dt.date | None = None

    @property
    def max_days(self) -> int:
        return (self.today - self.oldest).days if self.oldest and self.today else 0


def _unpaused_overdue(organization: Organization, today: dt.date) -> QuerySet[Invoice]:
    """Overdue open invoices that no open promise, active plan or open dispute (in full) pauses,
    of customers not excluded from dunning, each annotated with its undisputed balance."""
    promise_link = PromiseToPay.invoices.through.objects.filter(
        invoice_id=OuterRef("pk"), promisetopay__status=PromiseStatus.OPEN)
    plan_link = PaymentPlan.invoices.through.objects.filter(
        invoice_id=OuterRef("pk"), paymentplan__status=PlanStatus.ACTIVE)
    disputed = (Dispute.objects.filter(invoice_id=OuterRef("pk"), status=DisputeStatus.OPEN)
                .values("invoice_id").annotate(s=Sum("amount")).values("s"))
    money = DecimalField(max_digits=20, decimal_places=4)
    return (Invoice.objects.filter(organization=organization, voided_on__isnull=True, due_date__lt=today,
                                   applied_amount__lt=F("total_amount"))
            .exclude(customer__dunning__excluded=True)
            .exclude(Exists(promise_link)).exclude(Exists(plan_link))
            .annotate(undisputed=F("total_amount") - F("applied_amount")
                      - Coalesce(Subquery(disputed, output_field=money), Value(ZERO), output_field=money))
            .filter(undisputed__gt=0))


def unpaused_overdue_by_customer(organization: Organization, today: dt.date) -> dict[int, OverdueCustomer]:
    """Per customer: what is overdue that dunning does not pause, per currency, and since when. One query."""
    rows = (_unpaused_overdue(organization, today).values("customer_id", "customer__name", "currency")
            .annotate(amount=Sum("undisputed"), oldest=Min("due_date")).order_by())
    result: dict[int, OverdueCustomer] = {}
    for row in rows:
        entry = result.setdefault(row["customer_id"], OverdueCustomer(row["customer__name"], today=today))
        entry.amounts[row["currency"]] = row["amount"]
        entry.oldest = min(entry.oldest or row["oldest"], row["oldest"])
    return result


def customers_called_or_queued(organization: Organization, *, called_since: dt.datetime) -> set[int]:
    """Customers with an open task or a task closed since `called_since`. One query."""
    return set(CollectionTask.objects.filter(organization=organization)
               .filter(Q(status=TaskStatus.OPEN) | Q(closed_at__gte=called_since))
               .values_list("customer_id", flat=True).distinct())


def generated_tasks_open(organization: Organization) -> list[CollectionTask]:
    """Open call tasks the worklist refresh made and nobody worked yet (no run, no outcome)."""
    return list(CollectionTask.objects.filter(organization=organization, status=TaskStatus.OPEN, kind=TaskKind.CALL,
                                              run__isnull=True, last_outcome=""))


GRADE_RISK = {"D": Decimal("0.25"), "E": Decimal("0.5")}  # weak credit grades call sooner


@dataclass
class WorklistRow:
    task: CollectionTask
    overdue: dict[str, Decimal] = field(default_factory=dict)
    max_days: int = 0
    risk: Decimal = Decimal(1)
    priority: Decimal = ZERO
    overdue_base: Decimal = ZERO  # in the organization's base currency
    fx_missing: list[str] = field(default_factory=list)  # currencies left out of the priority: no rate
    on_account: dict[str, Decimal] = field(default_factory=dict)  # unapplied cash and credits
    held: bool = False  # credit on account covers the overdue amount and the policy holds dunning then
    broken_promises: int = 0
    open_disputes: int = 0
    grade: str = ""
    later: bool = False  # a follow-up date after today: at the end of the queue until then
    rank: int = 0
    contacts: list = field(default_factory=list)  # filled for the page shown (contacts_of)


def worklist(organization: Organization, today: dt.date, *, assigned_to=None) -> list[WorklistRow]:
    """Open call and follow-up tasks, highest priority first: overdue amount in the base currency
    x oldest days overdue x risk; tasks with a follow-up date after today come last, by date.

    Risk is 1, plus 0.5 a broken promise, 0.25 an open dispute, and 0.25 / 0.5 for credit grade
    D / E. Amounts are shown per currency; the priority converts them to the base currency at
    today's stored rate (a currency without a rate is left out of the priority and named on the
    row). A constant number of queries, however many tasks."""
    tasks_qs = CollectionTask.objects.filter(organization=organization, status=TaskStatus.OPEN)
    if assigned_to is not None:
        tasks_qs = tasks_qs.filter(assigned_to=assigned_to)
    tasks = list(tasks_qs.select_related("customer", "assigned_to"))
    # A subquery, not a list of thousands of ids to compile into every statement.
    customer_ids = tasks_qs.values("customer_id")
    overdue: dict[int, dict[str, Decimal]] = defaultdict(dict)
    oldest: dict[int, dt.date] = {}
    rows = (Invoice.objects.filter(organization=organization, voided_on__isnull=True, due_date__lt=today)
            .filter(applied_amount__lt=F("total_amount"))
            .values("customer_id", "currency").annotate(s=Sum(F("total_amount") - F("applied_amount")),
                                                       first=Min("due_date")).order_by()
            .values_list("customer_id", "currency", "s", "first"))
    for customer_id, currency, amount, first in rows:
        overdue[customer_id][currency] = amount
        oldest[customer_id] = min(oldest.get(customer_id, first), first)
    broken = dict(CustomerDunning.objects.filter(organization=organization, customer_id__in=customer_ids)
                  .values_list("customer_id", "broken_promises"))
    disputes = dict(Dispute.objects.filter(organization=organization, customer_id__in=customer_ids,
                                           status=DisputeStatus.OPEN)
                    .values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n"))
    grades = _grades(organization, customer_ids)
    fx = FxTable.load(organization, {c for amounts in overdue.values() for c in amounts}, today)
    credits = on_account(organization, customer_ids)
    holds = _holds_when_credit_covers(organization, customer_ids)
    result = []
    for task in tasks:
        amounts = overdue.get(task.customer_id, {})
        max_days = (today - oldest[task.customer_id]).days if task.customer_id in oldest else 0
        n_broken, n_disputes = broken.get(task.customer_id, 0), disputes.get(task.customer_id, 0)
        grade = grades.get(task.customer_id) or ""
        risk = (Decimal(1) + Decimal("0.5") * n_broken + Decimal("0.25") * n_disputes
                + GRADE_RISK.get(grade, ZERO))
        base, missing = _in_base(fx, amounts, today)
        priority = base * max_days * risk
        credit = credits.get(task.customer_id, {})
        held = bool(amounts) and holds.get(task.customer_id, False) and all(
            credit.get(currency, ZERO) >= amount for currency, amount in amounts.items())
        result.append(WorklistRow(task, amounts, max_days, risk, priority.quantize(Decimal("1")), base, missing,
                                  credit, held, n_broken, n_disputes, grade, task.due_on > today))
    result.sort(key=lambda r: (r.later, r.task.due_on if r.later else dt.date.min, -r.priority, r.task.due_on,
                               r.task.pk))
    for rank, row in enumerate(result, start=1):
        row.rank = rank
    return result


@dataclass(frozen=True)
class Contact:
    name: str = ""
    phone: str = ""
    email: str = ""


def contacts_of(organization: Organization, customers: list[Customer]) -> dict[int, list[Contact]]:
    """Whom to call at each customer: the contacts on file (name, phone, email)."""
    result: dict[int, list[Contact]] = {}
    for customer in customers:
        if customer.organization_id != organization.pk:
            continue
        emails = [email for email in customer.contact_emails or [] if email]
        first = Contact(name=customer.contact_name, phone=customer.contact_phone, email=emails[0] if emails else "")
        result[customer.pk] = [c for c in (first, *(Contact(email=email) for email in emails[1:]))
                               if c.name or c.phone or c.email]
    return result


def _grades(organization: Organization, customer_ids: set[int]) -> dict[int, str]:
    """Each customer's latest credit grade (credit sits below dunning). One query."""
    return dict(CreditProfile.objects.filter(organization=organization, customer_id__in=customer_ids,
                                             latest_score__isnull=False)
                .values_list("customer_id", "latest_score__grade"))


def _holds_when_credit_covers(organization: Organization, customer_ids: set[int]) -> dict[int, bool]:
    """Per customer: does its policy (override, segment, default) hold dunning while credit on
    account covers the overdue amount?"""
    policies = {p.pk: p for p in DunningPolicy.objects.filter(organization=organization)}
    default = next((p for p in policies.values() if p.is_default), None)
    overrides = dict(CustomerDunning.objects.filter(organization=organization, customer_id__in=customer_ids,
                                                    policy__isnull=False).values_list("customer_id", "policy_id"))
    by_segment = dict(SegmentPolicy.objects.filter(organization=organization).values_list("segment", "policy_id"))
    result = {}
    for customer_id, segment in Customer.objects.filter(pk__in=customer_ids).values_list("pk", "segment"):
        policy = policies.get(overrides.get(customer_id) or by_segment.get(segment)) or default
        result[customer_id] = policy.hold_when_credit_covers if policy is not None else True
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
