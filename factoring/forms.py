"""Browser forms of factoring; every rule stays in factoring.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from receivables.models import Customer

from .models import Facility


class DateInput(forms.DateInput):
    input_type = "date"


class FacilityForm(forms.ModelForm):
    excluded_customers = forms.ModelMultipleChoiceField(queryset=Customer.objects.none(), required=False,
                                                        label=_("excluded customers"))

    class Meta:
        model = Facility
        fields = ("name", "factor_name", "factor_bank_name", "factor_bank_account", "mode", "disclosed",
                  "collection_delegated", "recourse", "currency", "limit", "advance_rate", "fee_rate",
                  "interest_rate", "day_count", "max_days_past_due", "max_terms_days", "min_invoice_amount",
                  "concentration_limit", "cross_aging_rate", "cross_aging_days", "repurchase_after_days",
                  "approval_threshold", "excluded_customers", "valid_from", "valid_to")
        widgets = {"valid_from": DateInput(), "valid_to": DateInput()}

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["excluded_customers"].queryset = Customer.objects.filter(organization=organization)

    def _post_clean(self):
        pass  # the service validates and saves (model checks included)


class AsOfForm(forms.Form):
    as_of = forms.DateField(label=_("as of"), widget=DateInput(), required=False)


class FundForm(forms.Form):
    funded_on = forms.DateField(label=_("funded on"), widget=DateInput())
    amount_received = forms.DecimalField(label=_("amount received"), max_digits=20, decimal_places=4, min_value=0)
    fee_deducted = forms.DecimalField(label=_("fee deducted"), max_digits=20, decimal_places=4, min_value=0,
                                      required=False)
    interest_deducted = forms.DecimalField(label=_("interest deducted"), max_digits=20, decimal_places=4,
                                           min_value=0, required=False)


class RepurchaseForm(forms.Form):
    repurchased_on = forms.DateField(label=_("repurchased on"), widget=DateInput())
    note = forms.CharField(label=_("note"), max_length=300, required=False)


class StatementForm(forms.Form):
    file = forms.FileField(label=_("statement (CSV)"))
