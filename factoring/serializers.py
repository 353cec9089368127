"""API representations of facilities, eligibility, assignments and their lines, and the input of
each write. Thin by rule: shapes only; every rule stays in factoring.services. Fields that point
at rows (facility, invoices, customers) are scoped to the request's organization."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from receivables.models import Customer
from receivables.serializers import AmountField, ScopedPrimaryKeyRelatedField

from .models import Assignment, AssignmentLine, AssignmentStatus, DayCount, Facility, LineState, Mode

RATE = {"max_digits": 9, "decimal_places": 6, "coerce_to_string": True}


class RateField(serializers.DecimalField):
    default_error_messages = {"float": _("Give rates as decimal strings such as \"0.85\", not JSON floats.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        super().__init__(**RATE, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        return super().to_internal_value(data)


# --- examples (HSBC's facility of the factoring manual: 85% advance, 1.25% fee, 8.5% a year) ------

FACILITY_EXAMPLE = {
    "id": 1, "name": "HSBC factoring", "factor_name": "汇丰保理 HSBC Factoring", "factor_bank_name": "HSBC Shanghai",
    "factor_bank_account": "6222 0000 1234 5678", "mode": "factoring", "disclosed": True,
    "collection_delegated": False, "recourse": True, "currency": "CNY", "limit": "1000000.0000",
    "advance_rate": "0.850000", "fee_rate": "0.012500", "interest_rate": "0.085000", "day_count": 360,
    "max_days_past_due": None, "max_terms_days": None, "min_invoice_amount": "0.0000", "concentration_limit": None,
    "cross_aging_rate": None, "cross_aging_days": 90, "repurchase_after_days": None,
    "approval_threshold": "50000.0000", "excluded_customers": [], "sublimits": [{"customer": 7, "limit": "300000.0000"}],
    "valid_from": "2026-01-01", "valid_to": None, "created_at": "2026-03-31T04:00:00Z",
    "updated_at": "2026-03-31T04:00:00Z"}
FACILITY_CREATE_EXAMPLE = {
    "name": "Bank of China discounting", "factor_name": "中国银行 Bank of China", "factor_bank_name": "Bank of China Shanghai",
    "factor_bank_account": "4563 5100 0000 1234", "mode": "factoring", "disclosed": True, "recourse": True,
    "currency": "CNY", "limit": "2000000.00", "advance_rate": "0.80", "fee_rate": "0.0100", "interest_rate": "0.0750",
    "day_count": 360, "max_days_past_due": 60, "approval_threshold": "100000.00", "valid_from": "2026-04-01"}
FACILITY_CHANGE_EXAMPLE = {"limit": "1500000.00", "approval_threshold": "100000.00"}


@extend_schema_serializer(examples=[OpenApiExample("Sub-limit for a buyer", request_only=True, value={
    "customer": 7, "limit": "300000.00"})])
class SublimitSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(Customer)
    limit = AmountField()


@extend_schema_serializer(examples=[OpenApiExample("HSBC facility", response_only=True, value=FACILITY_EXAMPLE)])
class FacilitySerializer(serializers.ModelSerializer):
    limit = AmountField()
    advance_rate = RateField(help_text=_("Share of face value advanced, more than 0 and at most 1 (e.g. \"0.85\")."))
    fee_rate = RateField(required=False, help_text=_("Fee on face value assigned (e.g. \"0.0125\")."))
    interest_rate = RateField(required=False, help_text=_("Annual interest on funds in use (e.g. \"0.085\")."))
    min_invoice_amount = AmountField(required=False)
    concentration_limit = RateField(required=False, allow_null=True,
                                    help_text=_("Most one customer may be of the facility's outstanding."))
    cross_aging_rate = RateField(required=False, allow_null=True,
                                 help_text=_("A customer with more than this share of its balance over the "
                                             "cross-aging days has all its invoices ineligible."))
    approval_threshold = AmountField(required=False, allow_null=True)
    mode = serializers.ChoiceField(choices=Mode.choices, required=False)
    day_count = serializers.ChoiceField(choices=DayCount.choices, required=False)
    excluded_customers = ScopedPrimaryKeyRelatedField(Customer, many=True, required=False)
    sublimits = serializers.SerializerMethodField()

    class Meta:
        model = Facility
        fields = ("id", "name", "factor_name", "factor_bank_name", "factor_bank_account", "mode", "disclosed",
                  "collection_delegated", "recourse", "currency", "limit", "advance_rate", "fee_rate",
                  "interest_rate", "day_count", "max_days_past_due", "max_terms_days", "min_invoice_amount",
                  "concentration_limit", "cross_aging_rate", "cross_aging_days", "repurchase_after_days",
                  "approval_threshold", "excluded_customers", "sublimits", "valid_from", "valid_to", "created_at",
                  "updated_at")
        read_only_fields = ("id", "sublimits", "created_at", "updated_at")

    def get_sublimits(self, obj: Facility) -> list[dict]:
        return [{"customer": s.customer_id, "limit": str(s.limit)} for s in obj.sublimits.all()]


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class AvailabilitySerializer(serializers.Serializer):
    currency = serializers.CharField()
    limit = AmountField()
    eligible_face = AmountField()
    borrowing_base = AmountField()
    funds_in_use = AmountField(min_value=None)
    committed = AmountField()
    available = AmountField()


class AssignmentLineSerializer(serializers.ModelSerializer):
    invoice = serializers.IntegerField(source="invoice_id", read_only=True)
    number = serializers.CharField(source="invoice.number", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    face_amount = AmountField(source="face", read_only=True)
    advance_amount = AmountField(source="advance", read_only=True)
    fee_amount = AmountField(source="fee", read_only=True)
    collected = AmountField(read_only=True)
    interest = AmountField(read_only=True)
    reserve_released = AmountField(read_only=True, min_value=None)
    state = serializers.ChoiceField(choices=LineState.choices, read_only=True)

    class Meta:
        model = AssignmentLine
        fields = ("id", "invoice", "number", "customer", "state", "face_amount", "advance_amount", "fee_amount",
                  "collected", "interest", "reserve_released", "ended_on")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Funded assignment", response_only=True, value={
    "id": 4, "number": "ASG-00004", "facility": 1, "status": "funded", "currency": "CNY", "assigned_on": "2026-03-31",
    "face_total": "10000.0000", "advance_total": "8500.0000", "fee_total": "125.0000", "approval_required": False,
    "awaiting_approval": False, "submitted_at": "2026-03-31T04:00:00Z", "approved_at": "2026-03-31T04:00:00Z",
    "funded_on": "2026-03-31", "amount_received": "8375.0000", "fee_deducted": "125.0000",
    "interest_deducted": "0.0000", "closed_on": None,
    "lines": [{"id": 4, "invoice": 65, "number": "INV-2026-0065", "customer": 11, "state": "assigned",
               "face_amount": "10000.0000", "advance_amount": "8500.0000", "fee_amount": "125.0000",
               "collected": "0.0000", "interest": "0.0000", "reserve_released": "0.0000", "ended_on": None}],
    "created_at": "2026-03-31T04:00:00Z", "updated_at": "2026-03-31T04:00:00Z"})])
class AssignmentSerializer(serializers.ModelSerializer):
    facility = serializers.IntegerField(source="facility_id", read_only=True)
    status = serializers.ChoiceField(choices=AssignmentStatus.choices, read_only=True)
    face_total = AmountField(read_only=True)
    advance_total = AmountField(read_only=True)
    fee_total = AmountField(read_only=True)
    amount_received = AmountField(read_only=True, allow_null=True)
    fee_deducted = AmountField(read_only=True, allow_null=True)
    interest_deducted = AmountField(read_only=True, allow_null=True)
    awaiting_approval = serializers.BooleanField(read_only=True)
    lines = AssignmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Assignment
        fields = ("id", "number", "facility", "status", "currency", "assigned_on", "face_total", "advance_total",
                  "fee_total", "approval_required", "awaiting_approval", "submitted_at", "approved_at", "funded_on",
                  "amount_received", "fee_deducted", "interest_deducted", "closed_on", "lines", "created_at",
                  "updated_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Assign and submit", request_only=True, value={
    "facility": 1, "invoices": [61], "assigned_on": "2026-03-31", "submit": True})])
class AssignmentCreateSerializer(serializers.Serializer):
    facility = ScopedPrimaryKeyRelatedField(Facility)
    invoices = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=50000,
                                     help_text=_("Invoice ids."))
    assigned_on = serializers.DateField()
    submit = serializers.BooleanField(default=False, help_text=_("Submit to the factor at once."))


@extend_schema_serializer(examples=[OpenApiExample("The factor paid the advance less its fee", request_only=True,
                                                   value={"funded_on": "2026-03-31", "amount_received": "8375.00",
                                                          "fee_deducted": "125.00", "interest_deducted": "0.00"})])
class FundSerializer(serializers.Serializer):
    funded_on = serializers.DateField()
    amount_received = AmountField()
    fee_deducted = AmountField(required=False, allow_null=True,
                               help_text=_("Defaults to the schedule's fees."))
    interest_deducted = AmountField(required=False, default="0")


@extend_schema_serializer(examples=[OpenApiExample("Take an invoice back", request_only=True, value={
    "invoice": 65, "repurchased_on": "2026-03-31", "note": "Buyer disputes the delivery."})])
class RepurchaseSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(min_value=1, help_text=_("The assigned invoice taken back."))
    repurchased_on = serializers.DateField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


@extend_schema_serializer(examples=[OpenApiExample("A collection", request_only=True, value={
    "file_name": "hsbc-2026-03.csv",
    "csv": "date,type,invoice,amount,reference\n2026-03-31,collection,INV-2026-0065,4000.00,COL-0331\n"})])
class StatementSerializer(serializers.Serializer):
    file_name = serializers.CharField(max_length=255, default="statement.csv")
    csv = serializers.CharField(max_length=20_000_000, trim_whitespace=False,
                                help_text=_("The statement as CSV text: columns date, type (collection, fee, "
                                            "interest, repurchase), invoice (number), amount, reference."))


@extend_schema_serializer(examples=[OpenApiExample("Imported", response_only=True, value={
    "id": 2, "file_name": "hsbc-2026-03.csv", "rows": 1})])
class StatementResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    file_name = serializers.CharField()
    rows = serializers.IntegerField(help_text=_("Rows imported."))


class EligibilityRowSerializer(serializers.Serializer):
    invoice = serializers.IntegerField()
    number = serializers.CharField()
    customer = serializers.IntegerField()
    currency = serializers.CharField()
    due_date = serializers.DateField()
    days_past_due = serializers.IntegerField()
    balance = AmountField()
    eligible = serializers.BooleanField()
    reasons = ReasonSerializer(many=True)
    advance_amount = AmountField()


@extend_schema_serializer(examples=[OpenApiExample("Eligibility on 31 March", response_only=True, value={
    "facility": 1, "as_of": "2026-03-31",
    "availability": {"currency": "CNY", "limit": "1000000.0000", "eligible_face": "114570.0000",
                     "borrowing_base": "97384.5000", "funds_in_use": "8500.0000", "committed": "85000.0000",
                     "available": "97384.5000"},
    "invoices": [{"invoice": 42, "number": "INV-2026-0031", "customer": 7, "currency": "CNY",
                  "due_date": "2026-03-31", "days_past_due": 0, "balance": "1130.0000", "eligible": False,
                  "reasons": [{"code": "disputed", "message": "The invoice is under dispute."}],
                  "advance_amount": "0.00"},
                 {"invoice": 61, "number": "INV-2026-0061", "customer": 11, "currency": "CNY",
                  "due_date": "2026-05-30", "days_past_due": 0, "balance": "10000.0000", "eligible": True,
                  "reasons": [], "advance_amount": "8500.00"}]})])
class EligibilitySerializer(serializers.Serializer):
    facility = serializers.IntegerField()
    as_of = serializers.DateField()
    availability = AvailabilitySerializer()
    invoices = EligibilityRowSerializer(many=True)
