"""Browser forms for tenancy pages, and the helper that shows a service's DomainError on a form."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .models import Language, Role
from .money import CURRENCY_CHOICES, amount_text_problem
from .selectors import membership_candidate_find
from .services import MEMBERSHIP_USER_NOT_FOUND


def form_error_from_domain(form: forms.Form, error: DomainError) -> None:
    """Attach a service's DomainError to the form: on its field when the form has one, else on top."""
    field = error.field if error.field in form.fields else None
    # Beside its field the message goes without the field's name in front: the label is right there.
    form.add_error(field, capfirst(error.detail) if field and error.detail else error.message)


def form_errors_text(form: forms.Form) -> str:
    """A form's errors in one line for a page message, each after its field's label (never its name)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        text = " ".join(str(e) for e in errors)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AsOfForm(forms.Form):
    """The as-of date of a report page (GET)."""

    as_of = forms.DateField(label=_("As of"), required=False, widget=DateInput())


class StrictDecimalField(forms.DecimalField):
    """A DecimalField that takes amounts written one way only (tenancy.money.AMOUNT_TEXT), as the API and
    the importer do: Django's own takes "1e5", "1_000", "+1" and Arabic-Indic or full-width digits."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and amount_text_problem(value.strip()) is not None:
            raise forms.ValidationError(
                _("Write amounts with the digits 0-9 and an optional decimal point, such as \"1250.00\" "
                  "(no exponent, sign, spaces, separators or other digits)."), code="invalid")
        return super().to_python(value)


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"]


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    base_currency = forms.ChoiceField(label=_("Base currency"), choices=CURRENCY_CHOICES)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=_timezone_choices)
    default_payment_terms_days = forms.IntegerField(label=_("Default payment terms (days)"), min_value=0,
                                                    max_value=3650)
    aging_buckets = forms.CharField(
        label=_("Aging buckets (days)"), max_length=100,
        help_text=_("Upper bounds of the overdue buckets, comma separated, e.g. 30,60,90."),
    )
    default_language = forms.ChoiceField(label=_("Default language"), choices=Language.choices)

    @classmethod
    def for_organization(cls, organization, data=None):
        initial = {
            "name": organization.name,
            "base_currency": organization.base_currency,
            "timezone": organization.timezone,
            "default_payment_terms_days": organization.default_payment_terms_days,
            "aging_buckets": ",".join(str(b) for b in organization.aging_buckets),
            "default_language": organization.default_language,
        }
        return cls(data=data, initial=initial)

    def clean_aging_buckets(self) -> list[int]:
        raw = self.cleaned_data["aging_buckets"]
        parts = [p.strip() for p in raw.replace("，", ",").split(",") if p.strip()]
        try:
            return [int(p) for p in parts]
        except ValueError:
            raise forms.ValidationError(
                _("Write whole numbers of days separated by commas, e.g. 30,60,90.")
            ) from None


class MembershipForm(forms.Form):
    username = forms.CharField(label=_("Username or email"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_username(self):
        value = self.cleaned_data["username"].strip()
        # Only this organization's members and users of no organization: a member of another
        # organization gets the same answer as nobody, so the form tells nothing about them.
        user = membership_candidate_find(organization=self.organization, identifier=value)
        if user is None:
            raise forms.ValidationError(MEMBERSHIP_USER_NOT_FOUND)
        self.cleaned_data["user"] = user
        return value


class OrganizationSwitchForm(forms.Form):
    organization = forms.IntegerField()
    next = forms.CharField(required=False)
