"""API representations of credit files, financials, signals, limit requests, scores and alerts,
and the input each write endpoint accepts.

Thin by rule: fields and shapes only; every rule stays in credit.services. A field that points
at a customer is scoped to the request's organization, so another organization's id is
"does not exist" (400), never a leak. Amounts are in the organization's base currency."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from receivables.models import Customer
from receivables.serializers import AmountField, ScopedPrimaryKeyRelatedField
from tenancy.models import Role

from .models import (
    AlertKind,
    CreditAlert,
    CreditProfile,
    CreditScore,
    ExternalSignal,
    FinancialStatement,
    LimitApprovalStep,
    LimitRequest,
    LimitRequestStatus,
    Ownership,
    Severity,
    SignalKind,
    StepDecision,
)

# The latest score of the examples' customer (C-1001, id 7), as a summary.
SCORE_SUMMARY_EXAMPLE = {"id": 88, "score": "72.7", "grade": "B", "provisional": False, "as_of": "2026-03-31"}

SIGNED = {"min_value": None}  # figures that can be negative (losses, negative equity)
SCORE_DIGITS = {"max_digits": 4, "decimal_places": 1}


def _customer_field(**kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(Customer, help_text=_("The customer's id."), **kwargs)


# --- scores ----------------------------------------------------------------------------------


class ScoreSummarySerializer(serializers.ModelSerializer):
    score = serializers.DecimalField(**SCORE_DIGITS, read_only=True)

    class Meta:
        model = CreditScore
        fields = ("id", "score", "grade", "provisional", "as_of")
        read_only_fields = fields


class FactorSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("The factor, e.g. payment_days_late or financial_strength."))
    value = serializers.CharField(help_text=_("What was measured, for display; \"no data\" when missing."))
    points = serializers.DecimalField(**SCORE_DIGITS)
    max_points = serializers.IntegerField(help_text=_("The factor's weight."))
    missing = serializers.BooleanField(help_text=_("No data: the factor scored half its weight."))


@extend_schema_serializer(examples=[OpenApiExample("Grade B, all factors known", response_only=True, value={
    "id": 88, "customer": 7, "as_of": "2026-03-31", "created_at": "2026-03-31T04:00:00Z", "score": "70.5",
    "score_low": "70.5", "score_high": "70.5", "grade": "B", "provisional": False,
    "factors": [
        {"key": "payment_days_late", "value": "6.2 d", "points": "13.4", "max_points": 15, "missing": False},
        {"key": "payment_on_time", "value": "78.0%", "points": "7.8", "max_points": 10, "missing": False},
        {"key": "payment_worst_delay", "value": "34 d", "points": "3.6", "max_points": 5, "missing": False},
        {"key": "payment_trend", "value": "-1.5 d", "points": "4.1", "max_points": 5, "missing": False},
        {"key": "financial_strength", "value": "Z'' 3.58 (safe, 2025)", "points": "21.9", "max_points": 25,
         "missing": False},
        {"key": "exposure", "value": "95.0%", "points": "5.4", "max_points": 15, "missing": False},
        {"key": "company_age", "value": "22 y", "points": "7.0", "max_points": 7, "missing": False},
        {"key": "company_size", "value": "7.0 M USD", "points": "2.3", "max_points": 8, "missing": False},
        {"key": "external_signals", "value": "1", "points": "5.0", "max_points": 10, "missing": False}],
    "inputs": {
        "as_of": "2026-03-31",
        "payment": {"invoices": 24, "avg_days_late": "6.2", "on_time_share": "0.78", "worst_delay": 34,
                    "trend": "-1.5"},
        "financials": {"year": 2025, "model": "z2", "revenue": "50000000.0000", "ebit": "4000000.0000",
                       "working_capital": "8000000.0000", "retained_earnings": "9000000.0000",
                       "total_assets": "40000000.0000", "total_liabilities": "22000000.0000",
                       "equity": "18000000.0000", "market_value_equity": None, "reference_currency": "USD",
                       "revenue_reference": "7042253.52"},
        "exposure": "475000.00", "limit": "500000.0000", "founding_year": 2004,
        "signals": [{"kind": "litigation", "severity": "high", "observed_on": "2026-03-18"}]},
    "weights": {"payment_days_late": 15, "payment_on_time": 10, "payment_worst_delay": 5, "payment_trend": 5,
                "financial_strength": 25, "exposure": 15, "company_age": 7, "company_size": 8,
                "external_signals": 10},
    "bands": {"A": 80, "B": 65, "C": 50, "D": 35},
    "model_version": "2026.2", "recommended_limit": "500000.0000", "recommended_terms_days": 30,
    "recommended_conditions": "Open account; monthly exposure check.", "cover_in_force": "400000.0000"})])
class CreditScoreSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    score = serializers.DecimalField(**SCORE_DIGITS, read_only=True)
    score_low = serializers.DecimalField(**SCORE_DIGITS, read_only=True,
                                         help_text=_("Lowest score the missing factors allow."))
    score_high = serializers.DecimalField(**SCORE_DIGITS, read_only=True)
    factors = FactorSerializer(many=True, read_only=True)
    inputs = serializers.DictField(read_only=True, help_text=_("Everything the score was computed from."))
    weights = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    bands = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    recommended_limit = AmountField(read_only=True)
    cover_in_force = AmountField(read_only=True, allow_null=True,
                                 help_text=_("The customer's insurance cover in force on the as-of date (base "
                                             "currency); null when no insurance is set up. With the policy's "
                                             "insured hold on, the recommended limit is at most this cover plus "
                                             "the uninsured appetite."))

    class Meta:
        model = CreditScore
        fields = ("id", "customer", "as_of", "created_at", "score", "score_low", "score_high", "grade", "provisional",
                  "factors", "inputs", "weights", "bands", "model_version", "recommended_limit",
                  "recommended_terms_days", "recommended_conditions", "cover_in_force")
        read_only_fields = fields


# --- credit files ----------------------------------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample("Chinese customer's credit file", response_only=True, value={
    "id": 3, "customer": 7, "customer_name": "上海华东贸易有限公司", "uscc": "91440300708461136T", "registry_id": "",
    "founding_year": 2004, "industry": "Wholesale of textiles", "country": "CN", "ownership": "private",
    "is_manufacturer": False, "credit_limit": "500000.0000", "payment_terms_days": 30, "conditions": "",
    "blacklisted": False, "blacklist_reason": "", "blacklisted_on": None, "next_review_on": "2026-06-30",
    "latest_score": SCORE_SUMMARY_EXAMPLE, "updated_at": "2026-03-31T04:00:00Z"})])
class CreditProfileSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    ownership = serializers.ChoiceField(choices=Ownership.choices, read_only=True)
    credit_limit = AmountField(read_only=True, allow_null=True)
    latest_score = ScoreSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = CreditProfile
        fields = ("id", "customer", "customer_name", "uscc", "registry_id", "founding_year", "industry", "country",
                  "ownership", "is_manufacturer", "credit_limit", "payment_terms_days", "conditions", "blacklisted",
                  "blacklist_reason", "blacklisted_on", "next_review_on", "latest_score", "updated_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample(
    "Correct the registry data", request_only=True,
    value={"industry": "Electronic components", "founding_year": 1998, "ownership": "foreign",
           "is_manufacturer": True})])
class CreditProfileWriteSerializer(serializers.Serializer):
    uscc = serializers.CharField(max_length=20, required=False, allow_blank=True,
                                 help_text=_("Chinese unified social credit code (18 characters, checked)."))
    registry_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    founding_year = serializers.IntegerField(min_value=1800, max_value=9999, required=False, allow_null=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.RegexField(r"^[A-Z]{2}$", required=False, allow_blank=True,
                                     help_text=_("ISO 3166 alpha-2, upper case."))
    ownership = serializers.ChoiceField(choices=Ownership.choices, required=False)
    is_manufacturer = serializers.BooleanField(required=False)


@extend_schema_serializer(examples=[OpenApiExample(
    "Credit file", request_only=True,
    value={"customer": 42, "uscc": "91440300708461136T", "founding_year": 1998, "industry": "Electronics",
           "ownership": "private", "is_manufacturer": True})])
class CreditProfileCreateSerializer(CreditProfileWriteSerializer):
    customer = _customer_field()


@extend_schema_serializer(examples=[OpenApiExample(
    "Blacklist", request_only=True,
    value={"blacklisted": True, "reason": "Winding-up petition filed at the Shanghai court, March 2026."})])
class BlacklistSerializer(serializers.Serializer):
    blacklisted = serializers.BooleanField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                   help_text=_("Required when blacklisting."))


# --- financial statements --------------------------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample("2025 accounts", response_only=True, value={
    "id": 4, "customer": 7, "year": 2025, "revenue": "50000000.0000", "ebit": "4000000.0000",
    "net_income": "3000000.0000", "current_assets": "20000000.0000", "current_liabilities": "12000000.0000",
    "total_assets": "40000000.0000", "total_liabilities": "22000000.0000", "retained_earnings": "9000000.0000",
    "equity": "18000000.0000", "working_capital": "8000000.0000", "market_value_equity": None,
    "created_at": "2026-03-18T07:20:00Z"})])
class FinancialStatementSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="profile.customer_id", read_only=True)
    revenue = AmountField(read_only=True)
    ebit = AmountField(read_only=True, **SIGNED)
    net_income = AmountField(read_only=True, **SIGNED)
    current_assets = AmountField(read_only=True)
    current_liabilities = AmountField(read_only=True)
    total_assets = AmountField(read_only=True)
    total_liabilities = AmountField(read_only=True)
    retained_earnings = AmountField(read_only=True, **SIGNED)
    equity = AmountField(read_only=True, **SIGNED)
    working_capital = AmountField(read_only=True, **SIGNED)
    market_value_equity = AmountField(read_only=True, allow_null=True)

    class Meta:
        model = FinancialStatement
        fields = ("id", "customer", "year", "revenue", "ebit", "net_income", "current_assets", "current_liabilities",
                  "total_assets", "total_liabilities", "retained_earnings", "equity", "working_capital",
                  "market_value_equity", "created_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample(
    "2025 accounts", request_only=True,
    value={"customer": 42, "year": 2025, "revenue": "50000000", "ebit": "4000000", "net_income": "3000000",
           "current_assets": "20000000", "current_liabilities": "12000000", "total_assets": "40000000",
           "total_liabilities": "22000000", "retained_earnings": "9000000", "equity": "18000000"})])
class FinancialStatementWriteSerializer(serializers.Serializer):
    customer = _customer_field()
    year = serializers.IntegerField(min_value=1900, max_value=2100)
    revenue = AmountField()
    ebit = AmountField(**SIGNED)
    net_income = AmountField(**SIGNED)
    current_assets = AmountField()
    current_liabilities = AmountField()
    total_assets = AmountField(help_text=_("More than zero."))
    total_liabilities = AmountField()
    retained_earnings = AmountField(**SIGNED)
    equity = AmountField(**SIGNED, help_text=_("Book value of equity."))
    working_capital = AmountField(**SIGNED, required=False, allow_null=True,
                                  help_text=_("Default: current assets - current liabilities."))
    market_value_equity = AmountField(required=False, allow_null=True,
                                      help_text=_("Listed companies: market capitalisation (Altman Z)."))


# --- external signals ------------------------------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample("Lawsuit by a supplier", response_only=True, value={
    "id": 15, "customer": 7, "kind": "litigation", "severity": "high", "observed_on": "2026-03-18",
    "description": "Sued by a supplier for 2.4 million CNY unpaid (civil case, Shanghai court).", "source": "api",
    "created_at": "2026-03-18T07:25:00Z"})])
class ExternalSignalSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="profile.customer_id", read_only=True)
    kind = serializers.ChoiceField(choices=SignalKind.choices, read_only=True)
    severity = serializers.ChoiceField(choices=Severity.choices, read_only=True)

    class Meta:
        model = ExternalSignal
        fields = ("id", "customer", "kind", "severity", "observed_on", "description", "source", "created_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample(
    "Lawsuit by a supplier", request_only=True,
    value={"customer": 42, "kind": "litigation", "severity": "high", "observed_on": "2026-03-18",
           "description": "Sued by a supplier for 2.4 million CNY unpaid (civil case, Shanghai court)."})])
class ExternalSignalWriteSerializer(serializers.Serializer):
    customer = _customer_field()
    kind = serializers.ChoiceField(choices=SignalKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, default=Severity.MEDIUM)
    observed_on = serializers.DateField()
    description = serializers.CharField(max_length=500)


# --- limit requests --------------------------------------------------------------------------


class ApprovalStepSerializer(serializers.ModelSerializer):
    level = serializers.ChoiceField(choices=Role.choices, read_only=True)
    decision = serializers.ChoiceField(choices=StepDecision.choices, read_only=True)
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True, default=None)
    score_snapshot = serializers.DictField(read_only=True, allow_null=True,
                                           help_text=_("The score the decision was taken on."))

    class Meta:
        model = LimitApprovalStep
        fields = ("level", "decision", "actor", "comment", "score_snapshot", "created_at")
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("Waiting for the admin", response_only=True, value={
    "id": 9, "customer": 7, "requested_limit": "800000.0000", "requested_terms_days": 60,
    "previous_limit": "500000.0000", "reason": "Annual contract renewed, volume up 40%.", "status": "pending",
    "levels_required": ["credit_manager", "admin"], "next_level": "admin",
    "steps": [{"level": "credit_manager", "decision": "approved", "actor": "li.na",
               "comment": "Two years without a late payment; 2025 accounts reviewed.",
               "score_snapshot": {"score_id": 88, "score": "72.7", "grade": "B", "provisional": False,
                                  "as_of": "2026-03-31"},
               "created_at": "2026-03-31T06:12:00Z"}],
    "score": SCORE_SUMMARY_EXAMPLE, "rejection_reason": "", "created_at": "2026-03-31T04:00:00Z",
    "decided_at": None})])
class LimitRequestSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    requested_limit = AmountField(read_only=True)
    previous_limit = AmountField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=LimitRequestStatus.choices, read_only=True)
    levels_required = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), read_only=True,
                                            help_text=_("Who must approve, in order."))
    next_level = serializers.SerializerMethodField(help_text=_("The level that decides next; null once decided."))
    steps = ApprovalStepSerializer(many=True, read_only=True)
    score = ScoreSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = LimitRequest
        fields = ("id", "customer", "requested_limit", "requested_terms_days", "previous_limit", "reason", "status",
                  "levels_required", "next_level", "steps", "score", "rejection_reason", "created_at", "decided_at")
        read_only_fields = fields

    def get_next_level(self, obj: LimitRequest) -> str | None:
        return obj.next_level


@extend_schema_serializer(examples=[OpenApiExample(
    "Raise the limit", request_only=True,
    value={"customer": 42, "requested_limit": "800000.00", "requested_terms_days": 60,
           "reason": "Annual contract renewed, volume up 40%."})])
class LimitRequestWriteSerializer(serializers.Serializer):
    customer = _customer_field()
    requested_limit = AmountField(help_text=_("In the organization's base currency."))
    requested_terms_days = serializers.IntegerField(min_value=0, max_value=365)
    reason = serializers.CharField(max_length=500)


@extend_schema_serializer(examples=[OpenApiExample(
    "Approve", request_only=True,
    value={"comment": "Two years without a late payment; 2025 accounts reviewed."})])
class LimitApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


@extend_schema_serializer(examples=[OpenApiExample(
    "Reject", request_only=True,
    value={"reason": "Invoices 60+ days overdue; revisit after the backlog is paid."})])
class LimitRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


# --- alerts ----------------------------------------------------------------------------------


@extend_schema_serializer(examples=[OpenApiExample("New external signal", response_only=True, value={
    "id": 21, "customer": 7, "customer_name": "上海华东贸易有限公司", "kind": "new_signal",
    "message": "New high external signal for 上海华东贸易有限公司: litigation, Sued by a supplier for 2.4 million CNY "
               "unpaid (civil case, Shanghai court).",
    "data": {"kind": "litigation", "severity": "high", "signal_id": 15}, "created_at": "2026-03-18T07:25:00Z",
    "digested_at": None})])
class CreditAlertSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    kind = serializers.ChoiceField(choices=AlertKind.choices, read_only=True)
    data = serializers.DictField(read_only=True)

    class Meta:
        model = CreditAlert
        fields = ("id", "customer", "customer_name", "kind", "message", "data", "created_at", "digested_at")
        read_only_fields = fields
