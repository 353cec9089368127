"""The arithmetic of financing one invoice, in one place: advance, fee, interest on funds in use
(simple interest, actual days over a 360- or 365-day year) and the reserve.

Each figure is rounded once, half up, to the currency's minor unit, when it is computed:

    advance  = face x advance rate
    fee      = face x fee rate
    interest = sum over periods of (advance still outstanding x annual rate x days / day count)
    reserve  = face - advance - fee - interest   (released to the seller on collection)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from tenancy.money import ZERO, quantize


def advance_of(face: Decimal, advance_rate: Decimal, currency: str) -> Decimal:
    return quantize(face * advance_rate, currency)


def fee_of(face: Decimal, fee_rate: Decimal, currency: str) -> Decimal:
    return quantize(face * fee_rate, currency)


def interest_of(advance: Decimal, *, rate: Decimal, day_count: int, start: dt.date, end: dt.date,
                repayments: Iterable[tuple[dt.date, Decimal]] = (), currency: str) -> Decimal:
    """Interest on an advance drawn on `start` until `end`, less the (date, amount) repayments made
    in between (each reduces the funds in use from its date on). Rounded once, at the end."""
    outstanding, day, accrued = advance, start, ZERO
    for paid_on, amount in sorted(repayments):
        paid_on = min(max(paid_on, start), end)
        accrued += outstanding * (paid_on - day).days
        outstanding = max(ZERO, outstanding - amount)
        day = paid_on
    if end > day:
        accrued += outstanding * (end - day).days
    return quantize(accrued * rate / day_count, currency)


def reserve_of(face: Decimal, advance: Decimal, fee: Decimal, interest: Decimal) -> Decimal:
    return face - advance - fee - interest
