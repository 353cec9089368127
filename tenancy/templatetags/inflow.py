"""Template helpers for the Inflow UI: money formatting, navigation state, optional URLs."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from tenancy.money import amount_format, money_format

register = template.Library()

DASH = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def amount(value, currency: str = "") -> str:
    """1234.5, "CNY" -> "1,234.50": to the currency's minor unit (JPY 0, KWD 3), grouped as the page's
    language writes numbers; for columns whose header or neighbour names the currency."""
    number = _decimal(value)
    if number is None:
        return DASH
    return amount_format(number, currency or "XXX")


@register.filter
def money(value, currency: str = "") -> str:
    """1234.5, "CNY" -> "CN¥1,234.50" in English, "¥1,234.50" in Chinese (Babel, the page's language);
    the one place every page's amounts with a currency are written."""
    number = _decimal(value)
    if number is None:
        return DASH
    if not currency:
        return amount_format(number, "XXX")
    return money_format(number, currency)


@register.filter
def days(value) -> str:
    number = _decimal(value)
    return DASH if number is None else f"{number:,}"


@register.simple_tag(takes_context=True)
def nav_active(context, *prefixes: str) -> str:
    """'active' when the current URL name starts with one of the prefixes (for the side navigation)."""
    match = getattr(context.get("request"), "resolver_match", None)
    if match is None:
        return ""
    name = match.view_name or ""
    return "active" if any(name == p or name.startswith(p + "_") or name.startswith(p + ":") for p in prefixes) else ""


@register.simple_tag
def url_or(view_name: str, fallback: str) -> str:
    """Reverse a URL that another part of Inflow may not have registered yet, else use the fallback."""
    try:
        return reverse(view_name)
    except NoReverseMatch:
        return fallback


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, label: str, default: str = "") -> str:
    """A column header that sorts by `key`, and by `-key` when already sorted by `key`; keeps the filters."""
    request = context["request"]
    current = request.GET.get("sort") or default
    params = request.GET.copy()
    params.pop("page", None)
    params["sort"] = f"-{key}" if current == key else key
    arrow = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
    return format_html('<a class="sort" href="?{}">{}{}</a>', params.urlencode(), label, arrow)
