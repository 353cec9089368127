"""Forecasting API shapes: the cash forecast, its drill-down and accuracy, the provision matrix and
its movement, predictions. Amounts are decimal strings in the organization's base currency."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from receivables.serializers import currency_field


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


def ratio(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=6, **kwargs)


class ForecastQuerySerializer(serializers.Serializer):
    weeks = serializers.IntegerField(min_value=1, max_value=13, default=13)
    as_of = serializers.DateField(required=False, help_text="Default: today in the organization's time zone.")
    new_sales = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="Add sales not yet invoiced (the last 13 weeks' average, from next week, collected on the "
                  "organization's curve). Default: the organization's setting.")


class ForecastSourcesSerializer(serializers.Serializer):
    invoices = money(help_text="Open invoices at their predicted dates (expected value).")
    promises = money(help_text="Promised amounts on their promised dates.")
    plans = money(help_text="Payment-plan instalments still to pay.")
    factoring = money(help_text="Factoring advances, reserve releases and repurchases (signed).")
    insurance = money(help_text="Expected indemnities.")
    new_sales = money(help_text="Sales not yet invoiced, at the run rate on the collection curve (0.00 unless asked).")


class ForecastWeekSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    p10 = money()
    p50 = money()
    p90 = money()
    baseline = money(help_text="The baseline's forecast: due date + the customer's median delay.")
    collections = money(help_text="The customers' part of p50 (invoices, promises, plans).")
    sources = ForecastSourcesSerializer()


class ModelInfoSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    method = serializers.CharField()
    trained_at = serializers.DateTimeField()
    metrics = serializers.DictField()
    note = serializers.CharField()


@extend_schema_serializer(examples=[OpenApiExample("Two weeks (?weeks=2)", response_only=True, value={
    "as_of": "2026-03-04", "currency": "CNY", "week_start_day": 0,
    "weeks": [
        {"week_start": "2026-03-02", "p10": "61240.17", "p50": "84310.55", "p90": "107380.93", "baseline": "90500.00",
         "collections": "84310.55", "sources": {"invoices": "74310.55", "promises": "10000.00", "plans": "0.00",
                                                "factoring": "0.00", "insurance": "0.00", "new_sales": "0.00"}},
        {"week_start": "2026-03-09", "p10": "120004.80", "p50": "151220.40", "p90": "182436.00", "baseline": "140000.00",
         "collections": "151220.40", "sources": {"invoices": "148220.40", "promises": "0.00", "plans": "3000.00",
                                                 "factoring": "0.00", "insurance": "0.00", "new_sales": "0.00"}}],
    "later": "512340.12", "disputed_held_back": "8000.00", "open_balance": "755871.07", "new_sales_run_rate": None,
    "model": {"version": 3, "method": "model", "trained_at": "2026-03-01T02:00:00Z",
              "metrics": {"split_date": "2025-11-20", "train_count": 5120, "test_count": 1281, "model_mae": 4.53,
                          "baseline_mae": 6.21, "late_auc": 0.901, "improvement": 0.27},
              "note": ""}})])
class CashForecastSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = currency_field()
    week_start_day = serializers.IntegerField(help_text="0 = Monday ... 6 = Sunday.")
    weeks = ForecastWeekSerializer(many=True)
    later = money(help_text="Expected after the last week.")
    disputed_held_back = money(help_text="Disputed amounts left out (or the haircut on them).")
    open_balance = money()
    new_sales_run_rate = money(allow_null=True, help_text="A week's new sales when they are included; else null.")
    model = ModelInfoSerializer(allow_null=True)


class WeekLineSerializer(serializers.Serializer):
    invoice_id = serializers.IntegerField()
    number = serializers.CharField()
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    source = serializers.CharField()
    amount = money()
    p10_date = serializers.DateField()
    expected_date = serializers.DateField()
    p90_date = serializers.DateField()


@extend_schema_serializer(examples=[OpenApiExample("A week's invoices", response_only=True, value={
    "week_start": "2026-03-09", "currency": "CNY", "invoices": [
        {"invoice_id": 42, "number": "INV-2026-0031", "customer_id": 7, "customer_name": "上海华东贸易有限公司",
         "source": "invoices", "amount": "1130.00", "p10_date": "2026-03-10", "expected_date": "2026-03-12",
         "p90_date": "2026-03-13"}]})])
class ForecastWeekDetailSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    currency = currency_field()
    invoices = WeekLineSerializer(many=True)


class HorizonSerializer(serializers.Serializer):
    horizon = serializers.IntegerField(help_text="Weeks ahead: 1 = the snapshot's own week.")
    weeks = serializers.IntegerField(help_text="Weeks measured at this horizon.")
    actual = money()
    forecast = money()
    baseline = money()
    wape = ratio(allow_null=True)
    bias = ratio(allow_null=True, help_text="(forecast - actual) / actual: + means forecast too high.")
    baseline_wape = ratio(allow_null=True)
    baseline_bias = ratio(allow_null=True)


@extend_schema_serializer(examples=[OpenApiExample("After a few weeks", response_only=True, value={
    "as_of": "2026-03-31", "currency": "CNY", "snapshots": 4, "horizons": [
        {"horizon": 1, "weeks": 3, "actual": "402311.20", "forecast": "389004.15", "baseline": "351200.00",
         "wape": "0.081200", "bias": "-0.033100", "baseline_wape": "0.162300", "baseline_bias": "-0.127000"},
        {"horizon": 13, "weeks": 0, "actual": "0.00", "forecast": "0.00", "baseline": "0.00", "wape": None, "bias": None,
         "baseline_wape": None, "baseline_bias": None}]})])
class AccuracySerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = currency_field()
    snapshots = serializers.IntegerField()
    horizons = HorizonSerializer(many=True)


class ProvisionQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Default: today in the organization's time zone.")
    history_from = serializers.DateField(required=False, help_text="First issue date of the history cohort.")
    history_to = serializers.DateField(required=False, help_text="Last issue date of the history cohort.")
    segment = serializers.CharField(required=False, help_text="Only this customer segment (rates and book).")

    def validate(self, attrs):
        if ("history_from" in attrs) != ("history_to" in attrs):
            raise serializers.ValidationError({"history_to": "Give both history_from and history_to, or neither."})
        if "history_from" in attrs and attrs["history_from"] > attrs["history_to"]:
            raise serializers.ValidationError({"history_to": "history_to is before history_from."})
        return attrs


class ProvisionBucketSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    balance = money()
    balance_net = money(help_text="Balance less the insured part (covered x insured %).")
    loss_rate = ratio(help_text="Historical rate x overlay, rounded for display (the ECL uses the exact rate).")
    historical_rate = ratio()
    multiplier = serializers.DecimalField(max_digits=8, decimal_places=4)
    overlay_reason = serializers.CharField()
    cohort_base = money()
    cohort_loss = money()
    ecl = money()
    ecl_net = money()


class IndividualLineSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    balance = money()
    balance_net = money()
    loss_rate = ratio()
    reason = serializers.CharField()
    ecl = money()
    ecl_net = money()


def _bucket_example(key: str, label: str, balance: str, base: str, rate: str, ecl: str) -> dict:
    return {"key": key, "label": label, "balance": balance, "balance_net": balance, "loss_rate": rate,
            "historical_rate": rate, "multiplier": "1.0000", "overlay_reason": "", "cohort_base": base,
            "cohort_loss": "11000.00", "ecl": ecl, "ecl_net": ecl}


@extend_schema_serializer(examples=[OpenApiExample("The README's worked example", response_only=True, value={
    "as_of": "2026-06-30", "currency": "CNY", "method": "cohort", "history_from": "2025-01-01",
    "history_to": "2025-03-31", "calibrated_on": None, "segment": None, "buckets": [
        _bucket_example("current", "Current", "200000.00", "100000.00", "0.110000", "22000.00"),
        _bucket_example("d1_30", "1-30", "50000.00", "50000.00", "0.220000", "11000.00"),
        _bucket_example("d31_60", "31-60", "20000.00", "22000.00", "0.500000", "10000.00"),
        _bucket_example("d61_90", "61-90", "7777.77", "12000.00", "0.916667", "7129.62"),
        _bucket_example("d90_plus", "90+", "3000.00", "11000.00", "1.000000", "3000.00")],
    "individual": [], "total_balance": "280777.77", "ecl_gross": "53129.62", "ecl_net": "53129.62",
    "coverage": "0.189223"})])
class ProvisionSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = currency_field()
    method = serializers.CharField()
    history_from = serializers.DateField()
    history_to = serializers.DateField()
    calibrated_on = serializers.DateField(
        allow_null=True, help_text="The date the loss rates were calibrated (the daily task; applied for up to 7 "
                                   "days when no window is given); null: computed live for this request.")
    segment = serializers.CharField(allow_null=True)
    buckets = ProvisionBucketSerializer(many=True)
    individual = IndividualLineSerializer(many=True)
    total_balance = money()
    ecl_gross = money()
    ecl_net = money()
    coverage = ratio(help_text="ecl_gross / total_balance.")


class MovementQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()

    def validate(self, attrs):
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": "date_to is before date_from."})
        return attrs


@extend_schema_serializer(examples=[OpenApiExample("July", response_only=True, value={
    "date_from": "2026-06-30", "date_to": "2026-07-31", "currency": "CNY", "opening": "53129.62",
    "charge": "4210.15", "used": "3000.00", "closing": "54339.77"})])
class MovementSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    currency = currency_field()
    opening = money()
    charge = money()
    used = money()
    closing = money()


@extend_schema_serializer(examples=[OpenApiExample("An invoice likely to be late", response_only=True, value={
    "invoice_id": 42, "method": "model", "p10_date": "2026-04-02", "expected_date": "2026-04-09",
    "p90_date": "2026-04-24", "baseline_date": "2026-04-06", "probability_late": "0.7312",
    "reasons": ["The customer's median delay is 9 days: 6.5 days later", "The invoice is disputed: 4 days later"],
    "model_version": 3})])
class PredictionSerializer(serializers.Serializer):
    invoice_id = serializers.IntegerField()
    method = serializers.CharField()
    p10_date = serializers.DateField()
    expected_date = serializers.DateField()
    p90_date = serializers.DateField()
    baseline_date = serializers.DateField()
    probability_late = serializers.DecimalField(max_digits=5, decimal_places=4)
    reasons = serializers.ListField(child=serializers.CharField())
    model_version = serializers.IntegerField(allow_null=True)
