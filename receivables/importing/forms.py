"""Forms of the import pages: upload, then the column mapping."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from receivables.models import ImportKind
from tenancy.errors import DomainError
from tenancy.money import CURRENCY_CHOICES

from .fields import fields_for
from .mapping import DECIMAL_SEPARATORS, Mapping, mapping_from_dict

EMPTY = [("", "—")]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_lazy("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(label=_lazy("CSV or XLSX file"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


def _json_object(text: str, what: str) -> dict:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(_("%(what)s is not valid JSON: %(error)s") % {"what": what, "error": exc}) from None
    if not isinstance(value, dict):
        raise forms.ValidationError(_("%(what)s must be a JSON object.") % {"what": what})
    return value


class MappingForm(forms.Form):
    """One select per field of ours, listing the file's columns, plus how to read values."""

    date_format = forms.CharField(label=_lazy("Date format"), initial="%Y-%m-%d", max_length=32,
                                  help_text=_lazy("strftime pattern, e.g. %Y-%m-%d, %m/%d/%Y or %d.%m.%Y"))
    decimal_separator = forms.ChoiceField(label=_lazy("Decimal separator"),
                                          choices=[(sep, sep) for sep in DECIMAL_SEPARATORS])
    default_currency = forms.ChoiceField(label=_lazy("Default currency"), choices=EMPTY + CURRENCY_CHOICES,
                                         required=False)
    column_options = forms.CharField(
        label=_lazy("Column options (JSON)"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_lazy('e.g. {"net_amount": {"round": 2}, "number": {"strip_suffix": ".0"}, '
                        '"issue_date": {"not_after": "due_date"}}'))
    defaults = forms.CharField(label=_lazy("Constant values (JSON)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 2}),
                               help_text=_lazy('used when a column is not chosen or empty, e.g. {"method": "bank_transfer"}'))
    save_as = forms.CharField(label=_lazy("Save this mapping as"), required=False, max_length=100)

    def __init__(self, *args, kind: str, header: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        columns = EMPTY + [(name, name) for name in header if name]
        self.field_names = []
        for spec in fields_for(kind).values():
            label = f"{spec.label} *" if spec.required else spec.label
            self.fields[f"col_{spec.name}"] = forms.ChoiceField(label=label, choices=columns, required=False)
            self.field_names.append(f"col_{spec.name}")

    def column_fields(self):
        return [self[name] for name in self.field_names]

    @staticmethod
    def initial_from(mapping: Mapping) -> dict:
        data = mapping.as_dict()
        initial = {f"col_{name}": spec.column for name, spec in mapping.columns.items()}
        options = {name: {k: v for k, v in value.items() if k != "column"}
                   for name, value in data["columns"].items() if isinstance(value, dict)}
        initial.update({
            "date_format": mapping.date_format, "decimal_separator": mapping.decimal_separator,
            "default_currency": mapping.default_currency,
            "column_options": json.dumps(options, ensure_ascii=False) if options else "",
            "defaults": json.dumps(mapping.defaults, ensure_ascii=False) if mapping.defaults else "",
        })
        return initial

    def clean(self):
        cleaned = super().clean()
        options = _json_object(cleaned.get("column_options", ""), _("Column options"))
        defaults = _json_object(cleaned.get("defaults", ""), _("Constant values"))
        columns = {}
        for name in fields_for(self.kind):
            column = cleaned.get(f"col_{name}")
            if column:
                extra = options.get(name) if isinstance(options.get(name), dict) else {}
                columns[name] = {"column": column, **extra}
        try:
            self.mapping = mapping_from_dict({
                "kind": self.kind, "columns": columns, "date_format": cleaned.get("date_format"),
                "decimal_separator": cleaned.get("decimal_separator"),
                "default_currency": cleaned.get("default_currency"), "defaults": defaults,
            })
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return cleaned


MAPPING_FILE_MAX_BYTES = 64 * 1024


class MappingFileForm(forms.Form):
    """A mapping saved as JSON (docs/mappings/*.json, or one exported from another organization)."""

    mapping_file = forms.FileField(label=_lazy("Mapping file (JSON)"),
                                   widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}))

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind

    def clean_mapping_file(self):
        upload = self.cleaned_data["mapping_file"]
        if upload.size > MAPPING_FILE_MAX_BYTES:
            raise forms.ValidationError(_("A mapping file is at most %(limit)s KB.")
                                        % {"limit": MAPPING_FILE_MAX_BYTES // 1024})
        try:
            data = json.loads(upload.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise forms.ValidationError(_("%(what)s is not valid JSON: %(error)s")
                                        % {"what": upload.name, "error": exc}) from None
        try:
            self.mapping = mapping_from_dict(data, kind=self.kind)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return upload
