"""What credit insurance tells credit: each customer's buyer cover in force on a date, in the
organization's base currency. Credit sits below insurance, so insurance registers its answer here
(insurance/apps.py); with no provider every customer's cover is zero and nothing else changes
unless the credit policy's `insured_hold` is on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from tenancy.models import Organization
from tenancy.money import ZERO

# fn(organization, customer ids, on) -> {customer id: cover in force (base currency)}; absent = none.
CoverProvider = Callable[[Organization, list[int], dt.date], dict[int, Decimal]]
_providers: list[CoverProvider] = []


def cover_provider_register(fn: CoverProvider) -> None:
    if fn not in _providers:
        _providers.append(fn)


def cover_provided() -> bool:
    """Whether any app tells credit about cover (the pages show a cover figure only then)."""
    return bool(_providers)


def cover_in_force(organization: Organization, customer_ids: list[int], on: dt.date) -> dict[int, Decimal]:
    """{customer id: cover in force on `on`, base currency} for the given customers (0 when none)."""
    covers = {customer_id: ZERO for customer_id in customer_ids}
    if not customer_ids:
        return covers
    for provider in _providers:
        for customer_id, amount in provider(organization, list(customer_ids), on).items():
            if customer_id in covers:
                covers[customer_id] += amount
    return covers
