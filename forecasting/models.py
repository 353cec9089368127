"""Forecasting: the payment-date models (stored with their training window, features and metrics),
each open invoice's predicted payment date, the weekly cash-forecast snapshots, and the expected
credit loss inputs a person sets (overlays per aging bucket, individually assessed customers).
Amounts are in the organization's base currency."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from receivables.models import Customer, Invoice
from tenancy.distribution import TenantForeignKey, TenantOneToOneField
from tenancy.models import Organization


class DisputedMode(models.TextChoices):
    EXCLUDE = "exclude", _("Leave disputed amounts out")
    HAIRCUT = "haircut", _("Count disputed amounts less a haircut")


class ForecastSettings(models.Model):
    """An organization's forecasting choices."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True, related_name="+")
    week_start = models.PositiveSmallIntegerField(_("weeks start on (0 = Monday)"), default=0)
    disputed_mode = models.CharField(_("disputed amounts"), max_length=10, choices=DisputedMode.choices,
                                     default=DisputedMode.EXCLUDE)
    dispute_haircut_percent = models.PositiveSmallIntegerField(_("haircut on disputed amounts (%)"), default=50)
    min_history = models.PositiveIntegerField(_("settled invoices needed to train a model"), default=200)
    individual_default_rate = models.DecimalField(_("loss rate of blacklisted customers without an assessment"),
                                                  max_digits=7, decimal_places=6, default=1)
    # The history window the provision's loss rates come from; empty: the rolling default (the twelve
    # months of invoices whose outcome is known: issued 395 to 759 days before the date).
    history_from = models.DateField(_("loss-rate history from (issue date)"), null=True, blank=True)
    history_to = models.DateField(_("loss-rate history to (issue date)"), null=True, blank=True)
    include_new_sales = models.BooleanField(
        _("include new sales at the recent run rate"), default=False,
        help_text=_("Invoices not yet issued: the last 13 weeks' average, collected on the organization's curve."))

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(week_start__lte=6), name="forecast_settings_week_start_valid"),
            models.CheckConstraint(condition=Q(dispute_haircut_percent__lte=100), name="forecast_settings_haircut_valid"),
            models.CheckConstraint(condition=Q(individual_default_rate__gte=0, individual_default_rate__lte=1),
                                   name="forecast_settings_individual_rate_valid"),
            models.CheckConstraint(condition=Q(history_from__isnull=True, history_to__isnull=True)
                                   | Q(history_from__lte=F("history_to")),
                                   name="forecast_settings_history_window_valid"),
        ]

    def __str__(self) -> str:
        return f"forecast settings of {self.organization_id}"


class ModelMethod(models.TextChoices):
    MODEL = "model", _("Gradient-boosted model")
    BASELINE = "baseline", _("Baseline (due date + the customer's median delay)")


class PaymentModel(models.Model):
    """One training run: the fitted estimators (or none: the baseline), what they were trained on and how well
    they did on the invoices held out."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    method = models.CharField(max_length=10, choices=ModelMethod.choices)
    trained_at = models.DateTimeField()
    train_from = models.DateField(null=True, blank=True)  # first and last settlement date trained on
    train_to = models.DateField(null=True, blank=True)
    train_count = models.PositiveIntegerField(default=0)
    features = models.JSONField(default=list)
    metrics = models.JSONField(default=dict)
    note = models.CharField(max_length=300, blank=True)
    library_version = models.CharField(max_length=40, blank=True)
    artifact = models.BinaryField(null=True, blank=True)  # the fitted estimators (pickle), made by this app only

    class Meta:
        ordering = ["organization", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="payment_model_version_unique"),
            models.CheckConstraint(condition=Q(method__in=ModelMethod.values), name="payment_model_method_valid"),
            models.CheckConstraint(condition=Q(method=ModelMethod.BASELINE) | Q(artifact__isnull=False),
                                   name="payment_model_has_artifact"),
        ]

    def __str__(self) -> str:
        return f"payment model v{self.version} ({self.method})"


class InvoicePrediction(models.Model):
    """An open invoice's predicted payment date (P10/P50/P90), probability of paying late and reasons."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    invoice = TenantOneToOneField(Invoice, on_delete=models.CASCADE, related_name="+")
    payment_model = TenantForeignKey(PaymentModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=10, choices=ModelMethod.choices)
    p10_date = models.DateField()
    expected_date = models.DateField()
    p90_date = models.DateField()
    baseline_date = models.DateField()
    probability_late = models.DecimalField(max_digits=5, decimal_places=4)
    reasons = models.JSONField(default=list)
    predicted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(p10_date__lte=models.F("expected_date"))
                                   & Q(expected_date__lte=models.F("p90_date")), name="prediction_dates_ordered"),
            models.CheckConstraint(condition=Q(probability_late__gte=0, probability_late__lte=1),
                                   name="prediction_probability_valid"),
        ]
        indexes = [models.Index(fields=["organization", "expected_date"], name="prediction_org_date_idx")]

    def __str__(self) -> str:
        return f"invoice {self.invoice_id} expected {self.expected_date}"


class InvoiceDisputeFlag(models.Model):
    """A dispute on record from an imported ledger (e.g. the IBM file's `Disputed` column), beside the
    disputes dunning records as they happen."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    invoice = TenantOneToOneField(Invoice, on_delete=models.CASCADE, related_name="+")
    disputed = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"invoice {self.invoice_id} disputed={self.disputed}"


class ForecastSnapshot(models.Model):
    """The 13-week forecast as it stood at the start of a week, kept to measure its accuracy later."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    as_of = models.DateField()  # the day it was made: the invoices issued by then are the ones it forecast
    created_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    weeks = models.JSONField(default=list)  # [{week_start, p10, p50, p90, baseline}] amounts as strings

    class Meta:
        ordering = ["organization", "-week_start"]
        constraints = [models.UniqueConstraint(fields=["organization", "week_start"], name="forecast_snapshot_unique")]

    def __str__(self) -> str:
        return f"forecast of week {self.week_start}"


class ProvisionOverlay(models.Model):
    """A forward-looking multiplier on one aging bucket's historical loss rate, from a date on."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    bucket_key = models.CharField(_("aging bucket"), max_length=20)
    multiplier = models.DecimalField(_("multiplier"), max_digits=8, decimal_places=4)
    reason = models.CharField(_("reason"), max_length=300)
    effective_from = models.DateField(_("effective from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "bucket_key", "-effective_from", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(multiplier__gte=0, multiplier__lte=100), name="overlay_multiplier_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="overlay_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.bucket_key} x{self.multiplier} from {self.effective_from}"


class IndividualAssessment(models.Model):
    """A customer provided for at its own loss rate (insolvent, blacklisted...), not by the matrix."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    # None: the customer goes back to the provision matrix from assessed_on.
    loss_rate = models.DecimalField(_("loss rate"), max_digits=7, decimal_places=6, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    assessed_on = models.DateField(_("assessed on"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "customer", "-assessed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(loss_rate__isnull=True) | Q(loss_rate__gte=0, loss_rate__lte=1),
                                   name="assessment_rate_valid"),
            models.CheckConstraint(condition=~Q(reason=""), name="assessment_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.loss_rate} from {self.assessed_on}"


class LossRateCalibration(models.Model):
    """The provision matrix's historical loss rates, calibrated on a date from a history window (the
    cohort method), as the daily task or a user computed them. A provision without an explicit window
    applies the latest calibration of the week before its date to the live aging."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    calibrated_on = models.DateField()
    history_from = models.DateField()
    history_to = models.DateField()
    segment = models.CharField(max_length=20, blank=True, default="")  # "": the whole book
    rates = models.JSONField()  # [{"key", "base", "loss"}] per bucket, base currency, decimal strings
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "segment", "calibrated_on"],
                                    name="loss_rate_calibration_unique_day"),
            models.CheckConstraint(condition=Q(history_from__lte=F("history_to")),
                                   name="loss_rate_calibration_window_valid"),
        ]

    def __str__(self) -> str:
        return f"loss rates of {self.organization_id} on {self.calibrated_on}"
