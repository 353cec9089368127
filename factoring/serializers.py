"""API representations of facilities, eligibility, assignments and their lines, and the input of
each write. Thin by rule: shapes only; every rule stays in factoring.services. Fields that point
at rows (facility, invoices, customers) are scoped to the request's organization."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
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


class SublimitSerializer(serializers.Serializer):
    customer = ScopedPrimaryKeyRelatedField(Customer)
    limit = AmountField()


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


class AssignmentCreateSerializer(serializers.Serializer):
    facility = ScopedPrimaryKeyRelatedField(Facility)
    invoices = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=50000,
                                     help_text=_("Invoice ids."))
    assigned_on = serializers.DateField()
    submit = serializers.BooleanField(default=False, help_text=_("Submit to the factor at once."))


class FundSerializer(serializers.Serializer):
    funded_on = serializers.DateField()
    amount_received = AmountField()
    fee_deducted = AmountField(required=False, allow_null=True,
                               help_text=_("Defaults to the schedule's fees."))
    interest_deducted = AmountField(required=False, default="0")


class RepurchaseSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(min_value=1, help_text=_("The assigned invoice taken back."))
    repurchased_on = serializers.DateField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class StatementSerializer(serializers.Serializer):
    file_name = serializers.CharField(max_length=255, default="statement.csv")
    csv = serializers.CharField(max_length=20_000_000, trim_whitespace=False,
                                help_text=_("The statement as CSV text: columns date, type (collection, fee, "
                                            "interest, repurchase), invoice (number), amount, reference."))
