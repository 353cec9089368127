"""Browser forms for credit pages: parsing only; the services apply every rule."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.forms import StrictDecimalField

from .models import Ownership, Severity, SignalKind


class ProfileForm(forms.Form):
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=20, required=False)
    founding_year = forms.IntegerField(label=_("Founding year"), required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    ownership = forms.ChoiceField(label=_("Ownership"), choices=Ownership.choices)
    is_manufacturer = forms.BooleanField(label=_("Manufacturer"), required=False)


class SignalForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SignalKind.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    observed_on = forms.DateField(label=_("Observed on"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=_("Description"), max_length=500)


class LimitRequestForm(forms.Form):
    requested_limit = StrictDecimalField(label=_("Requested limit"), max_digits=20, decimal_places=2, min_value=0)
    requested_terms_days = forms.IntegerField(label=_("Payment terms (days)"), min_value=0, max_value=365)
    reason = forms.CharField(label=_("Reason"), max_length=500)


def _figure(label, *, signed: bool = False, required: bool = True) -> forms.DecimalField:
    return StrictDecimalField(label=label, max_digits=20, decimal_places=4, required=required,
                              min_value=None if signed else 0)


class FinancialStatementForm(forms.Form):
    year = forms.IntegerField(label=_("Fiscal year"), min_value=1900, max_value=2100)
    revenue = _figure(_("Revenue"))
    ebit = _figure(_("EBIT"), signed=True)
    net_income = _figure(_("Net income"), signed=True)
    current_assets = _figure(_("Current assets"))
    current_liabilities = _figure(_("Current liabilities"))
    total_assets = _figure(_("Total assets"))
    total_liabilities = _figure(_("Total liabilities"))
    retained_earnings = _figure(_("Retained earnings"), signed=True)
    equity = _figure(_("Book value of equity"), signed=True)
    working_capital = _figure(_("Working capital (blank: current assets - current liabilities)"), signed=True,
                              required=False)
    market_value_equity = _figure(_("Market value of equity (listed companies)"), required=False)


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    file = forms.FileField(label=_("File"))


class BlacklistForm(forms.Form):
    blacklisted = forms.BooleanField(label=_("Blacklisted"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    comment = forms.CharField(label=_("Comment / reason"), max_length=500, required=False)
