"""Forecasting codes shown by their names in the reader's language (issue 14 item 10)."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

register = template.Library()

# forecasting.cashflow.SOURCES: where an expected receipt comes from
SOURCE_LABELS = {
    "invoices": gettext_noop("Invoices"),
    "promises": gettext_noop("Promises"),
    "plans": gettext_noop("Plans"),
    "factoring": gettext_noop("Factoring"),
    "insurance": gettext_noop("Insurance"),
    "new_sales": gettext_noop("New sales"),
}


@register.filter
def source_label(code: str) -> str:
    """A forecast line's source (invoices, promises, ...) as its name."""
    label = SOURCE_LABELS.get(code)
    return _(label) if label else code
