"""Our fields for each kind of import: what type they parse to and which are required."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from receivables.models import ImportKind, PaymentMethod, Segment
from tenancy.models import Language


class FieldType:
    TEXT = "text"
    DATE = "date"
    AMOUNT = "amount"
    INTEGER = "integer"
    CURRENCY = "currency"
    COUNTRY = "country"
    CHOICE = "choice"
    EMAILS = "emails"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str = FieldType.TEXT
    required: bool = False
    max_length: int = 0  # 0: no limit
    choices: tuple[tuple[str, str], ...] = ()
    allow_zero: bool = False  # amounts only


def _choices(text_choices) -> tuple[tuple[str, str], ...]:
    return tuple((value, str(label)) for value, label in text_choices.choices)


CUSTOMER_FIELDS = (
    FieldSpec("external_id", _("External id"), required=True, max_length=100),
    FieldSpec("name", _("Name"), required=True, max_length=200),
    FieldSpec("legal_name", _("Legal name"), max_length=300),
    FieldSpec("registration_number", _("Registration number"), max_length=64),
    FieldSpec("country", _("Country (ISO alpha-2)"), FieldType.COUNTRY),
    FieldSpec("currency", _("Currency"), FieldType.CURRENCY),
    FieldSpec("payment_terms_days", _("Payment terms (days)"), FieldType.INTEGER),
    FieldSpec("language", _("Language"), FieldType.CHOICE, choices=_choices(Language)),
    FieldSpec("contact_emails", _("Contact emails"), FieldType.EMAILS),
    FieldSpec("segment", _("Segment"), FieldType.CHOICE, choices=_choices(Segment)),
)

INVOICE_FIELDS = (
    FieldSpec("external_id", _("External id"), required=True, max_length=100),
    FieldSpec("number", _("Invoice number"), required=True, max_length=64),
    FieldSpec("customer_external_id", _("Customer external id"), required=True, max_length=100),
    FieldSpec("customer_name", _("Customer name (creates missing customers)"), max_length=200),
    FieldSpec("issue_date", _("Issue date"), FieldType.DATE, required=True),
    FieldSpec("due_date", _("Due date"), FieldType.DATE),
    FieldSpec("currency", _("Currency"), FieldType.CURRENCY),
    FieldSpec("net_amount", _("Net amount"), FieldType.AMOUNT),
    FieldSpec("tax_amount", _("Tax amount"), FieldType.AMOUNT, allow_zero=True),
    FieldSpec("total_amount", _("Total amount"), FieldType.AMOUNT),
    FieldSpec("description", _("Description")),
    FieldSpec("po_reference", _("PO reference"), max_length=100),
    # A dispute on record in the source ledger; stored by the app that registered the column (forecasting).
    FieldSpec("disputed", _("Disputed (yes/no)"), FieldType.CHOICE, choices=(("yes", _("Yes")), ("no", _("No")))),
)

PAYMENT_FIELDS = (
    FieldSpec("external_id", _("External id"), required=True, max_length=100),
    FieldSpec("customer_external_id", _("Customer external id"), required=True, max_length=100),
    FieldSpec("received_on", _("Received on"), FieldType.DATE, required=True),
    FieldSpec("amount", _("Amount"), FieldType.AMOUNT, required=True),
    FieldSpec("currency", _("Currency"), FieldType.CURRENCY),
    FieldSpec("method", _("Method"), FieldType.CHOICE, choices=_choices(PaymentMethod)),
    FieldSpec("reference", _("Reference"), max_length=100),
    FieldSpec("invoice_number", _("Invoice number (allocate to it)"), max_length=64),
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    ImportKind.CUSTOMERS: CUSTOMER_FIELDS,
    ImportKind.INVOICES: INVOICE_FIELDS,
    ImportKind.PAYMENTS: PAYMENT_FIELDS,
}


def fields_for(kind: str) -> dict[str, FieldSpec]:
    return {spec.name: spec for spec in FIELDS[kind]}
