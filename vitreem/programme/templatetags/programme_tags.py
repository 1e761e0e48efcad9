"""Show indicator values in their unit of measure, Vietnamese style: 97,5% · 4,3/100.000 · 1.865."""

from decimal import Decimal

from django import template

from vitreem.core.text import format_number

register = template.Library()

SUFFIX = {"percent": "%", "per_1000": "‰", "per_100000": "/100.000"}


@register.filter
def measure_value(value, measure=""):
    if value is None or value == "":
        return "—"
    number = Decimal(str(value))
    decimals = 0 if number == number.to_integral_value() else (1 if (number * 10) == (number * 10).to_integral_value()
                                                                else 2)
    return format_number(number, decimals) + SUFFIX.get(measure, "")


@register.filter
def status_css(status):
    return {"achieved": "ok", "not_achieved": "bad", "no_data": "warn", "on_time": "ok", "late": "warn",
            "missing": "bad", "accepted": "ok", "submitted": "", "returned": "bad", "draft": "warn"}.get(status, "")


@register.filter
def share(value):
    """A fraction 0–1 as a percent with one decimal (None → —)."""
    if value is None:
        return "—"
    return format_number(Decimal(str(value)) * 100, 1) + "%"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None
