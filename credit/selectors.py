"""Reads for credit management: payment behaviour and exposure in SQL for a whole organization
at once, the inputs a score is computed from, holds, portfolio and inboxes.

Every bulk read is a fixed number of queries whatever the number of customers: a re-scoring
of 20,000 customers costs the same handful of statements as one of 20."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from receivables.models import Allocation, AllocationKind, Customer, Invoice
from receivables.selectors import FxTable
from tenancy.errors import DomainError
from tenancy.models import Membership, Organization, Role
from tenancy.money import ZERO, Money, sql_decimal

from .altman import z_model_for
from .cover import cover_in_force
from .models import (
    CreditAlert,
    CreditPolicy,
    CreditProfile,
    CreditReview,
    CreditScore,
    ExternalSignal,
    FinancialStatement,
    LimitRequest,
    LimitRequestStatus,
    ReviewStatus,
)

HISTORY_DAYS = 365
TREND_SPLIT_DAYS = 182


def policy_of(organization: Organization) -> CreditPolicy:
    """The organization's credit policy (defaults until an admin changes them)."""
    policy = CreditPolicy.objects.filter(organization=organization).first()
    return policy or CreditPolicy(organization=organization)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _days(later: str, earlier: str) -> str:
    """SQL for the whole days from `earlier` to `later` (two date expressions)."""
    if connection.vendor == "sqlite":
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"({later} - {earlier})"


# --- payment behaviour ---------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentBehaviour:
    invoices: int  # invoices with payments in the window
    avg_days_late: Decimal  # amount-weighted, early payment counts as 0
    on_time_share: Decimal  # share of the amount paid on or before the due date
    worst_delay: int  # days, of any payment in the window
    trend: Decimal | None  # avg days late, last 6 months minus the 6 before (None if either is empty)


def payment_behaviour(organization: Organization, as_of: dt.date, *,
                      customer_ids: list[int] | None = None) -> dict[int, PaymentBehaviour]:
    """Each customer's payment record over the 12 months to `as_of`, from payment allocations
    (allocation date vs due date). One query for the whole organization.

    Amounts are weighted in the invoices' own currencies: the weights only rank payments
    against each other, and a customer is nearly always invoiced in one currency."""
    late = _days("a.applied_on", "i.due_date")
    customer_filter = _customer_filter("i.customer_id", customer_ids)
    sql = f"""
        SELECT i.customer_id, COUNT(DISTINCT a.invoice_id), SUM(a.amount),
               SUM(a.amount * CASE WHEN {late} > 0 THEN {late} ELSE 0 END),
               SUM(CASE WHEN a.applied_on <= i.due_date THEN a.amount ELSE 0 END),
               MAX({late}),
               SUM(CASE WHEN a.applied_on > %(mid)s THEN a.amount * (CASE WHEN {late} > 0 THEN {late} ELSE 0 END) END),
               SUM(CASE WHEN a.applied_on > %(mid)s THEN a.amount END),
               SUM(CASE WHEN a.applied_on <= %(mid)s THEN a.amount * (CASE WHEN {late} > 0 THEN {late} ELSE 0 END) END),
               SUM(CASE WHEN a.applied_on <= %(mid)s THEN a.amount END)
        FROM {_table(Allocation)} a JOIN {_table(Invoice)} i ON i.id = a.invoice_id
        WHERE a.organization_id = %(org)s AND a.kind = %(kind)s
          AND a.applied_on > %(since)s AND a.applied_on <= %(as_of)s {customer_filter}
        GROUP BY i.customer_id
    """  # noqa: S608 - only table names and fixed fragments are formatted in; values are bound
    params = {"org": organization.pk, "kind": AllocationKind.PAYMENT, "as_of": as_of,
              "since": as_of - dt.timedelta(days=HISTORY_DAYS), "mid": as_of - dt.timedelta(days=TREND_SPLIT_DAYS),
              **_customer_param(customer_ids)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = {}
    for cid, count, amount, weighted, on_time, worst, r_weighted, r_amount, e_weighted, e_amount in rows:
        amount = sql_decimal(amount)  # raw SQL sums: exact on PostgreSQL, floats on SQLite
        trend = None
        if r_amount and e_amount:
            trend = (sql_decimal(r_weighted) / sql_decimal(r_amount)
                     - sql_decimal(e_weighted) / sql_decimal(e_amount)).quantize(Decimal("0.01"))
        result[cid] = PaymentBehaviour(
            invoices=count, avg_days_late=(sql_decimal(weighted) / amount).quantize(Decimal("0.01")),
            on_time_share=(sql_decimal(on_time) / amount).quantize(Decimal("0.0001")), worst_delay=int(worst),
            trend=trend,
        )
    return result


# --- exposure ------------------------------------------------------------------------------

@dataclass
class Exposure:
    outstanding: Decimal = ZERO  # base currency
    overdue: Decimal = ZERO
    max_days_overdue: int = 0
    invoices: int = 0
    # Currencies of open invoices with no rate to the base currency on the as-of date: counted at
    # face value, so the figure is not reliable and the credit hold says so.
    missing_rates: list[str] = field(default_factory=list)


def _customer_filter(column: str, customer_ids: list[int] | None) -> str:
    if customer_ids is None:
        return ""
    if connection.vendor == "sqlite":
        return f"AND {column} IN ({','.join(str(int(c)) for c in customer_ids) or 'NULL'})"
    return f"AND {column} = ANY(%(customers)s)"


def _customer_param(customer_ids: list[int] | None) -> dict[str, list[int]]:
    # SQLite gets the ids inlined (no arrays); an unused list parameter breaks its DEBUG query logging.
    if customer_ids is None or connection.vendor == "sqlite":
        return {}
    return {"customers": customer_ids}


def exposures(organization: Organization, as_of: dt.date, *, customer_ids: list[int] | None = None,
              overdue_exempt: set[int] | frozenset[int] = frozenset()) -> dict[int, Exposure]:
    """Open receivables now, per customer, in base currency (two queries: balances and FX).

    Invoices in `overdue_exempt` (ids) count in the outstanding amount but not as overdue.
    This is the credit exposure; a later module (e.g. financed invoices) adds to it here."""
    exempt = sorted(int(pk) for pk in overdue_exempt)
    if not exempt:
        not_exempt = "TRUE"
    elif connection.vendor == "sqlite":
        not_exempt = f"id NOT IN ({','.join(str(pk) for pk in exempt)})"
    else:
        not_exempt = "NOT (id = ANY(%(exempt)s))"
    sql = f"""
        SELECT customer_id, currency, SUM(total_amount - applied_amount),
               SUM(CASE WHEN due_date < %(as_of)s AND {not_exempt} THEN total_amount - applied_amount ELSE 0 END),
               {_days("%(as_of)s", f"MIN(CASE WHEN {not_exempt} THEN due_date END)")}, COUNT(*)
        FROM {_table(Invoice)}
        WHERE organization_id = %(org)s AND voided_on IS NULL AND applied_amount < total_amount
          {_customer_filter("customer_id", customer_ids)}
        GROUP BY customer_id, currency
    """  # noqa: S608 - only table names and fixed fragments are formatted in; values are bound
    params = {"org": organization.pk, "as_of": as_of, **_customer_param(customer_ids)}
    if exempt and connection.vendor != "sqlite":
        params["exempt"] = exempt
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    fx = FxTable.load(organization, {row[1] for row in rows}, as_of)
    result: dict[int, Exposure] = defaultdict(Exposure)
    for cid, currency, outstanding, overdue, days, count in rows:
        exposure = result[cid]
        if not _has_rate(fx, currency, as_of) and currency not in exposure.missing_rates:
            exposure.missing_rates.append(currency)
        exposure.outstanding += _convert(fx, sql_decimal(outstanding), currency, as_of)
        exposure.overdue += _convert(fx, sql_decimal(overdue), currency, as_of)
        exposure.max_days_overdue = max(exposure.max_days_overdue, int(days or 0))
        exposure.invoices += count
    return dict(result)


def _has_rate(fx: FxTable, currency: str, on: dt.date) -> bool:
    try:
        fx.rate(currency, on)
    except DomainError:
        return False
    return True


def _convert(fx: FxTable, amount: Decimal, currency: str, on: dt.date) -> Decimal:
    try:
        return fx.convert(amount, currency, on)
    except DomainError:
        # Without a rate the amount still counts: face value is a better exposure than zero.
        return amount


def customer_exposure(organization: Organization, customer: Customer, as_of: dt.date) -> Exposure:
    return exposures(organization, as_of, customer_ids=[customer.pk]).get(customer.pk, Exposure())


# --- score inputs --------------------------------------------------------------------------

def profiles_for_scoring(organization: Organization, customer_ids: list[int] | None = None) -> QuerySet[CreditProfile]:
    """The files to score, each with its previous grade and customer name (not the whole previous
    score: its stored inputs and factors are large and not needed here)."""
    queryset = CreditProfile.objects.filter(organization=organization).annotate(
        previous_grade=F("latest_score__grade"), customer_name=F("customer__name"))
    if customer_ids is not None:
        queryset = queryset.filter(customer_id__in=customer_ids)
    return queryset.order_by("customer_id")


def latest_financials(organization: Organization, profile_ids: list[int] | None = None) -> dict[int, FinancialStatement]:
    """Each profile's most recent statement, in one query."""
    newest = FinancialStatement.objects.filter(profile=OuterRef("profile")).order_by("-year").values("year")[:1]
    queryset = FinancialStatement.objects.filter(organization=organization, year=Subquery(newest))
    if profile_ids is not None:
        queryset = queryset.filter(profile_id__in=profile_ids)
    return {statement.profile_id: statement for statement in queryset}


def recent_signals(organization: Organization, as_of: dt.date,
                   profile_ids: list[int] | None = None) -> dict[int, list[ExternalSignal]]:
    queryset = ExternalSignal.objects.filter(organization=organization, observed_on__lte=as_of,
                                             observed_on__gt=as_of - dt.timedelta(days=HISTORY_DAYS))
    if profile_ids is not None:
        queryset = queryset.filter(profile_id__in=profile_ids)
    result: dict[int, list[ExternalSignal]] = defaultdict(list)
    for signal in queryset.order_by("observed_on", "pk"):
        result[signal.profile_id].append(signal)
    return result


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


STATEMENT_MAX_AGE_MONTHS = 18


def statement_period_end(statement: FinancialStatement) -> dt.date:
    """Fiscal years are calendar years (as in mainland China): the statement ends on 31 December."""
    return dt.date(statement.year, 12, 31)


def statement_is_stale(statement: FinancialStatement, as_of: dt.date) -> bool:
    """Older than 18 months after its period end: counted as missing by the scorecard."""
    return as_of > statement_usable_until(statement)


def statement_usable_until(statement: FinancialStatement) -> dt.date:
    """31 December + 18 months: 30 June of the second year after the fiscal year."""
    return dt.date(statement_period_end(statement).year + 2, 6, 30)


def score_inputs(*, profile: CreditProfile, as_of: dt.date, behaviour: PaymentBehaviour | None,
                 exposure: Exposure | None, statement: FinancialStatement | None, signals: list[ExternalSignal],
                 min_paid_invoices: int, fx: FxTable | None = None, reference_currency: str = "") -> dict[str, Any]:
    """The JSON a score is computed from and stored with (strings for decimals).

    With `reference_currency`, the revenue is also given in it (converted with `fx` on `as_of`) for the
    company-size scale; `missing` says why a factor has no data when "no data" would not say enough."""
    exposure = exposure or Exposure()
    missing: dict[str, str] = {}
    payment = None
    if behaviour is not None and behaviour.invoices >= min_paid_invoices:
        payment = {"invoices": behaviour.invoices, "avg_days_late": str(behaviour.avg_days_late),
                   "on_time_share": str(behaviour.on_time_share),
                   # Still-unpaid overdue invoices count towards the worst delay too.
                   "worst_delay": max(behaviour.worst_delay, exposure.max_days_overdue),
                   "trend": _s(behaviour.trend)}
    financials = None
    if statement is not None and statement_is_stale(statement, as_of):
        why = _("statement %(year)s older than %(months)s months") % {"year": statement.year,
                                                                         "months": STATEMENT_MAX_AGE_MONTHS}
        missing["financial_strength"] = missing["company_size"] = why
    elif statement is not None:
        model = z_model_for(is_public=profile.is_public, is_manufacturer=profile.is_manufacturer,
                            country=profile.country)
        if model == "z" and statement.market_value_equity is None:
            model = z_model_for(is_public=False, is_manufacturer=True, country=profile.country)
        financials = {
            "year": statement.year, "model": str(model),
            **{name: _s(getattr(statement, name)) for name in (
                "revenue", "ebit", "working_capital", "retained_earnings", "total_assets", "total_liabilities",
                "equity", "market_value_equity")},
        }
        if reference_currency and fx is not None:
            financials["reference_currency"] = reference_currency
            financials["revenue_reference"] = _s(_to_reference(fx, statement.revenue, reference_currency, as_of))
            if financials["revenue_reference"] is None:
                missing["company_size"] = _("no %(currency)s to %(base)s rate on or before %(date)s") % {
                    "currency": reference_currency, "base": fx.base_currency, "date": as_of.isoformat()}
    inputs = {
        "as_of": as_of.isoformat(),
        "payment": payment,
        "financials": financials,
        "exposure": str(exposure.outstanding),
        "limit": _s(profile.credit_limit),
        "founding_year": profile.founding_year,
        "signals": [{"kind": s.kind, "severity": s.severity, "observed_on": s.observed_on.isoformat()}
                    for s in signals],
    }
    if missing:
        inputs["missing"] = missing
    return inputs


def _to_reference(fx: FxTable, amount: Decimal, currency: str, on: dt.date) -> Decimal | None:
    """A base-currency amount in `currency` (the rate gives base units per unit of `currency`)."""
    if currency == fx.base_currency:
        return amount
    try:
        return (amount / fx.rate(currency, on)).quantize(Decimal("0.01"))
    except DomainError:
        return None


def credit_file(organization: Organization, customer: Customer) -> CreditProfile | None:
    """The customer's credit file with its latest score, or None: reading never creates one
    (a file switches the credit-hold check on, so only the services' writes create it)."""
    return (CreditProfile.objects.filter(organization=organization, customer=customer)
            .select_related("latest_score").first())


def score_history(organization: Organization, customer: Customer, limit: int = 24) -> list[CreditScore]:
    """The customer's most recent scores, oldest first (for the chart)."""
    return list(reversed(CreditScore.objects.filter(organization=organization, customer=customer)[:limit]))


# --- holds ---------------------------------------------------------------------------------

# Higher apps (dunning) tell the hold which open invoices are disputed or under an agreed payment
# plan: fn(organization, customer_ids | None) -> {"disputed": {invoice ids}, "payment_plan": {...}}.
OverdueExemptionSource = Callable[[Organization, "list[int] | None"], dict[str, set[int]]]
_overdue_exemption_sources: list[OverdueExemptionSource] = []
DISPUTED, PAYMENT_PLAN = "disputed", "payment_plan"


def overdue_exemption_source_register(source: OverdueExemptionSource) -> None:
    if source not in _overdue_exemption_sources:
        _overdue_exemption_sources.append(source)


def hold_overdue_exempt(organization: Organization, policy: CreditPolicy,
                        customer_ids: list[int] | None) -> set[int]:
    """The invoices the credit hold does not count as overdue under the policy (by default: disputed
    ones and those under an agreed payment plan)."""
    kinds = {kind for kind, counted in ((DISPUTED, policy.hold_counts_disputed),
                                        (PAYMENT_PLAN, policy.hold_counts_payment_plans)) if not counted}
    exempt: set[int] = set()
    if kinds:
        for source in _overdue_exemption_sources:
            for kind, invoice_ids in source(organization, customer_ids).items():
                if kind in kinds:
                    exempt |= invoice_ids
    return exempt


def hold_exposures(organization: Organization, as_of: dt.date, *, policy: CreditPolicy,
                   customer_ids: list[int] | None) -> dict[int, Exposure]:
    """Exposures as the credit hold reads them (overdue without the policy's exempt invoices)."""
    return exposures(organization, as_of, customer_ids=customer_ids,
                     overdue_exempt=hold_overdue_exempt(organization, policy, customer_ids))


def hold_reasons(organization: Organization, customer: Customer, as_of: dt.date, *,
                 extra_amount: Decimal = ZERO, policy: CreditPolicy | None = None) -> list[str]:
    """Why the customer is on credit hold (empty when it is not), counting `extra_amount` of new invoicing."""
    profile = CreditProfile.objects.filter(organization=organization, customer=customer).first()
    policy = policy or policy_of(organization)
    if profile is None and not policy.insured_hold:
        return []
    exposure = hold_exposures(organization, as_of, policy=policy, customer_ids=[customer.pk]).get(
        customer.pk, Exposure())
    reasons = [] if profile is None else hold_reasons_of(
        customer, profile, exposure, extra_amount=extra_amount, policy=policy, currency=organization.base_currency,
        as_of=as_of)
    if policy.insured_hold:
        cover = cover_in_force(organization, [customer.pk], as_of)[customer.pk]
        if reason := insured_hold_reason(exposure, extra_amount=extra_amount, cover=cover, policy=policy,
                                         currency=organization.base_currency):
            reasons.append(reason)
    return reasons


def hold_reasons_of(customer: Customer, profile: CreditProfile, exposure: Exposure, *, extra_amount: Decimal,
                    policy: CreditPolicy, currency: str, as_of: dt.date,
                    missing_rates: list[str] | tuple[str, ...] = ()) -> list[str]:
    """hold_reasons from figures already read (amounts in the base currency `currency`).

    `missing_rates`: currencies of the new invoices with no rate; with the exposure's own, they make the
    limit check impossible, which is a reason in itself (the amounts were counted at face value)."""
    reasons = []
    unknown = sorted(set(exposure.missing_rates) | set(missing_rates))
    if profile.credit_limit is not None and unknown:
        reasons.append(
            _("No exchange rate from %(currencies)s to %(base)s on or before %(date)s, so the exposure cannot be "
              "checked against the credit limit of %(limit)s; add the rate under FX rates.")
            % {"currencies": ", ".join(unknown), "base": currency, "date": as_of.isoformat(),
               "limit": Money(profile.credit_limit, currency)})
    if profile.blacklisted:
        reasons.append(_("%(customer)s is blacklisted (%(reason)s).")
                       % {"customer": customer.name, "reason": profile.blacklist_reason})
    if profile.credit_limit is not None and exposure.outstanding + extra_amount > profile.credit_limit:
        reasons.append(
            (_("Exposure %(exposure)s exceeds the credit limit of %(limit)s.") if not extra_amount else
             _("Exposure %(exposure)s plus this invoice (%(amount)s) exceeds the credit limit of %(limit)s."))
            % {"exposure": Money(exposure.outstanding, currency), "amount": Money(extra_amount, currency),
               "limit": Money(profile.credit_limit, currency)})
    if exposure.max_days_overdue > policy.hold_overdue_days:
        reasons.append(_("An invoice is %(days)s days overdue; the hold threshold is %(limit)s days.")
                       % {"days": exposure.max_days_overdue, "limit": policy.hold_overdue_days})
    return reasons


def insured_hold_reason(exposure: Exposure, *, extra_amount: Decimal, cover: Decimal, policy: CreditPolicy,
                        currency: str) -> str | None:
    """With the policy's insured hold on: why invoicing `extra_amount` more would take the customer's
    exposure beyond its insurance cover in force plus the uninsured appetite (None when it does not)."""
    if not policy.insured_hold:
        return None
    allowed = cover + policy.uninsured_appetite
    if exposure.outstanding + extra_amount <= allowed:
        return None
    return (_("Exposure %(exposure)s plus this invoice (%(amount)s) exceeds the insurance cover in force of "
              "%(cover)s plus the uninsured appetite of %(appetite)s: %(allowed)s allowed.")
            % {"exposure": Money(exposure.outstanding, currency), "amount": Money(extra_amount, currency),
               "cover": Money(cover, currency), "appetite": Money(policy.uninsured_appetite, currency),
               "allowed": Money(allowed, currency)})


# --- pages ---------------------------------------------------------------------------------

@dataclass
class Portfolio:
    currency: str
    total_exposure: Decimal
    by_grade: list[tuple[str, int, Decimal]]  # grade, customers, exposure
    over_limit: list[dict[str, Any]] = field(default_factory=list)
    upcoming_reviews: list[CreditProfile] = field(default_factory=list)


def portfolio(organization: Organization, as_of: dt.date) -> Portfolio:
    """Exposure by grade, the over-limit list and the reviews due in the next 30 days."""
    exposure_by_customer = exposures(organization, as_of)
    profiles = {p.customer_id: p for p in CreditProfile.objects.filter(organization=organization)
                .select_related("latest_score", "customer")}
    grades: dict[str, list] = {g: [0, ZERO] for g in ("A", "B", "C", "D", "E", "-")}
    over = []
    for cid, exposure in exposure_by_customer.items():
        profile = profiles.get(cid)
        grade = profile.latest_score.grade if profile and profile.latest_score else "-"
        grades[grade][0] += 1
        grades[grade][1] += exposure.outstanding
        if profile and profile.credit_limit is not None and exposure.outstanding > profile.credit_limit:
            over.append({"profile": profile, "exposure": exposure.outstanding,
                         "excess": exposure.outstanding - profile.credit_limit})
    over.sort(key=lambda row: -row["excess"])
    upcoming = (CreditProfile.objects.filter(organization=organization, next_review_on__lte=as_of + dt.timedelta(days=30))
                .select_related("customer", "latest_score").order_by("next_review_on")[:50])
    return Portfolio(
        currency=organization.base_currency,
        total_exposure=sum((e.outstanding for e in exposure_by_customer.values()), ZERO),
        by_grade=[(g, n, amount) for g, (n, amount) in grades.items()], over_limit=over,
        upcoming_reviews=list(upcoming),
    )


def pending_requests(organization: Organization) -> QuerySet[LimitRequest]:
    return (LimitRequest.objects.filter(organization=organization, status=LimitRequestStatus.PENDING)
            .select_related("customer", "score", "requested_by").prefetch_related("steps").order_by("created_at"))


def open_reviews(organization: Organization) -> QuerySet[CreditReview]:
    return (CreditReview.objects.filter(organization=organization, status=ReviewStatus.OPEN)
            .select_related("customer", "score").order_by("due_on", "pk"))


def alert_list(organization: Organization) -> QuerySet[CreditAlert]:
    return CreditAlert.objects.filter(organization=organization).select_related("customer")


def credit_manager_emails(organization: Organization) -> list[str]:
    """Where the daily digest goes: credit managers, or the admins when there is none."""
    for roles in ([Role.CREDIT_MANAGER], [Role.ADMIN]):
        emails = sorted({e for e in Membership.objects.filter(organization=organization, role__in=roles)
                        .values_list("user__email", flat=True) if e})
        if emails:
            return emails
    return []



def customers_over_limit_count(organization: Organization, as_of: dt.date) -> int | None:
    """How many customers' exposure exceeds their credit limit (the weekly report's KPI);
    None while the organization has set no limits, so the report leaves the figure out."""
    limits = dict(CreditProfile.objects.filter(organization=organization, credit_limit__isnull=False)
                  .values_list("customer_id", "credit_limit"))
    if not limits:
        return None
    exposure = exposures(organization, as_of, customer_ids=list(limits))
    return sum(1 for customer_id, e in exposure.items() if e.outstanding > limits[customer_id])
