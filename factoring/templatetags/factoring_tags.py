from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def percent(value, places: int = 2) -> str:
    """A fraction as a percentage: 0.0912 -> "9.12%"."""
    if value is None or value == "":
        return "-"
    return f"{(Decimal(value) * 100).quantize(Decimal(1).scaleb(-int(places)))}%"
