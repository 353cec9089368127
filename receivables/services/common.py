"""Helpers every ledger service shares: snapshots for the audit log, unique-save errors, the invoice
status rule, invoice locks, the checks before money is applied, bulk insert/update."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.db import objects_insert, objects_update
from tenancy.errors import CurrencyMismatch, DomainError, ErrorCode
from tenancy.models import Organization
from tenancy.money import Money

from .. import events
from ..models import (
    Invoice,
    InvoiceStatus,
)

CUSTOMER_FIELDS = (
    "name", "legal_name", "registration_number", "country", "currency", "payment_terms_days",
    "language", "contact_emails", "contact_name", "contact_phone", "segment", "status", "external_id",
)


BULK_BATCH = 2000  # rows per INSERT


INVOICE_AUDIT_FIELDS = ("number", "customer_id", "issue_date", "due_date", "currency", "net_amount", "tax_amount",
                        "total_amount", "external_id", "kind")


PAYMENT_AUDIT_FIELDS = ("customer_id", "received_on", "amount", "currency", "method", "reference")


INVOICE_EDITABLE_FIELDS = ("due_date", "description", "po_reference", "external_id", "net_amount", "tax_amount", "issue_date")


def _snapshot(obj: Model, fields: Iterable[str]) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in fields}


def _save_unique(obj: Model, *, what: str, **kwargs) -> None:
    """Save, turning a unique-constraint violation into a clear domain error."""
    # No savepoint of its own: the service's atomic block rolls back on the DomainError raised here.
    try:
        obj.save(**kwargs)
    except IntegrityError as exc:
        text = str(exc)
        if "external_id" in text:
            raise DomainError(_("A %(what)s with this external id already exists.") % {"what": what},
                              code=ErrorCode.DUPLICATE, field="external_id") from None
        if "number" in text:
            raise DomainError(_("A %(what)s with this number already exists.") % {"what": what},
                              code=ErrorCode.DUPLICATE, field="number") from None
        raise


def _invoice_status(invoice: Invoice) -> str:
    """The one place an invoice's status is derived from its ledger figures."""
    if invoice.voided_on is not None:
        return InvoiceStatus.VOID
    if invoice.applied_amount == 0:
        return InvoiceStatus.OPEN
    if invoice.applied_amount < invoice.total_amount:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.WRITTEN_OFF if invoice.written_off_amount > 0 else InvoiceStatus.PAID


def _lock_invoices(organization: Organization, invoice_ids: Iterable[int]) -> dict[int, Invoice]:
    rows = (
        Invoice.objects.select_for_update(of=("self",), no_key=True)
        .filter(organization=organization, pk__in=set(invoice_ids))
        .order_by("pk")
    )
    return {invoice.pk: invoice for invoice in rows}


def _source_match_check(invoice: Invoice, *, customer_id: int, currency: str, what: str) -> None:
    """Only the invoice's own customer's cash or credit, in the invoice's currency, settles it."""
    if invoice.customer_id != customer_id:
        raise DomainError(_("Invoice %(number)s belongs to another customer.") % {"number": invoice.number},
                          code=ErrorCode.CUSTOMER_MISMATCH, field="invoice")
    if invoice.currency != currency:
        raise CurrencyMismatch(
            _("Invoice %(number)s is in %(inv)s; a %(src)s %(what)s cannot settle it.")
            % {"number": invoice.number, "inv": invoice.currency, "src": currency, "what": what},
            field="invoice",
        )


def _apply_check(invoice: Invoice, amount: Decimal) -> None:
    """An amount may be applied to an invoice that is not void, up to its balance."""
    if invoice.voided_on is not None:
        raise DomainError(_("Invoice %(number)s is void.") % {"number": invoice.number}, code=ErrorCode.INVOICE_NOT_OPEN)
    balance = invoice.total_amount - invoice.applied_amount
    if amount > balance:
        raise DomainError(
            _("Invoice %(number)s has %(balance)s outstanding; %(amount)s cannot be applied.")
            % {"number": invoice.number, "balance": Money(balance, invoice.currency),
               "amount": Money(amount, invoice.currency)},
            code=ErrorCode.OVER_APPLICATION,
            field="amount",
        )


def _apply_to_invoice(invoice: Invoice, amount: Decimal, *, written_off: bool = False, cash: bool = False) -> None:
    """Apply `amount` (checked) to the locked invoice; `cash`: it comes from a payment (invoice.paid
    rather than invoice.settled when this settles it)."""
    _apply_check(invoice, amount)
    invoice.applied_amount += amount
    if written_off:
        invoice.written_off_amount += amount
    invoice.status = _invoice_status(invoice)
    invoice.save(update_fields=["applied_amount", "written_off_amount", "status", "updated_at"])
    events.invoice_settled(invoice.organization, invoice, cash=cash)


def _editable_check(changes: dict[str, Any], editable: Sequence[str], what: str) -> None:
    refused = sorted(set(changes) - set(editable))
    if refused:
        raise DomainError(
            _("These %(what)s fields cannot be changed: %(fields)s (editable: %(editable)s).")
            % {"what": what, "fields": ", ".join(refused), "editable": ", ".join(editable)},
            field=refused[0],
        )


def _required_text(changes: dict[str, Any], field: str, message: str) -> None:
    """A correction of a required text field: trimmed, and refused (naming the field) when empty."""
    if field in changes:
        changes[field] = (changes[field] or "").strip()
        if not changes[field]:
            raise DomainError(message, field=field)


def _insert_many(objects: list[Model], clashes: dict[str, tuple[str, str]],
                 meanwhile: Callable[[Model], object] | None = None) -> None:
    """Insert new objects of one model (COPY on PostgreSQL; `meanwhile` as objects_insert's). A
    clash on one of the unique constraints named in `clashes` ({constraint: (field, message)}; the
    callers check first, so this is a concurrent writer's row) is a DomainError with that message."""
    try:
        with transaction.atomic():  # a savepoint, so the clash can be reported as a domain error
            objects_insert(objects, batch_size=BULK_BATCH, meanwhile=meanwhile)
    except IntegrityError as exc:
        clash = next((clash for name, clash in clashes.items() if name in str(exc)), None)
        if clash is None:
            raise
        raise DomainError(clash[1], code=ErrorCode.DUPLICATE, field=clash[0]) from None


def _save_many(organization: Organization, objects: list[Model], fields: set[str], *, constraint: str,
               message: str) -> None:
    """Save changed objects of one model of `organization`: one UPDATE per batch, `updated_at` set now.
    A clash on the unique `constraint` (an external id taken meanwhile) is a DomainError with `message`."""
    now = timezone.now()
    for obj in objects:
        obj.updated_at = now
    try:
        with transaction.atomic():  # a savepoint, so the clash can be reported as a domain error
            objects_update(type(objects[0]).objects.filter(organization=organization), objects,
                           sorted(fields | {"updated_at"}), batch_size=BULK_BATCH)
    except IntegrityError as exc:
        if constraint not in str(exc):
            raise
        raise DomainError(message, code=ErrorCode.DUPLICATE, field="external_id") from None
