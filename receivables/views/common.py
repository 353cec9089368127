"""What the receivables pages share: the as-of date of a page, the versioned save of an edit page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest

from tenancy.dates import local_today
from tenancy.forms import AsOfForm

from ..forms import VersionedForm

M = TypeVar("M", bound=Model)


def as_of_from(request: HttpRequest) -> tuple[dt.date, AsOfForm]:
    """The page's as-of date (GET `as_of`), today in the organization's time zone by default."""
    form = AsOfForm(request.GET)
    as_of = form.cleaned_data.get("as_of") if form.is_valid() else None
    return as_of or local_today(request.organization.timezone), form


def versioned_save(form: VersionedForm, locked: Callable[[], M], save: Callable[[M], M]) -> M | None:
    """Save an edit page's changes only if the row is still the version the form was opened at,
    compared under the row's lock (as the API's If-Match is), so two saves cannot both win:
    `save(locked row)`'s result, or None when the row changed meanwhile. A DomainError propagates."""
    with transaction.atomic():
        current = locked()
        if form.is_stale(current):
            return None
        return save(current)
