"""The 13-week cash forecast, its weekly snapshots and their accuracy.

Each open invoice's balance (base currency) is spread over the weeks by its stored prediction: a
piecewise-linear distribution of the payment day through P10, P50 and P90 (10%, 50%, 90%), with
short tails. A week's P50 is the expected cash; its band assumes invoices pay independently
(mean +- 1.2816 standard deviations of the sum, never below zero). Promises to pay move the
promised part to the promised date; payment plans replace their invoices by the instalments still
to pay; disputed amounts are left out or haircut (settings); factoring and insurance add their
flows (their selectors, when those apps provide them). Invoices without a stored prediction count
at their due date (or today when overdue). Weeks begin on the organization's week start.

Optionally (a setting, or `new_sales=True`), sales not yet invoiced: from next week on, each week
invoices the average of the last 13 whole weeks, collected on the organization's curve (the share
of face value paid m weeks after the week of issue, m = 0..12, over the invoices issued in the last
52 weeks that have lived through week m).

Amounts are computed as floats (expected values) and become Decimal once, at the edge: each source's
total is rounded to the minor unit and split over the weeks and "later" by largest remainder, so the
weeks and later add up to the open balance to the cent, and each week's sources add up to its P50.

A snapshot of each week's forecast is stored once a week; when a week has passed, the customer
collections each earlier snapshot forecast for it are compared with the payments applied that week
to the invoices the snapshot knew: WAPE and bias per horizon (1..13 weeks ahead), beside the
baseline's (due date + the customer's median delay).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from dunning.models import Dispute, DisputeStatus, PaymentPlan, PlanStatus, PromiseStatus, PromiseToPay
from dunning.selectors import cash_applied
from receivables.models import Allocation, AllocationKind, Customer, Invoice
from receivables.selectors import FxTable
from tenancy.db import query_columns
from tenancy.errors import DomainError
from tenancy.models import Organization
from tenancy.money import ZERO, quantize, sql_decimal

from .models import DisputedMode, ForecastSnapshot, InvoiceDisputeFlag, InvoicePrediction
from .selectors import forecast_settings

Z90 = 1.2815515655446004  # the standard normal's 90th percentile
SOURCES = ("invoices", "promises", "plans", "factoring", "insurance", "new_sales")
CUSTOMER_SOURCES = ("invoices", "promises", "plans")  # what customers pay us: what accuracy measures
RUN_RATE_WEEKS = 13
CURVE_COHORT_WEEKS = 52


def week_start_of(day: dt.date, week_start: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - week_start) % 7)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@dataclass
class OpenItems:
    """The open book as arrays: one element per invoice part with its own dates."""

    invoice_id: np.ndarray
    amount: np.ndarray  # base currency, float (Decimal again at the edge)
    p10: np.ndarray     # day ordinals
    p50: np.ndarray
    p90: np.ndarray
    baseline: np.ndarray
    source: list[str]


def _open_book(organization: Organization, as_of: dt.date) -> tuple[dict[str, np.ndarray], FxTable]:
    """Per open invoice, as arrays: id, customer, currency, balance, due day, the predicted days (NaN
    when not predicted yet) and the imported dispute flag."""
    sql = f"""
        SELECT i.id, i.currency, i.total_amount - i.applied_amount AS balance, i.due_date,
               p.p10_date, p.expected_date, p.p90_date, p.baseline_date, COALESCE(f.disputed, FALSE) AS disputed
        FROM {_table(Invoice)} i
        LEFT JOIN {_table(InvoicePrediction)} p ON p.invoice_id = i.id AND p.organization_id = i.organization_id
        LEFT JOIN {_table(InvoiceDisputeFlag)} f ON f.invoice_id = i.id AND f.organization_id = i.organization_id
        WHERE i.organization_id = %(org)s AND i.voided_on IS NULL AND i.applied_amount < i.total_amount
    """  # noqa: S608 - table names from the models; values are parameters
    book = query_columns(sql, {"org": organization.pk}, {
        "id": "int", "currency": "text", "balance": "float", "due_date": "day", "p10_date": "day",
        "expected_date": "day", "p90_date": "day", "baseline_date": "day", "disputed": "bool"})
    fx = FxTable.load(organization, set(book["currency"]), as_of)
    return book, fx


def _rate(fx: FxTable, currency: str, on: dt.date) -> float:
    """The rate to the base currency, 0.0 when none is stored on or before `on`: the amount is left out of
    the forecast (as the aging report leaves it out), so one missing rate never breaks the dashboard."""
    try:
        return float(fx.rate(currency, on))
    except DomainError:
        return 0.0


def open_items(organization: Organization, as_of: dt.date) -> tuple[OpenItems, dict[str, float]]:
    """The book spread into parts: predicted invoice balances, promised parts, disputed haircuts applied;
    plus what was held back (disputes) in base currency. The open invoices are arrays throughout (one
    element each); the few disputes, plans and promises adjust them by position."""
    settings = forecast_settings(organization)
    book, fx = _open_book(organization, as_of)
    ids = book["id"]
    rates = {currency: _rate(fx, currency, as_of) for currency in set(book["currency"])}
    balance = book["balance"] * np.array([rates[c] for c in book["currency"]], dtype=float)
    position = dict(zip(ids.tolist(), range(len(ids)), strict=True))
    gone = np.zeros(len(ids), dtype=bool)  # in a payment plan: its instalments count instead
    today = as_of.toordinal()
    held_back = 0.0
    # Disputes: open dunning disputes (their amount) and imported flags (the whole balance).
    disputed: dict[int, float] = {}
    for invoice_id, amount, currency in Dispute.objects.filter(
            organization=organization, status=DisputeStatus.OPEN).values_list("invoice_id", "amount", "currency"):
        at = position.get(invoice_id)
        if at is None:  # settled since (open disputes are few: no list of every open invoice)
            continue
        disputed[at] = disputed.get(at, 0.0) + float(amount) * _rate(fx, currency, as_of)
    for at in np.flatnonzero(book["disputed"]).tolist():
        disputed[at] = float(balance[at])
    keep = 0.0 if settings.disputed_mode == DisputedMode.EXCLUDE else 1 - settings.dispute_haircut_percent / 100
    for at, amount in disputed.items():
        cut = min(amount, float(balance[at])) * (1 - keep)
        balance[at] -= cut
        held_back += cut
    parts: list[tuple[int, float, int, int, int, int, str]] = []
    # Plans: their invoices leave the prediction; the instalments still to pay come instead.
    for plan in PaymentPlan.objects.filter(organization=organization, status=PlanStatus.ACTIVE).prefetch_related(
            "installments", "invoices"):
        plan_ids = [invoice.pk for invoice in plan.invoices.all()]
        left = 0.0
        for pk in plan_ids:
            at = position.get(pk)
            if at is not None and not gone[at]:
                left += float(balance[at])
                gone[at] = True
        paid = float(cash_applied(organization, plan_ids, plan.start_date, as_of, until=as_of)) * _rate(
            fx, plan.currency, as_of)
        plan_rate = _rate(fx, plan.currency, as_of)
        for installment in plan.installments.all():
            amount = float(installment.amount) * plan_rate
            covered = min(amount, paid)
            paid -= covered
            amount = min(amount - covered, left)
            if amount > 0:
                left -= amount
                day = max(installment.due_date.toordinal(), today)
                parts.append((plan_ids[0] if plan_ids else 0, amount, day, day, day, day, "plans"))
    # Promises: the promised amount on the promised date, taken from the covered invoices oldest due first.
    for promise in PromiseToPay.objects.filter(organization=organization, status=PromiseStatus.OPEN).prefetch_related(
            "invoices"):
        remaining = float(promise.amount - promise.paid_amount) * _rate(fx, promise.currency, as_of)
        day = max(promise.promised_date.toordinal(), today)
        for invoice in sorted(promise.invoices.all(), key=lambda i: (i.due_date, i.pk)):
            at = position.get(invoice.pk)
            take = min(remaining, float(balance[at])) if at is not None and not gone[at] else 0.0
            if take > 0:
                balance[at] -= take
                remaining -= take
                parts.append((invoice.pk, take, day, day, day, day, "promises"))
    # The invoices: their predicted days, or (not predicted yet) their due date or today.
    rows = np.flatnonzero(~gone & (balance > 0.005))
    due = np.maximum(book["due_date"][rows], today)
    predicted = ~np.isnan(book["expected_date"][rows])
    days = [np.where(predicted, book[name][rows], due) for name in ("p10_date", "expected_date", "p90_date",
                                                                     "baseline_date")]
    extra = list(zip(*parts, strict=True)) if parts else [[]] * 7
    invoice_id = np.concatenate([np.asarray(extra[0], dtype=np.int64), ids[rows]])
    source = np.concatenate([np.asarray(extra[6], dtype=object), np.full(len(rows), "invoices", dtype=object)])
    # Ordered by invoice, then source (invoices, plans, promises), the parts' own order kept within.
    order = np.lexsort((np.searchsorted(np.array(["invoices", "plans", "promises"]), source.astype(str)), invoice_id))
    items = OpenItems(
        invoice_id[order], np.concatenate([np.asarray(extra[1], dtype=float), balance[rows]])[order],
        *(np.concatenate([np.asarray(extra[2 + k], dtype=float), days[k]])[order] for k in range(4)),
        source[order].tolist())
    return items, {"disputed_held_back": held_back}


def week_shares(items: OpenItems, edges: np.ndarray) -> np.ndarray:
    """(parts x weeks) probability that each part is paid in each week [edge k, edge k+1)."""
    if not len(items.amount):
        return np.zeros((0, len(edges) - 1))
    p10, p50, p90 = items.p10, items.p50, items.p90
    lo = p10 - np.maximum((p50 - p10) / 4, 0.5)
    hi = p90 + np.maximum((p90 - p50) / 4, 0.5)
    knots = np.column_stack([lo, p10, p50, p90, hi])
    knots = np.maximum.accumulate(knots + np.arange(5) * 1e-6, axis=1)  # strictly increasing
    levels = np.array([0, 0.1, 0.5, 0.9, 1.0])
    # A payment on day d belongs to the week holding d: evaluate the CDF half a day before each edge.
    points = edges - 0.5
    cdf = np.empty((len(p10), len(points)))
    for j, x in enumerate(points):
        # Piecewise-linear interpolation per row, vectorised over the five knots.
        idx = np.clip((knots <= x).sum(axis=1) - 1, 0, 3)
        rows = np.arange(len(p10))
        x0, x1 = knots[rows, idx], knots[rows, idx + 1]
        y0, y1 = levels[idx], levels[idx + 1]
        value = y0 + (y1 - y0) * np.clip((x - x0) / (x1 - x0), 0, 1)
        value = np.where(x < knots[:, 0], 0.0, np.where(x >= knots[:, 4], 1.0, value))
        cdf[:, j] = value
    return np.diff(cdf, axis=1)


@dataclass
class ForecastWeek:
    week_start: dt.date
    p10: Decimal
    p50: Decimal
    p90: Decimal
    baseline: Decimal
    collections: Decimal  # the customers' part of p50 (invoices, promises, plans)
    sources: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class CashForecast:
    as_of: dt.date
    currency: str
    week_start_day: int
    weeks: list[ForecastWeek]
    later: Decimal  # expected after the horizon
    disputed_held_back: Decimal
    open_balance: Decimal
    new_sales_run_rate: Decimal | None = None  # a week's new invoices, when new sales are included


def _edges(organization: Organization, as_of: dt.date, weeks: int) -> tuple[dt.date, np.ndarray]:
    first = week_start_of(as_of, forecast_settings(organization).week_start)
    return first, np.array([(first + dt.timedelta(days=7 * k)).toordinal() for k in range(weeks + 1)], dtype=float)


def _flows(organization: Organization, start: dt.date, end: dt.date) -> list[tuple[str, dict]]:
    """Factoring and insurance flows through the selectors those apps define, when they are here."""
    found = []
    for app, name, source in (("factoring", "expected_cash_flows", "factoring"),
                              ("insurance", "expected_indemnities", "insurance")):
        if not apps.is_installed(app):
            continue
        module = __import__(f"{app}.selectors", fromlist=[name])
        reader = getattr(module, name, None)
        if reader is not None:
            found += [(source, flow) for flow in reader(organization, start=start, end=end)]
    return found


def _unit(currency: str) -> Decimal:
    """The currency's minor unit as a Decimal (0.01 for CNY, 1 for JPY)."""
    return Decimal(1).scaleb(quantize(ZERO, currency).as_tuple().exponent)


def _apportion(values: np.ndarray, unit: Decimal, total: Decimal | None = None) -> list[Decimal]:
    """Round expected values to the minor unit so that they add up to `total` (default: their own sum,
    rounded) by largest remainder: what the sources expect over the weeks and later is then the open
    balance to the cent."""
    if not len(values):
        return []
    scaled = np.maximum(values, 0.0) / float(unit)
    floors = np.floor(scaled)
    if total is None:
        target = int(Decimal(repr(float(scaled.sum()))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    else:
        target = int(total / unit)
    short = target - int(floors.sum())
    order = np.argsort(-(scaled - floors), kind="stable")
    units = floors.astype(np.int64)
    if short > 0:
        units[order[:short]] += 1
    elif short < 0:  # float noise only: take back from the smallest fractions that have a unit
        for i in order[::-1]:
            if short == 0:
                break
            if units[i] > 0:
                units[i] -= 1
                short += 1
    return [int(n) * unit for n in units]


def _to_base(fx: FxTable, amount: Decimal, currency: str, on: dt.date) -> Decimal:
    """In base currency, unrounded; zero when no rate is stored (as the forecast leaves such amounts out)."""
    try:
        return amount * fx.rate(currency, on)
    except DomainError:
        return ZERO


def _week_index(column: str) -> str:
    """SQL for the number of whole weeks from %(ref)s (a week start) to a date column."""
    if connection.vendor == "postgresql":
        return f"(({column} - %(ref)s) / 7)"
    return f"CAST((julianday({column}) - julianday(%(ref)s)) / 7 AS INTEGER)"


def new_sales_curve(organization: Organization, *, first: dt.date, as_of: dt.date) -> tuple[Decimal, np.ndarray]:
    """(a week's new sales at the run rate, the collection curve: share of face paid m weeks after the
    week of issue, m = 0..12), in base currency, from the weeks before `first` (this week's start).
    Two queries whatever the ledger's size."""
    ref = first - dt.timedelta(weeks=CURVE_COHORT_WEEKS)
    now = CURVE_COHORT_WEEKS  # the week index of `first`
    params = {"org": organization.pk, "ref": ref, "first": first, "as_of": as_of, "payment": AllocationKind.PAYMENT}
    invoice, allocation = _table(Invoice), _table(Allocation)
    alive = "(i.voided_on IS NULL OR i.voided_on > %(as_of)s)"
    # Table names from the models; every value is a bound parameter.
    faces_sql = f"""
        SELECT i.currency, {_week_index("i.issue_date")}, SUM(i.total_amount) FROM {invoice} i
        WHERE i.organization_id = %(org)s AND i.issue_date >= %(ref)s AND i.issue_date < %(first)s AND {alive}
        GROUP BY 1, 2
    """  # noqa: S608
    paid_sql = f"""
        SELECT a.currency, {_week_index("i.issue_date")}, {_week_index("a.applied_on")}, SUM(a.amount)
        FROM {allocation} a JOIN {invoice} i ON i.id = a.invoice_id AND i.organization_id = %(org)s
        WHERE a.organization_id = %(org)s AND a.kind = %(payment)s AND a.applied_on < %(first)s
          AND i.issue_date >= %(ref)s AND i.issue_date < %(first)s AND {alive}
        GROUP BY 1, 2, 3
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(faces_sql, params)
        faces = cursor.fetchall()
        cursor.execute(paid_sql, params)
        paid = cursor.fetchall()
    fx = FxTable.load(organization, {row[0] for row in faces} | {row[0] for row in paid}, as_of, lenient=True)
    face_by_week = np.zeros(now)
    for currency, week, total in faces:
        face_by_week[int(week)] += float(_to_base(fx, sql_decimal(total), currency, as_of))
    paid_by_lag = np.zeros(13)
    for currency, week, paid_week, total in paid:
        lag = int(paid_week) - int(week)
        if 0 <= lag < 13:
            paid_by_lag[lag] += float(_to_base(fx, sql_decimal(total), currency, as_of))
    curve = np.zeros(13)
    for lag in range(13):
        lived = face_by_week[: max(now - lag, 0)].sum()  # cohorts whose week `lag` is over
        curve[lag] = paid_by_lag[lag] / lived if lived > 0 else 0.0
    run_rate = Decimal(repr(float(face_by_week[now - RUN_RATE_WEEKS:].sum()))) / RUN_RATE_WEEKS
    return quantize(run_rate, organization.base_currency), curve


def cash_forecast(organization: Organization, *, as_of: dt.date, weeks: int = 13,
                  new_sales: bool | None = None) -> CashForecast:
    """The weekly cash expected from the open book and the financing flows, in base currency."""
    currency = organization.base_currency
    unit = _unit(currency)
    settings = forecast_settings(organization)

    def money(value: float) -> Decimal:
        return quantize(Decimal(repr(float(value))), currency)

    first, edges = _edges(organization, as_of, weeks)
    items, extra = open_items(organization, as_of)
    shares = week_shares(items, edges)
    amount = items.amount
    sources = np.array(items.source)
    invoice_rows = sources == "invoices"
    expected = amount[:, None] * shares
    later_parts = amount * (1 - shares.sum(axis=1)) if len(amount) else np.zeros(0)
    # The open balance is rounded once (as the aging rounds its total); what the customer sources
    # expect in each week and after the horizon is split to the cent from it, less what disputes hold back.
    open_balance = money(float(amount.sum()) + extra["disputed_held_back"])
    held_back = money(extra["disputed_held_back"])
    cells = np.concatenate([
        np.append(expected[sources == source].sum(axis=0), later_parts[sources == source].sum())
        if (sources == source).any() else np.zeros(weeks + 1) for source in CUSTOMER_SOURCES])
    split = _apportion(cells, unit, open_balance - held_back)
    by_source: dict[str, list[Decimal]] = {}
    later = ZERO
    for n, source in enumerate(CUSTOMER_SOURCES):
        mine = split[n * (weeks + 1):(n + 1) * (weeks + 1)]
        by_source[source], later = mine[:weeks], later + mine[weeks]
    variance = ((amount[invoice_rows] ** 2)[:, None] * shares[invoice_rows] * (1 - shares[invoice_rows])).sum(axis=0)
    spread = Z90 * np.sqrt(variance)
    baseline = np.zeros(weeks)
    if len(amount):
        index = np.searchsorted(edges, items.baseline, side="right") - 1
        inside = (index >= 0) & (index < weeks)
        np.add.at(baseline, index[inside], amount[inside])
    flows = {"factoring": [ZERO] * weeks, "insurance": [ZERO] * weeks}
    end = first + dt.timedelta(days=7 * weeks - 1)
    for source, flow in _flows(organization, first, end):
        k = (flow["date"] - first).days // 7
        if 0 <= k < weeks:
            flows[source][k] += Decimal(flow["amount"])
    run_rate, sales = None, [ZERO] * weeks
    if settings.include_new_sales if new_sales is None else new_sales:
        run_rate, curve = new_sales_curve(organization, first=first, as_of=as_of)
        rate = float(run_rate)
        for k in range(1, weeks):  # sales from next week on, each collected on the curve
            sales[k] = quantize(Decimal(repr(float(sum(rate * curve[k - j] for j in range(1, k + 1))))), currency)

    result = []
    for k in range(weeks):
        parts = {source: by_source[source][k] for source in CUSTOMER_SOURCES}
        parts["factoring"], parts["insurance"] = quantize(flows["factoring"][k], currency), quantize(
            flows["insurance"][k], currency)
        parts["new_sales"] = sales[k]
        collections = sum((parts[source] for source in CUSTOMER_SOURCES), ZERO)
        p50 = sum(parts.values(), ZERO)
        band = money(spread[k])
        result.append(ForecastWeek(first + dt.timedelta(days=7 * k), p50 - min(band, max(parts["invoices"], ZERO)),
                                   p50, p50 + band, money(baseline[k]), collections, parts))
    return CashForecast(as_of, currency, settings.week_start, result, later, held_back, open_balance, run_rate)


@dataclass
class WeekLine:
    invoice_id: int
    number: str
    customer_id: int
    customer_name: str
    source: str
    amount: Decimal  # expected in the week
    p10_date: dt.date
    expected_date: dt.date
    p90_date: dt.date


def forecast_week_lines(organization: Organization, *, as_of: dt.date, week_start: dt.date, weeks: int = 13
                        ) -> list[WeekLine]:
    """The invoices behind one week's figure: each one's expected cash in that week, largest first."""
    first, edges = _edges(organization, as_of, weeks)
    k = (week_start - first).days // 7
    if not 0 <= k < weeks or (week_start - first).days % 7:
        return []
    items, _extra = open_items(organization, as_of)
    shares = week_shares(items, edges)
    if not len(items.amount):
        return []
    in_week = items.amount * shares[:, k]
    chosen = np.flatnonzero(in_week >= 0.005)
    invoices = {pk: (number, customer_id, name) for pk, number, customer_id, name in Invoice.objects.filter(
        organization=organization, pk__in=[int(items.invoice_id[i]) for i in chosen]).values_list(
        "pk", "number", "customer_id", "customer__name")}
    lines = []
    currency = organization.base_currency
    for i in chosen:
        pk = int(items.invoice_id[i])
        if pk not in invoices:
            continue
        number, customer_id, name = invoices[pk]
        lines.append(WeekLine(pk, number, customer_id, name, items.source[i],
                              quantize(Decimal(repr(float(in_week[i]))), currency),
                              dt.date.fromordinal(int(items.p10[i])), dt.date.fromordinal(int(items.p50[i])),
                              dt.date.fromordinal(int(items.p90[i]))))
    return sorted(lines, key=lambda line: (-line.amount, line.number))


# --- snapshots and accuracy -------------------------------------------------------------------

def forecast_snapshot_store(*, organization: Organization, as_of: dt.date) -> ForecastSnapshot:
    """Store this week's forecast once (a second call in the same week returns the first)."""
    forecast = cash_forecast(organization, as_of=as_of)
    first = forecast.weeks[0].week_start
    existing = ForecastSnapshot.objects.filter(organization=organization, week_start=first).first()
    if existing:
        return existing
    weeks = [{"week_start": w.week_start.isoformat(), "p10": str(w.p10), "p50": str(w.p50), "p90": str(w.p90),
              "collections": str(w.collections), "baseline": str(w.baseline)} for w in forecast.weeks]
    try:
        with transaction.atomic():
            return ForecastSnapshot.objects.create(organization=organization, week_start=first, as_of=as_of,
                                                   created_at=timezone.now(), currency=forecast.currency, weeks=weeks)
    except IntegrityError:  # another worker stored it first
        return ForecastSnapshot.objects.get(organization=organization, week_start=first)


def _collections_by_week(organization: Organization, snapshot: ForecastSnapshot, until: dt.date) -> dict[dt.date, Decimal]:
    """Payments applied in each week of the snapshot's horizon that has ended by `until`, to invoices
    issued on or before the snapshot's date (signed: reversals count), in base currency."""
    start = snapshot.week_start
    end = min(start + dt.timedelta(days=7 * len(snapshot.weeks)), until)
    rows = (Allocation.objects.filter(organization=organization, kind=AllocationKind.PAYMENT, applied_on__gte=start,
                                      applied_on__lt=end, invoice__issue_date__lte=snapshot.as_of)
            .values("applied_on", "currency").order_by().annotate(total=Sum("amount"))
            .values_list("applied_on", "currency", "total"))
    rows = list(rows)
    fx = FxTable.load(organization, {currency for _d, currency, _t in rows}, until, lenient=True)
    by_week: dict[dt.date, Decimal] = {}
    for day, currency, total in rows:
        week = start + dt.timedelta(days=7 * ((day - start).days // 7))
        by_week[week] = by_week.get(week, ZERO) + fx.convert(total, currency, day)
    return by_week


@dataclass
class HorizonAccuracy:
    horizon: int
    weeks: int
    actual: Decimal
    forecast: Decimal
    baseline: Decimal
    wape: Decimal | None
    bias: Decimal | None
    baseline_wape: Decimal | None
    baseline_bias: Decimal | None


def forecast_accuracy(organization: Organization, *, as_of: dt.date) -> list[HorizonAccuracy]:
    """Per horizon (1 = the snapshot's own week ... 13), over every week that has ended by as_of:
    WAPE = sum |forecast - actual| / sum actual and bias = sum (forecast - actual) / sum actual, for the
    model's P50 of customer collections and for the baseline."""
    horizons = {h: {"n": 0, "actual": ZERO, "forecast": ZERO, "baseline": ZERO, "err": ZERO, "base_err": ZERO}
                for h in range(1, 14)}
    week_start = forecast_settings(organization).week_start
    closed_before = week_start_of(as_of, week_start)  # weeks starting before this one have ended
    for snapshot in ForecastSnapshot.objects.filter(organization=organization, week_start__lt=closed_before):
        actual = _collections_by_week(organization, snapshot, closed_before)
        for k, week in enumerate(snapshot.weeks[:13]):
            start = dt.date.fromisoformat(week["week_start"])
            if start + dt.timedelta(days=7) > closed_before:
                break
            got, forecast, baseline = actual.get(start, ZERO), Decimal(week["collections"]), Decimal(week["baseline"])
            cell = horizons[k + 1]
            cell["n"] += 1
            cell["actual"] += got
            cell["forecast"] += forecast
            cell["baseline"] += baseline
            cell["err"] += abs(forecast - got)
            cell["base_err"] += abs(baseline - got)
    result = []
    places = Decimal("0.0001")
    for h, cell in horizons.items():
        total = cell["actual"]

        def ratio(value: Decimal, total: Decimal = total) -> Decimal | None:
            return (value / total).quantize(places) if total else None

        result.append(HorizonAccuracy(h, cell["n"], total, cell["forecast"], cell["baseline"], ratio(cell["err"]),
                                      ratio(cell["forecast"] - total), ratio(cell["base_err"]),
                                      ratio(cell["baseline"] - total)))
    return result


def customers_named(organization: Organization, ids: list[int]) -> dict[int, str]:
    return dict(Customer.objects.filter(organization=organization, pk__in=ids).values_list("pk", "name"))
