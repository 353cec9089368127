"""Amounts far above a customer's usual, for the browser forms to ask "are you sure?" (issue 14 item 9).

The rule, one place: an amount is unusual for a customer when it is more than `UNUSUAL_FACTOR` (10) times
the median total of the customer's invoices in the same currency issued in the 365 days before the date,
once there are at least `UNUSUAL_MIN_INVOICES` (3) of them to judge by; a payment must also be more than
what the customer owes in that currency (a customer settling a year of invoices at once is not unusual).
Only the browser forms ask; the API and the importer take the amount as given.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Sum

from tenancy.money import ZERO

from .models import Customer, Invoice

UNUSUAL_FACTOR = 10
UNUSUAL_MIN_INVOICES = 3
UNUSUAL_WINDOW_DAYS = 365


@dataclass(frozen=True, slots=True)
class Unusual:
    amount: Decimal
    currency: str
    median: Decimal
    invoices: int

    @property
    def times(self) -> int:
        return int(self.amount / self.median)


def customer_usual_invoice(organization, customer: Customer, currency: str, on: dt.date) -> tuple[Decimal, int] | None:
    """The median total of the customer's invoices in `currency` issued in the year before `on`, and their
    count; None with fewer than UNUSUAL_MIN_INVOICES."""
    totals = list(Invoice.objects.filter(
        organization=organization, customer=customer, currency=currency, voided_on__isnull=True,
        issue_date__gt=on - dt.timedelta(days=UNUSUAL_WINDOW_DAYS), issue_date__lte=on,
    ).values_list("total_amount", flat=True))
    if len(totals) < UNUSUAL_MIN_INVOICES:
        return None
    return statistics.median(totals), len(totals)


def unusual_invoice_amount(organization, customer: Customer, currency: str, amount: Decimal,
                           on: dt.date) -> Unusual | None:
    """An Unusual when `amount` is more than UNUSUAL_FACTOR times the customer's median invoice."""
    usual = customer_usual_invoice(organization, customer, currency, on)
    if usual is None or amount <= usual[0] * UNUSUAL_FACTOR:
        return None
    return Unusual(amount=amount, currency=currency, median=usual[0], invoices=usual[1])


def unusual_payment_amount(organization, customer: Customer, currency: str, amount: Decimal,
                           on: dt.date) -> Unusual | None:
    """As for an invoice, and only when the payment is also more than the customer owes in `currency`."""
    unusual = unusual_invoice_amount(organization, customer, currency, amount, on)
    if unusual is None:
        return None
    owed = Invoice.objects.filter(organization=organization, customer=customer, currency=currency,
                                  voided_on__isnull=True).aggregate(
        owed=Sum(F("total_amount") - F("applied_amount")))["owed"] or ZERO
    return unusual if amount > owed else None
