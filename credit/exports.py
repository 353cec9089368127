"""The credit customer list (the portfolio page, with its search) as CSV or XLSX: grade and
score, limit, exposure and overdue in base currency, through receivables' list export."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from receivables.exports import Column, export_format, money_cell
from receivables.views.lists import list_download

from . import selectors


def _profile(customer):
    return getattr(customer, "credit_profile", None)


def _score(customer):
    profile = _profile(customer)
    return profile.latest_score if profile is not None else None


def portfolio_columns(currency: str, exposures: dict) -> list[Column]:
    def exposure(customer) -> selectors.Exposure:
        return exposures.get(customer.pk, selectors.Exposure())

    return [
        Column(_("Customer"), lambda c: c.name),
        Column(_("Unified social credit code"), lambda c: _profile(c).uscc if _profile(c) else ""),
        Column(_("Grade"), lambda c: _score(c).grade if _score(c) else ""),
        Column(_("Score"), lambda c: _score(c).score if _score(c) else None),
        Column(_("Credit limit"), lambda c: money_cell(_profile(c).credit_limit, currency) if _profile(c) else None),
        Column(_("Exposure"), lambda c: money_cell(exposure(c).outstanding, currency)),
        Column(_("Overdue"), lambda c: money_cell(exposure(c).overdue, currency)),
        Column(_("Currency"), lambda c: currency),
        Column(_("Blacklisted"), lambda c: _("Yes") if _profile(c) and _profile(c).blacklisted else _("No")),
        Column(_("Next review"), lambda c: _profile(c).next_review_on if _profile(c) else None),
    ]


def portfolio_download(request: HttpRequest, customers, today: dt.date) -> HttpResponse | None:
    """The page's customers (all of them, not a page) when `?export=` asks, else None."""
    if export_format(request) is None:
        return None
    organization = request.organization
    columns = portfolio_columns(organization.base_currency, selectors.exposures(organization, today))
    return list_download(request, customers, stem="credit-portfolio", title=_("Credit portfolio"), columns=columns)
