"""Factoring and invoice discounting: facilities (one per agreement with a factor or bank), the
assignment schedules that sell or pledge invoices to them, one line per invoice, the financing
ledger (advances, fees, interest, collections, reserve releases, repayments), repurchases and
imported factor statements.

The assignment is a fact of its own, never an invoice status: an overdue job cannot overwrite it.
An invoice is in at most one live assignment line (a partial unique index), so the double
assignment other systems allowed cannot be stored. Money amounts are in the facility's currency.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from receivables.models import AmountField, CurrencyField, Customer, Invoice, Payment
from tenancy.distribution import TenantForeignKey, TenantLink, TenantOneToOneField
from tenancy.models import Organization

RATE = {"max_digits": 9, "decimal_places": 6}  # 0.850000, 0.012500


def RateField(verbose_name, **kwargs):  # noqa: N802 - reads like a field class
    return models.DecimalField(verbose_name, **RATE, **kwargs)


class Mode(models.TextChoices):
    FACTORING = "factoring", _("Factoring")
    DISCOUNTING = "discounting", _("Invoice discounting")


class DayCount(models.IntegerChoices):
    ACT_360 = 360, _("Actual/360")
    ACT_365 = 365, _("Actual/365")


class Facility(models.Model):
    """One financing agreement: the factor, its bank account, mode, rates and eligibility rules."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    factor_name = models.CharField(_("factor"), max_length=200)
    factor_bank_name = models.CharField(_("factor's bank"), max_length=200, blank=True)
    factor_bank_account = models.CharField(_("factor's bank account"), max_length=64)
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices, default=Mode.FACTORING)
    disclosed = models.BooleanField(_("disclosed to customers"), default=False)
    # Disclosed factoring where the factor lets the seller keep dunning its customers.
    collection_delegated = models.BooleanField(_("seller keeps collecting (delegated)"), default=False)
    recourse = models.BooleanField(_("with recourse"), default=True)
    currency = CurrencyField()
    limit = AmountField(_("facility limit"))
    advance_rate = RateField(_("advance rate"))
    fee_rate = RateField(_("fee rate (on face value)"), default=0)
    interest_rate = RateField(_("annual interest rate on funds in use"), default=0)
    day_count = models.PositiveSmallIntegerField(_("day count"), choices=DayCount.choices, default=DayCount.ACT_360)
    max_days_past_due = models.PositiveSmallIntegerField(_("maximum days past due at assignment"), null=True,
                                                         blank=True)
    max_terms_days = models.PositiveSmallIntegerField(_("maximum payment terms (days)"), null=True, blank=True)
    min_invoice_amount = AmountField(_("minimum invoice amount"), default=0)
    concentration_limit = RateField(_("concentration limit (share of outstanding)"), null=True, blank=True)
    cross_aging_rate = RateField(_("cross-aging: share of a customer's balance over the cross-aging days"),
                                 null=True, blank=True)
    cross_aging_days = models.PositiveSmallIntegerField(_("cross-aging days past due"), default=90)
    repurchase_after_days = models.PositiveSmallIntegerField(_("repurchase after (days past due)"), null=True,
                                                             blank=True)
    # Submissions with more face value than this need an admin's approval (None: never).
    approval_threshold = AmountField(_("admin approves submissions above"), null=True, blank=True)
    excluded_customers = models.ManyToManyField(Customer, through="FacilityExcludedCustomer", blank=True, related_name="+",
                                                verbose_name=_("excluded customers"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = _("facilities")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="facility_name_unique"),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="facility_mode_valid"),
            models.CheckConstraint(condition=Q(mode=Mode.FACTORING) | Q(disclosed=False),
                                   name="facility_disclosed_only_factoring"),
            models.CheckConstraint(condition=Q(disclosed=True) | Q(collection_delegated=False),
                                   name="facility_delegation_only_disclosed"),
            models.CheckConstraint(condition=Q(limit__gt=0), name="facility_limit_positive"),
            models.CheckConstraint(condition=Q(advance_rate__gt=0, advance_rate__lte=1),
                                   name="facility_advance_rate_range"),
            models.CheckConstraint(condition=Q(fee_rate__gte=0, fee_rate__lt=1), name="facility_fee_rate_range"),
            models.CheckConstraint(condition=Q(interest_rate__gte=0, interest_rate__lt=1),
                                   name="facility_interest_rate_range"),
            models.CheckConstraint(condition=Q(day_count__in=DayCount.values), name="facility_day_count_valid"),
            models.CheckConstraint(condition=Q(min_invoice_amount__gte=0), name="facility_min_amount_nonneg"),
            models.CheckConstraint(condition=Q(concentration_limit__isnull=True)
                                   | Q(concentration_limit__gt=0, concentration_limit__lte=1),
                                   name="facility_concentration_range"),
            models.CheckConstraint(condition=Q(cross_aging_rate__isnull=True)
                                   | Q(cross_aging_rate__gt=0, cross_aging_rate__lte=1),
                                   name="facility_cross_aging_range"),
            models.CheckConstraint(condition=Q(approval_threshold__isnull=True) | Q(approval_threshold__gte=0),
                                   name="facility_threshold_nonneg"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                                   name="facility_valid_dates"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def customer_collects(self) -> bool:
        """Whether the customer keeps paying the seller (silent factoring, discounting, delegated)."""
        return not self.disclosed or self.collection_delegated

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class FacilityExcludedCustomer(TenantLink):
    """A customer whose invoices a facility does not finance (Facility.excluded_customers).
    Explicit, not Django's auto-created table, so the row carries organization_id like every tenant
    table (tenancy.distribution); `.add()` and `.set()` fill it from the facility."""

    facility = TenantForeignKey(Facility, on_delete=models.CASCADE, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    owner_field = "facility"

    class Meta:
        db_table = "factoring_facility_excluded_customers"
        constraints = [models.UniqueConstraint(fields=["facility", "customer", "organization"],
                                               name="facility_excluded_customer_once")]


class Sublimit(models.Model):
    """The most a facility finances of one customer (face value assigned and outstanding)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    facility = TenantForeignKey(Facility, on_delete=models.CASCADE, related_name="sublimits")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    limit = AmountField(_("sublimit"))

    class Meta:
        ordering = ["facility", "customer"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "customer", "organization"], name="sublimit_one_per_customer"),
            models.CheckConstraint(condition=Q(limit__gte=0), name="sublimit_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.limit}"


class AssignmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    FUNDED = "funded", _("Funded")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Assignment(models.Model):
    """An assignment schedule: invoices sold (or pledged) to the facility's factor on one date."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    facility = TenantForeignKey(Facility, on_delete=models.PROTECT, related_name="assignments")
    number = models.CharField(_("number"), max_length=32)
    status = models.CharField(_("status"), max_length=20, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.DRAFT)
    currency = CurrencyField()
    assigned_on = models.DateField(_("assigned on"))
    face_total = AmountField(_("face value"), default=0)
    advance_total = AmountField(_("advance"), default=0)
    fee_total = AmountField(_("fee"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    approval_required = models.BooleanField(_("needs an admin's approval"), default=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    funded_on = models.DateField(_("funded on"), null=True, blank=True)
    amount_received = AmountField(_("amount received"), null=True, blank=True)
    fee_deducted = AmountField(_("fee deducted"), null=True, blank=True)
    interest_deducted = AmountField(_("interest deducted"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-assigned_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="assignment_number_unique"),
            models.CheckConstraint(condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"),
            models.CheckConstraint(condition=Q(face_total__gte=0, advance_total__gte=0, fee_total__gte=0)
                                   & Q(advance_total__lte=F("face_total")), name="assignment_totals_sane"),
            models.CheckConstraint(
                condition=Q(status__in=[AssignmentStatus.FUNDED, AssignmentStatus.CLOSED], funded_on__isnull=False,
                            amount_received__gte=0, fee_deducted__gte=0, interest_deducted__gte=0)
                | Q(status__in=[AssignmentStatus.DRAFT, AssignmentStatus.SUBMITTED, AssignmentStatus.CANCELLED],
                    funded_on__isnull=True),
                name="assignment_funding_matches_status"),
            models.CheckConstraint(condition=Q(funded_on__isnull=True) | Q(funded_on__gte=F("assigned_on")),
                                   name="assignment_funded_after_assigned"),
            models.CheckConstraint(condition=Q(status=AssignmentStatus.CLOSED, closed_on__isnull=False)
                                   | (~Q(status=AssignmentStatus.CLOSED) & Q(closed_on__isnull=True)),
                                   name="assignment_closed_has_date"),
        ]
        indexes = [models.Index(fields=["organization", "facility", "status"], name="assignment_org_status_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def awaiting_approval(self) -> bool:
        return self.status == AssignmentStatus.SUBMITTED and self.approval_required and self.approved_at is None


class LineState(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    COLLECTED = "collected", _("Collected")
    REPURCHASED = "repurchased", _("Repurchased")
    CANCELLED = "cancelled", _("Cancelled")


class AssignmentLine(models.Model):
    """One invoice of an assignment: face value (its open balance then), advance and fee."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    assignment = TenantForeignKey(Assignment, on_delete=models.CASCADE, related_name="lines")
    facility = TenantForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    invoice = TenantForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=LineState.choices, default=LineState.ASSIGNED)
    assigned_on = models.DateField(_("assigned on"))
    face = AmountField(_("face value"))
    advance = AmountField(_("advance"))
    fee = AmountField(_("fee"))
    collected = AmountField(_("collected"), default=0)
    interest = AmountField(_("interest"), default=0)
    reserve_released = AmountField(_("reserve released"), default=0)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        ordering = ["assignment", "pk"]
        constraints = [
            # The rule: an invoice is in at most one live assignment.
            models.UniqueConstraint(fields=["invoice", "organization"], condition=Q(state="assigned"),
                                    name="assignment_line_one_live_per_invoice"),
            models.UniqueConstraint(fields=["assignment", "invoice", "organization"], name="assignment_line_once_per_assignment"),
            models.CheckConstraint(condition=Q(state__in=LineState.values), name="assignment_line_state_valid"),
            models.CheckConstraint(condition=Q(face__gt=0, advance__gte=0, fee__gte=0, collected__gte=0,
                                               interest__gte=0)
                                   & Q(advance__lte=F("face")), name="assignment_line_amounts_sane"),
            models.CheckConstraint(condition=Q(state="assigned", ended_on__isnull=True)
                                   | (~Q(state="assigned") & Q(ended_on__gte=F("assigned_on"))),
                                   name="assignment_line_ended_when_not_live"),
        ]
        indexes = [
            models.Index(fields=["organization", "facility", "state"], name="fline_org_state_idx"),
            models.Index(fields=["organization", "invoice"], name="fline_org_invoice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} in {self.assignment_id} ({self.state})"

    @property
    def reserve(self):
        """Held back until collection: face - advance - fee - interest (interest to date)."""
        return self.face - self.advance - self.fee - self.interest


class EntryKind(models.TextChoices):
    ADVANCE = "advance", _("Advance received")
    FEE = "fee", _("Fee")
    INTEREST = "interest", _("Interest")
    COLLECTION = "collection", _("Collection by the factor")
    ADVANCE_REPAID = "advance_repaid", _("Advance repaid")
    RESERVE_RELEASE = "reserve_release", _("Reserve released")
    REPURCHASE = "repurchase", _("Repurchase")


class Entry(models.Model):
    """One dated movement of a facility's financing ledger. Append-only: a correction is a new
    dated entry with the opposite sign, so the position as of a past date stays reproducible.

    Signs: advance + (funds drawn), advance_repaid - (funds returned), fee and interest + (a cost),
    collection + (cash the factor collected), reserve_release + (cash back to the seller),
    repurchase + (face value taken back)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    facility = TenantForeignKey(Facility, on_delete=models.PROTECT, related_name="entries")
    assignment = TenantForeignKey(Assignment, on_delete=models.PROTECT, related_name="entries")
    line = TenantForeignKey(AssignmentLine, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    entry_date = models.DateField(_("date"))
    amount = AmountField(_("amount"))
    currency = CurrencyField()
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    statement = TenantForeignKey("FactorStatement", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="entries")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entry_date", "pk"]
        verbose_name_plural = _("entries")
        constraints = [models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="entry_kind_valid")]
        indexes = [models.Index(fields=["organization", "facility", "entry_date"], name="entry_org_facility_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} on {self.entry_date}"


class RepurchaseReason(models.TextChoices):
    OVERDUE = "overdue", _("Unpaid past the repurchase days (automatic)")
    MANUAL = "manual", _("Repurchased by agreement")
    FACTOR = "factor", _("Reassigned by the factor (statement)")


class Repurchase(models.Model):
    """The dated reversal of an invoice's assignment (recourse): the seller repays the advance and
    the interest, the invoice is the seller's again and dunning resumes."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    line = TenantOneToOneField(AssignmentLine, on_delete=models.PROTECT, related_name="repurchase")
    repurchased_on = models.DateField(_("repurchased on"))
    reason = models.CharField(_("reason"), max_length=20, choices=RepurchaseReason.choices)
    advance_repaid = AmountField(_("advance repaid"))
    interest = AmountField(_("interest"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-repurchased_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(reason__in=RepurchaseReason.values), name="repurchase_reason_valid"),
            models.CheckConstraint(condition=Q(advance_repaid__gte=0, interest__gte=0), name="repurchase_nonneg"),
        ]

    def __str__(self) -> str:
        return f"repurchase of line {self.line_id} on {self.repurchased_on}"


class FactorStatement(models.Model):
    """A factor's statement file (collections, fees, interest, repurchases), imported once."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    facility = TenantForeignKey(Facility, on_delete=models.PROTECT, related_name="statements")
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["facility", "sha256", "organization"],
                                               name="factor_statement_once")]

    def __str__(self) -> str:
        return self.file_name


class StatementRowKind(models.TextChoices):
    COLLECTION = "collection", _("Collection")
    FEE = "fee", _("Fee")
    INTEREST = "interest", _("Interest")
    REPURCHASE = "repurchase", _("Repurchase")


class FactorStatementRow(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    statement = TenantForeignKey(FactorStatement, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=StatementRowKind.choices)
    row_date = models.DateField()
    invoice = TenantForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    line = TenantForeignKey(AssignmentLine, on_delete=models.PROTECT, related_name="+")
    amount = AmountField(_("amount"))
    reference = models.CharField(max_length=100, blank=True)
    payment = TenantForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["statement", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "row_number", "organization"], name="factor_statement_row_once"),
            models.CheckConstraint(condition=Q(kind__in=StatementRowKind.values), name="factor_statement_row_kind"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="factor_statement_row_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.row_number})"
