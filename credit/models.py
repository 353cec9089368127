"""Credit management: per-organization policy, per-customer credit file and limit, financial
statements, external signals, documents, scores (with their inputs), limit requests and their
approval steps, reviews and alerts. Limits and exposures are in the organization's base currency."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from receivables.models import AmountField, Customer
from tenancy.distribution import TenantForeignKey, TenantOneToOneField
from tenancy.models import Organization, Role
from tenancy.money import currency_choices

from .scoring import DEFAULT_BANDS, DEFAULT_PROVISIONAL_MISSING_WEIGHT, DEFAULT_WEIGHTS


def default_weights() -> dict[str, int]:
    return dict(DEFAULT_WEIGHTS)


def default_bands() -> dict[str, int]:
    return dict(DEFAULT_BANDS)


def default_grade_policy() -> dict[str, dict]:
    """Grade -> recommended limit (base currency), payment terms and conditions."""
    return {
        "A": {"limit": "5000000", "terms_days": 90, "conditions": "Open account."},
        "B": {"limit": "2000000", "terms_days": 60, "conditions": "Open account."},
        "C": {"limit": "500000", "terms_days": 30, "conditions": "Open account; monthly exposure check."},
        "D": {"limit": "100000", "terms_days": 15, "conditions": "Partial prepayment or letter of credit."},
        "E": {"limit": "0", "terms_days": 0, "conditions": "Prepayment or bank guarantee required."},
    }


class HoldMode(models.TextChoices):
    REFUSE = "refuse", _("Refuse new invoices")
    WARN = "warn", _("Warn and allow")
    OFF = "off", _("Do not check")


class CreditPolicy(models.Model):
    """An organization's scoring weights, grade bands, grade policy table, hold and approval rules."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True, related_name="+")
    weights = models.JSONField(_("factor weights"), default=default_weights)
    bands = models.JSONField(_("grade bands"), default=default_bands)
    grade_policy = models.JSONField(_("grade policy"), default=default_grade_policy)
    provisional_missing_weight = models.PositiveSmallIntegerField(default=DEFAULT_PROVISIONAL_MISSING_WEIGHT)
    min_paid_invoices = models.PositiveSmallIntegerField(_("paid invoices needed to judge payment behaviour"), default=3)
    hold_mode = models.CharField(_("credit hold"), max_length=10, choices=HoldMode.choices, default=HoldMode.REFUSE)
    hold_overdue_days = models.PositiveSmallIntegerField(_("hold when an invoice is overdue more than (days)"), default=60)
    # Limits up to this amount are approved by a credit manager; above it an admin approves too.
    manager_approval_limit = AmountField(_("credit manager approves limits up to"), default=1_000_000)
    review_interval_months = models.PositiveSmallIntegerField(_("review every (months)"), default=3)
    # The weakest grades are reviewed more often (monthly by default).
    weak_grades_review_months = models.PositiveSmallIntegerField(_("review grades D and E every (months)"), default=1)
    # Disputed invoices and invoices under an agreed payment plan are not "overdue" for the hold unless asked.
    hold_counts_disputed = models.BooleanField(_("credit hold counts disputed invoices as overdue"), default=False)
    hold_counts_payment_plans = models.BooleanField(
        _("credit hold counts invoices under a payment plan as overdue"), default=False)
    # The company-size scale (revenue 1 million to 1 billion) is read in this currency, through FX.
    size_reference_currency = models.CharField(_("company size measured in"), max_length=3,
                                               choices=currency_choices, default="USD")
    concentration_percent = models.PositiveSmallIntegerField(_("concentration alert above (percent of AR)"), default=20)
    # Never invoice a customer beyond its insurance cover in force plus this uninsured appetite (base currency).
    insured_hold = models.BooleanField(_("credit hold at insurance cover plus uninsured appetite"), default=False)
    uninsured_appetite = AmountField(_("uninsured appetite per customer"), default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(hold_mode__in=HoldMode.values), name="credit_policy_hold_mode_valid"),
            models.CheckConstraint(condition=Q(review_interval_months__gte=1, review_interval_months__lte=24),
                                   name="credit_policy_review_interval_sane"),
            models.CheckConstraint(condition=Q(weak_grades_review_months__gte=1, weak_grades_review_months__lte=24),
                                   name="credit_policy_weak_review_interval_sane"),
            models.CheckConstraint(condition=Q(concentration_percent__gte=1, concentration_percent__lte=100),
                                   name="credit_policy_concentration_sane"),
            models.CheckConstraint(condition=Q(manager_approval_limit__gte=0), name="credit_policy_threshold_nonneg"),
            models.CheckConstraint(condition=Q(uninsured_appetite__gte=0), name="credit_policy_appetite_nonneg"),
        ]

    def __str__(self) -> str:
        return f"credit policy of {self.organization_id}"


class Ownership(models.TextChoices):
    PRIVATE = "private", _("Private")
    PUBLIC = "public", _("Listed (public)")
    STATE = "state", _("State-owned")
    FOREIGN = "foreign", _("Foreign-invested")
    OTHER = "other", _("Other")


class CreditProfile(models.Model):
    """A customer's credit file and its current limit, terms, blacklist state and review date."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantOneToOneField(Customer, on_delete=models.PROTECT, related_name="credit_profile")
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    registry_id = models.CharField(_("registry number (other countries)"), max_length=64, blank=True)
    founding_year = models.PositiveSmallIntegerField(_("founding year"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    ownership = models.CharField(_("ownership"), max_length=10, choices=Ownership.choices, default=Ownership.PRIVATE)
    is_manufacturer = models.BooleanField(_("manufacturer"), default=False)
    credit_limit = AmountField(_("credit limit"), null=True, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(_("approved payment terms (days)"), null=True, blank=True)
    conditions = models.CharField(_("conditions"), max_length=300, blank=True)
    blacklisted = models.BooleanField(_("blacklisted"), default=False)
    blacklist_reason = models.CharField(_("blacklist reason"), max_length=300, blank=True)
    blacklisted_on = models.DateField(_("blacklisted on"), null=True, blank=True)
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    latest_score = TenantForeignKey("CreditScore", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0),
                                   name="credit_profile_limit_nonneg"),
            models.CheckConstraint(condition=Q(blacklisted=False) | ~Q(blacklist_reason=""),
                                   name="credit_profile_blacklist_has_reason"),
            models.CheckConstraint(condition=Q(ownership__in=Ownership.values), name="credit_profile_ownership_valid"),
        ]
        indexes = [models.Index(fields=["organization", "next_review_on"], name="credit_profile_review_idx")]

    def __str__(self) -> str:
        return f"credit file of {self.customer_id}"

    @property
    def is_public(self) -> bool:
        return self.ownership == Ownership.PUBLIC


class FinancialStatement(models.Model):
    """One fiscal year's figures, in the organization's base currency."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    profile = TenantForeignKey(CreditProfile, on_delete=models.CASCADE, related_name="financials")
    year = models.PositiveSmallIntegerField(_("fiscal year"))
    revenue = AmountField(_("revenue"))
    ebit = AmountField(_("EBIT"))
    net_income = AmountField(_("net income"))
    current_assets = AmountField(_("current assets"))
    current_liabilities = AmountField(_("current liabilities"))
    total_assets = AmountField(_("total assets"))
    total_liabilities = AmountField(_("total liabilities"))
    retained_earnings = AmountField(_("retained earnings"))
    equity = AmountField(_("book value of equity"))
    working_capital = AmountField(_("working capital"))
    market_value_equity = AmountField(_("market value of equity (listed companies)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "year", "organization"], name="financial_statement_one_per_year"),
            models.CheckConstraint(condition=Q(total_assets__gt=0), name="financial_statement_assets_positive"),
            models.CheckConstraint(condition=Q(total_liabilities__gte=0) & Q(current_assets__gte=0)
                                   & Q(current_liabilities__gte=0) & Q(revenue__gte=0),
                                   name="financial_statement_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.year} financials of profile {self.profile_id}"


class SignalKind(models.TextChoices):
    LITIGATION = "litigation", _("Litigation")
    REGISTRY_CHANGE = "registry_change", _("Registry change")
    NEGATIVE_NEWS = "negative_news", _("Negative news")
    INSURER_GRADE = "insurer_grade", _("Insurer grade")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ExternalSignal(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    profile = TenantForeignKey(CreditProfile, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(_("kind"), max_length=20, choices=SignalKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    observed_on = models.DateField(_("observed on"))
    description = models.CharField(_("description"), max_length=500)
    source = models.CharField(_("source"), max_length=20, default="manual")  # manual | api
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SignalKind.values), name="signal_kind_valid"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="signal_severity_valid"),
        ]
        indexes = [models.Index(fields=["organization", "observed_on"], name="signal_org_observed_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.observed_on}"


class CreditDocument(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    profile = TenantForeignKey(CreditProfile, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="credit/%Y/%m/")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.title}"


class CreditScore(models.Model):
    """One scoring of a customer, with everything needed to reproduce it (inputs, weights, bands)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField()
    created_at = models.DateTimeField()
    score = models.DecimalField(max_digits=4, decimal_places=1)
    score_low = models.DecimalField(max_digits=4, decimal_places=1)
    score_high = models.DecimalField(max_digits=4, decimal_places=1)
    grade = models.CharField(max_length=1)
    provisional = models.BooleanField(default=False)
    factors = models.JSONField()
    inputs = models.JSONField()
    weights = models.JSONField()
    bands = models.JSONField()
    provisional_missing_weight = models.PositiveSmallIntegerField()
    model_version = models.CharField(max_length=20)
    recommended_limit = AmountField(_("recommended limit"))
    recommended_terms_days = models.PositiveSmallIntegerField()
    recommended_conditions = models.CharField(max_length=300, blank=True)
    # The customer's insurance cover in force on the as-of date (base currency); None: no insurance app answers.
    cover_in_force = AmountField(_("insurance cover"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="credit_score_range"),
            models.CheckConstraint(condition=Q(grade__in=["A", "B", "C", "D", "E"]), name="credit_score_grade_valid"),
        ]
        indexes = [models.Index(fields=["organization", "customer", "-created_at"], name="credit_score_history_idx")]

    def __str__(self) -> str:
        return f"{self.grade} {self.score} ({self.as_of})"

    def snapshot(self) -> dict:
        return {"score_id": self.pk, "score": str(self.score), "grade": self.grade, "provisional": self.provisional,
                "as_of": self.as_of.isoformat()}


class LimitRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class LimitRequest(models.Model):
    """A proposed limit and terms, approved level by level (credit manager, then admin above the threshold)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    requested_limit = AmountField(_("requested limit"))
    requested_terms_days = models.PositiveSmallIntegerField(_("requested payment terms (days)"))
    previous_limit = AmountField(_("previous limit"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(max_length=10, choices=LimitRequestStatus.choices, default=LimitRequestStatus.PENDING)
    levels_required = models.JSONField(default=list)  # e.g. ["credit_manager", "admin"]
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    score = TenantForeignKey(CreditScore, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rejection_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=LimitRequestStatus.values), name="limit_request_status_valid"),
            models.CheckConstraint(condition=Q(requested_limit__gte=0), name="limit_request_nonneg"),
            models.CheckConstraint(condition=~Q(status=LimitRequestStatus.REJECTED) | ~Q(rejection_reason=""),
                                   name="limit_request_rejection_has_reason"),
            # One open request per customer at a time.
            models.UniqueConstraint(fields=["customer", "organization"], condition=Q(status="pending"),
                                    name="limit_request_one_pending"),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="limit_request_org_status_idx")]

    def __str__(self) -> str:
        return f"limit request #{self.pk} ({self.status})"

    @property
    def next_level(self) -> str | None:
        """The level that decides next (one past the approvals so far); None once decided.

        Reads steps.all(), so a prefetched list (the API's) costs no query."""
        if self.status != LimitRequestStatus.PENDING:
            return None
        approved = sum(1 for step in self.steps.all() if step.decision == StepDecision.APPROVED)
        return self.levels_required[approved] if approved < len(self.levels_required) else None


class StepDecision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class LimitApprovalStep(models.Model):
    """One level's decision on a limit request, with the score it was decided on."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    request = TenantForeignKey(LimitRequest, on_delete=models.CASCADE, related_name="steps")
    level = models.CharField(max_length=20, choices=Role.choices)
    decision = models.CharField(max_length=10, choices=StepDecision.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.CharField(max_length=500, blank=True)
    score_snapshot = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "level", "organization"], name="limit_step_one_per_level"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.decision}"


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class CreditReview(models.Model):
    """A periodic review task: the customer re-scored, a limit and terms proposed for a credit manager."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    score = TenantForeignKey(CreditScore, null=True, on_delete=models.SET_NULL, related_name="+")
    proposed_limit = AmountField(_("proposed limit"))
    proposed_terms_days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            # The review of one due date happens once, however often the task runs.
            models.UniqueConstraint(fields=["customer", "due_on", "organization"], name="credit_review_once_per_due_date"),
        ]
        indexes = [models.Index(fields=["organization", "status", "due_on"], name="credit_review_org_idx")]

    def __str__(self) -> str:
        return f"review of {self.customer_id} due {self.due_on}"


class AlertKind(models.TextChoices):
    OVER_LIMIT = "over_limit", _("Exposure over limit")
    GRADE_DROPPED = "grade_dropped", _("Grade dropped")
    NEW_SIGNAL = "new_signal", _("New external signal")
    FIRST_OVERDUE = "first_overdue", _("First overdue of a good customer")
    CONCENTRATION = "concentration", _("Concentration")
    HOLD_WARNING = "hold_warning", _("Invoice issued to a customer on hold")


class CreditAlert(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "dedupe_key"], name="credit_alert_dedupe"),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="credit_alert_kind_valid"),
        ]
        indexes = [models.Index(fields=["organization", "digested_at"], name="credit_alert_digest_idx")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"
