"""Trade credit insurance: policies, buyer cover requests and the insurer's decisions, declarations
(overdue, due-date extension, rescheduling), claims with their invoices and recoveries, and the
deadline warnings raised before cover lapses.

Amounts of a policy (cover, limits, threshold, deductible) are in the policy's currency; a claim is
in its invoices' currency. The rules that the database can hold are CHECK constraints."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from receivables.models import AmountField, CurrencyField, Customer, Invoice, Payment
from tenancy.distribution import TenantForeignKey, TenantLink
from tenancy.models import Organization


class ConnectorKind(models.TextChoices):
    MANUAL = "manual", _("Manual (a person enters the insurer's answers)")
    HTTP = "http", _("Insurer API (asynchronous HTTP)")


class Policy(models.Model):
    """One credit-insurance policy: its period, insured percentage, deadlines, limits and premium rate."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    insurer_name = models.CharField(_("insurer"), max_length=200)
    policy_number = models.CharField(_("policy number"), max_length=64)
    currency = CurrencyField()
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    insured_percentage = models.DecimalField(_("insured percentage"), max_digits=5, decimal_places=2)
    max_credit_period_days = models.PositiveSmallIntegerField(_("maximum credit period (days)"))
    # Days after the original due date by which an unpaid invoice must be notified to the insurer.
    overdue_notification_days = models.PositiveSmallIntegerField(_("overdue notification deadline (days after due)"))
    max_extension_days = models.PositiveSmallIntegerField(_("maximum extension (days after the original due date)"))
    # Days after the (extended) due date by which the claim must be filed.
    claim_filing_days = models.PositiveSmallIntegerField(_("claim-filing deadline (days after due)"))
    waiting_period_days = models.PositiveSmallIntegerField(_("waiting period (days after notification)"))
    discretionary_limit = AmountField(_("discretionary limit"), default=0)
    discretionary_conditions = models.CharField(_("discretionary limit conditions"), max_length=500, blank=True)
    claim_threshold = AmountField(_("claim threshold"), default=0)
    deductible = AmountField(_("deductible per claim"), default=0)
    premium_rate = models.DecimalField(_("premium rate (percent of insured turnover)"), max_digits=7, decimal_places=4)
    premium_declaration_days = models.PositiveSmallIntegerField(_("turnover declared within (days after month end)"),
                                                                default=15)
    covered_countries = models.JSONField(_("covered countries"), default=list, blank=True,
                                         help_text=_("ISO 3166 alpha-2 codes; empty: every country."))
    excluded_customers = models.ManyToManyField(Customer, through="PolicyExcludedCustomer", blank=True, related_name="+",
                                                verbose_name=_("excluded buyers"))
    warning_days = models.PositiveSmallIntegerField(_("warn this many days before a deadline"), default=7)
    connector = models.CharField(_("insurer connection"), max_length=10, choices=ConnectorKind.choices,
                                 default=ConnectorKind.MANUAL)
    connector_url = models.URLField(_("insurer API address"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "pk"]
        verbose_name_plural = _("policies")
        constraints = [
            models.UniqueConstraint(fields=["organization", "policy_number"], name="insurance_policy_number_unique"),
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="insurance_policy_period_valid"),
            models.CheckConstraint(condition=Q(insured_percentage__gt=0, insured_percentage__lte=100),
                                   name="insurance_policy_percentage_range"),
            models.CheckConstraint(condition=Q(max_credit_period_days__gte=1, max_credit_period_days__lte=720),
                                   name="insurance_policy_credit_period_sane"),
            models.CheckConstraint(condition=Q(overdue_notification_days__gte=1, overdue_notification_days__lte=720),
                                   name="insurance_policy_notification_sane"),
            models.CheckConstraint(condition=Q(max_extension_days__lte=720), name="insurance_policy_extension_sane"),
            models.CheckConstraint(condition=Q(claim_filing_days__gte=F("overdue_notification_days"))
                                   & Q(claim_filing_days__lte=1440),
                                   name="insurance_policy_claim_after_notification"),
            models.CheckConstraint(condition=Q(waiting_period_days__lte=720), name="insurance_policy_waiting_sane"),
            models.CheckConstraint(condition=Q(discretionary_limit__gte=0) & Q(claim_threshold__gte=0)
                                   & Q(deductible__gte=0), name="insurance_policy_amounts_nonneg"),
            models.CheckConstraint(condition=Q(premium_rate__gte=0, premium_rate__lte=100),
                                   name="insurance_policy_premium_rate_range"),
            models.CheckConstraint(condition=Q(warning_days__lte=90), name="insurance_policy_warning_sane"),
            models.CheckConstraint(condition=Q(connector__in=ConnectorKind.values), name="insurance_policy_connector_valid"),
            models.CheckConstraint(condition=~Q(connector=ConnectorKind.HTTP) | ~Q(connector_url=""),
                                   name="insurance_policy_http_has_url"),
        ]

    def __str__(self) -> str:
        return f"{self.insurer_name} {self.policy_number}"


class PolicyExcludedCustomer(TenantLink):
    """A buyer a policy does not cover (Policy.excluded_customers).
    Explicit, not Django's auto-created table, so the row carries organization_id like every tenant
    table (tenancy.distribution); `.add()` and `.set()` fill it from the policy."""

    policy = TenantForeignKey(Policy, on_delete=models.CASCADE, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    owner_field = "policy"

    class Meta:
        db_table = "insurance_policy_excluded_customers"
        constraints = [models.UniqueConstraint(fields=["policy", "customer", "organization"],
                                               name="policy_excluded_customer_once")]


class RequestType(models.TextChoices):
    """EDIFACT 4505 cover request types."""

    NEW = "new", _("New cover")
    INCREASE = "increase", _("Increase")
    REDUCTION = "reduction", _("Reduction")
    CANCELLATION = "cancellation", _("Cancellation")
    PROLONGATION = "prolongation", _("Prolongation")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUBMITTED = "submitted", _("Sent to the insurer")
    DECIDED = "decided", _("Decided")


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    PARTIAL = "partial", _("Partially approved")
    REFUSED = "refused", _("Refused")


class CoverRequest(models.Model):
    """A request for buyer cover and, once decided, the insurer's decision (the cover in force)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    policy = TenantForeignKey(Policy, on_delete=models.PROTECT, related_name="cover_requests")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    request_type = models.CharField(_("request type"), max_length=20, choices=RequestType.choices)
    amount = AmountField(_("requested amount"))
    currency = CurrencyField()
    discretionary = models.BooleanField(_("discretionary limit (set by the policyholder)"), default=False)
    requested_on = models.DateField(_("requested on"))
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices, blank=True)
    decided_amount = AmountField(_("granted amount"), null=True, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=10, blank=True)
    reason_text = models.CharField(_("reason"), max_length=500, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    external_reference = models.CharField(_("insurer reference"), max_length=100, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(request_type__in=RequestType.values), name="cover_request_type_valid"),
            models.CheckConstraint(condition=Q(status__in=RequestStatus.values), name="cover_request_status_valid"),
            models.CheckConstraint(condition=Q(request_type=RequestType.CANCELLATION, amount=0)
                                   | (~Q(request_type=RequestType.CANCELLATION) & Q(amount__gt=0)),
                                   name="cover_request_amount_matches_type"),
            models.CheckConstraint(
                condition=(~Q(status=RequestStatus.DECIDED) & Q(decision="", decided_amount__isnull=True,
                                                                 decided_on__isnull=True))
                | Q(status=RequestStatus.DECIDED, decision=Decision.APPROVED, decided_amount=F("amount"),
                    decided_on__isnull=False)
                | Q(status=RequestStatus.DECIDED, decision=Decision.PARTIAL, decided_amount__gt=0,
                    decided_amount__lt=F("amount"), decided_on__isnull=False)
                | (Q(status=RequestStatus.DECIDED, decision=Decision.REFUSED, decided_amount=0, decided_on__isnull=False)
                   & (~Q(reason_code="") | ~Q(reason_text=""))),
                name="cover_request_decision_consistent",
            ),
            models.CheckConstraint(condition=Q(valid_until__isnull=True) | Q(decided_on__isnull=True)
                                   | Q(valid_until__gte=F("decided_on")), name="cover_request_valid_after_decision"),
            models.CheckConstraint(condition=Q(decided_on__isnull=True) | Q(decided_on__gte=F("requested_on")),
                                   name="cover_request_decided_after_request"),
            # One open request per buyer and policy: a second would race the first's decision.
            models.UniqueConstraint(fields=["policy", "customer", "organization"], condition=~Q(status="decided"),
                                    name="cover_request_one_open"),
        ]
        indexes = [
            models.Index(fields=["organization", "customer", "decided_on"], name="cover_request_cover_idx"),
            models.Index(fields=["organization", "status"], name="cover_request_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request_type} {self.amount} {self.currency} for {self.customer_id} ({self.status})"


class DeclarationKind(models.TextChoices):
    OVERDUE = "overdue", _("Overdue notification (OVD)")
    EXTENSION = "extension", _("Due-date extension (EXP)")
    RESCHEDULING = "rescheduling", _("Rescheduling / payment plan (RES)")


class Declaration(models.Model):
    """What was declared to the insurer about a buyer's invoices, kept with the content sent."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    policy = TenantForeignKey(Policy, on_delete=models.PROTECT, related_name="declarations")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=DeclarationKind.choices)
    notified_on = models.DateField(_("notified on"))
    new_due_date = models.DateField(_("new due date"), null=True, blank=True)
    payment_plan = TenantForeignKey("dunning.PaymentPlan", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reference = models.CharField(_("insurer reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    content = models.JSONField(_("content sent"), default=dict)
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-notified_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DeclarationKind.values), name="declaration_kind_valid"),
            models.CheckConstraint(condition=~Q(kind=DeclarationKind.EXTENSION) | Q(new_due_date__isnull=False),
                                   name="declaration_extension_has_date"),
        ]
        indexes = [models.Index(fields=["organization", "customer", "notified_on"], name="declaration_org_cust_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.notified_on} ({self.customer_id})"


class DeclarationInvoice(models.Model):
    """One invoice of a declaration, with its figures as declared."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    declaration = TenantForeignKey(Declaration, on_delete=models.CASCADE, related_name="lines")
    invoice = TenantForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(_("due date declared"))
    amount_due = AmountField(_("amount due declared"))
    currency = CurrencyField()

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "invoice", "organization"], name="declaration_invoice_once"),
            models.CheckConstraint(condition=Q(amount_due__gte=0), name="declaration_invoice_amount_nonneg"),
        ]
        indexes = [models.Index(fields=["organization", "invoice"], name="declaration_invoice_idx")]

    def __str__(self) -> str:
        return f"invoice {self.invoice_id} in declaration {self.declaration_id}"


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    FILED = "filed", _("Filed")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Paid")


class Claim(models.Model):
    """A claim for a buyer's covered unpaid invoices, with the expected indemnity and how it was reached."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    policy = TenantForeignKey(Policy, on_delete=models.PROTECT, related_name="claims")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    status = models.CharField(_("status"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    filed_on = models.DateField(_("filed on"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    outstanding = AmountField(_("outstanding"), default=0)
    covered_loss = AmountField(_("covered loss"), default=0)
    recoveries = AmountField(_("recoveries before indemnity"), default=0)
    expected_indemnity = AmountField(_("expected indemnity"), default=0)
    computation = models.JSONField(_("computation"), default=list)
    accepted_amount = AmountField(_("indemnity accepted"), null=True, blank=True)
    paid_amount = AmountField(_("indemnity paid"), null=True, blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=500, blank=True)
    payment = TenantForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("insurer reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ClaimStatus.values), name="claim_status_valid"),
            models.CheckConstraint(
                condition=Q(status=ClaimStatus.DRAFT, filed_on__isnull=True)
                | Q(status=ClaimStatus.FILED, filed_on__isnull=False)
                | Q(status=ClaimStatus.ACCEPTED, filed_on__isnull=False, decided_on__isnull=False,
                    accepted_amount__isnull=False)
                | (Q(status=ClaimStatus.REJECTED, filed_on__isnull=False, decided_on__isnull=False)
                   & ~Q(rejection_reason=""))
                | Q(status=ClaimStatus.PAID, filed_on__isnull=False, decided_on__isnull=False,
                    accepted_amount__isnull=False, paid_on__isnull=False, paid_amount__isnull=False),
                name="claim_status_matches_dates",
            ),
            models.CheckConstraint(condition=Q(outstanding__gte=0) & Q(covered_loss__gte=0) & Q(recoveries__gte=0)
                                   & Q(expected_indemnity__gte=0) & Q(covered_loss__lte=F("outstanding")),
                                   name="claim_amounts_nonneg"),
            models.CheckConstraint(condition=Q(accepted_amount__isnull=True) | Q(accepted_amount__gte=0),
                                   name="claim_accepted_nonneg"),
            models.CheckConstraint(condition=Q(paid_amount__isnull=True) | Q(paid_amount__gt=0),
                                   name="claim_paid_positive"),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="claim_org_status_idx")]

    def __str__(self) -> str:
        return f"claim #{self.pk} {self.status}"


class ClaimInvoice(models.Model):
    """One invoice of a claim: what was outstanding and covered when the claim was computed."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    claim = TenantForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    invoice = TenantForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    outstanding = AmountField(_("outstanding"))
    covered_amount = AmountField(_("covered amount"))
    currency = CurrencyField()

    class Meta:
        ordering = ["invoice__due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "invoice", "organization"], name="claim_invoice_once"),
            models.CheckConstraint(condition=Q(covered_amount__gte=0) & Q(covered_amount__lte=F("outstanding")),
                                   name="claim_invoice_covered_within_outstanding"),
        ]
        indexes = [models.Index(fields=["organization", "invoice"], name="claim_invoice_idx")]

    def __str__(self) -> str:
        return f"invoice {self.invoice_id} in claim {self.claim_id}"


class ClaimRecovery(models.Model):
    """Money recovered from the buyer after the indemnity, shared with the insurer per the insured percentage."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    claim = TenantForeignKey(Claim, on_delete=models.PROTECT, related_name="recovery_rows")
    received_on = models.DateField(_("received on"))
    amount = AmountField(_("amount recovered"))
    insurer_share = AmountField(_("due to the insurer"))
    policyholder_share = AmountField(_("kept"))
    currency = CurrencyField()
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(insurer_share__gte=0) & Q(policyholder_share__gte=0)
                                   & Q(amount=F("insurer_share") + F("policyholder_share")),
                                   name="claim_recovery_shares_add_up"),
        ]

    def __str__(self) -> str:
        return f"recovery {self.amount} {self.currency} on claim {self.claim_id}"


class AlertKind(models.TextChoices):
    NOTIFY_DUE_SOON = "notify_due_soon", _("Overdue notification due soon")
    CLAIM_DUE_SOON = "claim_due_soon", _("Claim filing due soon")
    COVER_LOST = "cover_lost", _("Deadline missed: cover lost")
    COVER_EXPIRING = "cover_expiring", _("Buyer cover expiring")


class InsuranceAlert(models.Model):
    """A warning raised by the daily deadline run; unique per dedupe key, so a rerun raises nothing twice."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice = TenantForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    deadline = models.DateField(null=True, blank=True)
    message = models.CharField(max_length=500)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    digested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "dedupe_key"], name="insurance_alert_dedupe"),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="insurance_alert_kind_valid"),
        ]
        indexes = [models.Index(fields=["organization", "digested_at"], name="insurance_alert_digest_idx")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"
