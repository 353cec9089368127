"""What dunning tells the customer page (receivables/panels.py): the collections panel (assigned
collector, open disputes, open promises, active payment plans) and the relationship in one stream:
the customer's timeline (messages, calls, notes, disputes, promises, plans) with its payments.

Each panel is a fixed number of queries however long the customer's history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from receivables.models import Customer, PaymentStatus
from receivables.panels import CustomerLink, CustomerPanel, customer_link_register, customer_panel_register
from receivables.selectors import payment_list
from tenancy.models import Organization

from . import selectors
from .models import (
    CustomerDunning,
    Dispute,
    DisputeStatus,
    Installment,
    PaymentPlan,
    PlanStatus,
    PromiseStatus,
    PromiseToPay,
)

STREAM_LENGTH = 30


def collections_panel(organization: Organization, customer: Customer, today: dt.date) -> dict[str, Any]:
    """Collector and the open collection matters of one customer (five queries)."""
    setting = (CustomerDunning.objects.filter(organization=organization, customer=customer)
               .select_related("collector", "policy").first())
    disputes = list(Dispute.objects.filter(organization=organization, customer=customer, status=DisputeStatus.OPEN)
                    .select_related("invoice").order_by("due_on", "pk")[:20])
    promises = list(PromiseToPay.objects.filter(organization=organization, customer=customer,
                                                status=PromiseStatus.OPEN)
                    .prefetch_related("invoices").order_by("promised_date", "pk")[:20])
    plans = list(PaymentPlan.objects.filter(organization=organization, customer=customer, status=PlanStatus.ACTIVE)
                 .prefetch_related(Prefetch("installments", queryset=Installment.objects.order_by("sequence")))
                 .order_by("start_date", "pk")[:10])
    for plan in plans:
        plan.next_installment = next((i for i in plan.installments.all() if i.due_date >= today), None)
    return {
        "customer": customer, "setting": setting, "collector": setting.collector if setting else None,
        "disputes": disputes, "promises": promises, "plans": plans, "today": today,
    }


@dataclass(frozen=True)
class StreamEntry:
    """One line of the customer's stream: a timeline event or a payment."""

    day: dt.date
    at: dt.datetime | None  # the local time of an event; a payment has only its date
    kind: str  # the event kind, or "payment"
    label: str
    summary: str = ""
    actor: str = ""
    amount: Decimal | None = None  # a payment's amount, in `currency`
    currency: str = ""
    url: str = ""
    sort_at: dt.datetime | None = None


def stream_panel(organization: Organization, customer: Customer, today: dt.date) -> dict[str, Any]:
    """The newest events of the customer's timeline and its payments, newest first (two queries)."""
    zone = ZoneInfo(organization.timezone)
    entries = []
    for event in selectors.customer_timeline(organization, customer)[:STREAM_LENGTH]:
        at = event.occurred_at.astimezone(zone)
        entries.append(StreamEntry(day=at.date(), at=at, kind=event.kind, label=event.get_kind_display(),
                                   summary=event.summary, actor=event.actor_label, sort_at=event.occurred_at))
    payments = payment_list(organization).filter(customer=customer).order_by("-received_on", "-pk")[:STREAM_LENGTH]
    for payment in payments:
        reversed_ = payment.status == PaymentStatus.REVERSED
        entries.append(StreamEntry(
            day=payment.received_on, at=None, kind="payment",
            label=_("Payment reversed") if reversed_ else _("Payment received"), summary=payment.reference,
            amount=payment.amount, currency=payment.currency, url=reverse("payment_detail", args=[payment.pk]),
            sort_at=payment.created_at))
    entries.sort(key=lambda e: (e.day, e.sort_at), reverse=True)
    return {"customer": customer, "entries": entries[:STREAM_LENGTH]}


def customer_page_register() -> None:
    """Tell the customer page (receivables, below dunning) about the panels and pages above (apps.py)."""
    customer_panel_register(CustomerPanel(key="collections", order=20, build=collections_panel,
                                          template="dunning/_customer_panel.html"))
    customer_panel_register(CustomerPanel(key="stream", order=90, build=stream_panel,
                                          template="dunning/_customer_stream.html", wide=True))
    for key, order, label, url_name, capability, download in (
            ("timeline", 20, gettext_lazy("Timeline"), "dunning:timeline", "", False),
            ("dunning_settings", 30, gettext_lazy("Dunning settings"), "dunning:customer_settings", "manage_credit",
             False),
            ("evidence", 40, gettext_lazy("Evidence bundle (ZIP)"), "dunning:evidence", "", True)):
        customer_link_register(CustomerLink(key=key, order=order, label=label, url_name=url_name,
                                            capability=capability, download=download))
