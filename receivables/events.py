"""The receivables events sent to webhooks: their payloads (the API's representation) and the
daily overdue scan. The services call these at the end of each write."""

from __future__ import annotations

import collections
import functools
import itertools
import operator

from django.db import transaction
from django.db.models import prefetch_related_objects

from tenancy.dates import local_today
from tenancy.models import Organization, WebhookEvent
from tenancy.webhooks import event_emit, events_emit

from .models import Customer, Invoice, InvoiceStatus, Payment
from .selectors import overdue_filter

CHUNK = 1000
PAYLOAD_CHUNK = 200  # payloads made at a time while events are stored


@functools.cache
def _representer(name: str):
    """One serializer per resource, reused: building a DRF serializer's fields costs more than
    rendering an invoice, and every ledger write renders one for its event."""
    from . import serializers

    return getattr(serializers, name)()


def invoice_event(organization: Organization, invoice: Invoice, type: str) -> None:
    event_emit(organization=organization, type=type, payload=_representer("InvoiceSerializer").to_representation(invoice))


@functools.cache
def _row_reader(columns: tuple[str, ...]):
    """For a representer's `values_columns`: a function giving the row `.values_list(*columns,
    named=True)` would read for an object, taken from the object itself (`customer__external_id`
    is `obj.customer.external_id`)."""
    row = collections.namedtuple("Row", columns)
    values = operator.attrgetter(*[column.replace("__", ".") for column in columns])
    return lambda obj: row._make(values(obj))


def invoices_event(organization: Organization, invoices: list[Invoice], type: str) -> None:
    """invoice_event for many invoices just written: one event each, written in bulk, the payloads
    built as the API's list pages build them, from the saved objects (no read back: the tests hold
    each payload equal to the API's representation of the stored invoice), a few hundred at a time
    while the database stores the events before them."""
    if not invoices:
        return
    representer = _representer("InvoiceSerializer")
    # Everything read from the database is read first: the lazy payloads run while COPY holds the connection.
    prefetch_related_objects([i for i in invoices if not Invoice.customer.is_cached(i)], "customer")
    read = _row_reader(representer.values_columns)
    rows = [read(invoice) for invoice in invoices]
    payloads = itertools.chain.from_iterable(
        representer.values_rows(rows[start:start + PAYLOAD_CHUNK], from_database=False)
        for start in range(0, len(rows), PAYLOAD_CHUNK))
    events_emit(organization=organization, type=type, payloads=payloads, count=len(invoices), json_ready=True)


def payments_received(organization: Organization, payments: list[Payment]) -> None:
    """payment_received for many payments: one event each (with its allocations), written in bulk."""
    from .serializers import PaymentSerializer

    if not payments:
        return
    representer = PaymentSerializer(context={"organization": organization})
    rows = (Payment.objects.filter(organization=organization, pk__in=[p.pk for p in payments]).order_by("pk")
            .values_list(*representer.values_columns, named=True))
    events_emit(organization=organization, type="payment.received", payloads=representer.values_rows(list(rows)),
                json_ready=True)


def invoice_settled(organization: Organization, invoice: Invoice, *, cash: bool = False) -> None:
    """After cash, a credit or a write-off was applied: invoice.paid when that paid it in full with
    some cash in it; invoice.settled when only credit notes and write-offs closed it; else invoice.updated."""
    if invoice.status == InvoiceStatus.PAID and (cash or _cash_applied(organization, invoice)):
        invoice_event(organization, invoice, "invoice.paid")
    elif invoice.status in (InvoiceStatus.PAID, InvoiceStatus.WRITTEN_OFF):
        invoice_event(organization, invoice, "invoice.settled")
    else:
        invoice_event(organization, invoice, "invoice.updated")


def _cash_applied(organization: Organization, invoice: Invoice) -> bool:
    from django.db.models import Sum

    from .models import Allocation, AllocationKind

    total = (Allocation.objects.filter(organization=organization, invoice=invoice, kind=AllocationKind.PAYMENT)
             .aggregate(s=Sum("amount"))["s"])
    return bool(total and total > 0)


def invoice_reopened(organization: Organization, invoice: Invoice) -> None:
    """An invoice's balance grew again (a payment, credit note or write-off reversed, cash unapplied)."""
    invoice_event(organization, invoice, "invoice.reopened")


def ledger_event(organization: Organization, type: str, payload: dict) -> None:
    """payment.reversed, payment.refunded, credit_note.reversed, write_off.reversed."""
    event_emit(organization=organization, type=type, payload=payload)


def customer_updated(organization: Organization, customer: Customer) -> None:
    event_emit(organization=organization, type="customer.updated",
               payload=_representer("CustomerSerializer").to_representation(customer))


def customers_updated(organization: Organization, customers: list[Customer]) -> None:
    """customer_updated for many customers: one event each, written in bulk."""
    if not customers:
        return
    representer = _representer("CustomerSerializer")
    rows = (Customer.objects.filter(organization=organization, pk__in=[c.pk for c in customers]).order_by("pk")
            .values_list(*representer.values_columns, named=True))
    events_emit(organization=organization, type="customer.updated", payloads=representer.values_rows(list(rows)),
                json_ready=True)


def payment_received(organization: Organization, payment: Payment) -> None:
    event_emit(organization=organization, type="payment.received",
               payload=_representer("PaymentSerializer").to_representation(payment))


def _overdue_key(invoice_id: int, due_date) -> str:
    return f"invoice.overdue:{invoice_id}:{due_date.isoformat()}"


def invoice_overdue_events_emit(organization: Organization) -> int:
    """invoice.overdue for each invoice past due today (organization's zone) not yet announced
    for its current due date. A moved due date is a new transition; a rerun emits nothing."""
    from .serializers import InvoiceSerializer

    today = local_today(organization.timezone)
    overdue = (Invoice.objects.filter(organization=organization).filter(overdue_filter(today))
               .select_related("customer", "organization").order_by("pk"))
    emitted = 0
    last_pk = 0
    while True:
        chunk = list(overdue.filter(pk__gt=last_pk)[:CHUNK])
        if not chunk:
            return emitted
        last_pk = chunk[-1].pk
        keys = {_overdue_key(i.pk, i.due_date): i for i in chunk}
        done = set(WebhookEvent.objects.filter(organization=organization, dedupe_key__in=keys)
                   .values_list("dedupe_key", flat=True))
        with transaction.atomic():
            for key, invoice in keys.items():
                if key not in done and event_emit(organization=organization, type="invoice.overdue",
                                                  payload=InvoiceSerializer(invoice).data, dedupe_key=key):
                    emitted += 1
