"""Template helpers for the Inflow UI: money formatting, navigation state, optional URLs."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from tenancy.money import quantize

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
    """1234.5 -> "1,234.50": rounded to the currency's minor unit, with thousands separators."""
    number = _decimal(value)
    if number is None:
        return DASH
    return f"{quantize(number, currency or 'XXX'):,}"


@register.filter
def money(value, currency: str = "") -> str:
    """1234.5, "CNY" -> "1,234.50 CNY"."""
    number = _decimal(value)
    if number is None:
        return DASH
    return f"{amount(number, currency)} {currency}".strip()


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
