"""Forms of the dunning pages and the customer portal: input shape only, rules in services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from receivables.models import Invoice
from tenancy.money import CURRENCY_CHOICES, money_format

from . import selectors
from .models import CatchUp, Channel, DisputeReason, DisputeResolution, DunningPolicy, Outcome, StepTemplate


class DateInput(forms.DateInput):
    input_type = "date"


class PortalDisputeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DisputeReason.choices)
    amount = forms.DecimalField(label=_("Amount disputed (empty: all of it)"), required=False, min_value=0,
                                max_digits=20, decimal_places=4)
    description = forms.CharField(label=_("What is wrong?"), widget=forms.Textarea(attrs={"rows": 3}),
                                  max_length=2000)


class PortalPromiseForm(forms.Form):
    promised_date = forms.DateField(label=_("We will pay on"), widget=DateInput)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=20, decimal_places=4)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=1000)


class DisputeOpenForm(PortalDisputeForm):
    due_on = forms.DateField(label=_("Resolve by"), required=False, widget=DateInput)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  max_length=2000)


class DisputeResolveForm(forms.Form):
    resolution = forms.ChoiceField(label=_("Resolution"), choices=DisputeResolution.choices)
    credit_note_number = forms.CharField(label=_("Credit note number"), required=False, max_length=64)
    credit_amount = forms.DecimalField(label=_("Credit amount (empty: the disputed amount)"), required=False,
                                       min_value=0, max_digits=20, decimal_places=4)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class PromiseForm(PortalPromiseForm):
    grace_days = forms.IntegerField(label=_("Grace days"), min_value=0, max_value=60, initial=3)


class CallLogForm(forms.Form):
    """A call's outcome; "promised to pay" records a real promise, a follow-up date keeps the task open."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=1000)
    follow_up_on = forms.DateField(label=_("Follow up on (keeps the task open)"), required=False, widget=DateInput)
    promised_date = forms.DateField(label=_("Promised payment date"), required=False, widget=DateInput)
    promised_amount = forms.DecimalField(label=_("Promised amount (empty: all overdue)"), required=False,
                                         min_value=0, max_digits=20, decimal_places=4)


class TaskLogForm(CallLogForm):
    keep_open = forms.BooleanField(label=_("Keep the task open"), required=False)


def _invoice_label(invoice: Invoice) -> str:
    return f"{invoice.number} · {invoice.due_date:%Y-%m-%d} · {money_format(invoice.balance, invoice.currency)}"


class _CustomerInvoicesForm(forms.Form):
    invoices = forms.ModelMultipleChoiceField(label=_("Invoices"), queryset=Invoice.objects.none(),
                                              widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoices"].queryset = invoices
        self.fields["invoices"].label_from_instance = _invoice_label


class CustomerPromiseForm(_CustomerInvoicesForm):
    promised_date = forms.DateField(label=_("Promised payment date"), widget=DateInput)
    amount = forms.DecimalField(label=_("Amount (empty: the chosen invoices in full)"), required=False, min_value=0,
                                max_digits=20, decimal_places=4)
    grace_days = forms.IntegerField(label=_("Grace days"), min_value=0, max_value=60, initial=3)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=1000)


class CustomerDisputeForm(_CustomerInvoicesForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=DisputeReason.choices)
    amount = forms.DecimalField(label=_("Amount disputed (empty: all of it)"), required=False, min_value=0,
                                max_digits=20, decimal_places=4)
    due_on = forms.DateField(label=_("Resolve by"), required=False, widget=DateInput)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                  max_length=2000)


# --- policies (admins) -----------------------------------------------------------------------

class PolicyForm(forms.ModelForm):
    class Meta:
        model = DunningPolicy
        fields = ("name", "tone", "business_days_only", "holiday_calendars", "catch_up", "hold_when_credit_covers",
                  "interest_mode", "interest_rate", "statutory_base_rate", "interest_margin", "discount_percent",
                  "discount_days")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["catch_up"].required = False  # left out: the default rule

    def clean_catch_up(self):
        return self.cleaned_data.get("catch_up") or CatchUp.FIRST_MISSED


class StepForm(forms.Form):
    days_from_due = forms.IntegerField(label=_("Days from due date"), min_value=-365, max_value=3650)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    template = forms.ChoiceField(label=_("Template"), choices=StepTemplate.choices)
    fee_amount = forms.DecimalField(label=_("Late fee"), min_value=0, max_digits=20, decimal_places=4, initial=0)
    fee_currency = forms.ChoiceField(label=_("Fee currency"), choices=[("", _("Base currency")), *CURRENCY_CHOICES],
                                     required=False)
    call_task = forms.BooleanField(label=_("Call task"), required=False)


StepFormSet = forms.formset_factory(StepForm, extra=2, can_delete=True)


def formset_rows(formset) -> list[dict]:
    """The filled, not deleted rows of a valid formset."""
    return [f.cleaned_data for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")]


# --- per-customer settings (credit managers) -------------------------------------------------

class CustomerDunningForm(forms.Form):
    policy = forms.ModelChoiceField(label=_("Policy"), queryset=DunningPolicy.objects.none(), required=False,
                                    empty_label=_("Segment or default policy"))
    excluded = forms.BooleanField(label=_("Exclude from dunning"), required=False)
    collector = forms.ModelChoiceField(label=_("Collector"), queryset=get_user_model().objects.none(),
                                       required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].queryset = DunningPolicy.objects.filter(organization=organization)
        self.fields["collector"].queryset = selectors.collectors(organization)


# --- payment plans (collectors) --------------------------------------------------------------

class PlanForm(forms.Form):
    invoices = forms.ModelMultipleChoiceField(label=_("Invoices"), queryset=Invoice.objects.none(),
                                              widget=forms.CheckboxSelectMultiple)
    interest_rate = forms.DecimalField(label=_("Annual interest (%)"), min_value=0, max_value=100, max_digits=7,
                                       decimal_places=4, initial=0)
    grace_days = forms.IntegerField(label=_("Grace days"), min_value=0, max_value=60, initial=3)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoices"].queryset = invoices
        self.fields["invoices"].label_from_instance = _invoice_label


class InstallmentForm(forms.Form):
    due_date = forms.DateField(label=_("Due date"), widget=DateInput)
    amount = forms.DecimalField(label=_("Principal"), min_value=0, max_digits=20, decimal_places=4, required=False,
                                help_text=_("Leave every row empty for equal parts; interest is added."))


InstallmentFormSet = forms.formset_factory(InstallmentForm, extra=3)
