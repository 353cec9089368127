"""API representations of the ledger, and the input each write endpoint accepts.

Thin by rule: fields, types and shapes here; every business rule stays in the services. A
field that points at another row is scoped to the request's organization, so an id from
another organization is "does not exist" (400), never a leak."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from tenancy.api.representation import (
    ValuesListSerializer,
    amount_format,
    date_format,
    instant_format,
    stored_amount_format,
)
from tenancy.models import Language, WebhookEvent
from tenancy.money import AMOUNT_DIGITS, AMOUNT_PLACES, CURRENCY_CHOICES, amount_text_problem

from .models import (
    PHONE_VALIDATOR,
    Allocation,
    AllocationKind,
    CreditNote,
    CreditNoteStatus,
    Customer,
    CustomerStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Segment,
    WriteOff,
)

# --- fields ----------------------------------------------------------------------------------


class AmountField(serializers.DecimalField):
    """A money amount: a decimal string such as "1250.00" (integers accepted, floats refused)."""

    default_error_messages = {"float": _("Give amounts as decimal strings such as \"1250.00\", not JSON floats."),
                              "text": _("Write amounts with the digits 0-9 and an optional decimal point, such as "
                                        "\"1250.00\" (no exponent, sign, spaces, separators or other digits).")}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, coerce_to_string=True, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, str) and amount_text_problem(data) is not None and _loose_number(data):
            # The importer's strictness: DRF alone takes "1e5", "1_000", " 1 ", "١٠٠" (not a number at all
            # keeps DRF's own "A valid number is required.").
            raise serializers.ValidationError(self.error_messages["text"], code="invalid")
        return super().to_internal_value(data)


def _loose_number(text: str) -> bool:
    try:
        return Decimal(text.strip()).is_finite()
    except InvalidOperation:
        return False


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related row by id, looked up only inside the request's organization (fails closed)."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        organization = self.context.get("organization")
        if organization is None:
            raise RuntimeError("Serializer context has no organization: refusing to look up rows.")
        return self.model.objects.filter(organization=organization)


class ScopedSlugRelatedField(serializers.SlugRelatedField):
    """A related row by external id, inside the request's organization."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(slug_field="external_id", queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        organization = self.context.get("organization")
        if organization is None:
            raise RuntimeError("Serializer context has no organization: refusing to look up rows.")
        return self.model.objects.filter(organization=organization)


def currency_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=CURRENCY_CHOICES, **kwargs)


def _customer_resolve(attrs: dict) -> dict:
    """Exactly one of customer / customer_external_id; keeps only `customer`."""
    by_ref = attrs.pop("customer_external_id", None)
    if ("customer" in attrs) == (by_ref is not None):
        raise serializers.ValidationError({"customer": [_("Give either customer (id) or customer_external_id.")]})
    if by_ref is not None:
        attrs["customer"] = by_ref
    return attrs


# --- customers -------------------------------------------------------------------------------


@extend_schema_serializer(examples=[
    OpenApiExample("Chinese customer", response_only=True, value={
        "id": 7, "external_id": "C-1001", "name": "上海华东贸易有限公司", "legal_name": "上海华东贸易有限公司",
        "registration_number": "91310115MA1K4LXXXB", "country": "CN", "currency": "CNY", "payment_terms_days": 30,
        "language": "zh-hans", "contact_emails": ["ap@huadong-trading.cn"], "contact_name": "王丽（财务经理）",
        "contact_phone": "+86 21 6888 1234", "segment": "key_account", "status": "active",
        "created_at": "2025-11-04T02:30:00Z", "updated_at": "2026-03-31T04:00:00Z"}),
    OpenApiExample("Foreign customer", response_only=True, value={
        "id": 8, "external_id": "C-2001", "name": "Northwind Traders", "legal_name": "Northwind Traders Ltd.",
        "registration_number": "", "country": "US", "currency": "USD", "payment_terms_days": 45, "language": "en",
        "contact_emails": ["ap@northwind.example"], "contact_name": "", "contact_phone": "", "segment": "strategic",
        "status": "active", "created_at": "2025-12-01T09:12:44Z", "updated_at": "2026-03-16T07:05:10Z"}),
])
class CustomerSerializer(serializers.ModelSerializer):
    currency = currency_field()
    language = serializers.ChoiceField(choices=Language.choices)
    segment = serializers.ChoiceField(choices=Segment.choices)
    status = serializers.ChoiceField(choices=CustomerStatus.choices)
    contact_emails = serializers.ListField(child=serializers.EmailField(), max_length=20)

    class Meta:
        model = Customer
        fields = ("id", "external_id", "name", "legal_name", "registration_number", "country", "currency",
                  "payment_terms_days", "language", "contact_emails", "contact_name", "contact_phone", "segment",
                  "status", "created_at", "updated_at")
        read_only_fields = ("id", "created_at", "updated_at")
        list_serializer_class = ValuesListSerializer

    values_columns = Meta.fields

    def values_rows(self, rows: list[tuple]) -> list[dict]:
        instant = instant_format()
        return [{
            "id": row.id, "external_id": row.external_id, "name": row.name, "legal_name": row.legal_name,
            "registration_number": row.registration_number, "country": row.country,
            "currency": row.currency, "payment_terms_days": row.payment_terms_days,
            "language": row.language, "contact_emails": _emails(row.contact_emails),
            "contact_name": row.contact_name, "contact_phone": row.contact_phone, "segment": row.segment,
            "status": row.status, "created_at": instant(row.created_at),
            "updated_at": instant(row.updated_at),
        } for row in rows]


def _emails(emails: list | None) -> list | None:
    # ListField(child=EmailField): each item as a string.
    return None if emails is None else [None if email is None else str(email) for email in emails]


class StrictUpdateSerializer(serializers.Serializer):
    """A PATCH body: only the declared (editable) fields; any other field is refused, not ignored."""

    default_error_messages = {
        "not_editable": _("This field cannot be changed here; editable fields: %(editable)s."),
    }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            refused = sorted(set(data) - set(self.fields))
            if refused:
                message = self.error_messages["not_editable"] % {"editable": ", ".join(self.fields)}
                raise serializers.ValidationError({name: [message] for name in refused}, code="not_editable")
        return super().to_internal_value(data)


@extend_schema_serializer(examples=[OpenApiExample(
    "Chinese customer", request_only=True,
    value={"external_id": "C-1002", "name": "深圳前海精密电子有限公司", "legal_name": "深圳前海精密电子有限公司",
           "registration_number": "91440300708461136T", "country": "CN", "currency": "CNY", "payment_terms_days": 60,
           "language": "zh-hans", "contact_emails": ["ar@qianhai-precision.cn"], "contact_name": "陈静",
           "contact_phone": "+86 755 8666 5678", "segment": "key_account"})])
class CustomerWriteSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    name = serializers.CharField(max_length=200)
    legal_name = serializers.CharField(max_length=300, required=False, allow_blank=True)
    registration_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Z]{2}$", required=False, allow_blank=True,
                                     help_text="ISO 3166 alpha-2, upper case.")
    currency = currency_field(required=False)
    payment_terms_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    contact_emails = serializers.ListField(child=serializers.EmailField(), max_length=20, required=False)
    contact_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                          validators=[PHONE_VALIDATOR], help_text="e.g. +86 21 6888 1234")
    segment = serializers.ChoiceField(choices=Segment.choices, required=False)
    status = serializers.ChoiceField(choices=CustomerStatus.choices, required=False)


@extend_schema_serializer(examples=[OpenApiExample(
    "Longer terms, another contact", request_only=True,
    value={"payment_terms_days": 45, "contact_emails": ["ap@huadong-trading.cn", "finance@huadong-trading.cn"]})])
class CustomerUpdateSerializer(StrictUpdateSerializer, CustomerWriteSerializer):
    """A customer PATCH: the same fields, all optional (partial), anything else refused."""


# --- invoices --------------------------------------------------------------------------------

# A new invoice as the API returns it (also the data of its invoice.created event).
NEW_INVOICE_EXAMPLE = {
    "id": 42, "external_id": "SAP-90000042", "number": "INV-2026-0042", "customer": 7, "customer_external_id": "C-1001",
    "issue_date": "2026-03-01", "due_date": "2026-03-31", "currency": "CNY", "net_amount": "1000.0000",
    "tax_amount": "130.0000", "total_amount": "1130.0000", "applied_amount": "0.0000", "written_off_amount": "0.0000",
    "balance": "1130.0000", "status": "open", "voided_on": None, "description": "", "po_reference": "PO-7781",
    "kind": "standard", "issue_rate": "1.0000000000", "base_amount": "1130.0000", "created_at": "2026-03-01T02:15:00Z",
    "updated_at": "2026-03-01T02:15:00Z"}


@extend_schema_serializer(examples=[OpenApiExample("Partly paid invoice", response_only=True, value={
    **NEW_INVOICE_EXAMPLE, "applied_amount": "500.0000", "balance": "630.0000", "status": "partially_paid",
    "updated_at": "2026-03-15T06:40:12Z"})])
class InvoiceSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True, allow_null=True)
    currency = currency_field(read_only=True)
    status = serializers.ChoiceField(choices=InvoiceStatus.choices, read_only=True)
    net_amount = AmountField(read_only=True)
    tax_amount = AmountField(read_only=True)
    total_amount = AmountField(read_only=True)
    applied_amount = AmountField(read_only=True)
    written_off_amount = AmountField(read_only=True)
    balance = AmountField(read_only=True, help_text="total_amount - applied_amount; 0 when void.")
    issue_rate = serializers.DecimalField(
        max_digits=20, decimal_places=10, read_only=True, allow_null=True,
        help_text="Base-currency units per unit of the invoice's currency on its issue date (1 in the base "
                  "currency); null while no rate on or before that date is stored.")
    base_amount = AmountField(read_only=True, allow_null=True,
                              help_text="The invoice's value at issue in base currency: total_amount x issue_rate.")

    class Meta:
        model = Invoice
        fields = ("id", "external_id", "number", "customer", "customer_external_id", "issue_date", "due_date",
                  "currency", "net_amount", "tax_amount", "total_amount", "applied_amount", "written_off_amount",
                  "balance", "status", "voided_on", "description", "po_reference", "kind", "issue_rate", "base_amount",
                  "created_at", "updated_at")
        read_only_fields = fields
        list_serializer_class = ValuesListSerializer

    values_columns = ("id", "external_id", "number", "customer_id", "customer__external_id", "issue_date", "due_date",
                      "currency", "net_amount", "tax_amount", "total_amount", "applied_amount", "written_off_amount",
                      "status", "voided_on", "description", "po_reference", "kind", "issue_rate", "base_amount",
                      "created_at", "updated_at")

    def values_rows(self, rows: list[tuple], *, from_database: bool = True) -> list[dict]:
        """`from_database=False`: rows read off objects in memory, whose amounts may not have the
        column's scale yet (113.00 saved, 113.0000 read back)."""
        amount, date, instant = amount_format(), date_format(), instant_format()
        rate = amount_format(max_digits=20, decimal_places=10)
        stored = stored_amount_format(Invoice, "net_amount", "tax_amount", "total_amount", "applied_amount",
                                      "written_off_amount") if from_database else amount
        return [{
            "id": row.id, "external_id": row.external_id, "number": row.number,
            "customer": row.customer_id, "customer_external_id": row.customer__external_id,
            "issue_date": date(row.issue_date), "due_date": date(row.due_date), "currency": row.currency,
            "net_amount": stored(row.net_amount), "tax_amount": stored(row.tax_amount),
            "total_amount": stored(row.total_amount), "applied_amount": stored(row.applied_amount),
            "written_off_amount": stored(row.written_off_amount),
            # Invoice.balance (the equivalence test keeps this in step with the property)
            "balance": amount(row.total_amount - row.applied_amount if row.voided_on is None else 0),
            "status": row.status, "voided_on": date(row.voided_on), "description": row.description,
            "po_reference": row.po_reference, "kind": row.kind, "issue_rate": rate(row.issue_rate),
            "base_amount": amount(row.base_amount), "created_at": instant(row.created_at),
            "updated_at": instant(row.updated_at),
        } for row in rows]


@extend_schema_serializer(examples=[OpenApiExample("Invoice created", response_only=True,
                                                   value={**NEW_INVOICE_EXAMPLE, "warnings": []})])
class InvoiceCreatedSerializer(InvoiceSerializer):
    warnings = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="Why the customer is on credit hold when the organization warns instead of refusing; else empty.")

    values_columns = None  # single rows only

    class Meta(InvoiceSerializer.Meta):
        fields = (*InvoiceSerializer.Meta.fields, "warnings")
        read_only_fields = fields
        list_serializer_class = serializers.ListSerializer


@extend_schema_serializer(examples=[OpenApiExample(
    "New invoice", request_only=True,
    value={"customer_external_id": "C-1001", "number": "INV-2026-0042", "external_id": "SAP-90000042",
           "issue_date": "2026-03-01", "due_date": "2026-03-31", "net_amount": "1000.00", "tax_amount": "130.00",
           "currency": "CNY", "po_reference": "PO-7781"})])
class InvoiceCreateSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(Customer, required=False)
    customer_external_id = ScopedSlugRelatedField(Customer, required=False)
    number = serializers.CharField(max_length=64)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    issue_date = serializers.DateField()
    due_date = serializers.DateField(required=False, allow_null=True,
                                     help_text="Default: issue date + the customer's payment terms.")
    currency = currency_field(required=False, help_text="Default: the customer's currency.")
    net_amount = AmountField()
    tax_amount = AmountField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    po_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    kind = serializers.ChoiceField(choices=InvoiceKind.choices, required=False,
                                   help_text='"charges": late interest or fees billed for existing debt (passes the '
                                             'credit hold, audited as such). Default "standard".')

    def validate(self, attrs):
        return _customer_resolve(attrs)


@extend_schema_serializer(examples=[OpenApiExample(
    "Move the due date", request_only=True, value={"due_date": "2026-04-30", "po_reference": "PO-7781-A"})])
class InvoiceUpdateSerializer(StrictUpdateSerializer):
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    issue_date = serializers.DateField(required=False)
    due_date = serializers.DateField(required=False)
    net_amount = AmountField(required=False)
    tax_amount = AmountField(required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    po_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)


@extend_schema_serializer(examples=[OpenApiExample(
    "Issued in error", request_only=True,
    value={"voided_on": "2026-03-05", "reason": "Issued to the wrong customer; replaced by INV-2026-0044."})])
class InvoiceVoidSerializer(serializers.Serializer):
    voided_on = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


@extend_schema_serializer(examples=[OpenApiExample(
    "Small balance left", request_only=True,
    value={"amount": "130.00", "reason": "Tax difference left after settlement; not worth collecting.",
           "written_off_on": "2026-03-31"})])
class InvoiceWriteOffSerializer(serializers.Serializer):
    amount = AmountField(required=False, allow_null=True, help_text="Default: the whole balance.")
    reason = serializers.CharField(max_length=300)
    written_off_on = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")


@extend_schema_serializer(examples=[OpenApiExample("Paid by bank transfer", response_only=True, value={
    "id": 311, "kind": "payment", "invoice": 42, "invoice_number": "INV-2026-0042", "payment": 57, "credit_note": None,
    "write_off": None, "amount": "500.0000", "currency": "CNY", "applied_on": "2026-03-15", "payment_amount": None,
    "payment_currency": None, "base_amount": None, "fx_difference": None, "reverses": None, "reason": ""})])
class AllocationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=AllocationKind.choices, read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    amount = AmountField(read_only=True, help_text="In the invoice's currency.")
    currency = currency_field(read_only=True)
    payment_amount = AmountField(read_only=True, allow_null=True,
                                 help_text="A payment in another currency: what this line used of it, in its currency.")
    payment_currency = currency_field(read_only=True, allow_null=True)
    base_amount = AmountField(read_only=True, allow_null=True,
                              help_text="Value received in base currency (at the receipt date's rate), when a currency "
                                        "other than the base currency is involved.")
    fx_difference = AmountField(read_only=True, allow_null=True,
                                help_text="Realized exchange difference in base currency (+ gain, - loss) against the "
                                          "invoice's value at issue; null when unknown or not applicable.")
    reverses = serializers.IntegerField(source="reverses_id", read_only=True, allow_null=True,
                                        help_text="A reversal (negative amount, dated when it happened): the allocation "
                                                  "it undoes.")

    class Meta:
        model = Allocation
        fields = ("id", "kind", "invoice", "invoice_number", "payment", "credit_note", "write_off", "amount",
                  "currency", "applied_on", "payment_amount", "payment_currency", "base_amount", "fx_difference",
                  "reverses", "reason")
        read_only_fields = fields
        list_serializer_class = ValuesListSerializer

    values_columns = ("id", "kind", "invoice_id", "invoice__number", "payment_id", "credit_note_id", "write_off_id",
                      "amount", "currency", "applied_on", "payment_amount", "payment_currency", "base_amount",
                      "fx_difference", "reverses_id", "reason")

    def values_rows(self, rows: list[tuple]) -> list[dict]:
        amount, date = stored_amount_format(Allocation, "amount"), date_format()
        optional = amount_format()
        return [{
            "id": row.id, "kind": row.kind, "invoice": row.invoice_id, "invoice_number": row.invoice__number,
            "payment": row.payment_id, "credit_note": row.credit_note_id, "write_off": row.write_off_id,
            "amount": amount(row.amount), "currency": row.currency, "applied_on": date(row.applied_on),
            "payment_amount": optional(row.payment_amount), "payment_currency": row.payment_currency,
            "base_amount": optional(row.base_amount), "fx_difference": optional(row.fx_difference),
            "reverses": row.reverses_id, "reason": row.reason,
        } for row in rows]


class RateField(serializers.DecimalField):
    """An exchange rate: a decimal string such as "7.2" (floats refused, as for amounts)."""

    default_error_messages = {"float": _("Give rates as decimal strings such as \"7.2\", not JSON floats.")}

    def __init__(self, **kwargs):
        super().__init__(max_digits=20, decimal_places=10, coerce_to_string=True, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        return super().to_internal_value(data)


class AllocationInputSerializer(serializers.Serializer):
    invoice = ScopedPrimaryKeyRelatedField(Invoice)
    amount = AmountField(help_text="In the invoice's currency.")
    payment_amount = AmountField(
        required=False, help_text="A payment in another currency than the invoice's: what this line uses of it, in "
                                  "the payment's currency (or give rate, or neither to use the stored rates of the "
                                  "receipt date).")
    rate = RateField(required=False, help_text="Units of the payment's currency for one unit of the invoice's "
                                               "(payment_amount = amount x rate); more than zero.")


@extend_schema_serializer(examples=[OpenApiExample(
    "Apply to one invoice", request_only=True, value={"allocations": [{"invoice": 42, "amount": "226.00"}]})])
class AllocateSerializer(serializers.Serializer):
    allocations = AllocationInputSerializer(
        many=True, required=False, allow_null=True, max_length=1000,
        help_text="Invoices and amounts; omit to apply oldest due first.")


# --- payments --------------------------------------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample("Payment applied to an invoice", response_only=True, value={
    "id": 57, "external_id": "BANK-2026-03-15-001", "customer": 7, "customer_external_id": "C-1001",
    "received_on": "2026-03-15", "amount": "1130.0000", "unapplied_amount": "630.0000", "currency": "CNY",
    "method": "bank_transfer", "reference": "ICBC 0042", "allocations": [
        {"id": 311, "kind": "payment", "invoice": 42, "invoice_number": "INV-2026-0042", "payment": 57,
         "credit_note": None, "write_off": None, "amount": "500.0000", "currency": "CNY", "applied_on": "2026-03-15",
         "payment_amount": None, "payment_currency": None, "base_amount": None, "fx_difference": None,
         "reverses": None, "reason": ""}],
    "status": "received", "reversed_on": None, "reversal_reason": "", "refunded_amount": "0.0000",
    "reversal_fee_invoice": None, "created_at": "2026-03-15T06:40:12Z", "updated_at": "2026-03-15T06:40:12Z"})])
class PaymentSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True, allow_null=True)
    amount = AmountField(read_only=True)
    unapplied_amount = AmountField(read_only=True)
    currency = currency_field(read_only=True)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)
    status = serializers.ChoiceField(choices=PaymentStatus.choices, read_only=True,
                                     help_text='"reversed": returned or bounced; it can no longer be allocated.')
    refunded_amount = AmountField(read_only=True)
    reversal_fee_invoice = serializers.IntegerField(source="reversal_fee_invoice_id", read_only=True, allow_null=True)

    class Meta:
        model = Payment
        fields = ("id", "external_id", "customer", "customer_external_id", "received_on", "amount",
                  "unapplied_amount", "currency", "method", "reference", "allocations", "status", "reversed_on",
                  "reversal_reason", "refunded_amount", "reversal_fee_invoice", "created_at", "updated_at")
        read_only_fields = fields
        list_serializer_class = ValuesListSerializer

    values_columns = ("id", "external_id", "customer_id", "customer__external_id", "received_on", "amount",
                      "unapplied_amount", "currency", "method", "reference", "status", "reversed_on",
                      "reversal_reason", "refunded_amount", "reversal_fee_invoice_id", "created_at", "updated_at")

    def values_rows(self, rows: list[tuple]) -> list[dict]:
        amount = stored_amount_format(Payment, "amount", "unapplied_amount", "refunded_amount")
        date, instant = date_format(), instant_format()
        allocations = self._allocations_by_payment([row.id for row in rows])
        return [{
            "id": row.id, "external_id": row.external_id, "customer": row.customer_id,
            "customer_external_id": row.customer__external_id, "received_on": date(row.received_on),
            "amount": amount(row.amount), "unapplied_amount": amount(row.unapplied_amount),
            "currency": row.currency, "method": row.method, "reference": row.reference,
            "allocations": allocations.get(row.id, []), "status": row.status, "reversed_on": date(row.reversed_on),
            "reversal_reason": row.reversal_reason, "refunded_amount": amount(row.refunded_amount),
            "reversal_fee_invoice": row.reversal_fee_invoice_id, "created_at": instant(row.created_at),
            "updated_at": instant(row.updated_at),
        } for row in rows]

    def _allocations_by_payment(self, payment_ids: list[int]) -> dict[int, list[dict]]:
        organization = self.context.get("organization")
        if organization is None:
            raise RuntimeError("Serializer context has no organization: refusing to look up rows.")
        # The same rows, in the same (model) order, as the list view's prefetch.
        rows = list(Allocation.objects.filter(organization=organization, payment_id__in=payment_ids)
                    .values_list(*AllocationSerializer.values_columns, named=True))
        by_payment: dict[int, list[dict]] = defaultdict(list)
        for allocation in AllocationSerializer(context=self.context).values_rows(rows):
            by_payment[allocation["payment"]].append(allocation)
        return by_payment


@extend_schema_serializer(examples=[OpenApiExample(
    "Payment for one invoice", request_only=True,
    value={"customer_external_id": "C-1001", "external_id": "BANK-2026-03-15-001", "received_on": "2026-03-15",
           "amount": "1130.00", "method": "bank_transfer", "reference": "HSBC 0042",
           "allocations": [{"invoice": 42, "amount": "1130.00"}]})])
class PaymentCreateSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(Customer, required=False)
    customer_external_id = ScopedSlugRelatedField(Customer, required=False)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    received_on = serializers.DateField()
    amount = AmountField()
    currency = currency_field(required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    allocations = AllocationInputSerializer(
        many=True, required=False, max_length=1000,
        help_text="Apply to these invoices; omit to apply oldest due first (or set auto_allocate false).")
    auto_allocate = serializers.BooleanField(required=False, default=True)

    def validate(self, attrs):
        return _customer_resolve(attrs)


# --- credit notes and write-offs -------------------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample("Price adjustment credit", response_only=True, value={
    "id": 12, "external_id": "SAP-CN-7000006", "number": "CN-2026-0006", "customer": 7, "issued_on": "2026-03-20",
    "amount": "226.0000", "unapplied_amount": "0.0000", "currency": "CNY", "reason": "Price adjustment, order 7781",
    "status": "issued", "reversed_on": None, "reversal_reason": "", "created_at": "2026-03-20T03:05:00Z",
    "updated_at": "2026-03-20T03:05:00Z"})])
class CreditNoteSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    amount = AmountField(read_only=True)
    unapplied_amount = AmountField(read_only=True)
    currency = currency_field(read_only=True)
    status = serializers.ChoiceField(choices=CreditNoteStatus.choices, read_only=True)

    class Meta:
        model = CreditNote
        fields = ("id", "external_id", "number", "customer", "issued_on", "amount", "unapplied_amount", "currency",
                  "reason", "status", "reversed_on", "reversal_reason", "created_at", "updated_at")
        read_only_fields = fields
        list_serializer_class = ValuesListSerializer

    values_columns = ("id", "external_id", "number", "customer_id", "issued_on", "amount", "unapplied_amount",
                      "currency", "reason", "status", "reversed_on", "reversal_reason", "created_at", "updated_at")

    def values_rows(self, rows: list[tuple]) -> list[dict]:
        amount = stored_amount_format(CreditNote, "amount", "unapplied_amount")
        date, instant = date_format(), instant_format()
        return [{
            "id": row.id, "external_id": row.external_id, "number": row.number, "customer": row.customer_id,
            "issued_on": date(row.issued_on), "amount": amount(row.amount),
            "unapplied_amount": amount(row.unapplied_amount), "currency": row.currency, "reason": row.reason,
            "status": row.status, "reversed_on": date(row.reversed_on), "reversal_reason": row.reversal_reason,
            "created_at": instant(row.created_at), "updated_at": instant(row.updated_at),
        } for row in rows]


@extend_schema_serializer(examples=[OpenApiExample(
    "Credit for a price adjustment", request_only=True,
    value={"customer_external_id": "C-1001", "number": "CN-2026-0006", "external_id": "SAP-CN-7000006",
           "issued_on": "2026-03-20", "amount": "226.00", "currency": "CNY",
           "reason": "Price adjustment, order 7781", "invoice": 42})])
class CreditNoteCreateSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(Customer, required=False)
    customer_external_id = ScopedSlugRelatedField(Customer, required=False)
    number = serializers.CharField(max_length=64)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    issued_on = serializers.DateField()
    amount = AmountField()
    currency = currency_field(required=False)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    invoice = ScopedPrimaryKeyRelatedField(Invoice, required=False, allow_null=True,
                                           help_text="Apply the whole credit to this invoice at once.")

    def validate(self, attrs):
        return _customer_resolve(attrs)


@extend_schema_serializer(examples=[OpenApiExample("Bank charges written off", response_only=True, value={
    "id": 5, "invoice": 31, "invoice_number": "INV-2026-0012", "written_off_on": "2026-03-20", "amount": "50.0000",
    "currency": "USD", "reason": "Bank charges deducted by the payer's bank", "reversed_amount": "0.0000",
    "created_at": "2026-03-20T08:30:00Z",
    "updated_at": "2026-03-20T08:30:00Z"})])
class WriteOffSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    amount = AmountField(read_only=True)
    reversed_amount = AmountField(read_only=True, help_text="What later reversals gave back to the invoice (a bad "
                                                            "debt recovered).")
    currency = currency_field(read_only=True)

    class Meta:
        model = WriteOff
        fields = ("id", "invoice", "invoice_number", "written_off_on", "amount", "currency", "reason",
                  "reversed_amount", "created_at", "updated_at")
        read_only_fields = fields
        list_serializer_class = ValuesListSerializer

    values_columns = ("id", "invoice_id", "invoice__number", "written_off_on", "amount", "currency", "reason",
                      "reversed_amount", "created_at", "updated_at")

    def values_rows(self, rows: list[tuple]) -> list[dict]:
        amount, date, instant = stored_amount_format(WriteOff, "amount", "reversed_amount"), date_format(), instant_format()
        return [{
            "id": row.id, "invoice": row.invoice_id, "invoice_number": row.invoice__number,
            "written_off_on": date(row.written_off_on), "amount": amount(row.amount),
            "currency": row.currency, "reason": row.reason, "reversed_amount": amount(row.reversed_amount),
            "created_at": instant(row.created_at), "updated_at": instant(row.updated_at),
        } for row in rows]


@extend_schema_serializer(examples=[OpenApiExample(
    "Customer insolvent", request_only=True,
    value={"invoice": 43, "reason": "Customer insolvent (court case 2026-17); no dividend expected.",
           "written_off_on": "2026-03-31"})])
class WriteOffCreateSerializer(InvoiceWriteOffSerializer):
    invoice = ScopedPrimaryKeyRelatedField(Invoice)


# --- corrections (PATCH) of payments, credit notes and write-offs ------------------------------


@extend_schema_serializer(examples=[OpenApiExample(
    "Correct the bank reference", request_only=True,
    value={"reference": "HSBC 0042-B", "received_on": "2026-03-14"})])
class PaymentUpdateSerializer(StrictUpdateSerializer):
    received_on = serializers.DateField(required=False,
                                        help_text="Allocations are re-dated with it (never before an invoice's "
                                                  "issue date).")
    amount = AmountField(required=False, help_text="Not below what is already allocated; unapplied_amount follows.")
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)


@extend_schema_serializer(examples=[OpenApiExample(
    "Correct the number and reason", request_only=True,
    value={"number": "CN-2026-0007", "reason": "Price adjustment, order 7781"})])
class CreditNoteUpdateSerializer(StrictUpdateSerializer):
    number = serializers.CharField(max_length=64, required=False)
    issued_on = serializers.DateField(required=False,
                                      help_text="Allocations are re-dated with it (never before an invoice's "
                                                "issue date).")
    amount = AmountField(required=False, help_text="Not below what is already applied; unapplied_amount follows.")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)


@extend_schema_serializer(examples=[OpenApiExample(
    "Correct the reason", request_only=True, value={"reason": "Customer insolvent (court case 2026-17)"})])
class WriteOffUpdateSerializer(StrictUpdateSerializer):
    reason = serializers.CharField(max_length=300, required=False)


# --- bulk upsert -----------------------------------------------------------------------------


class CustomerBulkRowSerializer(CustomerWriteSerializer):
    external_id = serializers.CharField(max_length=100)
    status = None  # the importer's rule: a bulk upsert never (de)activates customers


class InvoiceBulkRowSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    number = serializers.CharField(max_length=64)
    customer_external_id = serializers.CharField(max_length=100)
    customer_name = serializers.CharField(max_length=200, required=False,
                                          help_text="Creates the customer when no customer has that external id.")
    issue_date = serializers.DateField()
    due_date = serializers.DateField(required=False)
    currency = currency_field(required=False)
    net_amount = AmountField(required=False)
    tax_amount = AmountField(required=False)
    total_amount = AmountField(required=False, help_text="Give net_amount, total_amount, or both with tax_amount.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    po_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PaymentBulkRowSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    customer_external_id = serializers.CharField(max_length=100)
    received_on = serializers.DateField()
    amount = AmountField()
    currency = currency_field(required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    invoice_number = serializers.CharField(max_length=64, required=False,
                                           help_text="Apply the whole payment to this invoice; else oldest due first.")


def bulk_request_serializer(row_serializer: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """The documented shape of a bulk request: {"rows": [...]} (rows are validated one by one)."""
    return type(name, (serializers.Serializer,), {
        "rows": row_serializer(many=True, max_length=settings.API_BULK_MAX_ROWS, allow_empty=False),
    })


class BulkRowResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    external_id = serializers.CharField()
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["created", "updated", "unchanged"])
    warnings = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="Present when the invoice was created for a customer on credit hold "
                                               "and the organization warns instead of refusing.")


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rows = BulkRowResultSerializer(many=True)


# --- read models -----------------------------------------------------------------------------


class AgingBucketSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class AgingRowSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    invoice_count = serializers.IntegerField()
    amounts = serializers.DictField(child=AmountField(), help_text="Bucket key -> amount in base currency.")
    total = AmountField()
    overdue = AmountField()


@extend_schema_serializer(examples=[OpenApiExample("Aging in CNY", response_only=True, value={
    "as_of": "2026-03-31", "currency": "CNY",
    "buckets": [{"key": "current", "label": "Current"}, {"key": "d1_30", "label": "1-30"},
                {"key": "d31_60", "label": "31-60"}, {"key": "d61_90", "label": "61-90"},
                {"key": "d90_plus", "label": "91+"}],
    "rows": [
        {"customer_id": 8, "customer_name": "Northwind Traders", "invoice_count": 1,
         "amounts": {"current": "0.0000", "d1_30": "17395.0000", "d31_60": "0.0000", "d61_90": "0.0000",
                     "d90_plus": "0.0000"}, "total": "17395.0000", "overdue": "17395.0000"},
        {"customer_id": 7, "customer_name": "上海华东贸易有限公司", "invoice_count": 2,
         "amounts": {"current": "1130.0000", "d1_30": "0.0000", "d31_60": "870.0000", "d61_90": "0.0000",
                     "d90_plus": "0.0000"}, "total": "2000.0000", "overdue": "870.0000"}],
    "totals": {"current": "1130.0000", "d1_30": "17395.0000", "d31_60": "870.0000", "d61_90": "0.0000",
               "d90_plus": "0.0000"},
    "total": "19395.0000", "overdue": "18265.0000", "unrealized_fx": "145.0000", "unrealized_fx_unknown": 0})])
class AgingReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = currency_field()
    buckets = AgingBucketSerializer(many=True)
    rows = AgingRowSerializer(many=True)
    totals = serializers.DictField(child=AmountField())
    total = AmountField()
    overdue = AmountField()
    unrealized_fx = AmountField(
        allow_null=True, help_text="Unrealized exchange difference of the open foreign-currency balances, in base "
                                   "currency: at the as-of rate minus at their invoices' issue rates (null with "
                                   "`currency`).")
    unrealized_fx_unknown = serializers.IntegerField(
        help_text="Open foreign-currency invoices without a rate at issue, left out of unrealized_fx.")


class DsoPointSerializer(serializers.Serializer):
    period_end = serializers.DateField()
    receivables = AmountField()
    sales = AmountField()
    standard = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    countback = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    period_standard = serializers.DecimalField(
        max_digits=12, decimal_places=1, allow_null=True,
        help_text="Standard DSO over the period_days ending at period_end (the headline's measure): the last "
                  "point's equals the report's standard. `standard` here is the month's own (its sales x its days).")


@extend_schema_serializer(examples=[OpenApiExample("Last three months", response_only=True, value={
    "as_of": "2026-03-31", "currency": "CNY", "period_days": 90, "standard": "48.6", "countback": "52.0",
    "receivables": "412850.0000", "sales": "764500.0000", "trend": [
        {"period_end": "2026-01-31", "receivables": "398200.0000", "sales": "251300.0000", "standard": "49.1",
         "countback": "49.0", "period_standard": "50.2"},
        {"period_end": "2026-02-28", "receivables": "405120.0000", "sales": "238700.0000", "standard": "47.5",
         "countback": "53.0", "period_standard": "49.8"},
        {"period_end": "2026-03-31", "receivables": "412850.0000", "sales": "274500.0000", "standard": "46.6",
         "countback": "52.0", "period_standard": "48.6"}], "fx_warnings": []})])
class DsoReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = currency_field()
    period_days = serializers.IntegerField()
    standard = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True,
                                        help_text="AR / credit sales of the period x days.")
    countback = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    receivables = AmountField()
    sales = AmountField()
    trend = DsoPointSerializer(many=True)
    fx_warnings = serializers.SerializerMethodField(
        help_text="Missing FX rates: the amounts in those currencies are left out of the figures, named here.")

    def get_fx_warnings(self, report) -> list[str]:
        return [gap.message for gap in report.fx_gaps]


class StatementLineSerializer(serializers.Serializer):
    invoice_id = serializers.IntegerField()
    number = serializers.CharField()
    issue_date = serializers.DateField()
    due_date = serializers.DateField()
    currency = currency_field()
    total = AmountField()
    balance = AmountField()
    running_balance = AmountField()
    days_overdue = serializers.IntegerField()


class StatementCurrencySerializer(serializers.Serializer):
    currency = currency_field()
    balance = AmountField()
    unapplied = AmountField()
    lines = StatementLineSerializer(many=True)


@extend_schema_serializer(examples=[OpenApiExample("Open items in CNY", response_only=True, value={
    "customer": 7, "customer_name": "上海华东贸易有限公司", "as_of": "2026-03-31", "currencies": [{
        "currency": "CNY", "balance": "2000.0000", "unapplied": "0.0000", "lines": [
            {"invoice_id": 39, "number": "INV-2026-0032", "issue_date": "2026-01-02", "due_date": "2026-02-01",
             "currency": "CNY", "total": "1370.0000", "balance": "870.0000", "running_balance": "870.0000",
             "days_overdue": 58},
            {"invoice_id": 42, "number": "INV-2026-0042", "issue_date": "2026-03-01", "due_date": "2026-03-31",
             "currency": "CNY", "total": "1130.0000", "balance": "1130.0000", "running_balance": "2000.0000",
             "days_overdue": 0}]}]})])
class StatementSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    customer_name = serializers.CharField()
    as_of = serializers.DateField()
    currencies = StatementCurrencySerializer(many=True)


@extend_schema_serializer(examples=[OpenApiExample("Invoice created", response_only=True, value={
    "id": "0b502599-2745-408a-ab88-2fd8b614900f", "type": "invoice.created", "created_at": "2026-03-01T02:15:00Z",
    "data": NEW_INVOICE_EXAMPLE})])
class EventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="event_id", read_only=True, help_text="Deduplicate on this.")
    data = serializers.JSONField(source="payload", read_only=True)

    class Meta:
        model = WebhookEvent
        fields = ("id", "type", "created_at", "data")
        read_only_fields = fields


# --- realized FX gain / loss (issue 11, item 5) ---------------------------------------------


class RealizedFxPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    amount = AmountField(help_text="Realized exchange difference in base currency: + gain, - loss.")
    count = serializers.IntegerField(help_text="Payment allocations that realized a difference.")
    by_currency = serializers.DictField(child=AmountField(), help_text="By the invoices' currency, in base currency.")


@extend_schema_serializer(examples=[OpenApiExample("A USD invoice paid in CNY", response_only=True, value={
    "as_of": "2026-04-30", "currency": "CNY", "periods": [
        {"start": "2026-03-01", "end": "2026-03-31", "amount": "100.0000", "count": 1, "by_currency": {"USD": "100.0000"}},
        {"start": "2026-04-01", "end": "2026-04-30", "amount": "-50.0000", "count": 1, "by_currency": {"USD": "-50.0000"}}],
    "total": "50.0000", "unknown": 0})])
class RealizedFxReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = currency_field(help_text="The organization's base currency.")
    periods = RealizedFxPeriodSerializer(many=True)
    total = AmountField()
    unknown = serializers.IntegerField(help_text="Foreign-currency payment allocations in these months with no recorded "
                                                 "difference (no rate at the invoice's issue or at the receipt).")


# --- reversals, unapply, refunds (docs/ledger.md) -------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample(
    "Cheque returned unpaid", request_only=True,
    value={"reversed_on": "2026-03-20", "reason": "Cheque returned: insufficient funds", "fee": "50.00"})])
class PaymentReverseSerializer(serializers.Serializer):
    reversed_on = serializers.DateField(help_text="The day the payment was returned; not before it was received, "
                                                  "not after today.")
    reason = serializers.CharField(max_length=300)
    fee = AmountField(required=False, allow_null=True,
                      help_text="A returned-payment fee: billed to the customer as a charges invoice.")


@extend_schema_serializer(examples=[OpenApiExample(
    "Move cash off an invoice", request_only=True, value={"invoice": 44, "amount": "120.00", "on": "2026-03-20"})])
class PaymentUnapplySerializer(serializers.Serializer):
    invoice = ScopedPrimaryKeyRelatedField(Invoice)
    amount = AmountField(required=False, allow_null=True, help_text="Default: all this payment applied to it.")
    on = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")


@extend_schema_serializer(examples=[OpenApiExample(
    "Overpayment paid back", request_only=True,
    value={"amount": "60.00", "refunded_on": "2026-03-20", "reference": "TT 2026-0320-7"})])
class PaymentRefundSerializer(serializers.Serializer):
    amount = AmountField(help_text="Never more than the payment's unapplied amount.")
    refunded_on = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


@extend_schema_serializer(examples=[OpenApiExample("Recorded against the wrong customer", request_only=True,
                                                   value={"customer": 8})])
class PaymentReassignSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(Customer)


@extend_schema_serializer(examples=[OpenApiExample(
    "Issued in error", request_only=True, value={"reversed_on": "2026-03-20", "reason": "Issued in error"})])
class CreditNoteReverseSerializer(serializers.Serializer):
    reversed_on = serializers.DateField()
    reason = serializers.CharField(max_length=300)


@extend_schema_serializer(examples=[OpenApiExample(
    "Bad debt partly recovered", request_only=True,
    value={"reversed_on": "2026-03-25", "reason": "Paid after all, less the payer bank's charges", "amount": "20.00"})])
class WriteOffReverseSerializer(serializers.Serializer):
    reversed_on = serializers.DateField()
    reason = serializers.CharField(max_length=300)
    amount = AmountField(required=False, allow_null=True, help_text="Default: all of the write-off still in force.")
