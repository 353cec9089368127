"""Credit's stored text in the reader's language: alert messages, score factors and their measures,
the recommended conditions, approval levels (issue 14 item 10).

Alerts and scores are written by nightly tasks and kept as they were written (a score is reproduced
from its stored inputs); these filters translate them when a page shows them (tenancy.retranslate)."""

from __future__ import annotations

import re
from functools import lru_cache

from django import template
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tenancy.models import Role
from tenancy.retranslate import retranslate

from ..models import Severity, SignalKind

register = template.Library()

# The messages credit stores (credit/services.py, credit/selectors.py, credit/models.py's default policy);
# retranslate looks for every message of the project's code, these are listed for the ones that are not
# marked anywhere else (the default policy's conditions) and as the record of what credit stores.
STORED = (
    gettext_noop("%(customer)s exposure %(exposure)s is over its credit limit of %(limit)s."),
    gettext_noop("%(customer)s (grade %(grade)s) has an overdue invoice: %(amount)s, %(days)s days."),
    gettext_noop("%(customer)s is %(share)s%% of all receivables (alert above %(limit)s%%)."),
    gettext_noop("%(customer)s dropped from grade %(old)s to %(new)s."),
    gettext_noop("New %(severity)s external signal for %(customer)s: %(kind)s, %(description)s"),
    gettext_noop("%(customer)s is on credit hold: %(reasons)s"),
    gettext_noop("A credit manager can raise the limit or lift the hold."),
    gettext_noop("%(customer)s is blacklisted (%(reason)s)."),
    gettext_noop("Exposure %(exposure)s exceeds the credit limit of %(limit)s."),
    gettext_noop("Exposure %(exposure)s plus this invoice (%(amount)s) exceeds the credit limit of %(limit)s."),
    gettext_noop("An invoice is %(days)s days overdue; the hold threshold is %(limit)s days."),
    gettext_noop("Provisional score: limit halved until the credit file is complete."),
    gettext_noop("Capped at the insurance cover in force of %(cover)s plus the uninsured appetite of %(appetite)s "
                 "(the grade gives %(limit)s)."),
    # the default policy's conditions per grade (credit.models.default_grade_policy)
    gettext_noop("Open account; monthly exposure check."),
    gettext_noop("Partial prepayment or letter of credit."),
    gettext_noop("Prepayment or bank guarantee required."),
    gettext_noop("Open account."),
)

FACTOR_LABELS = {
    "payment_days_late": gettext_noop("Average days late"),
    "payment_on_time": gettext_noop("Paid on time"),
    "payment_worst_delay": gettext_noop("Worst delay"),
    "payment_trend": gettext_noop("Days-late trend (last 6 months vs the 6 before)"),
    "financial_strength": gettext_noop("Financial strength (Altman Z)"),
    "exposure": gettext_noop("Exposure vs credit limit"),
    "company_age": gettext_noop("Company age"),
    "company_size": gettext_noop("Company size (revenue)"),
    "external_signals": gettext_noop("External signals"),
}
ZONES = {"safe": gettext_noop("safe zone"), "grey": gettext_noop("grey zone"), "distress": gettext_noop("distress zone")}

DAYS = re.compile(r"([+-]?\d+(?:\.\d+)?) d")
YEARS = re.compile(r"(\d+) y")
Z_SCORE = re.compile(r"(Z'{0,2}) (-?\d+(?:\.\d+)?) \((safe|grey|distress), (\d{4})\)")
NO_LIABILITIES = re.compile(r"no liabilities \((\d{4})\)")
MILLIONS = re.compile(r"(-?\d+(?:\.\d+)?) M( [A-Z]{3})?")


@lru_cache(maxsize=1)
def _labels() -> tuple[str, ...]:
    """The English names of severities and signal kinds (messages quote them lowercased)."""
    with translation.override("en"):
        return tuple(str(label) for label in (*Severity.labels, *SignalKind.labels))


@register.filter
def stored_text(value: str) -> str:
    """An alert message or a score's conditions, in the reader's language."""
    return retranslate(value or "", None, _labels())


@register.filter
def factor_label(key: str) -> str:
    """A scorecard factor's name (payment_days_late -> "Average days late")."""
    label = FACTOR_LABELS.get(key)
    return _(label) if label else key


@register.filter
def factor_value(value: str) -> str:
    """What a factor measured, with its unit in the reader's language ("12.5 d" -> "12.5 天")."""
    value = value or ""
    if match := DAYS.fullmatch(value):
        return _("%(days)s d") % {"days": match.group(1)}
    if match := YEARS.fullmatch(value):
        return _("%(years)s y") % {"years": match.group(1)}
    if match := Z_SCORE.fullmatch(value):
        return _("%(model)s %(value)s (%(zone)s, %(year)s)") % {
            "model": match.group(1), "value": match.group(2), "zone": _(ZONES[match.group(3)]), "year": match.group(4)}
    if match := NO_LIABILITIES.fullmatch(value):
        return _("no liabilities (%(year)s)") % {"year": match.group(1)}
    if match := MILLIONS.fullmatch(value):
        return _("%(amount)s M") % {"amount": match.group(1)} + (match.group(2) or "")
    if value == "no data":
        return _("no data")
    return retranslate(value, (gettext_noop("statement %(year)s older than %(months)s months"),
                               gettext_noop("no %(currency)s to %(base)s rate on or before %(date)s")))


@register.filter
def role_label(value: str) -> str:
    """A role's code (credit_manager) as its name (Credit manager), e.g. an approval level."""
    return Role(value).label if value in Role.values else value
