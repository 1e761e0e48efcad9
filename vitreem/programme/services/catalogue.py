"""The catalogue of indicators and their yearly targets (Decision 23/QĐ-TTg)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import ValidationFailed
from vitreem.core.text import format_number

from ..models import (
    Direction,
    Indicator,
    Measure,
    Source,
    Target,
)
from ..permissions import require_manager
from ._common import FIRST_YEAR, LAST_YEAR, _decimal, _small_int, _text

# ---------------------------------------------------------------- catalogue and targets


def _indicator_fields(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in ("name", "name_en", "definition", "numerator_code", "denominator_code", "national_note"):
        if name in data:
            out[name] = _text(data[name])
    if (not partial or "name" in data) and not out.get("name"):
        errors["name"] = _("Tên chỉ tiêu không được để trống.")
    if "measure" in data:
        if data["measure"] and data["measure"] not in Measure.values:
            errors["measure"] = _("Đơn vị đo không hợp lệ: %(v)s.") % {"v": data["measure"]}
        out["measure"] = data["measure"] or ""
    if "direction" in data:
        if data["direction"] and data["direction"] not in Direction.values:
            errors["direction"] = _("Chiều đánh giá không hợp lệ: %(v)s.") % {"v": data["direction"]}
        out["direction"] = data["direction"] or ""
    if not partial or "source" in data:
        if data.get("source") not in Source.values:
            errors["source"] = _("Nguồn số liệu phải là 'tính từ dữ liệu' hoặc 'đơn vị báo cáo'.")
        out["source"] = data.get("source")
    if "disaggregations" in data:
        bad = [d for d in data["disaggregations"] or [] if d not in ("sex", "age", "ethnicity", "unit")]
        if bad:
            errors["disaggregations"] = _("Phân tổ không hợp lệ: %(v)s.") % {"v": ", ".join(bad)}
        out["disaggregations"] = list(data["disaggregations"] or [])
    for name, low, high, label in (("objective", 0, 4, _("Mục tiêu (1–4)")), ("order", 0, 999, _("Thứ tự"))):
        if name in data and data[name] not in (None, ""):
            out[name] = _small_int(data[name], name, errors, low=low, high=high, label=label)
    for name in ("owner", "numerator_element", "denominator_element"):
        if name in data:
            out[name] = data[name]
    for name in ("national_2025", "national_2030", "baseline_value"):
        if name in data:
            out[name] = _decimal(data[name], name, errors) if data[name] not in (None, "") else None
    if "active" in data:
        out["active"] = bool(data["active"])
    if "baseline_year" in data:
        out["baseline_year"] = _small_int(data["baseline_year"], "baseline_year", errors, low=2000, high=2030,
                                          label=_("Năm cơ sở"))
    if errors:
        raise ValidationFailed(errors)
    return out




@transaction.atomic
def indicator_create(*, actor: User, code: str, data: Mapping[str, Any]) -> Indicator:
    require_manager(actor)
    code = (code or "").strip().lower()
    if not code or len(code) > 60 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        raise ValidationFailed({"code": _("Mã chỉ tiêu chỉ gồm chữ không dấu, số, '-' và '_'.")})
    if code == "new":  # the settings screens' "create" address
        raise ValidationFailed({"code": _("Mã 'new' được dành riêng; hãy chọn mã khác.")})
    if Indicator.objects.filter(code=code).exists():
        raise ValidationFailed({"code": _("Mã chỉ tiêu %(c)s đã tồn tại.") % {"c": code}})
    indicator = Indicator.objects.create(code=code, **_indicator_fields(data, partial=False))
    audit_change(actor=actor, action="programme.indicator.create", obj=indicator, changes=snapshot(indicator))
    return indicator


@transaction.atomic
def indicator_update(*, actor: User, indicator: Indicator, data: Mapping[str, Any]) -> Indicator:
    require_manager(actor)
    before = snapshot(indicator)
    for name, value in _indicator_fields(data, partial=True).items():
        setattr(indicator, name, value)
    indicator.save()
    audit_change(actor=actor, action="programme.indicator.update", obj=indicator,
                 changes=diff(before, snapshot(indicator)))
    return indicator


@transaction.atomic
def target_set(*, actor: User, indicator: Indicator, year: int, value: Any, note: str = "") -> Target:
    """Set (or change) the province's target for a year. An indicator without a direction or a unit of
    measure cannot carry a target: whether it is met could not be judged."""
    require_manager(actor)
    errors: dict[str, str] = {}
    if not indicator.direction:
        errors["direction"] = _("Chỉ tiêu %(n)s chưa có chiều đánh giá (càng cao/càng thấp càng tốt): "
                                "không thể đặt mục tiêu.") % {"n": indicator.name}
    if not indicator.measure:
        errors["measure"] = _("Chỉ tiêu %(n)s chưa có đơn vị đo: không thể đặt mục tiêu.") % {"n": indicator.name}
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        errors["year"] = _("Năm phải trong giai đoạn %(a)s–%(b)s.") % {"a": FIRST_YEAR, "b": LAST_YEAR}
    if value in (None, ""):
        errors["value"] = _("Giá trị mục tiêu không được để trống.")
        number = None
    else:
        number = _decimal(value, "value", errors)
    if number is not None:
        if number < 0:
            errors["value"] = _("Giá trị mục tiêu không được âm.")
        elif indicator.measure == Measure.PERCENT and number > 100:
            errors["value"] = _("Tỷ lệ phải trong khoảng 0–100 (nhận được %(v)s).") % {"v": format_number(number, 2)}
    if errors:
        raise ValidationFailed(errors)
    target = Target.objects.filter(indicator=indicator, year=year).first()
    before = snapshot(target, ["value", "note"]) if target else {}
    if target is None:
        target = Target(indicator=indicator, year=year)
    target.value = number  # type: ignore[assignment]  # checked above: not None here
    target.note = _text(note)[:300]
    target.updated_by = actor
    target.save()
    target.refresh_from_db(fields=["value"])
    audit_change(actor=actor, action="programme.target.set", obj=target,
                 changes={"indicator": indicator.code, "year": year, **diff(before, snapshot(target, ["value", "note"]))})
    return target


@transaction.atomic
def targets_set(*, actor: User, indicator: Indicator, values: Mapping[int, tuple[Any, str]]) -> list[Target]:
    """Several years' targets at once (the indicator's edit screen): a year whose value and note are
    unchanged is left alone, so its history shows only real changes. One bad year refuses all of them;
    the error is keyed "target_<year>"."""
    current = {t.year: t for t in Target.objects.filter(indicator=indicator)}
    errors: dict[str, str] = {}
    saved: list[Target] = []
    for year, (value, note) in sorted(values.items()):
        if value in (None, ""):
            continue
        old = current.get(year)
        if old is not None:
            parsed: dict[str, str] = {}
            number = _decimal(value, "value", parsed)
            if number == old.value and _text(note)[:300] == old.note:
                continue
        try:
            with transaction.atomic():
                saved.append(target_set(actor=actor, indicator=indicator, year=year, value=value, note=note))
        except ValidationFailed as exc:
            errors[f"target_{year}"] = _("Mục tiêu năm %(y)s: %(m)s") % {"y": year, "m": " ".join(exc.errors.values())}
    if errors:
        raise ValidationFailed(errors)
    return saved
