"""What an app above the ledger decides about new credit, and a figure it lends the ledger's
reports. receivables sits below credit (DESIGN.md: an app imports only the apps below it), so
credit registers its credit hold and its over-limit count in CreditConfig.ready(); with nothing
registered the ledger takes every invoice and the weekly report leaves the KPI out.

The hold is credit's two functions: one new invoice (raises DomainError when refused, returns the
warning or None) and many at once ({customer id: (message, refused)} for the customers on hold)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tenancy.models import Organization


@dataclass(frozen=True)
class CreditHold:
    check_one: Callable[..., str | None]
    check_many: Callable[..., dict[int, tuple[str, bool]]]


_hold: list[CreditHold] = []
_over_limit: list[Callable[[Organization, dt.date], int | None]] = []


def credit_hold_register(hold: CreditHold) -> None:
    _hold[:] = [hold]


def over_limit_count_register(count: Callable[[Organization, dt.date], int | None]) -> None:
    _over_limit[:] = [count]


def credit_hold_one(*, organization: Organization, customer: Any, amount: Decimal, currency: str | None = None
                    ) -> str | None:
    """One new invoice: raises DomainError (credit hold) when refused; the warning, or None."""
    if not _hold:
        return None
    return _hold[0].check_one(organization=organization, customer=customer, amount=amount, currency=currency)


def credit_hold_many(*, organization: Organization, invoices: list[tuple[Any, Decimal, str]]
                     ) -> dict[int, tuple[str, bool]]:
    """{customer id: (message, refused)} for the customers of the new invoices on hold."""
    if not _hold:
        return {}
    return _hold[0].check_many(organization=organization, invoices=invoices)


def customers_over_limit_count(organization: Organization, as_of: dt.date) -> int | None:
    """How many customers' exposure exceeds their credit limit; None when nothing is registered or no
    limits are set."""
    return _over_limit[0](organization, as_of) if _over_limit else None
