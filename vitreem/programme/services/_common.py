"""What every programme service shares: the programme's years, the largest value a report may hold, and
the parsers of submitted values (each adds its message to `errors` under the field's name)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from vitreem.core.text import nfc, parse_number

FIRST_YEAR, LAST_YEAR = 2021, 2030  # Decision 23/QĐ-TTg covers 2021–2030
MAX_VALUE = Decimal("999999999999")


def _text(value: Any) -> str:
    return nfc(value or "")


def _decimal(raw: Any, name: str, errors: dict[str, str]) -> Decimal | None:
    try:
        value = raw if isinstance(raw, Decimal) else parse_number(str(raw))
    except (InvalidOperation, ValueError):
        errors[name] = _("Giá trị không phải là số: %(v)s.") % {"v": str(raw)[:30]}
        return None
    if not value.is_finite() or abs(value) > MAX_VALUE:
        errors[name] = _("Giá trị quá lớn: %(v)s.") % {"v": str(raw)[:30]}
        return None
    return value


def _small_int(raw: Any, field_name: str, errors: dict[str, str], *, low: int, high: int, label: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        number = int(str(raw).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        errors[field_name] = _("%(l)s phải là số nguyên từ %(a)s đến %(b)s.") % {"l": label, "a": low, "b": high}
        return None
    return number
