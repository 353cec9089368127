"""Browser forms: input shapes only; every rule stays in insurance.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Decision, DeclarationKind, RequestType


class DateInput(forms.DateInput):
    input_type = "date"


class PolicyForm(forms.Form):
    insurer_name = forms.CharField(label=_("Insurer"), max_length=200)
    policy_number = forms.CharField(label=_("Policy number"), max_length=64)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)
    insured_percentage = forms.DecimalField(label=_("Insured percentage"), max_digits=5, decimal_places=2,
                                            initial=90)
    max_credit_period_days = forms.IntegerField(label=_("Maximum credit period (days)"), initial=120, min_value=1)
    overdue_notification_days = forms.IntegerField(label=_("Notify overdues within (days after due)"), initial=60,
                                                   min_value=1)
    max_extension_days = forms.IntegerField(label=_("Maximum extension (days after due)"), initial=90, min_value=0)
    claim_filing_days = forms.IntegerField(label=_("File claims within (days after due)"), initial=150, min_value=1)
    waiting_period_days = forms.IntegerField(label=_("Waiting period (days)"), initial=150, min_value=0)
    discretionary_limit = forms.DecimalField(label=_("Discretionary limit"), initial=0, min_value=0)
    claim_threshold = forms.DecimalField(label=_("Claim threshold"), initial=0, min_value=0)
    deductible = forms.DecimalField(label=_("Deductible per claim"), initial=0, min_value=0)
    premium_rate = forms.DecimalField(label=_("Premium rate (percent of insured turnover)"), max_digits=7,
                                      decimal_places=4, initial="0.25")


class CoverRequestForm(forms.Form):
    request_type = forms.ChoiceField(label=_("Request"), choices=RequestType.choices)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, required=False)
    discretionary = forms.BooleanField(label=_("Discretionary (set by us within the discretionary limit)"),
                                       required=False)


class CoverDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices)
    amount = forms.DecimalField(label=_("Amount granted (partial)"), min_value=0, required=False)
    reason_code = forms.CharField(label=_("Reason code"), max_length=10, required=False)
    reason_text = forms.CharField(label=_("Reason"), max_length=500, required=False)
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DateInput)


class DeclarationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Declaration"), choices=DeclarationKind.choices)
    new_due_date = forms.DateField(label=_("New due date (extension)"), required=False, widget=DateInput)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ClaimForm(forms.Form):
    recoveries = forms.DecimalField(label=_("Recoveries so far"), min_value=0, required=False)


class ClaimDecideForm(forms.Form):
    accepted = forms.TypedChoiceField(label=_("Insurer's answer"), coerce=lambda v: v == "yes",
                                      choices=[("yes", _("Accepted")), ("no", _("Rejected"))])
    amount = forms.DecimalField(label=_("Indemnity accepted"), min_value=0, required=False)
    reason = forms.CharField(label=_("Rejection reason"), max_length=500, required=False)


class ClaimPayForm(forms.Form):
    amount = forms.DecimalField(label=_("Indemnity received"), min_value=0)
    paid_on = forms.DateField(label=_("Received on"), required=False, widget=DateInput)
    write_off_rest = forms.BooleanField(label=_("Write off the uninsured rest"), required=False)
