"""What the receivables pages share: the as-of date of a page."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest

from tenancy.dates import local_today
from tenancy.forms import AsOfForm


def as_of_from(request: HttpRequest) -> tuple[dt.date, AsOfForm]:
    """The page's as-of date (GET `as_of`), today in the organization's time zone by default."""
    form = AsOfForm(request.GET)
    as_of = form.cleaned_data.get("as_of") if form.is_valid() else None
    return as_of or local_today(request.organization.timezone), form
