"""Early-payment discounts and late charges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from receivables import services as ledger
from receivables.models import CreditNote, Customer, Invoice
from tenancy.dates import local_today
from tenancy.models import Organization, Role
from tenancy.money import ZERO, parse_amount, quantize
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from ..models import (
    DunningNotice,
)
from .policies import policy_for_customer

# --- early-payment discount ----------------------------------------------------------------

@transaction.atomic
def payment_record_with_discount(*, organization: Organization, actor: Actor, invoice: Invoice,
                                 received_on: dt.date, amount: Decimal | str, reference: str = ""):
    """Record a payment on one invoice. Each payment received inside the policy's discount window
    (e.g. 2/10 net 30) earns the discount on what it pays: at 2%, 980 settles 1,000 and 490 settles
    500, whether the rest comes inside the window or later. The discount is a credit note."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, invoice)
    amount = parse_amount(amount)
    customer = invoice.customer
    policy = policy_for_customer(organization, customer)
    balance = invoice.balance
    discount = ZERO
    window_end = invoice.issue_date + dt.timedelta(days=policy.discount_days)
    if policy.discount_percent and received_on <= window_end and invoice.kind != "charges":
        pct = policy.discount_percent
        discount = min(quantize(amount * pct / (100 - pct), invoice.currency), max(balance - amount, ZERO))
    payment = ledger.payment_record(organization=organization, actor=actor, customer=customer,
                                    received_on=received_on, amount=amount, currency=invoice.currency,
                                    reference=reference, auto_allocate=False)
    ledger.payment_allocate(organization=organization, actor=actor, payment=payment,
                            allocations=[(invoice, min(amount, balance))])
    if discount:
        earlier = CreditNote.objects.filter(organization=organization, customer=customer,
                                            number__startswith=f"DISC-{invoice.number}").count()
        number = f"DISC-{invoice.number}" + (f"-{earlier + 1}" if earlier else "")
        ledger.credit_note_create(organization=organization, actor=actor, customer=customer,
                                  number=number[:64], issued_on=received_on, amount=discount,
                                  currency=invoice.currency, invoice=invoice,
                                  reason=_("Early-payment discount %(pct)s%%") % {"pct": policy.discount_percent})
    invoice.refresh_from_db()
    return payment, discount


# --- late charges --------------------------------------------------------------------------

@transaction.atomic
def late_charges_invoice(*, organization: Organization, actor: Actor, customer: Customer,
                         number: str) -> Invoice | None:
    """Raise one invoice for the fees and interest of the notices sent and not yet charged."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, customer)
    pending = list(DunningNotice.objects.select_for_update(no_key=True).filter(
        organization=organization, customer=customer, currency=customer.currency, charges_invoice__isnull=True,
    ).exclude(fee_amount=0, interest_amount=0).order_by("pk"))
    total = sum((n.fee_amount + n.interest_amount for n in pending), ZERO)
    if not total:
        return None
    today = local_today(organization.timezone)
    invoice = ledger.invoice_create(organization=organization, actor=actor, customer=customer, number=number,
                                    issue_date=today, due_date=today + dt.timedelta(days=14), net_amount=total,
                                    currency=customer.currency, description=_("Late-payment fees and interest"),
                                    kind="charges")
    DunningNotice.objects.filter(pk__in=[n.pk for n in pending]).update(charges_invoice=invoice)
    audit_record(organization=organization, actor=actor, action="dunning.charges_invoiced", obj=invoice,
                 after={"notices": [n.pk for n in pending], "total": total})
    return invoice
