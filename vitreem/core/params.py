"""Parameters of a request read in one place (issue 20 item 4): a malformed value is a 400 naming the
parameter, never a 500 and never silently something else.

The attack found 500s from values Python accepts but the database or the calendar does not: a page or
an offset of 20 digits (past a 64-bit integer), a year of -1, the month 9999-12 (whose next month does
not exist), an amount of 1e20. Pages call the `*_param` functions; the API declares its parameters with
the annotated types below, which django-ninja validates (core/api.py answers 400 with the code). A
`BadParameter` is a `DomainError` (the API's JSON with its code) and Django's `BadRequest` (a 400 page
through `handler400`, whatever view raised it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django import forms
from django.core.exceptions import BadRequest
from django.utils.translation import gettext as _
from pydantic import AfterValidator, BeforeValidator, Field

from .bounds import MAX_AMOUNT, MAX_ID, MAX_OFFSET, MAX_PAGE, MAX_YEAR, MIN_YEAR
from .errors import DomainError


class BadParameter(DomainError, BadRequest):
    code = "bad_parameter"
    status = 400


def _bad(name: str, value: Any, rule: str) -> BadParameter:
    shown = str(value)[:40]
    return BadParameter(_("Tham số %(name)s không hợp lệ (\"%(value)s\"): %(rule)s.")
                        % {"name": name, "value": shown, "rule": rule}, field=name)


def int_param(value: Any, *, name: str, default: int | None = None, minimum: int | None = None,
              maximum: int | None = None) -> int | None:
    """An integer in [minimum, maximum]; `default` when absent or empty; BadParameter otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d{1,30}", text):
        raise _bad(name, value, _("cần một số nguyên"))
    number = int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        low = "" if minimum is None else f"{minimum:,}".replace(",", ".")
        high = "" if maximum is None else f"{maximum:,}".replace(",", ".")
        raise _bad(name, value, _("cần từ %(low)s đến %(high)s") % {"low": low, "high": high})
    return number


def page_param(value: Any, *, name: str = "page") -> int:
    """A page number (1 … MAX_PAGE); 1 when absent."""
    return int_param(value, name=name, default=1, minimum=1, maximum=MAX_PAGE) or 1


def year_param(value: Any, *, name: str = "year", default: int | None = None) -> int | None:
    """A calendar year (MIN_YEAR … MAX_YEAR); `default` when absent."""
    return int_param(value, name=name, default=default, minimum=MIN_YEAR, maximum=MAX_YEAR)


def month_param(value: Any, *, name: str = "month", default: dt.date | None = None) -> dt.date | None:
    """A month written YYYY-MM, as its first day; `default` when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", str(value).strip())
    if not m or not (MIN_YEAR <= int(m.group(1)) <= MAX_YEAR) or not (1 <= int(m.group(2)) <= 12):
        raise _bad(name, value, _("cần một tháng dạng NNNN-TT, ví dụ 2025-07, năm từ %(a)s đến %(b)s")
                   % {"a": MIN_YEAR, "b": MAX_YEAR})
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


# For django-ninja: the same bounds, validated before the view runs (a 400 with code validation_error).
Page = Annotated[int, Field(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _iso_datetime(value: Any) -> Any:
    """Pydantic reads a number as a Unix timestamp: `since=2.2e-16` was 1970-01-01 (found by the API
    fuzzing, issue 15 item 3). The schema says an ISO 8601 date and time; only that is accepted."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, str):
        try:
            float(value)
            number = True
        except ValueError:
            pass
    if number:
        raise ValueError(_("cần ngày giờ dạng ISO 8601, ví dụ 2025-07-01T08:00:00+07:00"))
    return value


def _in_utc(value: dt.datetime) -> dt.datetime:
    """Python takes any offset under 24 hours, PostgreSQL up to ±15:59: `since=2881-10-12T04:26:42+17:53`
    was a 500 there (found by the API fuzzing). The same instant in UTC goes to the database."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(_("ngày giờ nằm ngoài khoảng cho phép")) from None


DateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime), AfterValidator(_in_utc)]
# A date is ISO 8601 too: `on=0` was read as a Unix timestamp, 1970-01-01 (found by the API fuzzing).
Date = Annotated[dt.date, BeforeValidator(_iso_datetime)]


def unit_param(value: Any, *, user, name: str = "unit", on: dt.date | None = None):
    """An administrative unit named by a query parameter ("23500", "legacy:62"), within the user's
    scope (read); None when absent. A malformed or unknown code is a BadParameter; a unit outside the
    scope stays a PermissionDenied (403)."""
    from vitreem.places.selectors import unit_resolve

    from .scope import require_unit

    ref = "" if value is None else str(value).strip()
    if not ref:
        return None
    try:
        unit = unit_resolve(ref, on=on) if ":" not in ref and on else unit_resolve(ref)
    except DomainError as exc:
        raise _bad(name, value, str(exc.message).rstrip(".")) from None
    require_unit(user, unit, write=False)
    return unit


def id_choices_valid(values: Any) -> bool:
    """Whether every value of a choice field that names rows by id is a key the database can hold (a
    20-digit id reached the database and failed there: OverflowError, not a form error)."""
    items = values if isinstance(values, (list, tuple)) else [values]
    for item in items:
        if item in (None, ""):
            continue
        text = str(item).strip()
        if not re.fullmatch(r"\d{1,19}", text) or not 1 <= int(text) <= MAX_ID:
            return False
    return True


class IdChoiceField(forms.ModelChoiceField):
    """ModelChoiceField whose posted id is checked before the query: a 20-digit id is an invalid
    choice, not an OverflowError from the database (Django catches only ValueError and TypeError)."""

    def to_python(self, value):
        if self.to_field_name is None and value not in self.empty_values and not id_choices_valid(value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField with the same check on every posted id."""

    def _check_values(self, value):
        if self.to_field_name is None and not id_choices_valid(list(value)):
            raise forms.ValidationError(self.error_messages["invalid_pk_value"] % {"pk": str(value)[:40]},
                                        code="invalid_pk_value")
        return super()._check_values(value)


class IntField(forms.IntegerField):
    """IntegerField bounded by default to ±MAX_AMOUNT: a 20-digit number is a form error, not an overflow
    in the database. Every integer field of vitreem's forms is one (amounts, ids, versions)."""

    def __init__(self, *args, max_value=None, min_value=None, **kwargs):
        super().__init__(*args, max_value=MAX_AMOUNT if max_value is None else max_value,
                         min_value=-MAX_AMOUNT if min_value is None else min_value, **kwargs)
