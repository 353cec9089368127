"""Reads of factoring: eligibility with reasons and availability, the position and cost of a
facility on a date, the marker of assigned invoices, and the cash flows forecasting expects.

Eligibility is one SQL statement over the open book as of a date (open balance, dispute and
live-assignment facts), plus a few small lookups (exclusions, sublimits, the credit policy, the
facility's own outstanding): a constant number of queries whatever the number of invoices."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credit.models import CreditPolicy, CreditProfile, HoldMode
from dunning.models import Dispute, DisputeStatus
from receivables.markers import InvoiceMarker
from receivables.models import Allocation, Invoice
from receivables.selectors import FxTable
from tenancy.db import filter_in
from tenancy.models import Organization
from tenancy.money import ZERO, Money, quantize, sql_decimal

from . import figures
from .models import (
    Assignment,
    AssignmentLine,
    AssignmentStatus,
    Entry,
    EntryKind,
    Facility,
    LineState,
    Sublimit,
)


class Reason:
    """Stable reason codes of an ineligible invoice (the API's `reasons[].code`)."""

    OVERDUE = "overdue"
    TERMS_TOO_LONG = "terms_too_long"
    BELOW_MINIMUM = "below_minimum"
    EXCLUDED_CUSTOMER = "excluded_customer"
    DISPUTED = "disputed"
    CREDIT_HOLD = "credit_hold"
    ALREADY_ASSIGNED = "already_assigned"
    CONCENTRATION = "concentration"
    CUSTOMER_SUBLIMIT = "customer_sublimit"
    CROSS_AGING = "cross_aging"
    CURRENCY = "currency"
    FACILITY_LIMIT = "facility_limit"

    ALL = (OVERDUE, TERMS_TOO_LONG, BELOW_MINIMUM, EXCLUDED_CUSTOMER, DISPUTED, CREDIT_HOLD, ALREADY_ASSIGNED,
           CONCENTRATION, CUSTOMER_SUBLIMIT, CROSS_AGING, CURRENCY, FACILITY_LIMIT)


REASON_TEXT = {
    Reason.OVERDUE: gettext_lazy("%(days)s days past due; the facility takes invoices up to %(limit)s days past due."),
    Reason.TERMS_TOO_LONG: gettext_lazy("Payment terms of %(days)s days; the facility takes up to %(limit)s days."),
    Reason.BELOW_MINIMUM: gettext_lazy("Open balance %(amount)s is below the facility's minimum of %(limit)s."),
    Reason.EXCLUDED_CUSTOMER: gettext_lazy("The customer is excluded from this facility."),
    Reason.DISPUTED: gettext_lazy("The invoice is under dispute."),
    Reason.CREDIT_HOLD: gettext_lazy("The customer is on credit hold or blacklisted."),
    Reason.ALREADY_ASSIGNED: gettext_lazy("Already assigned (assignment %(assignment)s)."),
    Reason.CONCENTRATION: gettext_lazy("The customer would pass the concentration limit of %(limit)s of the "
                                       "facility's outstanding."),
    Reason.CUSTOMER_SUBLIMIT: gettext_lazy("The customer's sublimit of %(limit)s would be passed."),
    Reason.CROSS_AGING: gettext_lazy("%(share)s of the customer's balance is more than %(days)s days past due "
                                     "(limit %(limit)s)."),
    Reason.CURRENCY: gettext_lazy("Invoiced in %(currency)s; the facility finances %(limit)s."),
    Reason.FACILITY_LIMIT: gettext_lazy("The facility's limit would be passed."),
}


def _percent(rate: Decimal | None) -> str:
    return "-" if rate is None else f"{(rate * 100).normalize():f}%"


class RuleContext:
    """What the reason messages of one eligibility run are written from (shared by its rows)."""

    def __init__(self, facility: Facility, sublimits: dict[int, Decimal], cross_shares: dict[int, Decimal]):
        self.facility, self.sublimits, self.cross_shares = facility, sublimits, cross_shares

    def params(self, row: EligibilityRow, code: str) -> dict[str, Any]:
        facility, currency = self.facility, self.facility.currency
        if code == Reason.CURRENCY:
            return {"currency": row.currency, "limit": currency}
        if code == Reason.BELOW_MINIMUM:
            return {"amount": Money(row.balance, row.currency), "limit": Money(facility.min_invoice_amount, currency)}
        if code == Reason.TERMS_TOO_LONG:
            return {"days": row.terms_days, "limit": facility.max_terms_days}
        if code == Reason.OVERDUE:
            return {"days": row.days_past_due, "limit": facility.max_days_past_due}
        if code == Reason.ALREADY_ASSIGNED:
            return {"assignment": row.assignment_id}
        if code == Reason.CUSTOMER_SUBLIMIT:
            return {"limit": Money(self.sublimits.get(row.customer_id, ZERO), currency)}
        if code == Reason.CONCENTRATION:
            return {"limit": _percent(facility.concentration_limit)}
        if code == Reason.CROSS_AGING:
            return {"share": _percent(self.cross_shares.get(row.customer_id, ZERO).quantize(Decimal("0.001"))),
                    "days": facility.cross_aging_days, "limit": _percent(facility.cross_aging_rate)}
        return {}


@dataclass(slots=True)
class EligibilityRow:
    invoice_id: int
    number: str
    customer_id: int
    currency: str
    issue_date: dt.date
    due_date: dt.date
    balance: Decimal
    days_past_due: int
    terms_days: int
    assignment_id: int | None  # the live assignment holding the invoice on the date
    codes: list[str]  # the reasons it is not eligible (Reason codes), empty when eligible
    context: RuleContext | None = None
    advance_amount: Decimal = ZERO

    @property
    def eligible(self) -> bool:
        return not self.codes

    def reason_messages(self) -> list[dict[str, str]]:
        return [{"code": code, "message": str(REASON_TEXT[code]) % self.context.params(self, code)}
                for code in self.codes]


@dataclass
class Availability:
    currency: str
    limit: Decimal
    eligible_face: Decimal
    borrowing_base: Decimal  # eligible face x advance rate
    funds_in_use: Decimal  # advances drawn and not repaid
    committed: Decimal  # advances of assignments not yet funded
    available: Decimal  # min(borrowing base, limit - funds in use - committed), never below zero


@dataclass
class Eligibility:
    facility: Facility
    as_of: dt.date
    rows: list[EligibilityRow]
    availability: Availability

    @property
    def eligible(self) -> list[EligibilityRow]:
        return [row for row in self.rows if row.eligible]


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection inside: building 100,000 rows would otherwise set off
    repeated full collections of the whole process's objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _open_book_sql(only: str) -> str:
    """Open invoices on %(as_of)s: id, number, customer, currency, days past due, terms in days,
    balance then, whether a dispute was open then, and the assignment (if any) whose line held
    the invoice then. Three parts, as the aging report's open items, so the common case (open
    today) reads the partial open-item index; disputes and live lines are hash-joined once, not
    looked up per invoice. Table names only are formatted in."""
    invoice, allocation, dispute, line = _table(Invoice), _table(Allocation), _table(Dispute), _table(AssignmentLine)
    return f"""
        WITH later AS (
            SELECT invoice_id, SUM(amount) AS amount FROM {allocation}
            WHERE organization_id = %(org)s AND applied_on > %(as_of)s
            GROUP BY invoice_id
        ),
        book AS (
            SELECT i.id, i.number, i.customer_id, i.currency, i.issue_date, i.due_date,
                   i.total_amount - i.applied_amount + COALESCE(l.amount, 0) AS balance
            FROM {invoice} i LEFT JOIN later l ON l.invoice_id = i.id
            WHERE i.organization_id = %(org)s AND i.voided_on IS NULL
              AND i.applied_amount < i.total_amount AND i.issue_date <= %(as_of)s {only}
            UNION ALL
            SELECT i.id, i.number, i.customer_id, i.currency, i.issue_date, i.due_date, l.amount
            FROM later l JOIN {invoice} i ON i.id = l.invoice_id
            WHERE i.organization_id = %(org)s AND i.voided_on IS NULL
              AND i.applied_amount >= i.total_amount AND i.issue_date <= %(as_of)s {only}
            UNION ALL
            SELECT i.id, i.number, i.customer_id, i.currency, i.issue_date, i.due_date,
                   i.total_amount - COALESCE((SELECT SUM(a.amount) FROM {allocation} a
                                             WHERE a.invoice_id = i.id AND a.applied_on <= %(as_of)s), 0)
            FROM {invoice} i
            WHERE i.organization_id = %(org)s AND i.voided_on > %(as_of)s AND i.issue_date <= %(as_of)s {only}
        ),
        disputed AS (
            SELECT DISTINCT invoice_id FROM {dispute}
            WHERE organization_id = %(org)s AND opened_on <= %(as_of)s
              AND (status = %(dispute_open)s OR resolved_on > %(as_of)s)
        ),
        held AS (
            SELECT invoice_id, MIN(assignment_id) AS assignment_id FROM {line}
            WHERE organization_id = %(org)s AND state <> %(cancelled)s AND assigned_on <= %(as_of)s
              AND (ended_on IS NULL OR ended_on > %(as_of)s)
            GROUP BY invoice_id
        )
        SELECT b.id, b.number, b.customer_id, b.currency, b.issue_date, b.due_date, b.balance,
               d.invoice_id IS NOT NULL AS disputed, h.assignment_id
        FROM book b
        LEFT JOIN disputed d ON d.invoice_id = b.id
        LEFT JOIN held h ON h.invoice_id = b.id
        WHERE b.balance > 0
    """  # noqa: S608


def _open_book(organization: Organization, as_of: dt.date, invoice_ids: list[int] | None) -> list[tuple]:
    """The open book's rows, unordered (the caller orders what needs an order). On SQLite (the
    embedded default) dates come back as text and are made dates here."""
    params: dict[str, Any] = {"org": organization.pk, "as_of": as_of, "dispute_open": DisputeStatus.OPEN,
                              "cancelled": LineState.CANCELLED}
    only = ""
    if invoice_ids is not None:
        if connection.vendor == "postgresql":
            only, params["ids"] = "AND i.id = ANY(%(ids)s)", invoice_ids
        else:
            names = [f"id_{n}" for n in range(len(invoice_ids))]
            params.update(zip(names, invoice_ids, strict=True))
            only = f"AND i.id IN ({', '.join(f'%({name})s' for name in names) or 'NULL'})"
    with connection.cursor() as cursor:
        cursor.execute(_open_book_sql(only), params)
        rows = cursor.fetchall()
    if connection.vendor != "postgresql":
        rows = [(pk, number, customer, currency, _as_date(issued), _as_date(due), sql_decimal(balance),
                 bool(disputed), assigned) for pk, number, customer, currency, issued, due, balance, disputed, assigned
                in rows]
    return rows


def _as_date(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def facility_outstanding(facility: Facility, as_of: dt.date) -> tuple[dict[int, Decimal], Decimal, Decimal]:
    """The facility on `as_of`: face outstanding per customer (live lines less what the factor
    collected on them), funds in use (advances less repayments) and advances committed by
    assignments not yet funded. Two queries."""
    live = (Q(assigned_on__lte=as_of) & (Q(ended_on__isnull=True) | Q(ended_on__gt=as_of))
            & ~Q(state=LineState.CANCELLED))
    collected = Sum("entries__amount", filter=Q(entries__kind=EntryKind.COLLECTION, entries__entry_date__lte=as_of))
    per_customer: dict[int, Decimal] = defaultdict(lambda: ZERO)
    committed = ZERO
    rows = (AssignmentLine.objects.filter(live, organization_id=facility.organization_id, facility=facility)
            .values("pk", "customer_id", "face", "advance", "assignment__funded_on")
            .annotate(collected=collected))
    for row in rows:
        per_customer[row["customer_id"]] += row["face"] - (row["collected"] or ZERO)
        funded_on = row["assignment__funded_on"]
        if funded_on is None or funded_on > as_of:
            committed += row["advance"]
    in_use = (Entry.objects.filter(organization_id=facility.organization_id, facility=facility, entry_date__lte=as_of,
                                   kind__in=[EntryKind.ADVANCE, EntryKind.ADVANCE_REPAID])
              .aggregate(s=Sum("amount"))["s"] or ZERO)
    return dict(per_customer), in_use, committed


def eligibility(organization: Organization, facility: Facility, as_of: dt.date, *,
                invoice_ids: Iterable[int] | None = None) -> Eligibility:
    """Every invoice open on `as_of` (or only `invoice_ids`), eligible for `facility` or not with
    every reason, and the facility's availability. A constant number of queries.

    Rules that judge one invoice (currency, minimum, terms, days past due, exclusions, disputes,
    credit hold, cross-aging, already assigned) come first; then, oldest due first, the invoices
    that passed them fill the customer's sublimit, the concentration limit and the facility's
    limit, and those that do not fit get customer_sublimit, concentration or facility_limit.
    Concentration: a customer's outstanding in the facility, plus its invoices taken so far, may
    be at most the limit's share of the facility's outstanding plus every invoice that passed the
    rules of one invoice."""
    assert facility.organization_id == organization.pk
    ids = None if invoice_ids is None else sorted({int(i) for i in invoice_ids})
    raw = _open_book(organization, as_of, ids)
    excluded = set(facility.excluded_customers.values_list("pk", flat=True))
    sublimits = dict(Sublimit.objects.filter(facility=facility).values_list("customer_id", "limit"))
    blacklisted = set(CreditProfile.objects.filter(organization=organization, blacklisted=True)
                      .values_list("customer_id", flat=True))
    policy = CreditPolicy.objects.filter(organization=organization).first()
    hold_days = None if policy is not None and policy.hold_mode == HoldMode.OFF else (
        policy.hold_overdue_days if policy is not None else CreditPolicy._meta.get_field("hold_overdue_days").default)
    outstanding, in_use, committed = facility_outstanding(facility, as_of)
    currency = facility.currency

    context = RuleContext(facility, sublimits, {})
    rows: list[EligibilityRow] = []
    worst_overdue: dict[int, int] = defaultdict(int)
    customer_balance: dict[int, Decimal] = defaultdict(lambda: ZERO)
    customer_aged: dict[int, Decimal] = defaultdict(lambda: ZERO)
    cross_days = facility.cross_aging_days
    minimum, max_terms, max_days = facility.min_invoice_amount, facility.max_terms_days, facility.max_days_past_due
    append = rows.append
    # The hot loop (the bench's 100,000 invoices): plain locals, codes only (messages are written
    # when asked), and no cyclic garbage collection while the rows are built (they hold no cycles).
    with _gc_paused():
        as_of_day = as_of.toordinal()
        for pk, number, customer_id, row_currency, issue_date, due_date, balance, disputed, assigned in raw:
            days = as_of_day - due_date.toordinal()
            terms = (due_date - issue_date).days
            if days > worst_overdue[customer_id]:
                worst_overdue[customer_id] = days
            codes = []
            if row_currency != currency:
                codes.append(Reason.CURRENCY)
            else:
                customer_balance[customer_id] += balance
                if days > cross_days:
                    customer_aged[customer_id] += balance
                if balance < minimum:
                    codes.append(Reason.BELOW_MINIMUM)
            if max_terms is not None and terms > max_terms:
                codes.append(Reason.TERMS_TOO_LONG)
            if max_days is not None and days > max_days:
                codes.append(Reason.OVERDUE)
            if customer_id in excluded:
                codes.append(Reason.EXCLUDED_CUSTOMER)
            if disputed:
                codes.append(Reason.DISPUTED)
            if assigned is not None:
                codes.append(Reason.ALREADY_ASSIGNED)
            append(EligibilityRow(pk, number, customer_id, row_currency, issue_date, due_date, balance, days, terms,
                                  assigned, codes, context))

        if facility.cross_aging_rate is not None:
            crossed = {c for c, aged in customer_aged.items()
                       if customer_balance[c] and aged / customer_balance[c] > facility.cross_aging_rate}
        else:
            crossed = set()
        context.cross_shares = {c: customer_aged[c] / customer_balance[c] for c in crossed}
        held = blacklisted | ({c for c, days in worst_overdue.items() if days > hold_days}
                              if hold_days is not None else set())
        if held or crossed:
            for row in rows:
                if row.customer_id in held:
                    row.codes.append(Reason.CREDIT_HOLD)
                if row.customer_id in crossed:
                    row.codes.append(Reason.CROSS_AGING)

    # Limits that depend on what else is taken: oldest due first.
    passed = sorted((row for row in rows if not row.codes), key=lambda row: (row.due_date, row.invoice_id))
    pool = sum(outstanding.values(), ZERO) + sum((row.balance for row in passed), ZERO)
    concentration_cap = None if facility.concentration_limit is None else pool * facility.concentration_limit
    headroom = facility.limit - in_use - committed
    rate = facility.advance_rate
    taken: dict[int, Decimal] = defaultdict(lambda: ZERO)
    drawn = ZERO
    eligible_face = ZERO
    for row in passed:
        customer_total = outstanding.get(row.customer_id, ZERO) + taken[row.customer_id] + row.balance
        sublimit = sublimits.get(row.customer_id)
        if sublimit is not None and customer_total > sublimit:
            row.codes.append(Reason.CUSTOMER_SUBLIMIT)
        if concentration_cap is not None and customer_total > concentration_cap:
            row.codes.append(Reason.CONCENTRATION)
        advance = figures.advance_of(row.balance, rate, currency)
        if not row.codes and drawn + advance > headroom:
            row.codes.append(Reason.FACILITY_LIMIT)
        if row.codes:
            continue
        taken[row.customer_id] += row.balance
        drawn += advance
        eligible_face += row.balance
        row.advance_amount = advance
    borrowing_base = quantize(eligible_face * rate, currency)
    available = max(ZERO, min(borrowing_base, headroom))
    availability = Availability(currency=currency, limit=facility.limit, eligible_face=eligible_face,
                                borrowing_base=borrowing_base, funds_in_use=in_use, committed=committed,
                                available=available)
    return Eligibility(facility=facility, as_of=as_of, rows=rows, availability=availability)


# --- lists ---------------------------------------------------------------------------------

def facility_list(organization: Organization) -> QuerySet[Facility]:
    return Facility.objects.filter(organization=organization)


def assignment_list(organization: Organization, *, facility: Facility | None = None) -> QuerySet[Assignment]:
    qs = Assignment.objects.filter(organization=organization).select_related("facility")
    return qs if facility is None else qs.filter(facility=facility)


def assignment_lines(organization: Organization, assignment: Assignment) -> QuerySet[AssignmentLine]:
    return (AssignmentLine.objects.filter(organization=organization, assignment=assignment)
            .select_related("invoice", "customer").order_by("pk"))


def live_lines(organization: Organization, invoice_ids: Iterable[int]) -> dict[int, AssignmentLine]:
    """Invoice id -> its live assignment line (with facility), for the markers on ledger pages."""
    lines = (AssignmentLine.objects.filter(organization=organization, state=LineState.ASSIGNED,
                                           invoice_id__in=list(invoice_ids))
             .select_related("facility", "assignment"))
    return {line.invoice_id: line for line in lines}


def invoice_markers(organization: Organization, invoice_ids: list[int]) -> dict[int, list[InvoiceMarker]]:
    """The ledger pages' marker of an invoice in a live assignment (receivables.markers)."""
    return {invoice_id: [InvoiceMarker(
        label=_("Assigned to %(factor)s (%(number)s)") % {"factor": line.facility.factor_name,
                                                         "number": line.assignment.number},
        url=reverse("factoring:assignment_detail", args=[line.assignment_id]))]
        for invoice_id, line in live_lines(organization, invoice_ids).items()}


def pay_to(organization: Organization, invoice_ids: Iterable[int]) -> dict[int, Facility]:
    """Invoice id -> the disclosed facility whose factor the customer must pay (only those)."""
    # The ids as one array parameter (filter_in): the daily dunning run asks about every invoice it duns.
    lines = filter_in(AssignmentLine.objects.filter(organization=organization, state=LineState.ASSIGNED,
                                                    facility__disclosed=True),
                      "invoice_id", list(invoice_ids)).select_related("facility")
    return {line.invoice_id: line.facility for line in lines}


class DunningAnswers:
    """factoring's answers to dunning's questions (dunning.financing), registered in apps.py."""

    @staticmethod
    def dunning_stopped(organization: Organization, invoice_ids: Iterable[int]) -> set[int]:
        return dunning_stopped(organization, invoice_ids)

    @staticmethod
    def pay_to(organization: Organization, invoice_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        return {pk: {"factor": f.factor_name, "bank": f.factor_bank_name, "account": f.factor_bank_account}
                for pk, f in pay_to(organization, invoice_ids).items()}


def dunning_stopped(organization: Organization, invoice_ids: Iterable[int]) -> set[int]:
    """Invoices the seller must not dun: assigned in a disclosed facility that does not delegate
    collection to the seller (the factor collects them)."""
    return set(filter_in(AssignmentLine.objects.filter(
        organization=organization, state=LineState.ASSIGNED, facility__disclosed=True,
        facility__collection_delegated=False), "invoice_id", list(invoice_ids)).values_list("invoice_id", flat=True))


# --- position and cost ---------------------------------------------------------------------

@dataclass
class Position:
    facility: Facility
    as_of: dt.date
    currency: str
    assigned: Decimal  # face outstanding of live lines
    funds_in_use: Decimal
    reserve_held: Decimal
    fees_to_date: Decimal
    interest_to_date: Decimal  # posted plus accrued on funds in use
    availability: Decimal
    concentration: list[tuple[int, str, Decimal, Decimal]]  # customer id, name, outstanding, share
    effective_annual_cost: Decimal | None  # (fees + interest) / average funds in use, per year
    live_lines: int


def _live_q(as_of: dt.date) -> Q:
    return (Q(assigned_on__lte=as_of) & (Q(ended_on__isnull=True) | Q(ended_on__gt=as_of))
            & ~Q(state=LineState.CANCELLED))


def position(organization: Organization, facility: Facility, as_of: dt.date) -> Position:
    """The facility on `as_of`: assigned, funds in use, reserve held, fees and interest to date,
    availability, concentration by customer and the effective annual cost. Reproducible for a
    past date: everything is read from dated entries and lines."""
    currency = facility.currency
    entries = list(Entry.objects.filter(organization=organization, facility=facility, entry_date__lte=as_of)
                   .values_list("kind", "entry_date", "amount", "line_id"))
    in_use = ZERO
    fund_days = ZERO
    fees = interest_posted = ZERO
    repaid_by_line: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    collected_by_line: dict[int, Decimal] = defaultdict(lambda: ZERO)
    fee_by_line: dict[int, Decimal] = defaultdict(lambda: ZERO)
    interest_by_line: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for kind, day, amount, line_id in entries:
        if kind in (EntryKind.ADVANCE, EntryKind.ADVANCE_REPAID):
            in_use += amount
            fund_days += amount * (as_of - day).days
            if kind == EntryKind.ADVANCE_REPAID and line_id:
                repaid_by_line[line_id].append((day, -amount))
        elif kind == EntryKind.FEE:
            fees += amount
            fee_by_line[line_id] += amount
        elif kind == EntryKind.INTEREST:
            interest_posted += amount
            interest_by_line[line_id] += amount
        elif kind == EntryKind.COLLECTION:
            collected_by_line[line_id] += amount
    lines = list(AssignmentLine.objects.filter(_live_q(as_of), organization=organization, facility=facility)
                 .select_related("assignment", "customer"))
    assigned = reserve = accrued = ZERO
    by_customer: dict[int, list] = {}
    for line in lines:
        open_face = line.face - collected_by_line[line.pk]
        assigned += open_face
        funded_on = line.assignment.funded_on
        if funded_on is not None and funded_on <= as_of:
            line_interest = figures.interest_of(line.advance, rate=facility.interest_rate, day_count=facility.day_count,
                                                start=funded_on, end=as_of, repayments=repaid_by_line[line.pk],
                                                currency=currency)
            # A live line's interest is posted when it ends; a factor's statement may charge some before.
            accrued += max(ZERO, line_interest - interest_by_line[line.pk])
            line_interest = max(line_interest, interest_by_line[line.pk])
            outstanding_advance = line.advance - sum((a for _d, a in repaid_by_line[line.pk]), ZERO)
            reserve += open_face - outstanding_advance - fee_by_line[line.pk] - line_interest
        entry = by_customer.setdefault(line.customer_id, [line.customer.name, ZERO])
        entry[1] += open_face
    interest = interest_posted + accrued
    concentration = sorted(((cid, name, amount, (amount / assigned).quantize(Decimal("0.0001")) if assigned else ZERO)
                            for cid, (name, amount) in by_customer.items()), key=lambda r: (-r[2], r[1]))
    cost = None
    total_cost = fees + interest
    if fund_days > 0:
        cost = (total_cost * 365 / fund_days).quantize(Decimal("0.0001"))
    avail = eligibility(organization, facility, as_of).availability.available
    return Position(facility=facility, as_of=as_of, currency=currency, assigned=assigned, funds_in_use=in_use,
                    reserve_held=reserve, fees_to_date=fees, interest_to_date=interest, availability=avail,
                    concentration=concentration, effective_annual_cost=cost, live_lines=len(lines))


# --- forecasting ---------------------------------------------------------------------------

def expected_cash_flows(organization: Organization, *, start: dt.date, end: dt.date) -> list[dict]:
    """Cash the financing is expected to move between `start` and `end` (inclusive), in the
    organization's base currency, signed (+ in, - out), for the cash forecast:

    - "advance": an assignment not yet funded brings its advances less fees, on its assigned date
      (or `start` when that has passed);
    - disclosed factoring (the factor collects): "collected_by_factor" (- the open face, which
      the customer pays to the factor, not to us) and "reserve_release" (+ face - advance - fee -
      interest) on the invoice's due date (or `start` when overdue);
    - silent factoring, discounting, delegated collection (we collect): "advance_repayment"
      (- the advance outstanding plus interest) on the due date (or `start`)."""
    lines = list(AssignmentLine.objects.filter(organization=organization, state=LineState.ASSIGNED)
                 .exclude(assignment__status=AssignmentStatus.CANCELLED)
                 .select_related("facility", "assignment", "invoice"))
    collected = dict(Entry.objects.filter(organization=organization, kind=EntryKind.COLLECTION,
                                          line__in=[line.pk for line in lines])
                     .values_list("line_id").annotate(s=Sum("amount")).values_list("line_id", "s"))
    repaid: dict[int, list] = defaultdict(list)
    for line_id, day, amount in Entry.objects.filter(organization=organization, kind=EntryKind.ADVANCE_REPAID,
                                                     line__in=[line.pk for line in lines]) \
            .values_list("line_id", "entry_date", "amount"):
        repaid[line_id].append((day, -amount))
    currencies = {line.facility.currency for line in lines}
    fx = FxTable.load(organization, currencies, start) if currencies - {organization.base_currency} else None

    def base(amount: Decimal, currency: str) -> Decimal:
        if currency == organization.base_currency or fx is None:
            return quantize(amount, currency)
        return fx.convert(amount, currency, start)

    flows: list[dict] = []
    unfunded: dict[int, list[AssignmentLine]] = defaultdict(list)
    for line in lines:
        facility, assignment = line.facility, line.assignment
        if assignment.funded_on is None:
            unfunded[assignment.pk].append(line)
            continue
        when = max(line.invoice.due_date, start)
        if when > end:
            continue
        open_face = line.face - collected.get(line.pk, ZERO)
        interest = figures.interest_of(line.advance, rate=facility.interest_rate, day_count=facility.day_count,
                                       start=assignment.funded_on, end=when, repayments=repaid[line.pk],
                                       currency=facility.currency)
        label = f"{line.invoice.number} · {facility.name}"
        if facility.customer_collects:
            outstanding = line.advance - sum((a for _d, a in repaid[line.pk]), ZERO)
            flows.append({"date": when, "amount": -base(outstanding + interest, facility.currency),
                          "kind": "advance_repayment", "invoice_id": line.invoice_id, "label": label})
        else:
            flows.append({"date": when, "amount": -base(open_face, facility.currency),
                          "kind": "collected_by_factor", "invoice_id": line.invoice_id, "label": label})
            flows.append({"date": when, "amount": base(figures.reserve_of(line.face, line.advance, line.fee, interest),
                                                       facility.currency),
                          "kind": "reserve_release", "invoice_id": line.invoice_id, "label": label})
    for group in unfunded.values():
        assignment = group[0].assignment
        when = max(assignment.assigned_on, start)
        if when > end:
            continue
        net = sum((line.advance - line.fee for line in group), ZERO)
        flows.append({"date": when, "amount": base(net, assignment.currency), "kind": "advance", "invoice_id": None,
                      "label": _("Advance of assignment %(number)s") % {"number": assignment.number}})
    flows.sort(key=lambda f: (f["date"], f["kind"], f["invoice_id"] or 0))
    return flows
