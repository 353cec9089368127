from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def ratio_percent(value, places: int = 1) -> str:
    """0.1234 -> "12.3%" (empty for None)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value)) * 100
    except InvalidOperation:
        return ""
    return f"{number:.{int(places)}f}%"
