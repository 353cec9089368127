"""Expected credit loss, IFRS 9 simplified approach (CAS 22 the same way): a provision matrix whose
loss rates come from history by the cohort method.

For the invoices issued in the history window, the loss rate of an aging bucket is

    amount never collected / amount still outstanding when those invoices entered the bucket

where "never collected" is what was written off, plus what was still open 365 days after the due
date (once that day has come), and an invoice enters the bucket of `lower` to `upper` days past due
on its due date + lower + 1 (for "current", the denominator is the face value). An invoice whose
loss came before it entered a bucket adds nothing there (min(loss, outstanding at entry)).

The provision as of a date: the aging's balance in each bucket x its rate x the bucket's overlay
(a forward-looking multiplier with a reason, audited), rounded once per bucket to the minor unit;
customers assessed individually (an assessment, or blacklisted: the settings' rate) are taken out
of the matrix at their own rate; insured balances are provided net of cover: the covered part x
(1 - insured %) plus the uncovered part. Constant number of queries whatever the ledger's size.

Calibration: the rates are history, so (as finance teams do with a provision matrix) they are
calibrated on a date and applied to the live aging until the next calibration. The daily task
calibrates each organization's default window (`loss_rates_calibrate`); a provision asked without an
explicit window uses the latest calibration of the seven days up to its date, else computes the
rates live. An explicit window is always computed live.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext as _

from credit.models import CreditProfile
from receivables.models import Allocation, AllocationKind, Customer, Invoice
from receivables.selectors import FxTable, aging_buckets, aging_report
from tenancy.models import Organization
from tenancy.money import ZERO, quantize, sql_decimal

from .models import IndividualAssessment, LossRateCalibration, ProvisionOverlay
from .selectors import forecast_settings

RATE_PLACES = Decimal("0.000001")
MATURITY_DAYS = 365
CALIBRATION_DAYS = 7  # a calibration serves provisions up to this many days after its date


def bucket_keys(organization: Organization) -> list[str]:
    return [bucket.key for bucket in aging_buckets(organization, dt.date(2000, 1, 1))]


def _entry_offsets(organization: Organization) -> list[int | None]:
    """Days after the due date on which an invoice enters each bucket (None: current, from issue)."""
    lower_bounds = [0, *organization.aging_buckets]
    return [None] + [lower + 1 for lower in lower_bounds]


def default_history(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The twelve months of invoices whose outcome is known by as_of (due a year before it, roughly)."""
    history_to = as_of - dt.timedelta(days=MATURITY_DAYS + 30)
    return history_to - dt.timedelta(days=364), history_to


def organization_history(organization: Organization, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The organization's chosen history window (settings), else the rolling default for as_of."""
    settings = forecast_settings(organization)
    if settings.history_from and settings.history_to:
        return settings.history_from, settings.history_to
    return default_history(as_of)


@dataclass
class CohortRate:
    key: str
    base: Decimal  # outstanding when the cohort entered the bucket (face value for current), base currency
    loss: Decimal  # of which never collected

    @property
    def rate(self) -> Decimal:
        """The exact ratio (unrounded); shown rounded to RATE_PLACES."""
        return self.loss / self.base if self.base else ZERO


def _plus_days(day: str, days_param: str) -> str:
    """SQL for a date column plus a bound number of days: PostgreSQL adds integers to dates; SQLite
    (the embedded default) keeps dates as ISO text, where `+` would add to the year as a number."""
    if connection.vendor == "postgresql":
        return f"{day} + %({days_param})s"
    return f"date({day}, '+' || %({days_param})s || ' days')"


def _least(first: str, second: str) -> str:
    return f"LEAST({first}, {second})" if connection.vendor == "postgresql" else f"MIN({first}, {second})"


def cohort_loss_rates(organization: Organization, *, history_from: dt.date, history_to: dt.date, as_of: dt.date,
                      segment: str | None = None) -> list[CohortRate]:
    """Each bucket's loss rate from the invoices issued in [history_from, history_to], their
    allocations known on as_of (signed: reversals count), in base currency at as_of's rates."""
    keys = bucket_keys(organization)
    offsets = _entry_offsets(organization)
    params: dict[str, object] = {"org": organization.pk, "from": history_from, "to": history_to, "as_of": as_of,
                                 "maturity": MATURITY_DAYS, "write_off": AllocationKind.WRITE_OFF}
    outstanding, sums = [], []
    for i, offset in enumerate(offsets):
        if offset is None:
            outstanding.append("p.total_amount AS o0")
            sums.append("SUM(x.total_amount), SUM(x.loss)")
            continue
        params[f"off{i}"] = offset
        outstanding.append(f"p.total_amount - COALESCE(SUM(a.amount) FILTER (WHERE a.applied_on < "
                           f"{_plus_days('p.due_date', f'off{i}')}), 0) AS o{i}")
        entered = f"{_plus_days('x.due_date', f'off{i}')} <= %(as_of)s"
        sums.append(f"SUM(x.o{i}) FILTER (WHERE {entered}), "
                    f"SUM({_least('x.loss', f'x.o{i}')}) FILTER (WHERE {entered} AND x.o{i} > 0)")
    segment_join = ""
    if segment:
        segment_join = f"JOIN {_table(Customer)} c ON c.id = p.customer_id AND c.segment = %(segment)s"
        params["segment"] = segment
    maturity_day = _plus_days("p.due_date", "maturity")
    # Table names from the models; every value is a bound parameter.
    sql = f"""
        WITH per AS (
            SELECT p.id, p.currency, p.due_date, {", ".join(outstanding)},
                   COALESCE(SUM(a.amount) FILTER (WHERE a.kind = %(write_off)s
                            AND a.applied_on <= {_least(_plus_days("p.due_date", "maturity"), "%(as_of)s")}), 0)
                       AS written_off,
                   p.total_amount - COALESCE(SUM(a.amount) FILTER (WHERE a.applied_on <= {maturity_day}), 0)
                       AS open_at_maturity,
                   p.total_amount
            FROM {_table(Invoice)} p {segment_join}
            LEFT JOIN {_table(Allocation)} a ON a.invoice_id = p.id AND a.organization_id = %(org)s
                                              AND a.applied_on <= %(as_of)s
            WHERE p.organization_id = %(org)s AND p.issue_date BETWEEN %(from)s AND %(to)s
              AND (p.voided_on IS NULL OR p.voided_on > %(as_of)s) AND p.issue_date <= %(as_of)s
            GROUP BY p.organization_id, p.id
        ), x AS (
            SELECT per.*, per.written_off + CASE WHEN {_plus_days("per.due_date", "maturity")} <= %(as_of)s
                                                 THEN per.open_at_maturity ELSE 0 END AS loss
            FROM per
        )
        SELECT x.currency, {", ".join(sums)} FROM x GROUP BY x.currency
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    fx = FxTable.load(organization, {row[0] for row in rows}, as_of, lenient=True)  # a missing rate: left out
    rates = [CohortRate(key, ZERO, ZERO) for key in keys]
    for currency, *values in rows:
        for i, rate in enumerate(rates):
            base, loss = values[2 * i], values[2 * i + 1]
            if base:
                rate.base += fx.convert(sql_decimal(base), currency, as_of)
            if loss:
                rate.loss += fx.convert(sql_decimal(loss), currency, as_of)
    return rates


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def calibration_in_force(organization: Organization, as_of: dt.date, segment: str | None = None
                         ) -> LossRateCalibration | None:
    """The latest calibration of the seven days up to as_of whose buckets are today's buckets."""
    found = (LossRateCalibration.objects.filter(
        organization=organization, segment=segment or "", calibrated_on__lte=as_of,
        calibrated_on__gte=as_of - dt.timedelta(days=CALIBRATION_DAYS)).order_by("-calibrated_on").first())
    if found is None or [rate["key"] for rate in found.rates] != bucket_keys(organization):
        return None
    return found


def calibration_rates(calibration: LossRateCalibration) -> list[CohortRate]:
    return [CohortRate(rate["key"], Decimal(rate["base"]), Decimal(rate["loss"])) for rate in calibration.rates]


def overlays_as_of(organization: Organization, as_of: dt.date) -> dict[str, ProvisionOverlay]:
    """Each bucket's overlay in force on as_of (the latest effective on or before it)."""
    found: dict[str, ProvisionOverlay] = {}
    for overlay in ProvisionOverlay.objects.filter(organization=organization, effective_from__lte=as_of).order_by(
            "bucket_key", "-effective_from", "-pk"):
        found.setdefault(overlay.bucket_key, overlay)
    return found


def individual_rates(organization: Organization, as_of: dt.date) -> dict[int, tuple[Decimal, str]]:
    """customer id -> (loss rate, reason) for customers provided for individually on as_of."""
    rates: dict[int, tuple[Decimal, str]] = {}
    default_rate = forecast_settings(organization).individual_default_rate
    blacklisted = CreditProfile.objects.filter(organization=organization, blacklisted=True).exclude(
        blacklisted_on__gt=as_of).values_list("customer_id", "blacklist_reason")
    for customer_id, reason in blacklisted:
        rates[customer_id] = (Decimal(default_rate), _("Blacklisted: %(reason)s") % {"reason": reason})
    latest: dict[int, IndividualAssessment] = {}
    for assessment in IndividualAssessment.objects.filter(organization=organization, assessed_on__lte=as_of).order_by(
            "customer_id", "-assessed_on", "-pk"):
        latest.setdefault(assessment.customer_id, assessment)
    for customer_id, assessment in latest.items():
        if assessment.loss_rate is None:
            rates.pop(customer_id, None)
        else:
            rates[customer_id] = (assessment.loss_rate, assessment.reason)
    return rates


def insured_cover(organization: Organization, as_of: dt.date) -> dict[int, tuple[Decimal, Decimal]]:
    """insurance's cover per open invoice, when that app provides it; else none."""
    if not apps.is_installed("insurance"):
        return {}
    from insurance import selectors as insurance_selectors

    reader = getattr(insurance_selectors, "insured_cover_by_invoice", None)
    return reader(organization, as_of=as_of) if reader else {}


@dataclass
class ProvisionBucket:
    key: str
    label: str
    balance: Decimal
    balance_net: Decimal
    cohort_base: Decimal
    cohort_loss: Decimal
    historical_rate: Decimal  # exact
    multiplier: Decimal
    overlay_reason: str
    ecl: Decimal
    ecl_net: Decimal

    @property
    def loss_rate(self) -> Decimal:
        """The rate applied (historical x overlay), rounded for display."""
        return (self.historical_rate * self.multiplier).quantize(RATE_PLACES)


@dataclass
class IndividualLine:
    customer_id: int
    customer_name: str
    balance: Decimal
    balance_net: Decimal
    loss_rate: Decimal
    reason: str
    ecl: Decimal
    ecl_net: Decimal


@dataclass
class Provision:
    as_of: dt.date
    currency: str
    history_from: dt.date
    history_to: dt.date
    segment: str | None
    buckets: list[ProvisionBucket] = field(default_factory=list)
    individual: list[IndividualLine] = field(default_factory=list)
    calibrated_on: dt.date | None = None  # the rates' calibration; None: computed live for this request

    @property
    def rates(self) -> list[CohortRate]:
        return [CohortRate(b.key, b.cohort_base, b.cohort_loss) for b in self.buckets]

    @property
    def total_balance(self) -> Decimal:
        return sum((b.balance for b in self.buckets), ZERO) + sum((i.balance for i in self.individual), ZERO)

    @property
    def ecl_gross(self) -> Decimal:
        return sum((b.ecl for b in self.buckets), ZERO) + sum((i.ecl for i in self.individual), ZERO)

    @property
    def ecl_net(self) -> Decimal:
        return sum((b.ecl_net for b in self.buckets), ZERO) + sum((i.ecl_net for i in self.individual), ZERO)

    @property
    def coverage(self) -> Decimal:
        """Provision as a share of the balance (gross), rounded for display."""
        return (self.ecl_gross / self.total_balance).quantize(RATE_PLACES) if self.total_balance else ZERO


def provision_matrix(organization: Organization, *, as_of: dt.date, history_from: dt.date | None = None,
                     history_to: dt.date | None = None, segment: str | None = None,
                     rates_of: Provision | None = None) -> Provision:
    """The expected credit loss on as_of, by bucket, gross and net of insurance cover. Rates: those of
    `rates_of` when given (a movement's other end), else the explicit window's (live), else the
    calibration in force, else the default window's (live)."""
    calibrated_on = None
    if rates_of is not None:
        rates, calibrated_on = rates_of.rates, rates_of.calibrated_on
        history_from, history_to = rates_of.history_from, rates_of.history_to
    else:
        calibration = (calibration_in_force(organization, as_of, segment)
                       if history_from is None and history_to is None else None)
        if calibration is not None:
            rates, calibrated_on = calibration_rates(calibration), calibration.calibrated_on
            history_from, history_to = calibration.history_from, calibration.history_to
        else:
            if history_from is None or history_to is None:
                default_from, default_to = organization_history(organization, as_of)
                history_from, history_to = history_from or default_from, history_to or default_to
            rates = cohort_loss_rates(organization, history_from=history_from, history_to=history_to, as_of=as_of,
                                      segment=segment)
    currency = organization.base_currency
    aging = aging_report(organization, as_of, lenient=True)  # as the weekly report: a missing rate is a gap, not an error
    keys = [bucket.key for bucket in aging.buckets]
    individual = individual_rates(organization, as_of)
    segment_customers = None
    if segment:
        segment_customers = set(Customer.objects.filter(organization=organization, segment=segment)
                                .values_list("pk", flat=True))
    matrix_balance = [ZERO] * len(keys)
    individual_lines: dict[int, IndividualLine] = {}
    for row in aging.rows:
        if segment_customers is not None and row.customer_id not in segment_customers:
            continue
        if row.customer_id in individual:
            rate, reason = individual[row.customer_id]
            individual_lines[row.customer_id] = IndividualLine(row.customer_id, row.customer_name, row.total, row.total,
                                                               rate, reason, ZERO, ZERO)
            continue
        for i, amount in enumerate(row.amounts):
            matrix_balance[i] += amount
    # Insurance: the covered part counts at (1 - insured %), per invoice, in its bucket or customer line.
    reduction = [ZERO] * len(keys)
    cover = insured_cover(organization, as_of)
    if cover:
        buckets = aging.buckets
        for pk, customer_id, due_date in Invoice.objects.filter(organization=organization, pk__in=list(cover)) \
                .values_list("pk", "customer_id", "due_date"):
            if segment_customers is not None and customer_id not in segment_customers:
                continue
            covered, percent = cover[pk]
            cut = quantize(Decimal(covered) * Decimal(percent), currency)
            if customer_id in individual_lines:
                individual_lines[customer_id].balance_net -= cut
                continue
            index = next(i for i, b in enumerate(buckets)
                         if (b.due_from is None or due_date >= b.due_from) and (b.due_before is None or due_date < b.due_before))
            reduction[index] += cut
    overlays = overlays_as_of(organization, as_of)
    result = Provision(as_of, currency, history_from, history_to, segment, calibrated_on=calibrated_on)
    for i, (bucket, rate) in enumerate(zip(aging.buckets, rates, strict=True)):
        overlay = overlays.get(bucket.key)
        multiplier = overlay.multiplier if overlay else Decimal(1)
        balance_net = max(matrix_balance[i] - reduction[i], ZERO)
        result.buckets.append(ProvisionBucket(
            key=bucket.key, label=str(bucket.label), balance=matrix_balance[i], balance_net=balance_net,
            cohort_base=rate.base, cohort_loss=rate.loss, historical_rate=rate.rate, multiplier=multiplier,
            overlay_reason=overlay.reason if overlay else "",
            ecl=quantize(matrix_balance[i] * rate.rate * multiplier, currency),
            ecl_net=quantize(balance_net * rate.rate * multiplier, currency)))
    for line in sorted(individual_lines.values(), key=lambda line: (-line.balance, line.customer_name)):
        line.balance_net = max(line.balance_net, ZERO)
        line.ecl = quantize(line.balance * line.loss_rate, currency)
        line.ecl_net = quantize(line.balance_net * line.loss_rate, currency)
        result.individual.append(line)
    return result


@dataclass
class Movement:
    date_from: dt.date
    date_to: dt.date
    currency: str
    opening: Decimal
    charge: Decimal
    used: Decimal  # written off in the period, taken from the provision
    closing: Decimal


def write_offs_between(organization: Organization, date_from: dt.date, date_to: dt.date) -> Decimal:
    """Write-offs applied in (date_from, date_to], signed (reversals count), in base currency at date_to."""
    rows = list(Allocation.objects.filter(organization=organization, kind=AllocationKind.WRITE_OFF,
                                          applied_on__gt=date_from, applied_on__lte=date_to)
                .values("currency").order_by().annotate(total=Sum("amount")).values_list("currency", "total"))
    fx = FxTable.load(organization, {currency for currency, _total in rows}, date_to, lenient=True)
    return sum((fx.convert(total, currency, date_to) for currency, total in rows), ZERO)


def provision_movement(organization: Organization, *, date_from: dt.date, date_to: dt.date,
                       history_from: dt.date | None = None, history_to: dt.date | None = None,
                       closing: Provision | None = None) -> Movement:
    """Opening (net provision on date_from), amounts used by write-offs, the charge, closing (on date_to):
    closing = opening + charge - used. Both ends use the same loss rates: the explicit window's, or
    the closing provision's (given, or computed as provision_matrix would: calibration or default)."""
    if closing is None:
        closing = provision_matrix(organization, as_of=date_to, history_from=history_from, history_to=history_to)
    opening = provision_matrix(organization, as_of=date_from, rates_of=closing).ecl_net
    used = write_offs_between(organization, date_from, date_to)
    return Movement(date_from, date_to, organization.base_currency, opening, closing.ecl_net - opening + used, used,
                    closing.ecl_net)
