from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tenancy.forms import DateInput


class ProvisionForm(forms.Form):
    as_of = forms.DateField(label=_("As of"), required=False, widget=DateInput())
    history_from = forms.DateField(label=_("History from (issue date)"), required=False, widget=DateInput())
    history_to = forms.DateField(label=_("History to (issue date)"), required=False, widget=DateInput())
    date_from = forms.DateField(label=_("Movement from"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if bool(data.get("history_from")) != bool(data.get("history_to")):
            raise forms.ValidationError(_("Give both ends of the history window, or neither."))
        if data.get("history_from") and data.get("history_to") and data["history_from"] > data["history_to"]:
            raise forms.ValidationError(_("The history window ends before it starts."))
        return data


class OverlayForm(forms.Form):
    bucket_key = forms.ChoiceField(label=_("Aging bucket"))
    multiplier = forms.DecimalField(label=_("Multiplier"), min_value=0, max_value=100, max_digits=8, decimal_places=4)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput())

    def __init__(self, *args, buckets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bucket_key"].choices = list(buckets)


class AssessmentForm(forms.Form):
    customer = forms.TypedChoiceField(label=_("Customer"), coerce=int)
    loss_rate = forms.DecimalField(label=_("Loss rate (0-1; empty: back to the matrix)"), required=False, min_value=0,
                                   max_value=1, max_digits=7, decimal_places=6)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    assessed_on = forms.DateField(label=_("Assessed on"), widget=DateInput())

    def __init__(self, *args, customers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = list(customers)
