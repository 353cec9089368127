"""What insurance tells the credit hold and the credit recommendation: each customer's buyer cover
in force on a date, in the organization's base currency (credit sits below insurance, so it asks
through credit.cover's registry; insurance/apps.py registers this answer).

Cover in force = the latest granting decision of each policy in force on the date (its period holds
the date) that does not exclude the buyer, 0 after the decision's valid_until, summed over those
policies and converted at the date's rate. A cover in a currency with no rate counts as zero (the
cautious side: the hold then allows only the uninsured appetite). A fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables.selectors import FxTable
from tenancy.models import Organization
from tenancy.money import ZERO

from .selectors import covers_as_of, policy_list

LIST_LIMIT = 1000  # customer ids bound as a list; above it the decisions are read whole and filtered here


def cover_in_force_base(organization: Organization, customer_ids: list[int], on: dt.date) -> dict[int, Decimal]:
    """{customer id: cover in force on `on`, base currency} for the customers with some cover."""
    policies = {p.pk: p for p in policy_list(organization).filter(starts_on__lte=on, ends_on__gte=on)
                .prefetch_related("excluded_customers")}
    if not policies:
        return {}
    excluded = {pk: {c.pk for c in p.excluded_customers.all()} for pk, p in policies.items()}
    wanted = set(customer_ids)
    # A whole portfolio (scoring) reads every decision rather than binding a list of ids per customer.
    in_force = covers_as_of(organization, on, customer_ids=customer_ids if len(wanted) <= LIST_LIMIT else None)
    covers = [cover for (policy_id, customer_id), cover in in_force.items()
              if customer_id in wanted and policy_id in policies and customer_id not in excluded[policy_id]
              and cover.amount > 0]
    fx = FxTable.load(organization, {cover.currency for cover in covers}, on, lenient=True)
    totals: dict[int, Decimal] = {}
    for cover in covers:
        totals[cover.customer_id] = totals.get(cover.customer_id, ZERO) + fx.convert(cover.amount, cover.currency, on)
    return totals
