"""API representations of disputes, promises, payment plans and what dunning sent, and the
input each write endpoint accepts.

Thin by rule: shapes only; the rules (amounts, dates, sums) stay in dunning.services. Every
field that points at another row is scoped to the request's organization, so an id from
another organization is "does not exist" (400), never a leak."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from receivables.models import Customer, Invoice
from receivables.serializers import AmountField, ScopedPrimaryKeyRelatedField, currency_field

from .models import (
    Channel,
    Dispute,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
    DunningMessage,
    DunningNotice,
    Installment,
    MessageStatus,
    PaymentPlan,
    PlanStatus,
    PromiseStatus,
    PromiseToPay,
    Source,
)

MAX_INVOICES = 200
MAX_INSTALLMENTS = 120


def status_field(choices, **kwargs) -> serializers.ChoiceField:
    """A status as an inline enum: several resources have a `status` with different values, and
    a shared component name would collide in the schema."""
    field_class = extend_schema_field({"type": "string", "enum": [value for value, _label in choices]})(
        type("StatusField", (serializers.ChoiceField,), {}))
    return field_class(choices=choices, **kwargs)


class RateField(serializers.DecimalField):
    """An annual rate in percent: a decimal string such as "6.5"."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=7, decimal_places=4, min_value=Decimal(0), max_value=Decimal(100),
                         coerce_to_string=True, **kwargs)


# --- disputes --------------------------------------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample("Two pallets short", response_only=True, value={
    "id": 14, "invoice": 42, "invoice_number": "INV-2026-0042", "customer": 7, "amount": "300.0000",
    "currency": "CNY", "reason": "quantity", "description": "Two pallets short.", "status": "open", "resolution": "",
    "resolution_notes": "", "owner": 3, "opened_on": "2026-03-18", "due_on": "2026-03-31", "resolved_on": None,
    "source": "api", "created_at": "2026-03-18T01:45:00Z", "updated_at": "2026-03-18T01:45:00Z"})])
class DisputeSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    amount = AmountField(read_only=True)
    currency = currency_field(read_only=True)
    reason = serializers.ChoiceField(choices=DisputeReason.choices, read_only=True)
    status = status_field(DisputeStatus.choices, read_only=True)
    resolution = serializers.ChoiceField(choices=[("", ""), *DisputeResolution.choices], read_only=True)
    source = serializers.ChoiceField(choices=Source.choices, read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)

    class Meta:
        model = Dispute
        fields = ("id", "invoice", "invoice_number", "customer", "amount", "currency", "reason", "description",
                  "status", "resolution", "resolution_notes", "owner", "opened_on", "due_on", "resolved_on",
                  "source", "created_at", "updated_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample(
    "Part of an invoice disputed", request_only=True,
    value={"invoice": 42, "reason": "quantity", "amount": "300.00", "description": "Two pallets short.",
           "due_on": "2026-03-31"})])
class DisputeOpenSerializer(serializers.Serializer):
    invoice = ScopedPrimaryKeyRelatedField(Invoice)
    reason = serializers.ChoiceField(choices=DisputeReason.choices)
    amount = AmountField(required=False, allow_null=True, help_text="Default: all of the undisputed balance.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    due_on = serializers.DateField(required=False, allow_null=True,
                                   help_text="Resolve-by date; default: 14 days from today.")


@extend_schema_serializer(examples=[OpenApiExample(
    "Settled with a credit note", request_only=True,
    value={"resolution": "credit_note", "notes": "Carrier confirmed two pallets short.",
           "credit_note_number": "CN-2026-0008", "credit_amount": "300.00"})])
class DisputeResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=DisputeResolution.choices)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    credit_note_number = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64,
                                               help_text="Required when the resolution is credit_note.")
    credit_amount = AmountField(required=False, allow_null=True,
                                help_text="Credit note amount; default: the disputed amount.")


# --- promises --------------------------------------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample("Open promise", response_only=True, value={
    "id": 23, "customer": 7, "invoices": [42, 43], "amount": "2500.0000", "currency": "CNY",
    "promised_date": "2026-04-15", "grace_days": 3, "pause_until": "2026-04-18", "made_on": "2026-03-31",
    "status": "open", "settled_on": None, "paid_amount": "0.0000",
    "notes": "Finance director Ms. Wang, by phone: paying after their customer's receipt.", "source": "api",
    "created_at": "2026-03-31T04:00:00Z"})])
class PromiseSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    invoices = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    amount = AmountField(read_only=True)
    paid_amount = AmountField(read_only=True, help_text="Received between the promise and its deadline.")
    currency = currency_field(read_only=True)
    status = status_field(PromiseStatus.choices, read_only=True,
                                     help_text="open until decided from payments: kept or broken.")
    source = serializers.ChoiceField(choices=Source.choices, read_only=True)

    class Meta:
        model = PromiseToPay
        fields = ("id", "customer", "invoices", "amount", "currency", "promised_date", "grace_days", "pause_until",
                  "made_on", "status", "settled_on", "paid_amount", "notes", "source", "created_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample(
    "Pay two invoices by mid-April", request_only=True,
    value={"customer": 7, "invoices": [42, 43], "amount": "2500.00", "promised_date": "2026-04-15",
           "grace_days": 3, "notes": "Finance director Ms. Wang, by phone: paying after their customer's receipt."})])
class PromiseCreateSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(Customer)
    invoices = serializers.ListField(child=ScopedPrimaryKeyRelatedField(Invoice), allow_empty=False,
                                     max_length=MAX_INVOICES, help_text="Ids of the customer's open invoices.")
    amount = AmountField()
    promised_date = serializers.DateField()
    grace_days = serializers.IntegerField(min_value=0, max_value=60, required=False, default=3)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


# --- payment plans ---------------------------------------------------------------------------


class InstallmentSerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True, help_text="principal + interest")
    principal = AmountField(read_only=True)
    interest = AmountField(read_only=True, help_text="On the principal still owed, for the period's days / 365.")
    balance_after = AmountField(read_only=True, help_text="Principal still owed after this installment.")

    class Meta:
        model = Installment
        fields = ("sequence", "due_date", "amount", "principal", "interest", "balance_after")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Two installments in USD", response_only=True, value={
    "id": 6, "customer": 8, "invoices": [31], "currency": "USD", "covered_amount": "2450.0000",
    "interest_rate": "6.0000", "interest_amount": "18.3200", "total_amount": "2468.3200", "start_date": "2026-03-31",
    "charges_invoice": 32,
    "grace_days": 3, "status": "active", "ended_on": None, "notes": "Agreed with Northwind's controller by email.",
    "installments": [{"sequence": 1, "due_date": "2026-04-30", "amount": "1237.0800", "principal": "1225.0000",
                      "interest": "12.0800", "balance_after": "1225.0000"},
                     {"sequence": 2, "due_date": "2026-05-31", "amount": "1231.2400", "principal": "1225.0000",
                      "interest": "6.2400", "balance_after": "0.0000"}],
    "created_at": "2026-03-31T04:00:00Z"})])
class PaymentPlanSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    invoices = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    currency = currency_field(read_only=True)
    covered_amount = AmountField(read_only=True)
    interest_rate = RateField(read_only=True)
    interest_amount = AmountField(read_only=True)
    total_amount = AmountField(read_only=True)
    status = status_field(PlanStatus.choices, read_only=True)
    installments = InstallmentSerializer(many=True, read_only=True)
    charges_invoice = serializers.IntegerField(source="charges_invoice_id", read_only=True, allow_null=True,
                                               help_text="The invoice that bills the plan's interest (kind charges).")

    class Meta:
        model = PaymentPlan
        fields = ("id", "customer", "invoices", "currency", "covered_amount", "interest_rate", "interest_amount",
                  "total_amount", "start_date", "charges_invoice", "grace_days", "status", "ended_on", "notes", "installments",
                  "created_at")
        read_only_fields = fields


class InstallmentInputSerializer(serializers.Serializer):
    due_date = serializers.DateField()
    amount = AmountField(min_value=Decimal("0.0001"), required=False,
                         help_text="The principal part; leave out on every row for equal parts.")


@extend_schema_serializer(examples=[OpenApiExample(
    "Three monthly installments", request_only=True,
    value={"customer": 7, "invoices": [42, 43], "interest_rate": "0",
           "installments": [{"due_date": "2026-04-15", "amount": "1000.00"},
                            {"due_date": "2026-05-15", "amount": "1000.00"},
                            {"due_date": "2026-06-15", "amount": "500.00"}]})])
class PaymentPlanCreateSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(Customer)
    invoices = serializers.ListField(child=ScopedPrimaryKeyRelatedField(Invoice), allow_empty=False,
                                     max_length=MAX_INVOICES, help_text="Ids of the customer's open invoices.")
    installments = InstallmentInputSerializer(
        many=True, allow_empty=False, max_length=MAX_INSTALLMENTS,
        help_text="Principal parts must add up to the covered balance (checked); interest is added on the "
                  "declining balance.")
    interest_rate = RateField(required=False, default=Decimal(0), help_text="Annual, in percent.")
    grace_days = serializers.IntegerField(min_value=0, max_value=60, required=False, default=3)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


# --- what was sent (evidence, read-only) -----------------------------------------------------


class NoticeSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    amount_due = AmountField(read_only=True)
    fee_amount = AmountField(read_only=True)
    interest_amount = AmountField(read_only=True)
    currency = currency_field(read_only=True)

    class Meta:
        model = DunningNotice
        fields = ("id", "invoice", "invoice_number", "step_days", "channel", "days_overdue", "amount_due",
                  "fee_amount", "interest_amount", "currency", "created_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Courtesy reminder in Chinese", response_only=True, value={
    "id": 45, "customer": 7, "run_date": "2026-03-24", "language": "zh-hans", "to": ["ap@huadong-trading.cn"],
    "subject": "Acme Trading：发票即将到期提醒",
    "body_text": "上海华东贸易有限公司：\n\n温馨提示：以下发票即将到期。如已安排付款，谢谢，请忽略本邮件。\n\n"
                 "发票号  到期日  逾期天数  应付金额\nINV-2026-0042  2026-03-31  -7  1,130.00 CNY\n\n此致\nAcme Trading\n",
    "content_hash": "5f5537c9d922fa9a6a5c9466e6a66aa7a733c1dd941bff68384a0b0dd578f46b", "has_letter": False,
    "letter_hash": "", "status": "sent", "attempts": 1, "created_at": "2026-03-24T01:00:00Z",
    "sent_at": "2026-03-24T01:00:07Z",
    "notices": [{"id": 67, "invoice": 42, "invoice_number": "INV-2026-0042", "step_days": -7, "channel": "email",
                 "days_overdue": -7, "amount_due": "1130.0000", "fee_amount": "0.0000", "interest_amount": "0.0000",
                 "currency": "CNY", "created_at": "2026-03-24T01:00:00Z"}]})])
class DunningMessageSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    run_date = serializers.DateField(source="run.run_date", read_only=True)
    to = serializers.ListField(child=serializers.CharField(), read_only=True)
    status = status_field(MessageStatus.choices, read_only=True)
    content_hash = serializers.CharField(read_only=True, help_text="SHA-256 of subject, text and HTML.")
    notices = NoticeSerializer(many=True, read_only=True)

    class Meta:
        model = DunningMessage
        fields = ("id", "customer", "run_date", "language", "to", "subject", "body_text", "content_hash",
                  "has_letter", "letter_hash", "status", "attempts", "created_at", "sent_at", "notices")
        read_only_fields = fields
