"""Reads of credit insurance: the cover in force per buyer, every insured invoice's deadlines as of
any date, the expected indemnity of a claim (each step shown), the premium report, and what
forecasting reads (expected indemnities, insured cover per invoice).

The deadlines of a whole ledger are a fixed number of queries (policies, excluded buyers, cover
decisions, open invoices as of the date, disputes, declarations, claims, FX rates), whatever the
number of invoices; the per-invoice arithmetic runs in Python over plain tuples.

Definitions (docs/insurance.md):
- effective due date: the latest declared extension's new due date, else the invoice's due date;
- notify_by = effective due + overdue_notification_days; extend_until = original due +
  max_extension_days; claim_by = effective due + claim_filing_days;
- covered amount: the buyer's cover as of the date, spread over its insured open invoices oldest
  due first (as insurers apply payments), each invoice's open disputes taken out first; an invoice
  whose deadline was missed has lost its cover and takes none."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from receivables.models import Allocation, Customer, Invoice
from receivables.selectors import FxTable
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.models import Organization
from tenancy.money import ZERO, quantize, sql_decimal

from .models import (
    Claim,
    ClaimInvoice,
    ClaimStatus,
    CoverRequest,
    Decision,
    Declaration,
    DeclarationInvoice,
    DeclarationKind,
    InsuranceAlert,
    Policy,
    RequestStatus,
)

HUNDRED = Decimal(100)
CLAIM_ACTIVE = (ClaimStatus.FILED, ClaimStatus.ACCEPTED, ClaimStatus.PAID)
# Days from the insurer's decision (or the end of the waiting period) to the indemnity on the account.
INDEMNITY_PAYMENT_DAYS = 30


class DeadlineState:
    OK = "ok"
    DUE_SOON = "due_soon"
    MISSED = "missed"
    NOTIFIED = "notified"
    CLAIMED = "claimed"

    LABELS = {OK: _("OK"), DUE_SOON: _("Due soon"), MISSED: _("Missed: cover lost"), NOTIFIED: _("Notified"),
              CLAIMED: _("Claimed")}
    ALL = (OK, DUE_SOON, MISSED, NOTIFIED, CLAIMED)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def policy_list(organization: Organization) -> QuerySet[Policy]:
    return Policy.objects.filter(organization=organization).order_by("-starts_on", "pk")


def cover_request_list(organization: Organization) -> QuerySet[CoverRequest]:
    return (CoverRequest.objects.filter(organization=organization).select_related("customer", "policy")
            .order_by("-requested_on", "-pk"))


def declaration_list(organization: Organization) -> QuerySet[Declaration]:
    return (Declaration.objects.filter(organization=organization).select_related("customer", "policy")
            .prefetch_related("lines__invoice").order_by("-notified_on", "-pk"))


def claim_list(organization: Organization) -> QuerySet[Claim]:
    return (Claim.objects.filter(organization=organization).select_related("customer", "policy")
            .prefetch_related("lines__invoice", "recovery_rows").order_by("-created_at", "-pk"))


def alert_list(organization: Organization) -> QuerySet[InsuranceAlert]:
    return InsuranceAlert.objects.filter(organization=organization).select_related("customer", "invoice")


# --- cover in force ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Cover:
    policy_id: int
    customer_id: int
    amount: Decimal  # in the policy's currency; 0 once expired or cancelled
    currency: str
    request_id: int
    decision: str
    decided_on: dt.date
    valid_until: dt.date | None


def covers_as_of(organization: Organization, as_of: dt.date, *, customer_ids: list[int] | None = None
                 ) -> dict[tuple[int, int], Cover]:
    """(policy id, customer id) -> the cover in force on `as_of`: the latest decision that granted
    something (approved or partial; a refusal leaves the earlier cover standing), 0 after its
    valid_until. One query (portable: no DISTINCT ON, which SQLite, the embedded default, lacks)."""
    rows = (CoverRequest.objects.filter(organization=organization, status=RequestStatus.DECIDED,
                                        decided_on__lte=as_of, decision__in=[Decision.APPROVED, Decision.PARTIAL])
            .order_by("policy_id", "customer_id", "decided_on", "pk"))  # the latest decision is read last and wins
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=customer_ids)
    covers = {}
    for request in rows.only("pk", "policy_id", "customer_id", "decided_amount", "currency", "decision",
                             "decided_on", "valid_until"):
        expired = request.valid_until is not None and request.valid_until < as_of
        covers[(request.policy_id, request.customer_id)] = Cover(
            policy_id=request.policy_id, customer_id=request.customer_id,
            amount=ZERO if expired else request.decided_amount, currency=request.currency, request_id=request.pk,
            decision=request.decision, decided_on=request.decided_on, valid_until=request.valid_until)
    return covers


def cover_history(organization: Organization, customer: Customer) -> QuerySet[CoverRequest]:
    return cover_request_list(organization).filter(customer=customer)


# --- deadlines ---------------------------------------------------------------------------------

@dataclass(slots=True)
class DeadlineRow:
    invoice_id: int
    invoice_number: str
    customer_id: int
    customer_name: str
    policy_id: int
    currency: str
    issue_date: dt.date
    due_date: dt.date  # as issued
    effective_due: dt.date  # extended when an extension was declared
    balance: Decimal  # open on as_of, in the invoice's currency
    disputed: Decimal
    covered_amount: Decimal  # in the invoice's currency
    notify_by: dt.date
    extend_until: dt.date
    claim_by: dt.date
    state: str
    notified_on: dt.date | None = None
    claim_id: int | None = None
    days_left: int | None = None  # to the next deadline that matters (notification, then claim)

    @property
    def state_label(self) -> str:
        return DeadlineState.LABELS[self.state]


def _execute(cursor, sql: str, params: dict) -> None:
    """Run `sql` written for PostgreSQL (`= ANY(%(ids)s)`, a join on `unnest(%(ids)s::bigint[])`); on
    another database (SQLite, the embedded default) each list becomes an IN list of its own parameters."""
    if connection.vendor != "postgresql":
        params = dict(params)
        for key, value in list(params.items()):
            if not isinstance(value, list | tuple | set):
                continue
            names = [f"{key}_{i}" for i in range(len(value))] or [f"{key}_none"]
            in_list = "IN (" + ", ".join(f"%({name})s" for name in names) + ")"
            params.update(dict(zip(names, value, strict=False)) if value else {f"{key}_none": None})
            del params[key]
            sql = sql.replace(f"= ANY(%({key})s)", in_list)
            sql = re.sub(rf"JOIN unnest\(%\({key}\)s::bigint\[\]\) AS (\w+)\((\w+)\) ON \1\.\2 = (\w+\.\w+)",
                         lambda match, in_list=in_list: f"JOIN (SELECT 1) AS {match.group(1)} ON {match.group(3)} {in_list}",
                         sql)
    cursor.execute(sql, params)


def _invoice_rows_sql(kind_filter: bool) -> str:
    """Invoices of the given customers open on %(as_of)s with their balance then: today's balance
    plus what was applied after the date (signed, so reversals count), as the aging report does. Three
    parts, so the usual case (open today) reads the partial open-item index: open now; settled now but
    open on the date; voided after the date (nothing is ever applied to a void invoice)."""
    invoice, allocation, customer = _table(Invoice), _table(Allocation), _table(Customer)
    kind = "AND i.kind = 'standard'" if kind_filter else ""
    columns = "i.id, i.number, i.customer_id, i.currency, i.issue_date, i.due_date"
    period = f"i.organization_id = %(org)s AND i.issue_date <= %(as_of)s AND i.issue_date >= %(earliest)s {kind}"
    return f"""
        WITH later AS (
            SELECT invoice_id, SUM(amount) AS amount FROM {allocation}
            WHERE organization_id = %(org)s AND applied_on > %(as_of)s
            GROUP BY invoice_id
        ),
        open_items AS (
            SELECT {columns}, i.total_amount - i.applied_amount + COALESCE(l.amount, 0) AS balance
            FROM {invoice} i LEFT JOIN later l ON l.invoice_id = i.id
            WHERE {period} AND i.voided_on IS NULL AND i.applied_amount < i.total_amount
            UNION ALL
            SELECT {columns}, i.total_amount - i.applied_amount + l.amount
            FROM later l JOIN {invoice} i ON i.id = l.invoice_id
            WHERE {period} AND i.voided_on IS NULL AND i.applied_amount >= i.total_amount
            UNION ALL
            SELECT {columns}, i.total_amount
            FROM {invoice} i
            WHERE {period} AND i.voided_on > %(as_of)s
        )
        SELECT o.id, o.number, o.customer_id, c.name, c.country, o.currency, o.issue_date, o.due_date, o.balance
        FROM open_items o
        JOIN unnest(%(customers)s::bigint[]) AS covered(customer_id) ON covered.customer_id = o.customer_id
        JOIN {customer} c ON c.id = o.customer_id
        WHERE o.balance > 0
        ORDER BY o.customer_id, o.due_date, o.issue_date, o.id
    """  # noqa: S608 - only table names and fixed fragments are formatted in; values are bound


def _disputed_as_of(organization: Organization, as_of: dt.date, customer_ids: list[int]) -> dict[int, Decimal]:
    from dunning.models import Dispute  # dunning sits below insurance

    sql = f"""
        SELECT invoice_id, SUM(amount) FROM {_table(Dispute)}
        WHERE organization_id = %(org)s AND customer_id = ANY(%(customers)s) AND opened_on <= %(as_of)s
          AND (resolved_on IS NULL OR resolved_on > %(as_of)s)
        GROUP BY invoice_id
    """  # noqa: S608 - only table names are formatted in; values are bound
    with connection.cursor() as cursor:
        _execute(cursor, sql, {"org": organization.pk, "as_of": as_of, "customers": customer_ids})
        return {invoice_id: sql_decimal(amount) for invoice_id, amount in cursor.fetchall()}


def _declared_as_of(organization: Organization, as_of: dt.date, customer_ids: list[int]
                    ) -> tuple[dict[int, dt.date], dict[int, dt.date]]:
    """invoice id -> first overdue/rescheduling notification on or before `as_of`, and -> the
    latest extension's new due date declared on or before it."""
    sql = f"""
        SELECT l.invoice_id, d.kind, d.notified_on, d.new_due_date
        FROM {_table(DeclarationInvoice)} l JOIN {_table(Declaration)} d ON d.id = l.declaration_id
        WHERE d.organization_id = %(org)s AND d.customer_id = ANY(%(customers)s) AND d.notified_on <= %(as_of)s
        ORDER BY d.notified_on, d.id
    """  # noqa: S608 - only table names are formatted in; values are bound
    notified: dict[int, dt.date] = {}
    extended: dict[int, dt.date] = {}
    with connection.cursor() as cursor:
        _execute(cursor, sql, {"org": organization.pk, "as_of": as_of, "customers": customer_ids})
        for invoice_id, kind, notified_on, new_due_date in cursor.fetchall():
            if kind == DeclarationKind.EXTENSION:
                extended[invoice_id] = new_due_date
            else:
                notified.setdefault(invoice_id, notified_on)
    return notified, extended


def _claimed_as_of(organization: Organization, as_of: dt.date, customer_ids: list[int]
                   ) -> dict[int, tuple[int, dt.date]]:
    sql = f"""
        SELECT l.invoice_id, c.id, c.filed_on
        FROM {_table(ClaimInvoice)} l JOIN {_table(Claim)} c ON c.id = l.claim_id
        WHERE c.organization_id = %(org)s AND c.customer_id = ANY(%(customers)s) AND c.filed_on <= %(as_of)s
          AND c.status = ANY(%(active)s)
        ORDER BY c.filed_on, c.id
    """  # noqa: S608 - only table names are formatted in; values are bound
    claimed: dict[int, tuple[int, dt.date]] = {}
    with connection.cursor() as cursor:
        _execute(cursor, sql, {"org": organization.pk, "as_of": as_of, "customers": customer_ids,
                             "active": list(CLAIM_ACTIVE)})
        for invoice_id, claim_id, filed_on in cursor.fetchall():
            claimed.setdefault(invoice_id, (claim_id, filed_on))
    return claimed


def deadline_state(*, as_of: dt.date, effective_due: dt.date, notify_by: dt.date, claim_by: dt.date,
                   notified_on: dt.date | None, claimed_on: dt.date | None, warning_days: int
                   ) -> tuple[str, int | None]:
    """An invoice's state on `as_of` and the days left to the deadline that matters next."""
    if claimed_on is not None:
        if notified_on is not None and notified_on > notify_by:
            return DeadlineState.MISSED, None
        return (DeadlineState.CLAIMED if claimed_on <= claim_by else DeadlineState.MISSED), None
    if notified_on is not None:
        if notified_on > notify_by:
            return DeadlineState.MISSED, None
        if as_of > claim_by:
            return DeadlineState.MISSED, None
        left = (claim_by - as_of).days
        return (DeadlineState.DUE_SOON if left <= warning_days else DeadlineState.NOTIFIED), left
    if as_of > notify_by:
        return DeadlineState.MISSED, None
    left = (notify_by - as_of).days
    if as_of > effective_due and left <= warning_days:
        return DeadlineState.DUE_SOON, left
    return DeadlineState.OK, left


class _Converter:
    """Amounts between an invoice's currency and a policy's, through the base currency's rates."""

    def __init__(self, organization: Organization, currencies: set[str], as_of: dt.date):
        needs_rates = bool(currencies - {organization.base_currency})
        self.fx = FxTable.load(organization, currencies, as_of) if needs_rates else None
        self.as_of = as_of

    def convert(self, amount: Decimal, source: str, target: str) -> Decimal | None:
        """None when either currency has no rate on or before the date (the caller counts no cover:
        a missing rate never breaks a page, a report or the ledger's markers)."""
        if source == target:
            return amount
        assert self.fx is not None
        try:
            base = amount * self.fx.rate(source, self.as_of)
            return quantize(base / self.fx.rate(target, self.as_of), target)
        except DomainError:
            return None


def insured_deadlines(organization: Organization, *, as_of: dt.date | None = None,
                      customer_id: int | None = None, customer_ids: list[int] | None = None) -> list[DeadlineRow]:
    """Every insured invoice open on `as_of` (default: the organization's today) with its covered
    amount, deadlines and state; oldest due first per buyer; only the given customers' when asked.
    A fixed number of queries."""
    as_of = as_of or local_today(organization.timezone)
    if customer_id is not None:
        customer_ids = [customer_id]
    policies = list(policy_list(organization).filter(starts_on__lte=as_of).prefetch_related("excluded_customers"))
    covers = covers_as_of(organization, as_of, customer_ids=customer_ids)
    policy_by_pk = {p.pk: p for p in policies}
    covers = {key: cover for key, cover in covers.items() if key[0] in policy_by_pk}
    customer_ids = sorted({customer for _policy, customer in covers})
    if not customer_ids:
        return []
    excluded = {p.pk: {c.pk for c in p.excluded_customers.all()} for p in policies}
    earliest = min(p.starts_on for p in policies)
    has_kind = any(f.name == "kind" for f in Invoice._meta.concrete_fields)
    with connection.cursor() as cursor:
        _execute(cursor, _invoice_rows_sql(has_kind), {"org": organization.pk, "as_of": as_of,
                                                     "customers": customer_ids, "earliest": earliest})
        invoices = cursor.fetchall()
    disputed = _disputed_as_of(organization, as_of, customer_ids)
    notified, extended = _declared_as_of(organization, as_of, customer_ids)
    claimed = _claimed_as_of(organization, as_of, customer_ids)
    # Each buyer's policies, oldest first: an invoice belongs to the policy whose period holds its issue date.
    policies_of: dict[int, list[Policy]] = defaultdict(list)
    for policy in sorted(policies, key=lambda p: (p.starts_on, p.pk)):
        for (policy_pk, customer_pk), _cover in covers.items():
            if policy_pk == policy.pk and customer_pk not in excluded[policy.pk]:
                policies_of[customer_pk].append(policy)
    converter = _Converter(organization, {row[5] for row in invoices} | {p.currency for p in policies}, as_of)
    remaining: dict[tuple[int, int], Decimal] = {key: cover.amount for key, cover in covers.items()}
    deltas = {p.pk: (dt.timedelta(days=p.overdue_notification_days), dt.timedelta(days=p.claim_filing_days),
                     dt.timedelta(days=p.max_extension_days)) for p in policies}
    rows: list[DeadlineRow] = []
    for (invoice_id, number, cust_id, cust_name, country, currency, issue_date, due_date, balance) in invoices:
        policy = None
        for candidate in policies_of.get(cust_id, ()):
            if (candidate.starts_on <= issue_date <= candidate.ends_on
                    and (due_date - issue_date).days <= candidate.max_credit_period_days
                    and (not candidate.covered_countries or country in candidate.covered_countries)):
                policy = candidate
                break
        if policy is None:
            continue
        if type(balance) is not Decimal:
            balance = sql_decimal(balance)
        notify_delta, claim_delta, extend_delta = deltas[policy.pk]
        effective_due = extended.get(invoice_id, due_date)
        notify_by = effective_due + notify_delta
        claim_by = effective_due + claim_delta
        notified_on = notified.get(invoice_id)
        claim = claimed.get(invoice_id)
        state, left = deadline_state(as_of=as_of, effective_due=effective_due, notify_by=notify_by,
                                     claim_by=claim_by, notified_on=notified_on,
                                     claimed_on=claim[1] if claim else None, warning_days=policy.warning_days)
        in_dispute = min(disputed[invoice_id], balance) if invoice_id in disputed else ZERO
        covered = ZERO
        if state != DeadlineState.MISSED:
            key = (policy.pk, cust_id)
            coverable = balance - in_dispute
            coverable_in_policy = (coverable if currency == policy.currency
                                   else converter.convert(coverable, currency, policy.currency))
            take = ZERO if coverable_in_policy is None else min(coverable_in_policy, remaining[key])
            if take > 0:
                remaining[key] -= take
                covered = coverable if take == coverable_in_policy else min(
                    coverable, converter.convert(take, policy.currency, currency) or ZERO)
        rows.append(DeadlineRow(
            invoice_id=invoice_id, invoice_number=number, customer_id=cust_id, customer_name=cust_name,
            policy_id=policy.pk, currency=currency, issue_date=issue_date, due_date=due_date,
            effective_due=effective_due, balance=balance, disputed=in_dispute, covered_amount=covered,
            notify_by=notify_by, extend_until=due_date + extend_delta,
            claim_by=claim_by, state=state, notified_on=notified_on, claim_id=claim[0] if claim else None,
            days_left=left))
    return rows


def deadline_counts(rows: list[DeadlineRow]) -> dict[str, int]:
    counts = dict.fromkeys(DeadlineState.ALL, 0)
    for row in rows:
        counts[row.state] += 1
    return counts


# --- the expected indemnity --------------------------------------------------------------------

@dataclass
class IndemnityStep:
    key: str
    label: str
    amount: Decimal
    note: str = ""

    def as_json(self) -> dict:
        return {"key": self.key, "label": str(self.label), "amount": str(self.amount), "note": self.note}


@dataclass
class Indemnity:
    currency: str
    outstanding: Decimal
    covered_loss: Decimal
    recoveries: Decimal
    expected: Decimal
    steps: list[IndemnityStep] = field(default_factory=list)


def expected_indemnity(*, currency: str, outstanding: Decimal, covered_loss: Decimal, recoveries: Decimal,
                       insured_percentage: Decimal, claim_threshold: Decimal, deductible: Decimal) -> Indemnity:
    """Insured percentage x (covered loss - recoveries), nothing under the claim threshold, less the
    deductible; rounded once, half up, to the currency's minor unit. Every step is kept."""
    steps = [IndemnityStep("outstanding", _("Outstanding on the claimed invoices"), outstanding)]
    steps.append(IndemnityStep("covered_loss", _("Covered loss (within the buyer cover, oldest first, "
                                                 "disputed amounts excluded)"), covered_loss))
    steps.append(IndemnityStep("recoveries", _("Less recoveries"), -recoveries))
    net_loss = max(covered_loss - recoveries, ZERO)
    steps.append(IndemnityStep("net_loss", _("Covered loss after recoveries"), net_loss))
    if net_loss < claim_threshold:
        steps.append(IndemnityStep("threshold", _("Below the claim threshold: no indemnity"), ZERO,
                                   note=f"{net_loss} < {claim_threshold}"))
        return Indemnity(currency, outstanding, covered_loss, recoveries, ZERO, steps)
    steps.append(IndemnityStep("threshold", _("Claim threshold reached"), net_loss,
                               note=f"{net_loss} >= {claim_threshold}"))
    insured = quantize(net_loss * insured_percentage / HUNDRED, currency)
    steps.append(IndemnityStep("insured_share", _("Insured percentage"), insured,
                               note=f"{net_loss} x {insured_percentage}% = {net_loss * insured_percentage / HUNDRED}"))
    steps.append(IndemnityStep("deductible", _("Less the deductible"), -deductible))
    expected = max(insured - deductible, ZERO)
    steps.append(IndemnityStep("expected", _("Expected indemnity"), expected))
    return Indemnity(currency, outstanding, covered_loss, recoveries, expected, steps)


def claim_preview(organization: Organization, *, policy: Policy, customer: Customer, invoice_ids: list[int],
                  as_of: dt.date, recoveries: Decimal = ZERO) -> tuple[Indemnity, list[DeadlineRow]]:
    """The expected indemnity of claiming these invoices on `as_of`, from their deadline rows."""
    rows = [row for row in insured_deadlines(organization, as_of=as_of, customer_id=customer.pk)
            if row.invoice_id in set(invoice_ids) and row.policy_id == policy.pk]
    currency = rows[0].currency if rows else customer.currency
    indemnity = expected_indemnity(
        currency=currency, outstanding=sum((r.balance for r in rows), ZERO),
        covered_loss=sum((r.covered_amount for r in rows), ZERO), recoveries=recoveries,
        insured_percentage=policy.insured_percentage, claim_threshold=policy.claim_threshold,
        deductible=policy.deductible)
    return indemnity, rows


# --- premium -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PremiumMonth:
    month: dt.date  # first day
    turnover: Decimal  # insured turnover invoiced in the month, in the policy's currency
    invoice_count: int
    premium: Decimal
    declare_by: dt.date


def premium_report(organization: Organization, policy: Policy) -> list[PremiumMonth]:
    """Monthly insured turnover of the policy period (invoices issued to covered buyers in covered
    countries, excluded buyers left out), the date each month's declaration is due, and the premium
    (turnover x rate). Two queries and the FX rates."""
    covered_customers = set(CoverRequest.objects.filter(
        organization=organization, policy=policy, status=RequestStatus.DECIDED,
        decision__in=[Decision.APPROVED, Decision.PARTIAL]).values_list("customer_id", flat=True))
    covered_customers -= set(policy.excluded_customers.values_list("pk", flat=True))
    invoices = Invoice.objects.filter(organization=organization, customer_id__in=covered_customers,
                                      issue_date__gte=policy.starts_on, issue_date__lte=policy.ends_on,
                                      voided_on__isnull=True)
    if policy.covered_countries:
        invoices = invoices.filter(customer__country__in=policy.covered_countries)
    if any(f.name == "kind" for f in Invoice._meta.concrete_fields):
        invoices = invoices.filter(kind="standard")
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncMonth

    sums = (invoices.annotate(month=TruncMonth("issue_date")).values("month", "currency")
            .annotate(total=Sum("total_amount"), n=Count("id")).order_by("month", "currency"))
    rows = list(sums)
    converter = _Converter(organization, {r["currency"] for r in rows} | {policy.currency}, policy.ends_on)
    months: dict[dt.date, list] = {}
    for row in rows:
        month = row["month"] if isinstance(row["month"], dt.date) else row["month"].date()
        month = month.replace(day=1)
        entry = months.setdefault(month, [ZERO, 0])
        converted = converter.convert(sql_decimal(row["total"]), row["currency"], policy.currency)
        if converted is None:  # premium is owed on the turnover: no guessing, name the missing rate
            converter.fx.rate(row["currency"], converter.as_of)
            converter.fx.rate(policy.currency, converter.as_of)
        entry[0] += converted
        entry[1] += row["n"]
    report = []
    month = policy.starts_on.replace(day=1)
    while month <= policy.ends_on:
        turnover, count = months.get(month, [ZERO, 0])
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        report.append(PremiumMonth(month=month, turnover=quantize(turnover, policy.currency), invoice_count=count,
                                   premium=quantize(turnover * policy.premium_rate / HUNDRED, policy.currency),
                                   declare_by=next_month - dt.timedelta(days=1)
                                   + dt.timedelta(days=policy.premium_declaration_days)))
        month = next_month
    return report


# --- what forecasting reads --------------------------------------------------------------------

def insured_cover_by_invoice(organization: Organization, *, as_of: dt.date) -> dict[int, tuple[Decimal, Decimal]]:
    """invoice id -> (covered amount in the organization's base currency, insured percentage as a
    fraction such as 0.90), for the insured invoices open on `as_of` whose cover stands."""
    rows = [row for row in insured_deadlines(organization, as_of=as_of) if row.covered_amount > 0]
    if not rows:
        return {}
    percentages = dict(Policy.objects.filter(organization=organization, pk__in={r.policy_id for r in rows})
                       .values_list("pk", "insured_percentage"))
    fx = FxTable.load(organization, {r.currency for r in rows}, as_of, lenient=True)
    return {row.invoice_id: (fx.convert(row.covered_amount, row.currency, as_of),
                             percentages[row.policy_id] / HUNDRED) for row in rows}


def claim_payment_expected_on(claim: Claim, *, notified_on: dt.date | None, waiting_period_days: int) -> dt.date:
    """When the indemnity should arrive: 30 days after acceptance; for a filed claim, 30 days after
    the later of filing and the end of the waiting period (counted from the overdue notification)."""
    if claim.status == ClaimStatus.ACCEPTED and claim.decided_on:
        return claim.decided_on + dt.timedelta(days=INDEMNITY_PAYMENT_DAYS)
    start = claim.filed_on or claim.created_at.date()
    if notified_on is not None:
        start = max(start, notified_on + dt.timedelta(days=waiting_period_days))
    return start + dt.timedelta(days=INDEMNITY_PAYMENT_DAYS)


def expected_indemnities(organization: Organization, *, start: dt.date, end: dt.date) -> list[dict]:
    """Indemnities expected between `start` and `end` (inclusive) from filed and accepted claims, one
    dict per claimed invoice (the claim's indemnity split by covered amount), in base currency."""
    claims = list(Claim.objects.filter(organization=organization, status__in=[ClaimStatus.FILED, ClaimStatus.ACCEPTED])
                  .select_related("policy", "customer").prefetch_related("lines"))
    if not claims:
        return []
    invoice_ids = [line.invoice_id for claim in claims for line in claim.lines.all()]
    first_notice: dict[int, dt.date] = {}
    for invoice_id, notified_on in (DeclarationInvoice.objects.filter(
            organization=organization, invoice_id__in=invoice_ids,
            declaration__kind__in=[DeclarationKind.OVERDUE, DeclarationKind.RESCHEDULING])
            .order_by("declaration__notified_on").values_list("invoice_id", "declaration__notified_on")):
        first_notice.setdefault(invoice_id, notified_on)
    fx = FxTable.load(organization, {c.currency for c in claims}, end)
    out = []
    for claim in claims:
        lines = list(claim.lines.all())
        notices = [first_notice[line.invoice_id] for line in lines if line.invoice_id in first_notice]
        on = claim_payment_expected_on(claim, notified_on=min(notices) if notices else None,
                                       waiting_period_days=claim.policy.waiting_period_days)
        if not start <= on <= end:
            continue
        total = claim.accepted_amount if claim.status == ClaimStatus.ACCEPTED else claim.expected_indemnity
        covered_total = sum((line.covered_amount for line in lines), ZERO)
        if total <= 0 or covered_total <= 0:
            continue
        left = total
        shares = [line for line in lines if line.covered_amount > 0]
        for i, line in enumerate(shares):
            part = left if i == len(shares) - 1 else quantize(total * line.covered_amount / covered_total,
                                                               claim.currency)
            left -= part
            out.append({"date": on, "amount": fx.convert(part, claim.currency, on), "kind": "indemnity",
                        "invoice_id": line.invoice_id,
                        "label": _("%(insurer)s: claim #%(claim)s (%(customer)s)") % {
                            "insurer": claim.policy.insurer_name, "claim": claim.pk, "customer": claim.customer.name}})
    return sorted(out, key=lambda item: (item["date"], item["invoice_id"] or 0))


def invoice_markers(organization: Organization, invoice_ids: list[int]) -> dict[int, list]:
    """The ledger pages' marker of an insured invoice: its state and next deadline, linking to the
    buyer's cover page where it can be declared or claimed (receivables.markers)."""
    from django.urls import reverse

    from receivables.markers import InvoiceMarker

    customer_ids = sorted(set(Invoice.objects.filter(organization=organization, pk__in=invoice_ids)
                              .values_list("customer_id", flat=True)))
    if not customer_ids or not Policy.objects.filter(organization=organization).exists():
        return {}
    wanted = set(invoice_ids)
    markers = {}
    for row in insured_deadlines(organization, customer_ids=customer_ids):
        if row.invoice_id not in wanted:
            continue
        if row.state in (DeadlineState.OK, DeadlineState.DUE_SOON):
            label = _("Insured: notify by %(date)s") % {"date": row.notify_by.isoformat()}
        elif row.state == DeadlineState.NOTIFIED:
            label = _("Insured, notified: claim by %(date)s") % {"date": row.claim_by.isoformat()}
        else:
            label = str(row.state_label)
        markers[row.invoice_id] = [InvoiceMarker(label=f"{label} ({row.state_label})" if row.state == DeadlineState.DUE_SOON
                                                 else label, url=reverse("insurance:customer", args=[row.customer_id]))]
    return markers
