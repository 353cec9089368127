"""A mapping document (an uploaded mapping file, issue 14 item 7) whose settings are not text is a
clear error on the form, not a server error and not a mapping that fails later in the import."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from receivables.importing.forms import MappingFileForm
from receivables.importing.mapping import mapping_from_dict
from tenancy.errors import DomainError


@pytest.mark.parametrize("setting", ["default_currency", "date_format", "decimal_separator"])
@pytest.mark.parametrize("value", [5, ["%d/%m/%Y"], {"a": 1}, True])
def test_a_setting_that_is_not_text_is_refused(setting, value):
    with pytest.raises(DomainError) as error:
        mapping_from_dict({"kind": "invoices", setting: value})
    assert error.value.message == f'"{setting}" must be text.'


def test_the_mapping_file_form_says_so(db):
    upload = SimpleUploadedFile("m.json", json.dumps({"kind": "invoices", "default_currency": 5}).encode())
    form = MappingFileForm(data={}, files={"mapping_file": upload}, kind="invoices")
    assert not form.is_valid()
    assert form.errors["mapping_file"] == ['"default_currency" must be text.']


def test_text_settings_still_load():
    mapping = mapping_from_dict({"kind": "invoices", "default_currency": " cny ", "date_format": "%d/%m/%Y",
                                 "decimal_separator": ","})
    assert (mapping.default_currency, mapping.date_format, mapping.decimal_separator) == ("CNY", "%d/%m/%Y", ",")
