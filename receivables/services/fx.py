"""Exchange rates, invoices' values at issue, and cross-currency receipts with the exchange
differences they realize (docs/ledger.md, "Cross-currency receipts").

An allocation's `amount` is in the invoice's currency. When the payment is in another currency,
the allocation also records `payment_amount` / `payment_currency` (what the payment gave up).
Every payment allocation that involves a currency other than the base currency records, in base
currency, the value received (`base_amount`, at the receipt date's rate) and the realized
exchange difference (`fx_difference`) against the invoice's value at issue. That value is
released in proportion to what is applied, cumulatively, so the differences of a settled invoice
add up exactly to what it brought in minus its value at issue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import Money, minor_unit_check, parse_amount, quantize, validate_currency
from tenancy.services import (
    Actor,
    audit_record,
    role_require,
)

from ..models import (
    Allocation,
    FxRate,
    Invoice,
    Payment,
)
from ..selectors import FxTable
from .common import _lock_invoices


@transaction.atomic
def fx_rate_set(*, organization: Organization, actor: Actor, currency: str, rate_date: dt.date, rate: Decimal) -> FxRate:
    """Record how many base-currency units one unit of `currency` was worth from `rate_date`; invoices
    in that currency issued since then that had no value at issue get it now."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    currency = validate_currency(currency)
    if currency == organization.base_currency:
        raise DomainError(_("The base currency needs no rate."), field="currency")
    rate = Decimal(str(rate))
    if not rate.is_finite() or rate <= 0:
        raise DomainError(_("A rate must be a positive number."), field="rate")
    fx, created = FxRate.objects.select_for_update(no_key=True).get_or_create(
        organization=organization, currency=currency, rate_date=rate_date, defaults={"rate": rate}
    )
    before = None if created else {"rate": fx.rate}
    if not created:
        fx.rate = rate
        fx.save(update_fields=["rate"])
    filled = _issue_values_fill(organization, currency, rate_date)
    audit_record(organization=organization, actor=actor, action="fx_rate.set", obj=fx, before=before,
                 after={"currency": currency, "rate_date": rate_date, "rate": rate,
                        **({"invoices_valued_at_issue": filled} if filled else {})})
    return fx


def _issue_values_fill(organization: Organization, currency: str, rate_date: dt.date) -> int:
    """Give the invoices in `currency` issued on or after `rate_date` without a value at issue one
    (a rate entered after the invoices it values); values already set are history and stay."""
    ids = list(Invoice.objects.filter(organization=organization, currency=currency, issue_rate__isnull=True,
                                      issue_date__gte=rate_date).values_list("pk", flat=True))
    if not ids:
        return 0
    invoices = list(_lock_invoices(organization, ids).values())
    issue_values_set(organization, invoices)
    valued = [invoice for invoice in invoices if invoice.issue_rate is not None]
    Invoice.objects.bulk_update(valued, ["issue_rate", "base_amount"])
    return len(valued)


# --- values at issue -------------------------------------------------------------------------

# A correction of one of these changes the invoice's value at issue.
ISSUE_VALUE_FIELDS = frozenset({"issue_date", "net_amount", "tax_amount"})

def _rate_or_none(fx: FxTable, currency: str, on: dt.date) -> Decimal | None:
    try:
        return fx.rate(currency, on)
    except DomainError:
        return None


def fx_table(organization: Organization, currencies: Iterable[str], until: dt.date) -> FxTable:
    """The stored rates up to `until` for these currencies (one query; none for the base currency only)."""
    return FxTable.load(organization, set(currencies), until)


def issue_values_set(organization: Organization, invoices: Sequence[Invoice]) -> None:
    """Set each invoice's `issue_rate` and `base_amount` in memory from the rate of its issue date
    (the latest stored on or before it; 1 in the base currency); None when there is none. One query."""
    if not invoices:
        return
    fx = fx_table(organization, {i.currency for i in invoices}, max(i.issue_date for i in invoices))
    for invoice in invoices:
        rate = _rate_or_none(fx, invoice.currency, invoice.issue_date)
        invoice.issue_rate = rate
        invoice.base_amount = (None if rate is None
                               else quantize(invoice.total_amount * rate, organization.base_currency))


# --- cross-currency receipts -----------------------------------------------------------------

@dataclass(frozen=True)
class Conversion:
    """How one allocation line of a payment in another currency converts: `payment_amount` (in the
    payment's currency) or `rate` (payment-currency units for one unit of the invoice's currency);
    neither: the stored rates of the receipt date."""

    payment_amount: Decimal | None = None
    rate: Decimal | None = None


@dataclass(frozen=True)
class FxLeg:
    """What one payment allocation records beyond its amount (see the module's notes)."""

    used: Decimal  # what the payment gives up, in the payment's currency
    payment_amount: Decimal | None  # set only when the payment's currency is not the invoice's
    payment_currency: str | None
    base_amount: Decimal | None
    fx_difference: Decimal | None

    def fields(self) -> dict[str, Any]:
        return {"payment_amount": self.payment_amount, "payment_currency": self.payment_currency,
                "base_amount": self.base_amount, "fx_difference": self.fx_difference}

    def audit(self) -> dict[str, Any]:
        return {name: value for name, value in self.fields().items() if value is not None}


def _positive(value: object, field: str) -> Decimal:
    if isinstance(value, float):
        raise DomainError(_("%(field)s: give it as a decimal string, not a float.") % {"field": field}, field=field)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(_("%(field)s: %(value)s is not a number.") % {"field": field, "value": value},
                          field=field) from None
    if not number.is_finite() or number <= 0:
        raise DomainError(_("%(field)s: must be more than zero.") % {"field": field}, field=field)
    return number


def _issue_share(invoice: Invoice, applied: Decimal, amount: Decimal, base_currency: str) -> Decimal | None:
    """The part of the invoice's value at issue that `amount` settles after `applied`, released
    cumulatively so every cent of it is released exactly once."""
    if invoice.base_amount is None:
        return None

    def released(applied: Decimal) -> Decimal:
        if applied >= invoice.total_amount:
            return quantize(invoice.base_amount, base_currency)
        return quantize(invoice.base_amount * applied / invoice.total_amount, base_currency)

    return released(applied + amount) - released(applied)


def payment_leg(organization: Organization, fx: FxTable, *, payment: Payment, invoice: Invoice, amount: Decimal,
                conversion: Conversion | None = None, applied: Decimal | None = None) -> FxLeg:
    """What allocating `amount` (in the invoice's currency) of `payment` to `invoice` uses of the
    payment and realizes in base currency, after `applied` (default: the invoice's applied amount).
    `fx` holds the rates up to the receipt date. Refuses (DomainError) a conversion that is zero,
    negative or ambiguous, and a cross-currency line no stored rate of the receipt date converts."""
    base, on = organization.base_currency, payment.received_on
    pay_cur, inv_cur = payment.currency, invoice.currency
    if conversion is None and pay_cur == inv_cur == base:  # the common case: nothing to convert or realize
        return FxLeg(amount, None, None, None, None)
    conversion = conversion or Conversion()
    if conversion.payment_amount is not None and conversion.rate is not None:
        raise DomainError(_("Invoice %(number)s: give payment_amount or rate, not both.") % {"number": invoice.number},
                          field="rate")
    if pay_cur == inv_cur:
        if conversion.rate is not None and _positive(conversion.rate, "rate") != 1:
            raise DomainError(_("Invoice %(number)s is in the payment's currency: no rate applies.")
                              % {"number": invoice.number}, field="rate")
        if (conversion.payment_amount is not None
                and _positive(conversion.payment_amount, "payment_amount") != amount):
            raise DomainError(_("Invoice %(number)s is in the payment's currency: payment_amount must equal amount.")
                              % {"number": invoice.number}, field="payment_amount")
        used, payment_amount = amount, None
    else:
        if conversion.payment_amount is not None:
            used = parse_amount(_positive(conversion.payment_amount, "payment_amount"), field="payment_amount")
            minor_unit_check(used, pay_cur, field="payment_amount")
        else:
            if conversion.rate is not None:
                cross = _positive(conversion.rate, "rate")
            else:
                inv_rate, pay_rate = _rate_or_none(fx, inv_cur, on), _rate_or_none(fx, pay_cur, on)
                if inv_rate is None or pay_rate is None:
                    raise DomainError(
                        _("Invoice %(number)s is in %(inv)s and the payment in %(pay)s, and no stored rate converts "
                          "them on %(date)s: give payment_amount (in %(pay)s) or rate (%(pay)s per %(inv)s) for it, "
                          "or add the rate under FX rates.")
                        % {"number": invoice.number, "inv": inv_cur, "pay": pay_cur, "date": on.isoformat()},
                        code=ErrorCode.FX_RATE_REQUIRED, field="rate")
                cross = inv_rate / pay_rate
            used = quantize(amount * cross, pay_cur)
            if used <= 0:
                raise DomainError(_("%(amount)s at this rate is less than the smallest %(currency)s amount.")
                                  % {"amount": Money(amount, inv_cur), "currency": pay_cur}, field="rate")
            used = parse_amount(used, field="payment_amount")
        payment_amount = used
    if pay_cur == base:
        base_amount = used if inv_cur != base else None
    else:
        pay_rate = _rate_or_none(fx, pay_cur, on)
        base_amount = None if pay_rate is None else quantize(used * pay_rate, base)
    share = _issue_share(invoice, invoice.applied_amount if applied is None else applied, amount, base)
    difference = None if base_amount is None or share is None else quantize(base_amount - share, base)
    return FxLeg(used, payment_amount, None if payment_amount is None else pay_cur, base_amount, difference)


def payment_in_invoice_currency(fx: FxTable, *, payment: Payment, invoice: Invoice) -> Decimal:
    """A whole payment in the invoice's currency at the stored rates of the receipt date (the bulk
    paths, which name an invoice and no conversion); FX_RATE_REQUIRED when none converts."""
    on = payment.received_on
    inv_rate, pay_rate = _rate_or_none(fx, invoice.currency, on), _rate_or_none(fx, payment.currency, on)
    if inv_rate is None or pay_rate is None:
        raise DomainError(
            _("Invoice %(number)s is in %(inv)s and the payment in %(pay)s, and no stored rate converts them on "
              "%(date)s: add the rate under FX rates, or allocate the payment with payment_amount or rate.")
            % {"number": invoice.number, "inv": invoice.currency, "pay": payment.currency, "date": on.isoformat()},
            code=ErrorCode.FX_RATE_REQUIRED, field="invoice")
    amount = quantize(payment.amount * pay_rate / inv_rate, invoice.currency)
    if amount <= 0:
        raise DomainError(_("%(amount)s is less than the smallest %(currency)s amount.")
                          % {"amount": Money(payment.amount, payment.currency), "currency": invoice.currency},
                          field="amount")
    return amount


def reversal_fields(original: Allocation, amount: Decimal, base_currency: str) -> dict[str, Any]:
    """The FX fields of the row undoing `amount` (in the invoice's currency, positive) of `original`,
    a payment allocation: its payment amount (a payment in another currency), base value and realized
    difference, negated in the same proportion, so the reversal undoes the difference the allocation
    realized; the row that undoes all that is left takes exactly what is left of each."""
    if original.payment_amount is None and original.base_amount is None and original.fx_difference is None:
        return {}
    prior = Allocation.objects.filter(reverses=original).aggregate(
        amount=Sum("amount"), payment_amount=Sum("payment_amount"), base_amount=Sum("base_amount"),
        fx_difference=Sum("fx_difference"))
    whole = amount == original.amount + (prior["amount"] or 0)

    def part(name: str, currency: str) -> Decimal | None:
        value = getattr(original, name)
        if value is None:
            return None
        if whole:
            return -(value + (prior[name] or 0))
        return -quantize(value * amount / original.amount, currency)

    fields = {"base_amount": part("base_amount", base_currency), "fx_difference": part("fx_difference", base_currency)}
    if original.payment_currency:
        fields.update(payment_amount=part("payment_amount", original.payment_currency),
                      payment_currency=original.payment_currency)
    return fields
