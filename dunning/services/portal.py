"""What customers do in their portal: visits, disputes and promises."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.models import Organization
from tenancy.money import Money

from ..models import (
    CustomerEvent,
    Dispute,
    EventKind,
    PromiseToPay,
    Source,
)
from .common import timeline_add
from .disputes import dispute_open
from .promises import promise_create
from .worklist import collector_notify

# --- portal actions ------------------------------------------------------------------------

def portal_visit_record(*, organization: Organization, customer: Customer, client: str) -> None:
    """Note on the timeline that the customer opened its portal link (once a day)."""
    today = local_today(organization.timezone)
    if CustomerEvent.objects.filter(organization=organization, customer=customer, kind=EventKind.PORTAL_VIEW,
                                    data__day=today.isoformat()).exists():
        return
    timeline_add(organization=organization, customer=customer, kind=EventKind.PORTAL_VIEW,
                 summary=_("Opened the portal link"), data={"day": today.isoformat(), "client": client},
                 actor_label=(_("Customer portal: %(customer)s") % {"customer": customer.name})[:200])


@transaction.atomic
def portal_dispute_open(*, organization: Organization, customer: Customer, invoice: Invoice, reason: str,
                        amount: Decimal | None, description: str, actor_label: str) -> Dispute:
    """A dispute from the customer portal: pauses dunning and tells the collector."""
    dispute = dispute_open(organization=organization, actor=None, invoice=invoice, reason=reason, amount=amount,
                           description=description, source=Source.PORTAL, actor_label=actor_label)
    collector_notify(organization=organization, customer=customer,
                     title=_("%(customer)s disputes invoice %(number)s") % {"customer": customer.name,
                                                                            "number": invoice.number},
                     body=_("Reason: %(reason)s\nAmount: %(amount)s\n\n%(description)s")
                     % {"reason": dispute.get_reason_display(), "amount": Money(dispute.amount, dispute.currency),
                        "description": description})
    return dispute


@transaction.atomic
def portal_promise_create(*, organization: Organization, customer: Customer, invoice: Invoice, amount: Decimal,
                          promised_date: dt.date, notes: str, actor_label: str) -> PromiseToPay:
    """A promise from the customer portal: pauses dunning and tells the collector."""
    promise = promise_create(organization=organization, actor=None, customer=customer, invoices=[invoice],
                             amount=amount, promised_date=promised_date, notes=notes, source=Source.PORTAL,
                             actor_label=actor_label)
    collector_notify(organization=organization, customer=customer,
                     title=_("%(customer)s promises to pay %(amount)s by %(date)s")
                     % {"customer": customer.name, "amount": Money(promise.amount, promise.currency),
                        "date": promised_date.isoformat()},
                     body=_("Invoice %(number)s. %(notes)s") % {"number": invoice.number, "notes": notes})
    return promise
