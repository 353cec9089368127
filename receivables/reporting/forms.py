"""Forms of the weekly report pages: they parse input; the services decide."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from receivables.models import Weekday
from tenancy.models import Language, Organization


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class WeeklyScheduleForm(forms.Form):
    enabled = forms.BooleanField(label=_("Send the weekly report"), required=False)
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=Weekday.choices, coerce=int)
    send_time = forms.TimeField(label=_("Local time"), widget=TimeInput())
    timezone = forms.ChoiceField(label=_("Time zone"))
    language = forms.ChoiceField(label=_("Language of the PDF"), choices=Language.choices)
    recipients = forms.ModelMultipleChoiceField(label=_("Members who receive it"), queryset=get_user_model().objects.none(),
                                                required=False, widget=forms.CheckboxSelectMultiple)
    external_recipients = forms.CharField(
        label=_("Other recipients"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Email addresses outside Inflow, one per line or separated by commas."))

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        # Only this organization's members can be picked; anyone else is "not a valid choice".
        self.fields["recipients"].queryset = (
            get_user_model().objects.filter(memberships__organization=organization).order_by("username"))
        self.fields["recipients"].label_from_instance = lambda u: f"{u.get_username()} <{u.email or '—'}>"
        self.fields["timezone"].choices = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]

    def clean_external_recipients(self) -> list[str]:
        raw = self.cleaned_data["external_recipients"]
        return [part.strip() for part in raw.replace(",", "\n").replace(";", "\n").splitlines() if part.strip()]
