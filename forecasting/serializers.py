"""Forecasting API shapes: the cash forecast, its drill-down and accuracy, the provision matrix and
its movement, predictions. Amounts are decimal strings in the organization's base currency."""

from __future__ import annotations

from rest_framework import serializers

from receivables.serializers import currency_field


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


def ratio(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=6, **kwargs)


class ForecastQuerySerializer(serializers.Serializer):
    weeks = serializers.IntegerField(min_value=1, max_value=13, default=13)
    as_of = serializers.DateField(required=False, help_text="Default: today in the organization's time zone.")


class ForecastSourcesSerializer(serializers.Serializer):
    invoices = money(help_text="Open invoices at their predicted dates (expected value).")
    promises = money(help_text="Promised amounts on their promised dates.")
    plans = money(help_text="Payment-plan instalments still to pay.")
    factoring = money(help_text="Factoring advances, reserve releases and repurchases (signed).")
    insurance = money(help_text="Expected indemnities.")


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


class CashForecastSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = currency_field()
    week_start_day = serializers.IntegerField(help_text="0 = Monday ... 6 = Sunday.")
    weeks = ForecastWeekSerializer(many=True)
    later = money(help_text="Expected after the last week.")
    disputed_held_back = money(help_text="Disputed amounts left out (or the haircut on them).")
    open_balance = money()
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


class ProvisionSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = currency_field()
    method = serializers.CharField()
    history_from = serializers.DateField()
    history_to = serializers.DateField()
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


class MovementSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    currency = currency_field()
    opening = money()
    charge = money()
    used = money()
    closing = money()


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
