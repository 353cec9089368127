"""Browser forms for the receivables pages. They only parse input; services apply every rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from tenancy.forms import DateInput, StrictDecimalField
from tenancy.models import Language
from tenancy.money import AMOUNT_PLACES, CURRENCY_CHOICES, money_format, quantize

from .models import PHONE_VALIDATOR, CreditNote, Customer, CustomerStatus, PaymentMethod, Segment
from .unusual import UNUSUAL_FACTOR, unusual_invoice_amount, unusual_payment_amount

OPTIONAL_CURRENCY = [("", _("Customer's currency")), *CURRENCY_CHOICES]


class UnusualAmountConfirm:
    """Asks to confirm an amount far above the customer's usual (the rule: receivables.unusual) with a
    checkbox that appears beside the amount only then; the API and the importer never ask."""

    CONFIRM = "confirm_unusual"

    def confirm_field_add(self, after: str) -> None:
        self.fields[self.CONFIRM] = forms.BooleanField(
            label=_("Yes, this amount is right"), required=False, widget=forms.HiddenInput)
        names = [name for name in self.fields if name != self.CONFIRM]
        cut = names.index(after) + 1
        self.order_fields([*names[:cut], self.CONFIRM, *names[cut:]])
        if self.is_bound and self.data.get(self.CONFIRM) in ("on", "true", "True", "1"):
            self.fields[self.CONFIRM].widget = forms.CheckboxInput()  # ticked once: keep showing it

    def confirm_check(self, unusual, field: str) -> None:
        """Refuse an unusual amount until the box is ticked; the services never see the box."""
        confirmed = self.cleaned_data.pop(self.CONFIRM, False)
        if unusual is None or confirmed:
            return
        self.fields[self.CONFIRM].widget = forms.CheckboxInput()
        self.add_error(field, _(
            "%(amount)s is more than %(factor)s times this customer's usual invoice (the median of its "
            "%(count)s invoices in %(currency)s over the last year is %(median)s). If the amount is right, "
            "tick \"Yes, this amount is right\" and save again.") % {
            "amount": money_format(unusual.amount, unusual.currency), "factor": UNUSUAL_FACTOR,
            "count": unusual.invoices, "currency": unusual.currency,
            "median": money_format(unusual.median, unusual.currency)})


def AmountField(label, **kwargs):  # noqa: N802 - reads like a field class
    return StrictDecimalField(label=label, max_digits=20, decimal_places=AMOUNT_PLACES, **kwargs)


class OrganizationCustomerField(forms.ModelChoiceField):
    """A customer choice limited to one organization (never an unscoped queryset)."""

    def __init__(self, organization, **kwargs):
        super().__init__(queryset=Customer.objects.filter(organization=organization).order_by("name"), **kwargs)


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    legal_name = forms.CharField(label=_("Legal name"), max_length=300, required=False)
    registration_number = forms.CharField(label=_("Registration number"), max_length=64, required=False,
                                          help_text=_("e.g. the unified social credit code"))
    country = forms.CharField(label=_("Country"), max_length=2, required=False, help_text=_("ISO 3166 alpha-2"))
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    payment_terms_days = forms.IntegerField(label=_("Payment terms (days)"), min_value=0, max_value=3650)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    contact_emails = forms.CharField(label=_("Contact emails"), required=False,
                                     help_text=_("Comma separated."))
    contact_name = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False,
                                    validators=[PHONE_VALIDATOR], help_text=_("e.g. +86 21 6888 1234"))
    segment = forms.ChoiceField(label=_("Segment"), choices=Segment.choices)
    status = forms.ChoiceField(label=_("Status"), choices=CustomerStatus.choices)
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)

    @classmethod
    def for_organization(cls, organization, data=None):
        return cls(data=data, initial={
            "currency": organization.base_currency,
            "payment_terms_days": organization.default_payment_terms_days,
            "language": organization.default_language,
        })

    def clean_contact_emails(self) -> list[str]:
        raw = self.cleaned_data["contact_emails"].replace(";", ",")
        emails = [e.strip() for e in raw.split(",") if e.strip()]
        for email in emails:
            validate_email(email)
        return emails

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean_external_id(self) -> str | None:
        return self.cleaned_data["external_id"].strip() or None


class InvoiceCreateForm(UnusualAmountConfirm, forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    number = forms.CharField(label=_("Invoice number"), max_length=64)
    issue_date = forms.DateField(label=_("Issue date"), widget=DateInput())
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput(),
                               help_text=_("Leave empty for the issue date plus the customer's terms."))
    currency = forms.ChoiceField(label=_("Currency"), required=False, choices=OPTIONAL_CURRENCY)
    net_amount = AmountField(_("Net amount"))
    tax_amount = AmountField(_("Tax amount"), initial=Decimal("0"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    po_reference = forms.CharField(label=_("PO reference"), max_length=100, required=False)
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)

    def __init__(self, organization, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["customer"] = OrganizationCustomerField(organization, label=_("Customer"))
        self.confirm_field_add(after="tax_amount")

    def clean(self):
        data = super().clean()
        customer, net, tax, issued = (data.get("customer"), data.get("net_amount"), data.get("tax_amount"),
                                      data.get("issue_date"))
        unusual = None
        if customer is not None and net is not None and issued is not None:
            unusual = unusual_invoice_amount(self.organization, customer, data.get("currency") or customer.currency,
                                             net + (tax or Decimal("0")), issued)
        self.confirm_check(unusual, "net_amount")
        return data


class InvoiceVoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class InvoiceWriteOffForm(forms.Form):
    amount = AmountField(_("Amount"), required=False, help_text=_("Leave empty to write off the whole balance."))
    reason = forms.CharField(label=_("Reason"), max_length=300)
    written_off_on = forms.DateField(label=_("Date"), required=False, widget=DateInput())


class CreditNoteApplyForm(forms.Form):
    """Apply an existing credit note of the customer, or issue a new one, to an invoice."""

    credit_note = forms.ModelChoiceField(label=_("Existing credit note"), required=False, queryset=None,
                                         empty_label=_("— issue a new credit note —"))
    number = forms.CharField(label=_("New credit note number"), max_length=64, required=False)
    issued_on = forms.DateField(label=_("Issued on"), required=False, widget=DateInput())
    amount = AmountField(_("Amount"))
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, invoice, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_note"].queryset = CreditNote.objects.filter(
            organization_id=invoice.organization_id, customer_id=invoice.customer_id, currency=invoice.currency,
            unapplied_amount__gt=0,
        )

    def clean(self):
        data = super().clean()
        if not data.get("credit_note"):
            if not data.get("number"):
                self.add_error("number", _("Give the new credit note a number, or pick an existing one."))
            if not data.get("issued_on"):
                self.add_error("issued_on", _("A new credit note needs its issue date."))
        return data


class PaymentRecordForm(UnusualAmountConfirm, forms.Form):
    ALLOCATE_AUTO = "auto"
    ALLOCATE_NONE = "none"

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    amount = AmountField(_("Amount"))
    currency = forms.ChoiceField(label=_("Currency"), required=False, choices=OPTIONAL_CURRENCY)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)
    allocation = forms.ChoiceField(
        label=_("Allocation"), widget=forms.RadioSelect, initial=ALLOCATE_AUTO,
        choices=[(ALLOCATE_AUTO, _("Apply to open invoices, oldest due first")),
                 (ALLOCATE_NONE, _("Leave unapplied for now"))],
    )

    def __init__(self, organization, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["customer"] = OrganizationCustomerField(organization, label=_("Customer"))
        self.confirm_field_add(after="amount")

    def clean(self):
        data = super().clean()
        customer, amount, received = data.get("customer"), data.get("amount"), data.get("received_on")
        unusual = None
        if customer is not None and amount is not None and received is not None:
            unusual = unusual_payment_amount(self.organization, customer, data.get("currency") or customer.currency,
                                             amount, received)
        self.confirm_check(unusual, "amount")
        return data


class PaymentAllocateForm(forms.Form):
    """One amount field per open invoice of the payment's customer (`invoice_<pk>`); for an invoice in
    another currency than `payment_currency`, also what it uses of the payment (`payment_amount_<pk>`,
    the bank's figure; empty: the stored rates of the receipt date)."""

    def __init__(self, invoices, *args, payment_currency: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = list(invoices)
        self.payment_currency = payment_currency
        for invoice in self.invoices:
            self.fields[self.field_name(invoice)] = AmountField(invoice.number, required=False, min_value=Decimal("0"))
            if self._converts(invoice):
                self.fields[self.payment_field_name(invoice)] = AmountField(
                    _("%(number)s in %(currency)s") % {"number": invoice.number, "currency": payment_currency},
                    required=False, min_value=Decimal("0"))

    def _converts(self, invoice) -> bool:
        return self.payment_currency is not None and invoice.currency != self.payment_currency

    @staticmethod
    def field_name(invoice) -> str:
        return f"invoice_{invoice.pk}"

    @staticmethod
    def payment_field_name(invoice) -> str:
        return f"payment_amount_{invoice.pk}"

    def rows(self):
        """(invoice, its amount field, its payment-currency field or None)."""
        return [(invoice, self[self.field_name(invoice)],
                 self[self.payment_field_name(invoice)] if self._converts(invoice) else None)
                for invoice in self.invoices]

    def allocations(self):
        from .services import Conversion

        lines = []
        for invoice in self.invoices:
            value = self.cleaned_data.get(self.field_name(invoice))
            if value:
                paid = self.cleaned_data.get(self.payment_field_name(invoice)) if self._converts(invoice) else None
                lines.append((invoice, value, Conversion(payment_amount=paid)) if paid else (invoice, value))
        return lines

    def clean(self):
        data = super().clean()
        if not self.errors and not self.allocations():
            raise forms.ValidationError(_("Enter an amount for at least one invoice, or use automatic allocation."))
        return data


class FxRateForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    rate_date = forms.DateField(label=_("From date"), widget=DateInput())
    rate = forms.DecimalField(label=_("Rate"), max_digits=20, decimal_places=10, min_value=Decimal("0"),
                              help_text=_("Units of the base currency for one unit of this currency."))


class StaleEdit(Exception):
    """The row changed since the user opened the edit form."""


class VersionedForm(forms.Form):
    """An edit form that remembers which version of the row the user opened (its `updated_at`), so
    a save over someone else's change is refused instead of silently overwriting it."""

    STALE_MESSAGE = _("This record was changed by someone else since you opened it; review and save again.")

    updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_updated_at(self):
        try:
            return dt.datetime.fromisoformat(self.cleaned_data["updated_at"])
        except ValueError:
            return None

    def clean(self):
        data = super().clean()
        if "updated_at" in data and data["updated_at"] is None:
            raise forms.ValidationError(_("This form is incomplete; open the edit page again."))
        return data

    def is_stale(self, current) -> bool:
        """True when the row changed since the user opened the form."""
        return self.cleaned_data["updated_at"] != current.updated_at

    def fresh_check(self, current) -> None:
        """A service's `precondition`: refuse (StaleEdit) when the locked row changed since the form was opened."""
        if self.is_stale(current):
            raise StaleEdit


class EditVersionForm(VersionedForm):
    """A ledger correction form: the `edit_fields` a service accepts, with the version opened."""

    edit_fields: tuple[str, ...] = ()

    @classmethod
    def for_object(cls, obj, data=None):
        initial = {name: getattr(obj, name) for name in cls.edit_fields}
        for name, value in initial.items():  # amounts as the currency writes them (9800.00 EUR, 5000 JPY),
            if isinstance(value, Decimal) and quantize(value, obj.currency) == value:  # unless that rounds
                initial[name] = quantize(value, obj.currency)
        if "external_id" in cls.edit_fields:
            initial["external_id"] = obj.external_id or ""
        initial["updated_at"] = obj.updated_at.isoformat()
        return cls(data=data, initial=initial)

    def clean_external_id(self) -> str | None:
        return self.cleaned_data["external_id"].strip() or None

    def disable(self) -> None:
        for name in self.edit_fields:
            self.fields[name].disabled = True

    def changes(self, current) -> dict:
        """The fields whose value differs from the row as it is now (only those go to the service)."""
        return {name: self.cleaned_data[name] for name in self.edit_fields
                if self.cleaned_data[name] != getattr(current, name)}


class CustomerEditForm(VersionedForm, CustomerForm):
    """CustomerForm for an existing customer, with the version the user opened."""

    @classmethod
    def for_customer(cls, customer: Customer, data=None):
        initial = {name: getattr(customer, name) for name in cls.base_fields if name != "updated_at"}
        initial["contact_emails"] = ", ".join(customer.contact_emails or [])
        initial["external_id"] = customer.external_id or ""
        initial["updated_at"] = customer.updated_at.isoformat()
        return cls(data=data, initial=initial)

    def changes(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "updated_at"}


class InvoiceUpdateForm(EditVersionForm):
    """Correct an invoice: the fields `services.invoice_update` accepts."""

    edit_fields = ("issue_date", "due_date", "net_amount", "tax_amount", "description", "po_reference",
                   "external_id")

    issue_date = forms.DateField(label=_("Issue date"), widget=DateInput())
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())
    net_amount = AmountField(_("Net amount"))
    tax_amount = AmountField(_("Tax amount"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    po_reference = forms.CharField(label=_("PO reference"), max_length=100, required=False)
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)


class CreditNoteUpdateForm(EditVersionForm):
    """Correct a credit note: the fields `services.credit_note_update` accepts."""

    edit_fields = ("number", "issued_on", "amount", "reason", "external_id")

    number = forms.CharField(label=_("Number"), max_length=64)
    issued_on = forms.DateField(label=_("Issued on"), widget=DateInput())
    amount = AmountField(_("Amount"))
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)


class WriteOffUpdateForm(EditVersionForm):
    """Correct the reason recorded for a write-off (`services.write_off_update`)."""

    edit_fields = ("reason",)

    reason = forms.CharField(label=_("Reason"), max_length=300)


class PaymentUpdateForm(EditVersionForm):
    """Correct a payment: the fields `services.payment_update` accepts."""

    edit_fields = ("received_on", "amount", "method", "reference", "external_id")

    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    amount = AmountField(_("Amount"))
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)


class PaymentReverseForm(forms.Form):
    reversed_on = forms.DateField(label=_("Reversed on"), widget=DateInput(),
                                  help_text=_("The day the bank returned the payment."))
    reason = forms.CharField(label=_("Reason"), max_length=300)
    fee = StrictDecimalField(label=_("Returned-payment fee"), required=False, max_digits=20,
                             decimal_places=AMOUNT_PLACES, help_text=_("Billed to the customer as a charges invoice."))


class PaymentRefundForm(forms.Form):
    amount = StrictDecimalField(label=_("Amount to refund"), max_digits=20, decimal_places=AMOUNT_PLACES)
    refunded_on = forms.DateField(label=_("Refunded on"), required=False, widget=DateInput())
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
