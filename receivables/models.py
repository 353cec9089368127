"""The receivables ledger: customers, invoices, payments, credit notes, write-offs,
the allocations that tie cash and credits to invoices, and FX rates.

An invoice's balance is `total_amount - applied_amount`; `applied_amount` is the sum of its
allocations, kept in step by the services under row locks and bounded by CHECK constraints,
so no code path can over-apply an invoice or a payment.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from tenancy.distribution import TenantForeignKey, TenantLink
from tenancy.models import Language, Organization
from tenancy.money import AMOUNT_DIGITS, AMOUNT_PLACES, currency_choices


def AmountField(verbose_name, **kwargs):  # noqa: N802 - reads like a field class
    return models.DecimalField(verbose_name, max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **kwargs)


def CurrencyField(verbose_name=None, **kwargs):  # noqa: N802
    return models.CharField(verbose_name or _("currency"), max_length=3, choices=currency_choices, **kwargs)


class Segment(models.TextChoices):
    STANDARD = "standard", _("Standard")
    STRATEGIC = "strategic", _("Strategic")
    KEY_ACCOUNT = "key_account", _("Key account")
    SMALL = "small", _("Small business")
    GOVERNMENT = "government", _("Government")


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


# Digits with the usual separators and an optional leading +: "+86 21 6888 1234", "(021) 6888-1234 ext. 8".
PHONE_VALIDATOR = RegexValidator(r"^\+?[0-9(][0-9 ()./-]{2,30}(\s*(ext\.?|x|转)\s*[0-9]{1,6})?$",
                                 _("Enter a phone number: digits, spaces, + ( ) - . / and an extension."))


class Customer(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=300, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=64, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166 alpha-2"))
    currency = CurrencyField()
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.EN)
    contact_emails = models.JSONField(_("contact emails"), default=list, blank=True)
    # Whom to call about payments (the worklist and the customer page show them beside the emails).
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True, default="", db_default="")
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True, default="", db_default="",
                                     validators=[PHONE_VALIDATOR])
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices, default=Segment.STANDARD)
    status = models.CharField(_("status"), max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="customer_external_id_unique"),
            models.UniqueConstraint(fields=["organization", "id"], name="customer_org_id_unique"),
            models.CheckConstraint(condition=Q(payment_terms_days__lte=3650), name="customer_terms_sane"),
            models.CheckConstraint(condition=Q(segment__in=Segment.values), name="customer_segment_valid"),
            models.CheckConstraint(condition=Q(status__in=CustomerStatus.values), name="customer_status_valid"),
        ]
        indexes = [
            models.Index(fields=["organization", "name"], name="customer_org_name_idx"),
            models.Index(fields=["organization", "updated_at", "id"], name="customer_org_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
    WRITTEN_OFF = "written_off", _("Written off")


class InvoiceKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    # Late interest and fees billed for existing debt: passes the credit hold (audited as such)
    # and never accrues interest or fees itself.
    CHARGES = "charges", _("Charges")


class Invoice(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("number"), max_length=64)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    currency = CurrencyField()
    net_amount = AmountField(_("net amount"))
    tax_amount = AmountField(_("tax amount"), default=0)
    total_amount = AmountField(_("total amount"))
    applied_amount = AmountField(_("applied amount"), default=0, editable=False)
    written_off_amount = AmountField(_("written-off amount"), default=0, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN,
                              editable=False)
    voided_on = models.DateField(_("voided on"), null=True, blank=True, editable=False)
    description = models.TextField(_("description"), blank=True)
    po_reference = models.CharField(_("PO reference"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.STANDARD)
    # Its value at issue (docs/ledger.md): base-currency units per unit of `currency` on the issue date
    # (1 in the base currency) and total x that rate; empty while no rate on or before that date is stored.
    issue_rate = models.DecimalField(_("rate at issue"), max_digits=20, decimal_places=10, null=True, blank=True,
                                     editable=False)
    base_amount = AmountField(_("base-currency value at issue"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="invoice_number_unique"),
            models.UniqueConstraint(fields=["organization", "external_id"], name="invoice_external_id_unique"),
            # Target of the composite foreign keys from allocations (see migration 0002).
            models.UniqueConstraint(fields=["id", "organization", "currency"], name="invoice_id_org_currency_unique"),
            models.CheckConstraint(condition=Q(net_amount__gte=0) & Q(tax_amount__gte=0), name="invoice_parts_nonnegative"),
            models.CheckConstraint(condition=Q(total_amount=F("net_amount") + F("tax_amount")),
                                   name="invoice_total_is_net_plus_tax"),
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="invoice_total_positive"),
            models.CheckConstraint(
                condition=Q(applied_amount__gte=0) & Q(applied_amount__lte=F("total_amount")),
                name="invoice_never_over_applied",
            ),
            models.CheckConstraint(
                condition=Q(written_off_amount__gte=0) & Q(written_off_amount__lte=F("applied_amount")),
                name="invoice_write_off_within_applied",
            ),
            models.CheckConstraint(condition=Q(due_date__gte=F("issue_date")), name="invoice_due_after_issue"),
            models.CheckConstraint(condition=Q(kind__in=InvoiceKind.values), name="invoice_kind_valid"),
            models.CheckConstraint(
                condition=Q(voided_on__isnull=True) | (Q(status=InvoiceStatus.VOID) & Q(applied_amount=0)),
                name="invoice_void_has_nothing_applied",
            ),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.VOID, voided_on__isnull=False)
                | Q(status=InvoiceStatus.OPEN, voided_on__isnull=True, applied_amount=0)
                | Q(status=InvoiceStatus.PARTIALLY_PAID, voided_on__isnull=True, applied_amount__gt=0,
                    applied_amount__lt=F("total_amount"))
                | Q(status__in=[InvoiceStatus.PAID, InvoiceStatus.WRITTEN_OFF], voided_on__isnull=True,
                    applied_amount=F("total_amount")),
                name="invoice_status_matches_ledger",
            ),
        ]
        indexes = [
            # The open book, for aging "as of today" and every open-item list.
            models.Index(
                fields=["organization", "customer", "due_date"],
                name="invoice_open_idx",
                condition=Q(voided_on__isnull=True) & Q(applied_amount__lt=F("total_amount")),
            ),
            models.Index(fields=["organization", "customer", "issue_date"], name="invoice_org_customer_issue_idx"),
            models.Index(fields=["organization", "issue_date"], name="invoice_org_issue_idx"),
            models.Index(fields=["organization", "due_date"], name="invoice_org_due_idx"),
            models.Index(fields=["organization", "status"], name="invoice_org_status_idx"),
            models.Index(fields=["organization", "updated_at", "id"], name="invoice_org_updated_idx"),
            # Aging as of a past date still counts invoices voided after it.
            models.Index(fields=["organization", "voided_on"], name="invoice_org_voided_idx",
                         condition=Q(voided_on__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def balance(self):
        return self.total_amount - self.applied_amount if self.voided_on is None else 0

    @property
    def paid_amount(self):
        return self.applied_amount - self.written_off_amount


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CHECK = "check", _("Cheque")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    BANK_ACCEPTANCE = "bank_acceptance", _("Bank acceptance bill")
    OTHER = "other", _("Other")


class PaymentStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    REVERSED = "reversed", _("Reversed")


class Payment(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    received_on = models.DateField(_("received on"))
    amount = AmountField(_("amount"))
    unapplied_amount = AmountField(_("unapplied amount"), editable=False)
    currency = CurrencyField()
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)
    # A returned, bounced or mistaken payment is reversed on a date (docs/ledger.md): its allocations
    # are undone by negative allocations dated then, and what was unapplied leaves the books.
    # Database defaults too: bulk loaders (COPY, bench/generate.py) that predate these columns keep working.
    status = models.CharField(_("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.RECEIVED,
                              db_default=PaymentStatus.RECEIVED, editable=False)
    reversed_on = models.DateField(_("reversed on"), null=True, blank=True, editable=False)
    reversal_reason = models.CharField(_("reversal reason"), max_length=300, blank=True, default="", db_default="",
                                       editable=False)
    reversal_fee_invoice = TenantForeignKey("Invoice", null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="+", editable=False)
    refunded_amount = AmountField(_("refunded amount"), default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="payment_external_id_unique"),
            models.UniqueConstraint(fields=["id", "organization", "currency"], name="payment_id_org_currency_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unapplied_amount__gte=0) & Q(refunded_amount__gte=0)
                & Q(unapplied_amount__lte=F("amount") - F("refunded_amount")),
                name="payment_never_over_applied",
            ),
            models.CheckConstraint(
                condition=Q(status=PaymentStatus.RECEIVED, reversed_on__isnull=True)
                | Q(status=PaymentStatus.REVERSED, reversed_on__isnull=False, unapplied_amount=0),
                name="payment_status_matches_reversal",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "customer", "received_on"], name="payment_org_customer_idx"),
            models.Index(fields=["organization", "updated_at", "id"], name="payment_org_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.reference or f"#{self.pk}"


class CreditNoteStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    REVERSED = "reversed", _("Reversed")


class CreditNote(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    customer = TenantForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(_("number"), max_length=64)
    issued_on = models.DateField(_("issued on"))
    amount = AmountField(_("amount"))
    unapplied_amount = AmountField(_("unapplied amount"), editable=False)
    currency = CurrencyField()
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=CreditNoteStatus.choices,
                              default=CreditNoteStatus.ISSUED, db_default=CreditNoteStatus.ISSUED, editable=False)
    reversed_on = models.DateField(_("reversed on"), null=True, blank=True, editable=False)
    reversal_reason = models.CharField(_("reversal reason"), max_length=300, blank=True, default="", db_default="",
                                       editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="credit_note_number_unique"),
            models.UniqueConstraint(fields=["organization", "external_id"], name="credit_note_external_id_unique"),
            models.UniqueConstraint(fields=["id", "organization", "currency"], name="credit_note_id_org_currency_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive"),
            models.CheckConstraint(
                condition=Q(unapplied_amount__gte=0) & Q(unapplied_amount__lte=F("amount")),
                name="credit_note_never_over_applied",
            ),
            models.CheckConstraint(
                condition=Q(status=CreditNoteStatus.ISSUED, reversed_on__isnull=True)
                | Q(status=CreditNoteStatus.REVERSED, reversed_on__isnull=False, unapplied_amount=0),
                name="credit_note_status_matches_reversal",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "updated_at", "id"], name="credit_note_org_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class WriteOff(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    invoice = TenantForeignKey(Invoice, on_delete=models.PROTECT, related_name="write_offs")
    written_off_on = models.DateField(_("written off on"))
    amount = AmountField(_("amount"))
    currency = CurrencyField()
    reason = models.CharField(_("reason"), max_length=300)
    # What later reversals gave back to the invoice (a bad debt recovered, partly or in full).
    reversed_amount = AmountField(_("reversed amount"), default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-written_off_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["id", "organization", "currency"], name="write_off_id_org_currency_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="write_off_amount_positive"),
            models.CheckConstraint(condition=Q(reversed_amount__gte=0) & Q(reversed_amount__lte=F("amount")),
                                   name="write_off_reversed_within_amount"),
        ]
        indexes = [
            models.Index(fields=["organization", "updated_at", "id"], name="write_off_org_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} written off {self.written_off_on}"



class AllocationKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    CREDIT_NOTE = "credit_note", _("Credit note")
    WRITE_OFF = "write_off", _("Write-off")


class Allocation(models.Model):
    """Part of an invoice settled, on a date, by a payment, a credit note or a write-off."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    invoice = TenantForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    kind = models.CharField(max_length=20, choices=AllocationKind.choices)
    payment = TenantForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    credit_note = TenantForeignKey(CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    write_off = TenantForeignKey(WriteOff, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    amount = AmountField(_("amount"))
    currency = CurrencyField()
    applied_on = models.DateField(_("applied on"))
    # A payment in another currency than the invoice's (docs/ledger.md): what this allocation used of
    # it, in its currency. Empty when the currencies are the same.
    payment_amount = AmountField(_("amount in the payment's currency"), null=True, blank=True)
    payment_currency = CurrencyField(_("payment currency"), null=True, blank=True)
    # The currency of the payment or credit note (the composite foreign key to it follows this column).
    source_currency = models.GeneratedField(expression=Coalesce("payment_currency", "currency"),
                                            output_field=models.CharField(max_length=3), db_persist=True)
    # Payments involving a currency other than the base currency: the value received in base currency
    # (at the receipt date's rate) and the realized exchange difference against the invoice's value at issue.
    base_amount = AmountField(_("base-currency value received"), null=True, blank=True)
    fx_difference = AmountField(_("realized exchange difference"), null=True, blank=True)
    # A reversal (unapply, payment / credit note / write-off reversal) is a new, dated, negative row
    # linked to the allocation it undoes; history is never edited (docs/ledger.md).
    reverses = TenantForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals",
                                verbose_name=_("reverses"))
    reason = models.CharField(_("reason"), max_length=300, blank=True, default="", db_default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["applied_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(payment_currency__isnull=True, payment_amount__isnull=True)
                | (Q(kind=AllocationKind.PAYMENT, payment_currency__isnull=False, payment_amount__isnull=False)
                   & ~Q(payment_currency=F("currency"))),
                name="allocation_cross_currency_shape",
            ),
            models.CheckConstraint(
                condition=Q(payment_amount__isnull=True) | Q(amount__gt=0, payment_amount__gt=0)
                | Q(amount__lt=0, payment_amount__lt=0),
                name="allocation_payment_amount_sign",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0, reverses__isnull=True) | Q(amount__lt=0, reverses__isnull=False),
                                   name="allocation_sign_matches_reversal"),
            models.CheckConstraint(
                condition=Q(kind=AllocationKind.PAYMENT, payment__isnull=False, credit_note__isnull=True, write_off__isnull=True)
                | Q(kind=AllocationKind.CREDIT_NOTE, payment__isnull=True, credit_note__isnull=False, write_off__isnull=True)
                | Q(kind=AllocationKind.WRITE_OFF, payment__isnull=True, credit_note__isnull=True, write_off__isnull=False),
                name="allocation_one_source",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "applied_on"], name="allocation_org_applied_idx"),
            models.Index(fields=["organization", "invoice"], name="allocation_org_invoice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} -> invoice {self.invoice_id}"

    @property
    def magnitude(self):
        """The amount without its sign (a reversal's amount is negative)."""
        return abs(self.amount)



class Refund(models.Model):
    """Unapplied cash paid back to the customer, on a date."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    payment = TenantForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = AmountField(_("amount"))
    currency = CurrencyField()
    refunded_on = models.DateField(_("refunded on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["refunded_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]
        indexes = [models.Index(fields=["organization", "refunded_on"], name="refund_org_refunded_idx")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} refunded {self.refunded_on}"


class LedgerSettings(models.Model):
    """An organization's ledger options (one row per organization, created on first change)."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="ledger_settings")
    auto_apply_unapplied_cash = models.BooleanField(
        _("apply unapplied cash to new invoices"), default=False,
        help_text=_("A new invoice is paid at once from the customer's unapplied cash, oldest payment first."))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"ledger settings of {self.organization_id}"


class FxRate(models.Model):
    """Units of the organization's base currency for one unit of `currency`, from `rate_date` on."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    rate_date = models.DateField(_("date"))
    rate = models.DecimalField(_("rate"), max_digits=20, decimal_places=10)

    class Meta:
        ordering = ["currency", "-rate_date"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "currency", "rate_date"], name="fx_rate_unique_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="fx_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} from {self.rate_date}"



class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    INVOICES = "invoices", _("Invoices")
    PAYMENTS = "payments", _("Payments")


class ImportMapping(models.Model):
    """A saved column mapping for one kind of file from one ERP, reused on the next upload."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    columns = models.JSONField(_("columns"), default=dict)  # our field -> their column
    date_format = models.CharField(_("date format"), max_length=32, default="%Y-%m-%d")
    decimal_separator = models.CharField(_("decimal separator"), max_length=1, default=".")
    default_currency = models.CharField(_("default currency"), max_length=3, blank=True)
    defaults = models.JSONField(_("default values"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="import_mapping_name_unique")]

    def __str__(self) -> str:
        return self.name



class ImportStatus(models.TextChoices):
    READING = "reading", _("Reading the file")  # uploaded; the background task is reading it
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


def import_upload_to(job: "ImportJob", file_name: str) -> str:
    """imports/<organization id>/<year>/<month>/<random name>.<ext> (the storage draws the name)."""
    from django.utils import timezone

    return f"imports/{job.organization_id}/{timezone.now():%Y/%m}/{file_name}"


class ImportJob(models.Model):
    """One file import: its progress while it runs and its outcome (counts or row errors)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=import_upload_to, blank=True)
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="import_job_org_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind} import {self.file_name} ({self.status})"


# --- weekly aging report (receivables.reporting) ---------------------------------------------

import datetime as _dt  # noqa: E402

from tenancy.models import validate_timezone  # noqa: E402


def report_storage():
    """Where report files go: STORAGES["reports"] when configured, else a private folder.

    The default sits beside MEDIA_ROOT, not inside it, so no static URL ever serves a report;
    members download them through the archive view, which checks the organization."""
    from django.core.files.storage import storages

    if "reports" in settings.STORAGES:
        return storages["reports"]
    from receivables.reporting.storage import PrivateReportStorage

    return PrivateReportStorage()



class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def default_send_time() -> _dt.time:
    return _dt.time(8, 0)


class WeeklyReportSchedule(models.Model):
    """When and to whom an organization's weekly aging report goes (one per organization)."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="weekly_report_schedule")
    enabled = models.BooleanField(_("enabled"), default=False)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices, default=Weekday.MONDAY)
    send_time = models.TimeField(_("local time"), default=default_send_time)
    timezone = models.CharField(_("time zone"), max_length=64, validators=[validate_timezone])
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.EN)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, through="WeeklyReportRecipient", blank=True, related_name="+",
                                        verbose_name=_("member recipients"))
    external_recipients = models.JSONField(_("external recipients"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="weekly_schedule_weekday_valid"),
            models.CheckConstraint(condition=Q(language__in=Language.values), name="weekly_schedule_language_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.get_weekday_display()} {self.send_time} {self.timezone}"


class WeeklyReportRecipient(TenantLink):
    """A member who gets the weekly report (WeeklyReportSchedule.recipients).
    Explicit, not Django's auto-created table, so the row carries organization_id like every tenant
    table (tenancy.distribution); `.add()` and `.set()` fill it from the schedule."""

    weeklyreportschedule = TenantForeignKey(WeeklyReportSchedule, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    owner_field = "weeklyreportschedule"

    class Meta:
        db_table = "receivables_weeklyreportschedule_recipients"
        constraints = [models.UniqueConstraint(fields=["weeklyreportschedule", "user", "organization"],
                                               name="weekly_report_recipient_once")]


class WeeklyReportKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    MANUAL = "manual", _("Sent now")


class WeeklyReportStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RENDERING = "rendering", _("Rendering")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class WeeklyReport(models.Model):
    """One produced aging report: its as-of date, files and delivery status.

    A scheduled report is unique per (organization, week_start): inserting that row is how a
    worker claims the week, so beat firing twice or two workers never produce it twice.
    Manual ("send now") reports are extra rows outside that rule, at most one in flight."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=WeeklyReportKind.choices, default=WeeklyReportKind.SCHEDULED)
    week_start = models.DateField(_("week of"))
    as_of = models.DateField(_("as of"))
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.EN)
    status = models.CharField(_("status"), max_length=20, choices=WeeklyReportStatus.choices,
                              default=WeeklyReportStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    pdf = models.FileField(_("PDF"), storage=report_storage, upload_to="weekly/%Y/", blank=True)
    xlsx = models.FileField(_("XLSX"), storage=report_storage, upload_to="weekly/%Y/", blank=True)
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "week_start"], condition=Q(kind="scheduled"),
                                    name="weekly_report_once_per_week"),
            models.UniqueConstraint(fields=["organization"], condition=Q(kind="manual", status__in=["pending", "rendering"]),
                                    name="weekly_report_one_manual_in_flight"),
            models.CheckConstraint(condition=Q(kind__in=WeeklyReportKind.values), name="weekly_report_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=WeeklyReportStatus.values), name="weekly_report_status_valid"),
            models.CheckConstraint(condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"),
                                   name="weekly_report_sent_has_time"),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="weekly_report_org_created_idx")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.kind} {self.as_of}"
