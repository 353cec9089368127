"""What the receivables pages share: the as-of date of a page, the versioned save of an edit page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.forms import AsOfForm, form_error_from_domain

from ..forms import EditVersionForm, VersionedForm

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


def correction_page(request: HttpRequest, *, form_class: type[EditVersionForm], load: Callable[..., M],
                    save: Callable[[M, dict], M], done: Callable[[M], HttpResponse], template: str,
                    context: Callable[[M], dict]) -> HttpResponse:
    """A ledger correction page. GET: the form with the row's values and version. POST: the changes
    saved through `save(locked row, changes)` if the row is still that version (then `done(saved)`,
    e.g. a message and a redirect), else the row's current values shown with the stale message; a
    DomainError (a rule, a role) is shown on the form. `load(locked=False)` reads the row."""
    obj = load()
    form = form_class.for_object(obj, request.POST if request.method == "POST" else None)
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            saved = versioned_save(form, lambda: load(locked=True), lambda current: save(current, form.changes(current)))
        except DomainError as exc:
            form_error_from_domain(form, exc)
        else:
            if saved is not None:
                return done(saved)
            stale = True
            obj = load()  # what is there now: the user reviews it and saves again
            form = form_class.for_object(obj)
    return render(request, template, {
        "form": form, **context(obj), "stale_message": EditVersionForm.STALE_MESSAGE if stale else None})
