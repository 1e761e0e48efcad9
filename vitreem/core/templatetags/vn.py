"""Template filters in Vietnamese formats: {{ n|vn_number }} → 27.678, {{ f|vn_percent }} → 34,8%."""

from django import template

from vitreem.core import text

register = template.Library()


@register.filter
def vn_number(value, decimals=0):
    try:
        return text.format_number(value, int(decimals))
    except (TypeError, ValueError, ArithmeticError):
        return value


@register.filter
def vn_percent(value, decimals=1):
    try:
        return text.format_percent(value, int(decimals))
    except (TypeError, ValueError, ArithmeticError):
        return value


@register.filter
def vn_date(value):
    """dd/mm/yyyy; also for a date that came as ISO text (a record's candidates carry the API's form)."""
    if isinstance(value, str):
        import datetime as dt

        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return text.format_date(value)


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs):
    """The current query string with some parameters replaced (pagination, sorting)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()
