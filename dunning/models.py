"""Dunning and collections: policies and their steps, the daily run and what it sent,
disputes, promises to pay, payment plans, the collector's worklist and the customer timeline.

Exactly-once is a database rule: one DunningNotice per (invoice, step), inserted with the
rendered message in the run's transaction, before anything is sent.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from receivables.models import AmountField, CurrencyField, Customer, Invoice, Segment
from tenancy.distribution import TenantForeignKey, TenantLink, TenantOneToOneField
from tenancy.models import Language, Organization

SUM_SLACK = Decimal("0.00005")  # half the smallest stored unit (amounts keep 4 decimal places)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter (PDF)")
    CALL = "call", _("Call task")


class Tone(models.TextChoices):
    GENTLE = "gentle", _("Gentle")
    STANDARD = "standard", _("Standard")
    FIRM = "firm", _("Firm")


class StepTemplate(models.TextChoices):
    COURTESY = "courtesy", _("Courtesy reminder (before due)")
    REMINDER = "reminder", _("Overdue reminder")
    SECOND = "second", _("Second reminder")
    FINAL_NOTICE = "final_notice", _("Final notice")
    FINAL_DEMAND = "final_demand", _("Formal demand letter")


class InterestMode(models.TextChoices):
    NONE = "none", _("No interest")
    FIXED = "fixed", _("Fixed annual rate")
    STATUTORY = "statutory", _("Statutory base rate + margin")


class CatchUp(models.TextChoices):
    FIRST_MISSED = "first_missed", _("Send the first missed step, then continue the sequence")
    HIGHEST = "highest", _("Jump to the highest step reached")


class DunningPolicy(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default policy"), default=False)
    tone = models.CharField(_("tone"), max_length=20, choices=Tone.choices, default=Tone.STANDARD)
    interest_mode = models.CharField(_("late-payment interest"), max_length=20, choices=InterestMode.choices,
                                     default=InterestMode.NONE)
    interest_rate = models.DecimalField(_("annual interest rate (%)"), max_digits=7, decimal_places=4, default=0)
    statutory_base_rate = models.DecimalField(_("statutory base rate (%)"), max_digits=7, decimal_places=4, default=0)
    interest_margin = models.DecimalField(_("margin over base (%)"), max_digits=7, decimal_places=4, default=0)
    # Runs on a non-business day skip this policy's customers; the next business day catches up.
    business_days_only = models.BooleanField(_("send on business days only"), default=True)
    # ISO 3166 codes of the holiday calendars (python-holidays) whose working days are business
    # days, e.g. "CN" (statutory holidays and make-up working days); empty: Monday to Friday.
    holiday_calendars = models.CharField(_("holiday calendars"), max_length=100, blank=True, default="",
                                         help_text=_("Country codes, e.g. CN or CN,HK; empty: Monday to Friday."))
    # An invoice that missed steps (outage, import, dispute) gets the first missed one, never a
    # jump straight to a formal demand; HIGHEST keeps the old behaviour.
    catch_up = models.CharField(_("catch-up after missed steps"), max_length=20, choices=CatchUp.choices,
                                default=CatchUp.FIRST_MISSED)
    # No reminder while unapplied cash and credits on account cover the customer's overdue amount.
    hold_when_credit_covers = models.BooleanField(_("hold dunning while credit on account covers the overdue amount"),
                                                  default=True)
    # Early-payment discount, e.g. 2/10 net 30: 2% off when paid within 10 days of issue.
    discount_percent = models.DecimalField(_("early-payment discount (%)"), max_digits=5, decimal_places=2, default=0)
    discount_days = models.PositiveSmallIntegerField(_("discount window (days from issue)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="dunning_policy_name_unique"),
            models.UniqueConstraint(fields=["organization"], condition=Q(is_default=True),
                                    name="dunning_policy_one_default"),
            models.CheckConstraint(condition=Q(tone__in=Tone.values), name="dunning_policy_tone_valid"),
            models.CheckConstraint(condition=Q(interest_mode__in=InterestMode.values),
                                   name="dunning_policy_interest_mode_valid"),
            models.CheckConstraint(condition=Q(interest_rate__gte=0) & Q(interest_rate__lte=100)
                                   & Q(statutory_base_rate__gte=0) & Q(interest_margin__gte=0),
                                   name="dunning_policy_rates_sane"),
            models.CheckConstraint(condition=Q(discount_percent__gte=0) & Q(discount_percent__lt=100),
                                   name="dunning_policy_discount_sane"),
            models.CheckConstraint(condition=Q(catch_up__in=CatchUp.values), name="dunning_policy_catch_up_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def annual_rate(self):
        """The interest rate in percent a year that this policy charges."""
        if self.interest_mode == InterestMode.FIXED:
            return self.interest_rate
        if self.interest_mode == InterestMode.STATUTORY:
            return self.statutory_base_rate + self.interest_margin
        return 0


class DunningStep(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    policy = TenantForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="steps")
    days_from_due = models.SmallIntegerField(_("days from due date"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    template = models.CharField(_("template"), max_length=20, choices=StepTemplate.choices,
                                default=StepTemplate.REMINDER)
    fee_amount = AmountField(_("fixed fee"), default=0)
    # The fee's own currency (EUR 40 stays EUR 40 or its equivalent at the stored rate).
    fee_currency = CurrencyField(_("fee currency"))
    call_task = models.BooleanField(_("also create a call task"), default=False)

    class Meta:
        ordering = ["policy", "days_from_due"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "days_from_due", "organization"], name="dunning_step_days_unique"),
            models.CheckConstraint(condition=Q(days_from_due__gte=-365) & Q(days_from_due__lte=3650),
                                   name="dunning_step_days_sane"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="dunning_step_channel_valid"),
            models.CheckConstraint(condition=Q(fee_amount__gte=0), name="dunning_step_fee_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.days_from_due:+d} {self.channel}"


class SegmentPolicy(models.Model):
    """Customers of a segment follow this policy unless their own setting names another."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices)
    policy = TenantForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "segment"], name="dunning_segment_unique")]

    def __str__(self) -> str:
        return f"{self.segment} -> {self.policy_id}"


class CustomerDunning(models.Model):
    """Per-customer dunning: a policy override, exclusion, the assigned collector, flags."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = TenantOneToOneField(Customer, on_delete=models.CASCADE, related_name="dunning")
    policy = TenantForeignKey(DunningPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    excluded = models.BooleanField(_("excluded from dunning"), default=False)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("collector"))
    broken_promises = models.PositiveIntegerField(_("broken promises"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "customer"], name="customer_dunning_org_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: policy {self.policy_id}, excluded {self.excluded}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    # The record of one reminder a collector sent by hand; the daily run still runs that day.
    ONE_OFF = "one_off", _("One-off reminder")


class DunningRun(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    run_date = models.DateField(_("run date"))
    status = models.CharField(_("status"), max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    invoices_evaluated = models.PositiveIntegerField(default=0)
    notices_count = models.PositiveIntegerField(default=0)
    messages_count = models.PositiveIntegerField(default=0)
    tasks_count = models.PositiveIntegerField(default=0)
    triggered_by = models.CharField(max_length=200, default="system")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-started_at"], name="dunning_run_org_idx")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.run_date} ({self.status})"


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NO_RECIPIENT = "no_recipient", _("No contact email")


class DunningMessage(models.Model):
    """One message to one customer in one run: its exact rendered content, stored before sending."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    run = TenantForeignKey(DunningRun, on_delete=models.PROTECT, related_name="messages")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8, choices=Language.choices)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField()
    content_hash = models.CharField(max_length=64)
    has_letter = models.BooleanField(default=False)
    letter_pdf = models.BinaryField(null=True, blank=True)
    letter_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "customer", "organization"], name="dunning_message_once_per_run"),
            models.CheckConstraint(condition=Q(status__in=MessageStatus.values), name="dunning_message_status_valid"),
        ]
        indexes = [models.Index(fields=["organization", "customer", "-created_at"], name="dunning_message_cust_idx")]

    def __str__(self) -> str:
        return self.subject


class DunningNotice(models.Model):
    """Invoice `invoice` reached step `step`: recorded once, ever (the exactly-once rule)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    run = TenantForeignKey(DunningRun, on_delete=models.PROTECT, related_name="notices")
    message = TenantForeignKey(DunningMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="notices")
    invoice = TenantForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    step = TenantForeignKey(DunningStep, on_delete=models.PROTECT, related_name="+")
    step_days = models.SmallIntegerField()  # the step's days_from_due when sent: orders steps across policies
    channel = models.CharField(max_length=20, choices=Channel.choices)
    days_overdue = models.IntegerField()
    amount_due = AmountField(_("amount dunned"))
    currency = CurrencyField()
    fee_amount = AmountField(_("fee"), default=0)
    interest_amount = AmountField(_("interest"), default=0)
    # Interest billed on this notice accrued up to this date (each notice bills only what accrued
    # after the previous one).
    interest_through = models.DateField(null=True, blank=True)
    # The invoice that charged this notice's fee and interest, once raised.
    charges_invoice = TenantForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "step", "organization"], name="dunning_notice_once_per_step"),
        ]
        indexes = [models.Index(fields=["organization", "invoice", "step_days"], name="dunning_notice_inv_idx")]

    def __str__(self) -> str:
        return f"{self.invoice_id} @ {self.step_days:+d}"


class DisputeReason(models.TextChoices):
    PRICE = "price", _("Price")
    QUANTITY = "quantity", _("Quantity")
    QUALITY = "quality", _("Quality")
    NOT_RECEIVED = "not_received", _("Not received")
    DUPLICATE = "duplicate", _("Duplicate")
    OTHER = "other", _("Other")


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class DisputeResolution(models.TextChoices):
    CREDIT_NOTE = "credit_note", _("Credit note issued")
    CORRECTED = "corrected", _("Invoice corrected")
    REJECTED = "rejected", _("Rejected")


class Source(models.TextChoices):
    COLLECTOR = "collector", _("Collector")
    PORTAL = "portal", _("Customer portal")
    API = "api", _("API")


class Dispute(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    invoice = TenantForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    amount = AmountField(_("disputed amount"))
    currency = CurrencyField()
    reason = models.CharField(_("reason"), max_length=20, choices=DisputeReason.choices)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    resolution = models.CharField(_("resolution"), max_length=20, choices=DisputeResolution.choices, blank=True)
    resolution_notes = models.TextField(_("resolution notes"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("owner"))
    opened_on = models.DateField(_("opened on"))
    due_on = models.DateField(_("resolve by"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.COLLECTOR)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive"),
            models.CheckConstraint(condition=Q(reason__in=DisputeReason.values), name="dispute_reason_valid"),
            models.CheckConstraint(
                condition=Q(status=DisputeStatus.OPEN, resolved_on__isnull=True, resolution="")
                | (Q(status=DisputeStatus.RESOLVED, resolved_on__isnull=False) & ~Q(resolution="")),
                name="dispute_status_matches_resolution",
            ),
            models.CheckConstraint(condition=Q(due_on__gte=models.F("opened_on")), name="dispute_due_after_open"),
        ]
        indexes = [models.Index(fields=["organization", "status", "due_on"], name="dispute_org_status_idx"),
                   models.Index(fields=["organization", "invoice"], name="dispute_org_invoice_idx")]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.reason} ({self.status})"


class PromiseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class PromiseToPay(models.Model):
    """The customer promised `amount` by `promised_date`; the covered invoices are not dunned
    until that date plus the grace period. Kept or broken is decided from payments received."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoices = models.ManyToManyField(Invoice, through="PromiseToPayInvoice", related_name="+")
    amount = AmountField(_("amount"))
    currency = CurrencyField()
    promised_date = models.DateField(_("promised date"))
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=3)
    pause_until = models.DateField(_("dunning paused until"))  # promised_date + grace_days
    made_on = models.DateField(_("made on"))
    status = models.CharField(_("status"), max_length=20, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    settled_on = models.DateField(_("decided on"), null=True, blank=True)
    paid_amount = AmountField(_("paid towards it"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.COLLECTOR)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-made_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(condition=Q(promised_date__gte=models.F("made_on")), name="promise_date_after_made"),
            models.CheckConstraint(condition=Q(status__in=PromiseStatus.values), name="promise_status_valid"),
        ]
        indexes = [models.Index(fields=["organization", "status", "promised_date"], name="promise_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.amount} {self.currency} by {self.promised_date}"


class PromiseToPayInvoice(TenantLink):
    """An invoice a promise to pay covers (PromiseToPay.invoices).
    Explicit, not Django's auto-created table, so the row carries organization_id like every tenant
    table (tenancy.distribution); `.add()` and `.set()` fill it from the promisetopay."""

    promisetopay = TenantForeignKey(PromiseToPay, on_delete=models.CASCADE, related_name="+")
    invoice = TenantForeignKey(Invoice, on_delete=models.CASCADE, related_name="+")

    owner_field = "promisetopay"

    class Meta:
        db_table = "dunning_promisetopay_invoices"
        constraints = [models.UniqueConstraint(fields=["promisetopay", "invoice", "organization"],
                                               name="promise_invoice_once")]


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    DEFAULTED = "defaulted", _("Defaulted (installment missed)")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentPlan(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoices = models.ManyToManyField(Invoice, through="PaymentPlanInvoice", related_name="+")
    currency = CurrencyField()
    covered_amount = AmountField(_("covered balance"))
    interest_rate = models.DecimalField(_("annual interest (%)"), max_digits=7, decimal_places=4, default=0)
    interest_amount = AmountField(_("interest"), default=0)
    total_amount = AmountField(_("total to pay"))
    start_date = models.DateField(_("agreed on"))
    # The interest of the plan, billed on the ledger when the plan is agreed.
    charges_invoice = TenantForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=3)
    status = models.CharField(_("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    ended_on = models.DateField(null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(covered_amount__gt=0), name="plan_covered_positive"),
            models.CheckConstraint(condition=Q(total_amount=models.F("covered_amount") + models.F("interest_amount")),
                                   name="plan_total_is_covered_plus_interest"),
            models.CheckConstraint(condition=Q(status__in=PlanStatus.values), name="plan_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.total_amount} {self.currency} ({self.status})"


class PaymentPlanInvoice(TenantLink):
    """An invoice a payment plan covers (PaymentPlan.invoices).
    Explicit, not Django's auto-created table, so the row carries organization_id like every tenant
    table (tenancy.distribution); `.add()` and `.set()` fill it from the paymentplan."""

    paymentplan = TenantForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="+")
    invoice = TenantForeignKey(Invoice, on_delete=models.CASCADE, related_name="+")

    owner_field = "paymentplan"

    class Meta:
        db_table = "dunning_paymentplan_invoices"
        constraints = [models.UniqueConstraint(fields=["paymentplan", "invoice", "organization"],
                                               name="payment_plan_invoice_once")]


class Installment(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    plan = TenantForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="installments")
    sequence = models.PositiveSmallIntegerField()
    due_date = models.DateField(_("due date"))
    amount = AmountField(_("amount"))
    principal = AmountField(_("principal"), default=0)
    interest = AmountField(_("interest"), default=0)
    balance_after = AmountField(_("balance after"), default=0)  # principal still owed after this installment

    class Meta:
        ordering = ["plan", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence", "organization"], name="installment_sequence_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="installment_amount_positive"),
            # Exact on PostgreSQL (numeric(20, 4): a difference is at least 0.0001); the half-unit slack only
            # absorbs SQLite's binary floating-point sums on the embedded default.
            models.CheckConstraint(condition=Q(amount__gte=models.F("principal") + models.F("interest") - SUM_SLACK)
                                   & Q(amount__lte=models.F("principal") + models.F("interest") + SUM_SLACK),
                                   name="installment_amount_is_principal_plus_interest"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}#{self.sequence} {self.due_date} {self.amount}"


class TaskKind(models.TextChoices):
    CALL = "call", _("Call")
    FOLLOW_UP = "follow_up", _("Follow up")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class Outcome(models.TextChoices):
    CALLED = "called", _("Called")
    NO_ANSWER = "no_answer", _("No answer")
    PROMISED = "promised", _("Promised to pay")
    DISPUTED = "disputed", _("Disputed")
    WRONG_CONTACT = "wrong_contact", _("Wrong contact")
    PAID = "paid", _("Says paid")
    OTHER = "other", _("Other")


class CollectionTask(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices, default=TaskKind.CALL)
    title = models.CharField(_("title"), max_length=300)
    status = models.CharField(_("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("assigned to"))
    due_on = models.DateField(_("due on"))
    run = TenantForeignKey(DunningRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    last_outcome = models.CharField(_("last outcome"), max_length=20, choices=Outcome.choices, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["organization", "status", "due_on"], name="collection_task_org_idx")]

    def __str__(self) -> str:
        return self.title


class EventKind(models.TextChoices):
    NOTICE_SENT = "notice_sent", _("Notice sent")
    NOTICE_FAILED = "notice_failed", _("Notice failed")
    CALL = "call", _("Call logged")
    PORTAL_VIEW = "portal_view", _("Portal visited")
    PORTAL_DISPUTE = "portal_dispute", _("Dispute from portal")
    PORTAL_PROMISE = "portal_promise", _("Promise from portal")
    DISPUTE_OPENED = "dispute_opened", _("Dispute opened")
    DISPUTE_RESOLVED = "dispute_resolved", _("Dispute resolved")
    PROMISE_MADE = "promise_made", _("Promise to pay")
    PROMISE_KEPT = "promise_kept", _("Promise kept")
    PROMISE_BROKEN = "promise_broken", _("Promise broken")
    PLAN_CREATED = "plan_created", _("Payment plan agreed")
    PLAN_DEFAULTED = "plan_defaulted", _("Payment plan defaulted")
    PLAN_COMPLETED = "plan_completed", _("Payment plan completed")


class CustomerEvent(models.Model):
    """The customer's timeline: every communication and collection action, append-only."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, default="system")
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["organization", "customer", "-occurred_at"], name="customer_event_idx")]


    def __str__(self) -> str:
        return f"{self.kind}: {self.summary}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Timeline entries are append-only.")
        super().save(*args, **kwargs)


class MessageTemplate(models.Model):
    """An organization's own wording of a step's message in one language (issue 14 item 4).
    Plain text with `{{ variable }}` placeholders from a fixed list, never a Django template:
    an admin's text cannot reach attributes or tags. Without a row the files under
    templates/emails/dunning/<language>/ are used."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    template = models.CharField(_("step template"), max_length=20, choices=StepTemplate.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"), max_length=20000)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["template", "language"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "template", "language"],
                                    name="dunning_message_template_unique"),
            models.CheckConstraint(condition=Q(template__in=StepTemplate.values),
                                   name="dunning_message_template_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.template} ({self.language})"


class OneOffReminder(models.Model):
    """A reminder a collector sent to one customer outside the daily run: its message (with the
    exact text sent) and the step whose wording it started from. The key makes a double submit
    of the same form one reminder."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    message = TenantOneToOneField(DunningMessage, on_delete=models.PROTECT, related_name="one_off")
    template = models.CharField(max_length=20, choices=StepTemplate.choices)
    key = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="dunning_one_off_key_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.template}"
