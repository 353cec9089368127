"""Extreme input held at the edge, once for every form, serializer and query parameter.

Every date a user or an ERP sends goes through Django's `forms.DateField` (pages, query forms) or
DRF's `DateField` (API bodies and query serializers); both are held to the supported range of
business dates (`tenancy.dates.DATE_MIN`..`DATE_MAX`) with a field error, instead of an
OverflowError deep in a service (a 500). Installed once from `TenancyConfig.ready()`."""

from __future__ import annotations

import datetime as dt

from django import forms
from rest_framework import fields as drf_fields
from rest_framework.exceptions import ValidationError as DrfValidationError

from .dates import date_range_message, date_supported

_INSTALLED = False


def _checked(value) -> bool:
    day = value.date() if isinstance(value, dt.datetime) else value
    return not isinstance(day, dt.date) or date_supported(day)


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True

    form_to_python = forms.DateField.to_python

    def form_date(self, value):
        result = form_to_python(self, value)
        if result is not None and not _checked(result):
            raise forms.ValidationError(date_range_message(), code="date_out_of_range")
        return result

    forms.DateField.to_python = form_date

    drf_to_internal = drf_fields.DateField.to_internal_value

    def drf_date(self, value):
        result = drf_to_internal(self, value)
        if result is not None and not _checked(result):
            raise DrfValidationError(date_range_message(), code="date_out_of_range")
        return result

    drf_fields.DateField.to_internal_value = drf_date
