"""What every activities service shares: field lists and the parsers of submitted values (each adds its
message to `errors` under the field's name)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from vitreem.core.errors import DomainError, NotFound
from vitreem.places.models import AdminUnit

from ..models import (
    Kind,
)

COMMON_FIELDS = ["title", "status", "start_date", "end_date", "unit", "organiser", "partners", "project",
                 "plan_task", "budget_line", "cost", "topic", "note"]
KIND_FIELDS = {
    Kind.COMMUNICATION: ["comm_form", "reached_total", "reached_children", "reached_adults", "reached_male",
                         "reached_female", "materials"],
    Kind.TRAINING: ["audience", "days", "topics"],
    Kind.CAMPAIGN: ["targets", "units_taking_part"],
    Kind.RECREATION: ["occasion", "children_total", "children_male", "children_female", "age_0_5", "age_6_10",
                      "age_11_15", "special_children"],
}
COUNT_FIELDS = {"reached_total", "reached_children", "reached_adults", "reached_male", "reached_female",
                "materials", "children_total", "children_male", "children_female", "age_0_5", "age_6_10",
                "age_11_15", "special_children", "cost"}
MAX_COUNT = 10_000_000  # nobody reaches more people than a province has




def _unit(value: Any, on: dt.date | None = None) -> AdminUnit | None:
    """A unit from an object, an id, "legacy:23500"/"2025:23500", or a bare code read in the version
    in force on `on` (the activity's date), so "23500" for a 2022 talk is the legacy commune."""
    if value in (None, ""):
        return None
    if isinstance(value, AdminUnit):
        return value
    from vitreem.places.selectors import unit_resolve

    if isinstance(value, int):
        unit = AdminUnit.objects.filter(pk=value).first()
        if unit is None:
            raise NotFound(_("Không có đơn vị hành chính này."), field="unit")
        return unit
    text = str(value).strip()
    return unit_resolve(text) if ":" in text or on is None else unit_resolve(text, on=on)


def _required_unit(value: Any, errors: dict[str, str], missing: str) -> AdminUnit | None:
    """The unit an edit form names, or None with the field's message in `errors` (for an edit that
    collects every field's error before refusing)."""
    try:
        unit = _unit(value)
    except DomainError as exc:
        errors["unit"] = str(exc.message)
        return None
    if unit is None:
        errors["unit"] = missing
    return unit


def _date(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 — a calendar date, no time
        except ValueError:
            continue
    errors[field] = _("Ngày không hợp lệ: %(v)s (dùng dd/mm/yyyy).") % {"v": text}
    return None


def _int(value: Any, field: str, errors: dict[str, str], *, maximum: int = MAX_COUNT) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(Decimal(str(value).replace(".", "").replace(",", ""))) if isinstance(value, str) else int(value)
    except (ValueError, ArithmeticError):
        errors[field] = _("Phải là số nguyên không âm.")
        return 0
    if number < 0 or number > maximum:
        errors[field] = _("Phải là số nguyên không âm.") if number < 0 else _("Số quá lớn.")
        return 0
    return number


def _choice(value: Any, choices, field: str, errors: dict[str, str], *, required: bool) -> str:
    value = (value or "").strip() if isinstance(value, str) else (value or "")
    if not value:
        if required:
            errors[field] = _("Bắt buộc chọn.")
        return ""
    if value not in choices.values:
        errors[field] = _("Giá trị không hợp lệ: %(v)s.") % {"v": value}
        return ""
    return value


def _sum_check(errors: dict[str, str], total: int, parts: dict[str, int], total_field: str, label: str) -> None:
    """Participants split by sex or by age band must add up to the total (when the split is given)."""
    given = sum(parts.values())
    if given and given != total:
        first = next(iter(parts))
        errors[first] = _("Tổng %(label)s (%(sum)d) không khớp với tổng số (%(total)d).") % {
            "label": label, "sum": given, "total": total}
    if not total and given:
        errors[total_field] = _("Nhập tổng số người tham gia.")
