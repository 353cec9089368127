"""The arithmetic of late-payment interest (逾期利息) and payment-plan schedules, without the database.

Late interest is simple interest, actual/365: for each calendar day after the due date, the
balance outstanding at the end of the day before x annual rate / 365, summed exactly and rounded
once (ROUND_HALF_UP to the currency's minor unit). A payment on day 20 therefore lowers the
interest from day 21. Amounts under an open dispute on a day accrue nothing that day. A notice
bills the interest accrued to its date less what earlier notices billed, so over any sequence of
runs the invoice is billed principal x rate x days / 365 once.

A payment plan's interest is on the declining balance: equal principal parts (the last one takes
the rounding), each instalment's interest = principal still owed x annual rate x the period's
days / 365; the total is rounded once and each instalment takes its share of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tenancy.money import ZERO, quantize

DAYS_PER_YEAR = Decimal(365)


def interest_accrued(*, total: Decimal, currency: str, due_date: dt.date, through: dt.date,
                     annual_rate_percent: Decimal, allocations: Iterable[tuple[dt.date, Decimal]] = (),
                     disputes: Iterable[tuple[dt.date, dt.date | None, Decimal]] = ()) -> Decimal:
    """Interest accrued on an invoice from the day after `due_date` to `through` (inclusive).

    `allocations`: (applied_on, signed amount) rows settling the invoice (reversals negative);
    `disputes`: (opened_on, resolved_on or None, amount) rows."""
    if through <= due_date or not annual_rate_percent:
        return quantize(ZERO, currency)
    allocations = list(allocations)
    disputes = list(disputes)
    # Day d accrues on the balance at the end of day d-1: a change dated a acts from a+1 on.
    changes = {a + dt.timedelta(days=1) for a, _amt in allocations}
    changes |= {o for o, _r, _amt in disputes} | {r for _o, r, _amt in disputes if r is not None}
    points = sorted({due_date + dt.timedelta(days=1)} | {d for d in changes if due_date + dt.timedelta(days=1) < d <= through})
    rate = Decimal(annual_rate_percent) / 100
    interest = ZERO
    for index, start in enumerate(points):
        end = points[index + 1] if index + 1 < len(points) else through + dt.timedelta(days=1)
        day_before = start - dt.timedelta(days=1)
        balance = total - sum((amt for a, amt in allocations if a <= day_before), ZERO)
        disputed = sum((amt for o, r, amt in disputes if o <= start and (r is None or start < r)), ZERO)
        balance = max(balance - disputed, ZERO)
        interest += balance * rate * (end - start).days / DAYS_PER_YEAR
    return quantize(interest, currency)


@dataclass(frozen=True)
class ScheduleLine:
    sequence: int
    due_date: dt.date
    principal: Decimal
    interest: Decimal
    balance_after: Decimal

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


def plan_schedule(*, principal: Decimal, currency: str, start: dt.date, due_dates: list[dt.date],
                  annual_rate_percent: Decimal, principals: list[Decimal] | None = None) -> list[ScheduleLine]:
    """Instalments on the declining balance: principal parts (equal unless given), interest per
    period on the principal still owed for the period's days (actual/365)."""
    count = len(due_dates)
    if principals is None:
        part = quantize(principal / count, currency)
        principals = [part] * (count - 1) + [principal - part * (count - 1)]
    rate = Decimal(annual_rate_percent) / 100
    lines, owed, previous = [], principal, start
    exact, billed = ZERO, ZERO
    for sequence, (due, part) in enumerate(zip(due_dates, principals, strict=True), 1):
        # Rounded once over the whole plan: each instalment takes the rounded running total less
        # what earlier instalments took, so the parts add up to the rounded exact interest.
        exact += owed * rate * (due - previous).days / DAYS_PER_YEAR
        interest = quantize(exact, currency) - billed
        billed += interest
        owed -= part
        lines.append(ScheduleLine(sequence, due, part, interest, owed))
        previous = due
    return lines
