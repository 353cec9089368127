"""API representations of policies, cover requests and decisions, deadlines, declarations and claims,
and the input each write accepts. Fields pointing at rows are scoped to the request's organization
(another organization's id is "does not exist"); amounts are decimal strings."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from receivables.models import Customer, Invoice
from receivables.serializers import AmountField, ScopedPrimaryKeyRelatedField

from .models import (
    Claim,
    ClaimInvoice,
    ClaimRecovery,
    ClaimStatus,
    ConnectorKind,
    CoverRequest,
    Decision,
    Declaration,
    DeclarationInvoice,
    DeclarationKind,
    Policy,
    RequestType,
)
from .selectors import DeadlineState

PERCENT = {"max_digits": 5, "decimal_places": 2}
RATE = {"max_digits": 7, "decimal_places": 4}


def _customer(**kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(Customer, help_text=_("The customer's (buyer's) id."), **kwargs)


def _invoices(**kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(Invoice, many=True, help_text=_("Invoice ids."), **kwargs)


def _policy(**kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(Policy, help_text=_("The policy's id."), **kwargs)


# --- examples (the 2026 policy of the insurance manual: 90% insured, notify 60 days after due) ----

POLICY_EXAMPLE = {
    "id": 1, "insurer_name": "Allianz Trade", "policy_number": "P-2026-001", "currency": "CNY",
    "insured_percentage": "90.00", "max_credit_period_days": 120, "overdue_notification_days": 60,
    "max_extension_days": 90, "claim_filing_days": 150, "waiting_period_days": 150,
    "discretionary_limit": "50000.0000", "discretionary_conditions": "No overdue over 60 days in the last 12 months.",
    "claim_threshold": "5000.0000", "deductible": "1000.0000", "premium_rate": "0.2500", "premium_declaration_days": 15,
    "starts_on": "2026-01-01", "ends_on": "2026-12-31", "covered_countries": [], "excluded_customers": [],
    "warning_days": 7, "connector": "manual", "connector_url": "", "created_at": "2026-03-31T04:00:00Z",
    "updated_at": "2026-03-31T04:00:00Z"}
POLICY_CREATE_EXAMPLE = {
    "insurer_name": "Allianz Trade", "policy_number": "P-2027-001", "currency": "CNY", "insured_percentage": "90.00",
    "max_credit_period_days": 120, "overdue_notification_days": 60, "max_extension_days": 90,
    "claim_filing_days": 150, "waiting_period_days": 150, "discretionary_limit": "50000.00",
    "discretionary_conditions": "No overdue over 60 days in the last 12 months.", "claim_threshold": "5000.00",
    "deductible": "1000.00", "premium_rate": "0.2500", "starts_on": "2027-01-01", "ends_on": "2027-12-31",
    "warning_days": 7}
POLICY_CHANGE_EXAMPLE = {"warning_days": 10, "claim_threshold": "6000.00"}

_COMPUTATION = [
    {"key": "outstanding", "label": "Outstanding on the claimed invoices", "amount": "20000.0000", "note": ""},
    {"key": "covered_loss", "label": "Covered loss (within the buyer cover, oldest first, disputed amounts excluded)",
     "amount": "20000.0000", "note": ""},
    {"key": "recoveries", "label": "Less recoveries", "amount": "0.0000", "note": ""},
    {"key": "net_loss", "label": "Covered loss after recoveries", "amount": "20000.0000", "note": ""},
    {"key": "threshold", "label": "Claim threshold reached", "amount": "20000.0000", "note": "20000.0000 >= 5000.0000"},
    {"key": "insured_share", "label": "Insured percentage", "amount": "18000.00",
     "note": "20000.0000 x 90.00% = 18000.000000"},
    {"key": "deductible", "label": "Less the deductible", "amount": "-1000.0000", "note": ""},
    {"key": "expected", "label": "Expected indemnity", "amount": "17000.0000", "note": ""}]


# --- policies ----------------------------------------------------------------------------------

@extend_schema_serializer(examples=[OpenApiExample("2026 policy", response_only=True, value=POLICY_EXAMPLE)])
class PolicySerializer(serializers.ModelSerializer):
    insured_percentage = serializers.DecimalField(**PERCENT, read_only=True)
    premium_rate = serializers.DecimalField(**RATE, read_only=True,
                                            help_text=_("Percent of the insured turnover, e.g. 0.2500."))
    discretionary_limit = AmountField(read_only=True)
    claim_threshold = AmountField(read_only=True)
    deductible = AmountField(read_only=True)
    excluded_customers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    # Empty when the policy has no insurer API (a URL field would document every value as a URI).
    connector_url = serializers.CharField(read_only=True, help_text=_("The insurer's API address; empty if none."))

    class Meta:
        model = Policy
        fields = ("id", "insurer_name", "policy_number", "currency", "insured_percentage", "max_credit_period_days",
                  "overdue_notification_days", "max_extension_days", "claim_filing_days", "waiting_period_days",
                  "discretionary_limit", "discretionary_conditions", "claim_threshold", "deductible", "premium_rate",
                  "premium_declaration_days", "starts_on", "ends_on", "covered_countries", "excluded_customers",
                  "warning_days", "connector", "connector_url", "created_at", "updated_at")
        read_only_fields = fields


class PolicyWriteSerializer(serializers.Serializer):
    insurer_name = serializers.CharField(max_length=200)
    policy_number = serializers.CharField(max_length=64)
    currency = serializers.CharField(max_length=3, required=False)
    insured_percentage = serializers.DecimalField(**PERCENT, min_value=0)
    max_credit_period_days = serializers.IntegerField(min_value=1, max_value=720)
    overdue_notification_days = serializers.IntegerField(min_value=1, max_value=720)
    max_extension_days = serializers.IntegerField(min_value=0, max_value=720)
    claim_filing_days = serializers.IntegerField(min_value=1, max_value=1440)
    waiting_period_days = serializers.IntegerField(min_value=0, max_value=720)
    discretionary_limit = AmountField(required=False)
    discretionary_conditions = serializers.CharField(max_length=500, required=False, allow_blank=True)
    claim_threshold = AmountField(required=False)
    deductible = AmountField(required=False)
    premium_rate = serializers.DecimalField(**RATE, min_value=0, max_value=100)
    premium_declaration_days = serializers.IntegerField(min_value=0, max_value=90, required=False)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    covered_countries = serializers.ListField(child=serializers.CharField(min_length=2, max_length=2), required=False)
    excluded_customers = ScopedPrimaryKeyRelatedField(Customer, many=True, required=False)
    warning_days = serializers.IntegerField(min_value=0, max_value=90, required=False)
    connector = serializers.ChoiceField(choices=ConnectorKind.choices, required=False)
    connector_url = serializers.URLField(required=False, allow_blank=True)


# --- cover -------------------------------------------------------------------------------------

@extend_schema_serializer(examples=[OpenApiExample("Increase waiting for the insurer", response_only=True, value={
    "id": 2, "policy": 1, "customer": 9, "customer_name": "武汉光学有限公司", "request_type": "increase",
    "amount": "250000.0000", "currency": "CNY", "discretionary": False, "requested_on": "2026-03-31",
    "status": "pending", "decision": "", "decided_amount": None, "reason_code": "", "reason_text": "",
    "decided_on": None, "valid_until": None, "external_reference": "", "created_at": "2026-03-31T04:00:00Z",
    "updated_at": "2026-03-31T04:00:00Z"})])
class CoverRequestSerializer(serializers.ModelSerializer):
    policy = serializers.IntegerField(source="policy_id", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    amount = AmountField(read_only=True)
    decided_amount = AmountField(read_only=True, allow_null=True)

    class Meta:
        model = CoverRequest
        fields = ("id", "policy", "customer", "customer_name", "request_type", "amount", "currency", "discretionary",
                  "requested_on", "status", "decision", "decided_amount", "reason_code", "reason_text", "decided_on",
                  "valid_until", "external_reference", "created_at", "updated_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("New buyer cover", request_only=True, value={
    "policy": 1, "customer": 7, "request_type": "new", "amount": "100000.00", "requested_on": "2026-03-31"})])
class CoverRequestWriteSerializer(serializers.Serializer):
    policy = _policy()
    customer = _customer()
    request_type = serializers.ChoiceField(choices=RequestType.choices)
    amount = AmountField(required=False, help_text=_("In the policy's currency; 0 or absent for a cancellation."))
    requested_on = serializers.DateField(required=False)
    discretionary = serializers.BooleanField(required=False, default=False)
    submit = serializers.BooleanField(required=False, default=False,
                                      help_text=_("Send it at once through the policy's insurer connection."))


@extend_schema_serializer(examples=[OpenApiExample("Partly granted", request_only=True, value={
    "decision": "partial", "amount": "200000.00", "reason_code": "3",
    "reason_text": "Buyer's 2025 accounts support a lower amount.", "valid_until": "2026-12-31",
    "decided_on": "2026-03-31"})])
class CoverDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    amount = AmountField(required=False, help_text=_("The amount granted (partial decisions)."))
    reason_code = serializers.CharField(max_length=10, required=False, allow_blank=True,
                                        help_text=_("EDIFACT 4509 reason code, e.g. 3."))
    reason_text = serializers.CharField(max_length=500, required=False, allow_blank=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    decided_on = serializers.DateField(required=False)


# --- deadlines ---------------------------------------------------------------------------------

@extend_schema_serializer(examples=[OpenApiExample("Notified, claim by 1 July", response_only=True, value={
    "invoice": 51, "invoice_number": "INV-2026-0051", "customer": 9, "customer_name": "武汉光学有限公司",
    "policy": 1, "currency": "CNY", "due_date": "2026-02-01", "effective_due": "2026-02-01", "balance": "20000.0000",
    "disputed": "0.0000", "covered_amount": "20000.0000", "notify_by": "2026-04-02", "extend_until": "2026-05-02",
    "claim_by": "2026-07-01", "state": "notified", "notified_on": "2026-03-31", "claim": None, "days_left": 92})])
class DeadlineRowSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(source="invoice_id")
    invoice_number = serializers.CharField()
    customer = serializers.IntegerField(source="customer_id")
    customer_name = serializers.CharField()
    policy = serializers.IntegerField(source="policy_id")
    currency = serializers.CharField()
    due_date = serializers.DateField()
    effective_due = serializers.DateField(help_text=_("The due date after any declared extension."))
    balance = AmountField()
    disputed = AmountField()
    covered_amount = AmountField()
    notify_by = serializers.DateField()
    extend_until = serializers.DateField()
    claim_by = serializers.DateField()
    state = serializers.ChoiceField(choices=[(s, s) for s in DeadlineState.ALL])
    notified_on = serializers.DateField(allow_null=True)
    claim = serializers.IntegerField(source="claim_id", allow_null=True)
    days_left = serializers.IntegerField(allow_null=True)


# --- declarations ------------------------------------------------------------------------------

class DeclarationLineSerializer(serializers.ModelSerializer):
    invoice = serializers.IntegerField(source="invoice_id", read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    amount_due = AmountField(read_only=True)

    class Meta:
        model = DeclarationInvoice
        fields = ("invoice", "invoice_number", "due_date", "amount_due", "currency")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Overdue declaration", response_only=True, value={
    "id": 3, "policy": 1, "customer": 9, "kind": "overdue",
    "invoices": [{"invoice": 56, "invoice_number": "INV-2026-0056", "due_date": "2026-02-01",
                  "amount_due": "20000.0000", "currency": "CNY"}],
    "notified_on": "2026-03-31", "new_due_date": None, "payment_plan": None, "reference": "OVD-2026-0056", "notes": "",
    "content": {"kind": "overdue", "type": "OVD",
                "buyer": {"name": "武汉光学有限公司", "country": "CN", "registration_number": ""},
                "insurer": "Allianz Trade", "disputes": [],
                "invoices": [{"open": "20000.0000", "total": "20000.00", "number": "INV-2026-0056", "currency": "CNY",
                              "due_date": "2026-02-01", "issue_date": "2026-01-02", "days_overdue": 58}],
                "promises": [], "reminders": [], "notified_on": "2026-03-31", "policy_number": "P-2026-001"},
    "content_hash": "c2eea23b97415fd25f41d5082a7260153f7485b763ee9dee776f9e350339dc6a",
    "created_at": "2026-03-31T04:00:00Z"})])
class DeclarationSerializer(serializers.ModelSerializer):
    policy = serializers.IntegerField(source="policy_id", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    invoices = DeclarationLineSerializer(source="lines", many=True, read_only=True)

    class Meta:
        model = Declaration
        fields = ("id", "policy", "customer", "kind", "invoices", "notified_on", "new_due_date", "payment_plan",
                  "reference", "notes", "content", "content_hash", "created_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Declare an overdue invoice", request_only=True, value={
    "policy": 1, "customer": 9, "kind": "overdue", "invoices": [56], "notified_on": "2026-03-31",
    "reference": "OVD-2026-0056"})])
class DeclarationWriteSerializer(serializers.Serializer):
    policy = _policy()
    customer = _customer()
    kind = serializers.ChoiceField(choices=DeclarationKind.choices)
    invoices = _invoices()
    notified_on = serializers.DateField(required=False)
    new_due_date = serializers.DateField(required=False, allow_null=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


# --- claims ------------------------------------------------------------------------------------

class ClaimLineSerializer(serializers.ModelSerializer):
    invoice = serializers.IntegerField(source="invoice_id", read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    outstanding = AmountField(read_only=True)
    covered_amount = AmountField(read_only=True)

    class Meta:
        model = ClaimInvoice
        fields = ("invoice", "invoice_number", "outstanding", "covered_amount", "currency")
        read_only_fields = fields


class ClaimRecoverySerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True)
    insurer_share = AmountField(read_only=True)
    policyholder_share = AmountField(read_only=True)

    class Meta:
        model = ClaimRecovery
        fields = ("received_on", "amount", "insurer_share", "policyholder_share", "currency", "note")
        read_only_fields = fields


class IndemnityStepSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    amount = serializers.CharField()
    note = serializers.CharField()


@extend_schema_serializer(examples=[OpenApiExample("Paid claim with a recovery", response_only=True, value={
    "id": 4, "policy": 1, "customer": 9, "status": "paid", "currency": "CNY",
    "invoices": [{"invoice": 55, "invoice_number": "INV-2026-0055", "outstanding": "20000.0000",
                  "covered_amount": "20000.0000", "currency": "CNY"}],
    "filed_on": "2026-03-31", "decided_on": "2026-03-31", "paid_on": "2026-03-31", "outstanding": "20000.0000",
    "covered_loss": "20000.0000", "recoveries": "0.0000", "expected_indemnity": "17000.0000",
    "computation": _COMPUTATION, "accepted_amount": "17000.0000", "paid_amount": "17000.0000",
    "rejection_reason": "", "payment": 254, "reference": "",
    "recovery_rows": [{"received_on": "2026-03-31", "amount": "2000.0000", "insurer_share": "1800.0000",
                       "policyholder_share": "200.0000", "currency": "CNY", "note": "Dividend from the liquidator"}],
    "created_at": "2026-03-31T04:00:00Z", "updated_at": "2026-03-31T04:00:00Z"})])
class ClaimSerializer(serializers.ModelSerializer):
    policy = serializers.IntegerField(source="policy_id", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    invoices = ClaimLineSerializer(source="lines", many=True, read_only=True)
    outstanding = AmountField(read_only=True)
    covered_loss = AmountField(read_only=True)
    recoveries = AmountField(read_only=True)
    expected_indemnity = AmountField(read_only=True)
    computation = IndemnityStepSerializer(many=True, read_only=True)
    accepted_amount = AmountField(read_only=True, allow_null=True)
    paid_amount = AmountField(read_only=True, allow_null=True)
    recovery_rows = ClaimRecoverySerializer(many=True, read_only=True)

    class Meta:
        model = Claim
        fields = ("id", "policy", "customer", "status", "currency", "invoices", "filed_on", "decided_on", "paid_on",
                  "outstanding", "covered_loss", "recoveries", "expected_indemnity", "computation",
                  "accepted_amount", "paid_amount", "rejection_reason", "payment", "reference", "recovery_rows",
                  "created_at", "updated_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Claim an invoice and file it", request_only=True, value={
    "policy": 1, "customer": 9, "invoices": [51], "recoveries": "0.00", "filed_on": "2026-03-31"})])
class ClaimWriteSerializer(serializers.Serializer):
    policy = _policy()
    customer = _customer()
    invoices = _invoices()
    recoveries = AmountField(required=False)
    filed_on = serializers.DateField(required=False, allow_null=True,
                                     help_text=_("Give it to file the claim at once; absent: a draft."))


@extend_schema_serializer(examples=[OpenApiExample("File today", request_only=True,
                                                   value={"filed_on": "2026-03-31"})])
class ClaimFileSerializer(serializers.Serializer):
    filed_on = serializers.DateField(required=False)


@extend_schema_serializer(examples=[OpenApiExample("Accepted", request_only=True, value={
    "accepted": True, "amount": "17000.00", "decided_on": "2026-03-31"})])
class ClaimDecideSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    amount = AmountField(required=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    decided_on = serializers.DateField(required=False)


@extend_schema_serializer(examples=[OpenApiExample("Indemnity received", request_only=True, value={
    "amount": "17000.00", "paid_on": "2026-03-31", "write_off_rest": True})])
class ClaimPaySerializer(serializers.Serializer):
    amount = AmountField(min_value=None)
    paid_on = serializers.DateField(required=False)
    write_off_rest = serializers.BooleanField(required=False, default=False)


@extend_schema_serializer(examples=[OpenApiExample("Liquidator's dividend", request_only=True, value={
    "amount": "2000.00", "received_on": "2026-03-31", "note": "Dividend from the liquidator"})])
class ClaimRecoveryWriteSerializer(serializers.Serializer):
    amount = AmountField()
    received_on = serializers.DateField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


CLAIM_STATUSES = ClaimStatus.choices
