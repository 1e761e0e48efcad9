"""Every write of the programme: catalogue, targets, report submissions, plans, evaluations.

Each service is keyword-only, runs in one transaction, checks who may do it, validates (nothing is
half-saved) and writes an audit row (the history of a target or a report is its audit rows).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, Role
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from vitreem.core.scope import scope_for
from vitreem.core.text import format_number, nfc, parse_number
from vitreem.places.models import AdminUnit

from .models import (
    DISAGGREGATION_OPTIONS,
    DataElement,
    DataValue,
    Direction,
    Explanation,
    Indicator,
    Measure,
    MemberUnitEvaluation,
    Plan,
    Rating,
    Reminder,
    ReportForm,
    Severity,
    Source,
    Submission,
    SubmissionStatus,
    Target,
    Task,
    TaskStatus,
    ValidationRule,
    YearEvaluation,
)
from .periods import period_parse, period_previous
from .permissions import is_manager, require_manager, require_member_unit_write

FIRST_YEAR, LAST_YEAR = 2021, 2030  # Decision 23/QĐ-TTg covers 2021–2030
MAX_VALUE = Decimal("999999999999")


def _text(value: Any) -> str:
    return nfc(value or "")


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


@transaction.atomic
def indicator_create(*, actor, code: str, data: Mapping[str, Any]) -> Indicator:
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
def indicator_update(*, actor, indicator: Indicator, data: Mapping[str, Any]) -> Indicator:
    require_manager(actor)
    before = snapshot(indicator)
    for name, value in _indicator_fields(data, partial=True).items():
        setattr(indicator, name, value)
    indicator.save()
    audit_change(actor=actor, action="programme.indicator.update", obj=indicator,
                 changes=diff(before, snapshot(indicator)))
    return indicator


@transaction.atomic
def target_set(*, actor, indicator: Indicator, year: int, value: Any, note: str = "") -> Target:
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
def targets_set(*, actor, indicator: Indicator, values: Mapping[int, tuple[Any, str]]) -> list[Target]:
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


# ---------------------------------------------------------------- report forms


@transaction.atomic
def form_create(*, actor, code: str, name: str, period_type: str, deadline_days: int = 15,
                member_units: Iterable[MemberUnit] = (), for_communes: bool = False,
                province: AdminUnit | None = None) -> ReportForm:
    require_manager(actor)
    errors = {}
    if not _text(name):
        errors["name"] = _("Tên biểu mẫu không được để trống.")
    if period_type not in ("quarter", "half", "year"):
        errors["period_type"] = _("Kỳ báo cáo phải là quý, 6 tháng hoặc năm.")
    code = _code(code, "code", _("biểu mẫu"), errors)
    if "code" not in errors and ReportForm.objects.filter(code=code).exists():
        errors["code"] = _("Mã biểu mẫu %(c)s đã tồn tại.") % {"c": code}
    days = _small_int(deadline_days, "deadline_days", errors, low=0, high=365, label=_("Hạn nộp (số ngày sau kỳ)"))
    if for_communes and province is None:
        errors["province"] = _("Biểu mẫu cho cấp xã cần chọn tỉnh.")
    if errors:
        raise ValidationFailed(errors)
    form = ReportForm.objects.create(code=code, name=_text(name), period_type=period_type,
                                     deadline_days=15 if days is None else days, for_communes=for_communes,
                                     province=province)
    form.member_units.set(list(member_units))
    audit_change(actor=actor, action="programme.form.create", obj=form, changes=snapshot(form))
    return form


def _code(raw: Any, field_name: str, what: str, errors: dict[str, str]) -> str:
    code = (raw or "").strip().lower()
    if not code or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code) or len(code) > 60:
        errors[field_name] = _("Mã %(w)s chỉ gồm chữ không dấu, số, '-' và '_' (tối đa 60 ký tự).") % {"w": what}
    elif code == "new":  # the settings screens' "create" address
        errors[field_name] = _("Mã 'new' được dành riêng; hãy chọn mã khác.")
    return code


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


def form_used(form: ReportForm) -> bool:
    """Reports have been opened for the form: its period type can no longer change."""
    return Submission.objects.filter(form=form).exists()


@transaction.atomic
def form_update(*, actor, form: ReportForm, data: Mapping[str, Any]) -> ReportForm:
    """Edit a report form (its code, which names it in links and the API, stays). A form with reports
    keeps its period type: the periods of those reports would no longer match it."""
    require_manager(actor)
    form = ReportForm.objects.select_for_update().get(pk=form.pk)
    before = {**snapshot(form), "member_units": sorted(form.member_units.values_list("pk", flat=True))}
    errors: dict[str, str] = {}
    if "name" in data:
        form.name = _text(data["name"])[:300]
        if not form.name:
            errors["name"] = _("Tên biểu mẫu không được để trống.")
    if "period_type" in data and data["period_type"] != form.period_type:
        if data["period_type"] not in ("quarter", "half", "year"):
            errors["period_type"] = _("Kỳ báo cáo phải là quý, 6 tháng hoặc năm.")
        elif form_used(form):
            errors["period_type"] = _("Biểu mẫu đã có báo cáo: không đổi được kỳ báo cáo.")
        else:
            form.period_type = data["period_type"]
    for name, label in (("deadline_days", _("Hạn nộp (số ngày sau kỳ)")), ("remind_days_before",
                                                                           _("Nhắc trước (số ngày)"))):
        if name in data:
            number = _small_int(data[name], name, errors, low=0, high=365, label=label)
            if number is None and name not in errors:
                errors[name] = _("%(l)s không được để trống.") % {"l": label}
            elif number is not None:
                setattr(form, name, number)
    if "for_communes" in data:
        form.for_communes = bool(data["for_communes"])
    if "province" in data:
        form.province = data["province"] or None
    if form.for_communes and form.province is None:
        errors["province"] = _("Biểu mẫu cho cấp xã cần chọn tỉnh.")
    if "active" in data:
        form.active = bool(data["active"])
    if errors:
        raise ValidationFailed(errors)
    form.save()
    if "member_units" in data:
        form.member_units.set(list(data["member_units"] or []))
    after = {**snapshot(form), "member_units": sorted(form.member_units.values_list("pk", flat=True))}
    audit_change(actor=actor, action="programme.form.update", obj=form, changes=diff(before, after))
    return form


def _element_fields(form: ReportForm, data: Mapping[str, Any], errors: dict[str, str], *,
                    element: DataElement | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if element is None or "code" in data:
        out["code"] = _code(data.get("code"), "code", _("chỉ tiêu báo cáo"), errors)
        same = form.elements.filter(code=out["code"])
        if element is not None:
            same = same.exclude(pk=element.pk)
        if "code" not in errors and same.exists():
            errors["code"] = _("Biểu mẫu đã có chỉ tiêu mã %(c)s.") % {"c": out["code"]}
    if element is None or "name" in data:
        out["name"] = _text(data.get("name"))[:300]
        if not out["name"]:
            errors["name"] = _("Tên chỉ tiêu báo cáo không được để trống.")
    if element is None or "measure" in data:
        out["measure"] = data.get("measure") or Measure.NUMBER
        if out["measure"] not in Measure.values:
            errors["measure"] = _("Đơn vị đo không hợp lệ: %(v)s.") % {"v": out["measure"]}
    if element is None or "disaggregations" in data:
        out["disaggregations"] = list(data.get("disaggregations") or [])
        bad = [d for d in out["disaggregations"] if d not in DISAGGREGATION_OPTIONS]
        if bad:
            errors["disaggregations"] = _("Phân tổ không hợp lệ: %(v)s.") % {"v": ", ".join(map(str, bad))}
    if "part_of" in data:
        whole = data["part_of"] or None
        if whole is not None and (whole.form_id != form.pk or (element is not None and whole.pk == element.pk)):
            errors["part_of"] = _("Chỉ tiêu tổng phải là một chỉ tiêu khác của cùng biểu mẫu.")
        out["part_of"] = whole
    if "required" in data:
        out["required"] = bool(data["required"])
    if "order" in data and data["order"] not in (None, ""):
        out["order"] = _small_int(data["order"], "order", errors, low=0, high=999, label=_("Thứ tự"))
    return out


def element_used(element: DataElement) -> bool:
    """Reports hold values of it, or an indicator is computed from it: it can only be switched off."""
    return (DataValue.objects.filter(element=element).exists()
            or Indicator.objects.filter(models.Q(numerator_element=element)
                                        | models.Q(denominator_element=element)).exists())


@transaction.atomic
def element_add(*, actor, form: ReportForm, code: str, name: str, measure: str = "number",
                disaggregations: Iterable[str] = (), part_of: DataElement | None = None,
                required: bool = True, order: Any = None) -> DataElement:
    require_manager(actor)
    errors: dict[str, str] = {}
    values = _element_fields(form, {"code": code, "name": name, "measure": measure,
                                    "disaggregations": list(disaggregations), "part_of": part_of,
                                    "required": required, "order": order}, errors, element=None)
    if errors:
        raise ValidationFailed(errors)
    values.setdefault("order", form.elements.count())
    element = DataElement.objects.create(form=form, **values)
    audit_change(actor=actor, action="programme.element.create", obj=element, changes=snapshot(element))
    return element


@transaction.atomic
def element_update(*, actor, element: DataElement, data: Mapping[str, Any]) -> DataElement:
    """Edit an element. Once reports hold its values its code, unit of measure and breakdowns stay:
    they are what those values mean."""
    require_manager(actor)
    element = DataElement.objects.select_for_update().get(pk=element.pk)
    errors: dict[str, str] = {}
    values = _element_fields(element.form, data, errors, element=element)
    if element_used(element):
        for name, label in (("code", _("Mã")), ("measure", _("Đơn vị đo")), ("disaggregations", _("Phân tổ"))):
            if name in values and values[name] != getattr(element, name):
                errors[name] = _("%(l)s không đổi được: đã có số liệu báo cáo của chỉ tiêu %(n)s.") % {
                    "l": label, "n": element.name}
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(element)
    for name, value in values.items():
        setattr(element, name, value)
    element.save()
    audit_change(actor=actor, action="programme.element.update", obj=element, changes=diff(before, snapshot(element)))
    return element


@transaction.atomic
def element_remove(*, actor, element: DataElement) -> str:
    """Remove an element from its form: deleted when nothing uses it, otherwise switched off (its values
    and the rules about it stay). Returns "deleted" or "deactivated"."""
    require_manager(actor)
    element = DataElement.objects.select_for_update().get(pk=element.pk)
    rules = ValidationRule.objects.filter(models.Q(left=element) | models.Q(right=element))
    if element_used(element) or any(rule_used(r) for r in rules):
        if element.active:
            element.active = False
            element.save(update_fields=["active"])
            audit_change(actor=actor, action="programme.element.deactivate", obj=element,
                         changes={"active": [True, False]})
        return "deactivated"
    audit_change(actor=actor, action="programme.element.delete", obj=element, changes=snapshot(element))
    rules.delete()
    element.delete()
    return "deleted"


@transaction.atomic
def element_restore(*, actor, element: DataElement) -> DataElement:
    require_manager(actor)
    if not element.active:
        element.active = True
        element.save(update_fields=["active"])
        audit_change(actor=actor, action="programme.element.restore", obj=element, changes={"active": [False, True]})
    return element


def _rule_fields(form: ReportForm, data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["kind"] = data.get("kind")
    if out["kind"] not in ValidationRule.Kind.values:
        errors["kind"] = _("Loại quy tắc không hợp lệ.")
    out["severity"] = data.get("severity") or Severity.ERROR
    if out["severity"] not in Severity.values:
        errors["severity"] = _("Mức độ không hợp lệ (lỗi hoặc cảnh báo).")
    for name in ("left", "right"):
        element = data.get(name) or None
        if element is not None and element.form_id != form.pk:
            errors[name] = _("Chỉ tiêu %(n)s không thuộc biểu mẫu này.") % {"n": element.name}
        out[name] = element
    if out["left"] is None:
        errors["left"] = _("Hãy chọn chỉ tiêu được kiểm tra.")
    for name in ("minimum", "maximum", "threshold"):
        raw = data.get(name)
        out[name] = _decimal(raw, name, errors) if raw not in (None, "") else None
    kind = out["kind"]
    if kind == ValidationRule.Kind.LE:
        if out["right"] is None:
            errors["right"] = _("Quy tắc 'không vượt quá' cần chỉ tiêu so sánh.")
        elif out["left"] is not None and out["right"].pk == out["left"].pk:
            errors["right"] = _("Chỉ tiêu so sánh phải khác chỉ tiêu được kiểm tra.")
    elif kind == ValidationRule.Kind.RANGE:
        low, high = out["minimum"], out["maximum"]
        if low is None and high is None and "minimum" not in errors and "maximum" not in errors:
            errors["minimum"] = _("Quy tắc 'trong khoảng' cần giá trị nhỏ nhất hoặc lớn nhất.")
        elif low is not None and high is not None and low > high:
            errors["maximum"] = _("Giá trị lớn nhất (%(b)s) nhỏ hơn giá trị nhỏ nhất (%(a)s).") % {
                "a": format_number(low, 0 if low % 1 == 0 else 2), "b": format_number(high, 0 if high % 1 == 0 else 2)}
    elif kind == ValidationRule.Kind.CHANGE:
        threshold = out["threshold"]
        if threshold is None and "threshold" not in errors:
            errors["threshold"] = _("Quy tắc 'khác nhiều so với kỳ trước' cần ngưỡng (ví dụ 0,5 = ±50%).")
        elif threshold is not None and not Decimal(0) < threshold <= Decimal(100):
            errors["threshold"] = _("Ngưỡng phải lớn hơn 0 và không quá 100 (0,5 = ±50%).")
    # a rule keeps only the fields its kind reads, so an edit of its kind leaves no stale limits
    if kind != ValidationRule.Kind.LE:
        out["right"] = None
    if kind != ValidationRule.Kind.RANGE:
        out["minimum"] = out["maximum"] = None
    if kind != ValidationRule.Kind.CHANGE:
        out["threshold"] = None
    out["message"] = _text(data.get("message"))[:300]
    return out


def rule_used(rule: ValidationRule) -> bool:
    """The rule has checked a submitted report: some submitted report holds a value of its element."""
    return DataValue.objects.filter(element_id=rule.left_id, submission__first_submitted_at__isnull=False).exists()


@transaction.atomic
def rule_add(*, actor, form: ReportForm, kind: str, left: DataElement | None, severity: str = Severity.ERROR,
             right: DataElement | None = None, minimum: Any = None, maximum: Any = None, threshold: Any = None,
             message: str = "") -> ValidationRule:
    require_manager(actor)
    errors: dict[str, str] = {}
    values = _rule_fields(form, {"kind": kind, "severity": severity, "left": left, "right": right,
                                 "minimum": minimum, "maximum": maximum, "threshold": threshold,
                                 "message": message}, errors)
    if errors:
        raise ValidationFailed(errors)
    rule = ValidationRule.objects.create(form=form, **values)
    audit_change(actor=actor, action="programme.rule.create", obj=rule, changes=snapshot(rule))
    return rule


@transaction.atomic
def rule_update(*, actor, rule: ValidationRule, data: Mapping[str, Any]) -> ValidationRule:
    """Edit a rule (reports already submitted keep the checks and confirmations they had)."""
    require_manager(actor)
    rule = ValidationRule.objects.select_for_update().get(pk=rule.pk)
    current = {name: getattr(rule, name) for name in ("kind", "severity", "left", "right", "minimum", "maximum",
                                                      "threshold", "message")}
    errors: dict[str, str] = {}
    values = _rule_fields(rule.form, {**current, **data}, errors)
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(rule)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    audit_change(actor=actor, action="programme.rule.update", obj=rule, changes=diff(before, snapshot(rule)))
    return rule


@transaction.atomic
def rule_remove(*, actor, rule: ValidationRule) -> str:
    """Deleted when it never checked a submitted report, otherwise switched off. "deleted"/"deactivated"."""
    require_manager(actor)
    rule = ValidationRule.objects.select_for_update().get(pk=rule.pk)
    if rule_used(rule):
        if rule.active:
            rule.active = False
            rule.save(update_fields=["active"])
            audit_change(actor=actor, action="programme.rule.deactivate", obj=rule, changes={"active": [True, False]})
        return "deactivated"
    audit_change(actor=actor, action="programme.rule.delete", obj=rule, changes=snapshot(rule))
    rule.delete()
    return "deleted"


@transaction.atomic
def rule_restore(*, actor, rule: ValidationRule) -> ValidationRule:
    require_manager(actor)
    if not rule.active:
        rule.active = True
        rule.save(update_fields=["active"])
        audit_change(actor=actor, action="programme.rule.restore", obj=rule, changes={"active": [False, True]})
    return rule


# ---------------------------------------------------------------- submissions


def assignee_key(*, member_unit: MemberUnit | None = None, unit: AdminUnit | None = None) -> str:
    return f"mu:{member_unit.pk}" if member_unit is not None else f"unit:{unit.pk}" if unit is not None else ""


def assignee_require_write(actor, *, form: ReportForm, member_unit: MemberUnit | None, unit: AdminUnit | None) -> None:
    """The form must be assigned to that member unit / commune, and the actor must belong to it."""
    if member_unit is not None:
        require_member_unit_write(actor, member_unit.pk)
        if not form.member_units.filter(pk=member_unit.pk).exists():
            raise DomainError(_("Biểu mẫu %(f)s không giao cho %(u)s.") % {"f": form.name, "u": member_unit.name},
                              field="member_unit", code="not_assigned")
        return
    if unit is None:
        raise DomainError(_("Hãy chọn đơn vị báo cáo."), field="member_unit")
    if not is_manager(actor):
        scope = scope_for(actor)
        if actor.role != Role.COMMUNE_WORKER or not scope.sees_unit(unit.pk):
            raise PermissionDenied(_("Đơn vị %(u)s nằm ngoài phạm vi của bạn.") % {"u": unit.name},
                                   code="out_of_scope")
    from .selectors import form_communes

    if not form.for_communes or unit.pk not in form_communes(form):
        raise DomainError(_("Biểu mẫu %(f)s không giao cho %(u)s.") % {"f": form.name, "u": unit.name},
                          field="unit", code="not_assigned")


@transaction.atomic
def submission_open(*, actor, form: ReportForm, period: str, member_unit: MemberUnit | None = None,
                    unit: AdminUnit | None = None) -> Submission:
    """The report of a unit for a period: the existing one, or a new draft."""
    parsed = period_parse(period)
    if parsed.type != form.period_type:
        raise DomainError(_("Kỳ %(p)s không đúng loại kỳ của biểu mẫu (%(t)s).") % {
            "p": parsed.code, "t": form.get_period_type_display()}, field="period")
    if not form.active:
        raise DomainError(_("Biểu mẫu đã ngừng sử dụng."), field="form")
    assignee_require_write(actor, form=form, member_unit=member_unit, unit=unit)
    key = assignee_key(member_unit=member_unit, unit=unit)
    existing = Submission.objects.filter(form=form, period=parsed.code, assignee_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                form=form, period=parsed.code, period_start=parsed.start, period_end=parsed.end,
                due_on=parsed.due_on(form.deadline_days), member_unit=member_unit, unit=unit, assignee_key=key)
    except IntegrityError:  # opened at the same moment by someone else
        return Submission.objects.get(form=form, period=parsed.code, assignee_key=key)
    audit_change(actor=actor, action="programme.submission.open", obj=submission, unit=unit,
                 changes={"form": form.code, "period": parsed.code, "assignee": key})
    return submission


@dataclass
class Checked:
    values: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)  # key -> message; a key needs a confirmation


def value_field(element: DataElement, category: str = "") -> str:
    """The form/API field name of one cell: "<element>" for the total, "<element>.sex:F" for a part."""
    return f"{element.code}.{category}" if category else element.code


def _previous_totals(submission: Submission) -> dict[int, Decimal]:
    prev = period_previous(period_parse(submission.period))
    rows = DataValue.objects.filter(
        submission__form=submission.form, submission__period=prev.code,
        submission__assignee_key=submission.assignee_key, category="",
        submission__status__in=[SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED])
    return {r.element_id: r.value for r in rows}


def submission_check(*, submission: Submission, raw: Mapping[str, Any], final: bool) -> Checked:
    """Validate entered values against the form's rules. `raw` maps value_field(...) -> text or number.

    Built-in rules (errors): a number, not negative; a rate between 0 and 100; a part not above its whole;
    the parts of a disaggregation sum to the total (a missing total is their sum). Rules of the form add
    comparisons, ranges and "far from last period" checks with their own severity. `final` (submitting)
    also requires every required total."""
    out = Checked()
    # switched-off elements are no longer asked for (their values in old reports stay)
    all_elements = list(submission.form.elements.all())
    by_id = {e.pk: e for e in all_elements}
    elements = [e for e in all_elements if e.active]
    for element in elements:
        cells = [("", element.name)]
        for dim in element.disaggregations:
            cells += [(f"{dim}:{opt}", f"{element.name} ({label})") for opt, label in DISAGGREGATION_OPTIONS[dim]]
        for category, label in cells:
            name = value_field(element, category)
            text = raw.get(name)
            if text is None or str(text).strip() == "":
                continue
            number = _decimal(text, name, out.errors)
            if number is None:
                out.errors[name] = _("%(l)s: '%(v)s' không phải là số.") % {"l": label, "v": str(text)[:30]}
                continue
            if number < 0:
                out.errors[name] = _("%(l)s: không được âm.") % {"l": label}
            elif element.measure == Measure.PERCENT and number > 100:
                out.errors[name] = _("%(l)s: tỷ lệ phải trong khoảng 0–100 (nhận được %(v)s).") % {
                    "l": label, "v": format_number(number, 2)}
            out.values[(element.pk, category)] = number
        # disaggregations sum to the total
        for dim in element.disaggregations:
            opts = [f"{dim}:{opt}" for opt, _label in DISAGGREGATION_OPTIONS[dim]]
            present = [o for o in opts if (element.pk, o) in out.values]
            if not present:
                continue
            if len(present) != len(opts):
                out.errors[value_field(element, opts[0])] = _(
                    "%(l)s: nhập đủ các phần theo %(d)s hoặc để trống tất cả.") % {
                    "l": element.name, "d": DISAGG_LABELS.get(dim, dim)}
                continue
            parts = sum((out.values[(element.pk, o)] for o in opts), Decimal(0))
            total = out.values.get((element.pk, ""))
            if total is None:
                out.values[(element.pk, "")] = parts
            elif parts != total:
                out.errors[value_field(element)] = _(
                    "%(l)s: tổng theo %(d)s (%(p)s) khác tổng số (%(t)s).") % {
                    "l": element.name, "d": DISAGG_LABELS.get(dim, dim), "p": format_number(parts, 2 if parts % 1 else 0),
                    "t": format_number(total, 2 if total % 1 else 0)}
        if final and element.required and (element.pk, "") not in out.values:
            out.errors.setdefault(value_field(element), _("%(l)s: chưa nhập.") % {"l": element.name})
    # a part may not exceed its whole (also for each disaggregation part)
    for (eid, category), number in list(out.values.items()):
        element = by_id[eid]
        whole_id = element.part_of_id
        if whole_id and (whole_id, category) in out.values and number > out.values[(whole_id, category)]:
            out.errors.setdefault(value_field(element, category), _(
                "%(p)s (%(v)s) không được lớn hơn %(w)s (%(t)s).") % {
                "p": element.name, "v": format_number(number, 2 if number % 1 else 0), "w": by_id[whole_id].name,
                "t": format_number(out.values[(whole_id, category)], 0)})
    previous: dict[int, Decimal] | None = None
    for rule in submission.form.rules.filter(active=True):
        left = out.values.get((rule.left_id, ""))
        if left is None:
            continue
        key, message = f"rule:{rule.pk}", ""
        left_name = by_id[rule.left_id].name if rule.left_id in by_id else "?"
        if rule.kind == ValidationRule.Kind.LE and rule.right_id:
            right = out.values.get((rule.right_id, ""))
            if right is not None and left > right:
                message = rule.message or _("%(a)s không được lớn hơn %(b)s.") % {
                    "a": left_name, "b": by_id[rule.right_id].name}
        elif rule.kind == ValidationRule.Kind.RANGE:
            if (rule.minimum is not None and left < rule.minimum) or (rule.maximum is not None and left > rule.maximum):
                message = rule.message or _("%(a)s nằm ngoài khoảng cho phép.") % {"a": left_name}
        elif rule.kind == ValidationRule.Kind.CHANGE and rule.threshold is not None:
            if previous is None:
                previous = _previous_totals(submission)
            last = previous.get(rule.left_id)
            if last and abs(left - last) / last > rule.threshold:
                message = _("%(a)s = %(v)s, khác nhiều so với kỳ trước (%(l)s): hãy kiểm tra, xác nhận và "
                            "giải thích.") % {"a": left_name, "v": format_number(left), "l": format_number(last)}
        if not message:
            continue
        name = value_field(by_id[rule.left_id]) if rule.left_id in by_id else key
        if rule.severity == Severity.ERROR:
            out.errors.setdefault(name, message)
        else:
            out.warnings[key] = message
    return out


DISAGG_LABELS = {"sex": "giới tính", "age": "nhóm tuổi", "ethnicity": "dân tộc", "unit": "đơn vị"}


def _require_editable(submission: Submission, expected_version: int | None) -> None:
    if submission.status == SubmissionStatus.ACCEPTED:
        raise Conflict(_("Báo cáo đã được chấp nhận và khoá; cần cơ quan thường trực mở lại để sửa."),
                       code="locked")
    if submission.status == SubmissionStatus.SUBMITTED:
        raise Conflict(_("Báo cáo đã nộp, đang chờ cơ quan thường trực xem xét."), code="submitted")
    if expected_version is not None and int(expected_version) != submission.version:
        raise Conflict(_("Báo cáo vừa được người khác sửa; hãy tải lại trang."), code="stale")


@transaction.atomic
def submission_save(*, actor, submission: Submission, values: Mapping[str, Any],
                    confirmations: Mapping[str, str] | None = None, submit: bool = False,
                    expected_version: int | None = None) -> Checked:
    """Save the values of a draft (or returned) report and, with `submit`, send it to the standing agency.

    Errors refuse everything. Warnings do not stop a draft; submitting needs each warning confirmed with
    a comment (kept with the report)."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    assignee_require_write(actor, form=submission.form, member_unit=submission.member_unit, unit=submission.unit)
    _require_editable(submission, expected_version)
    checked = submission_check(submission=submission, raw=values, final=submit)
    confirmed = {k: _text(v) for k, v in (confirmations or {}).items() if _text(v)}
    if submit:
        for key, message in checked.warnings.items():
            if key not in confirmed:
                checked.errors[f"confirm:{key}"] = _("%(m)s — cần xác nhận kèm giải thích trước khi nộp.") % {
                    "m": message}
    if checked.errors:
        raise ValidationFailed(checked.errors)
    before = {f"{v.element.code}.{v.category}" if v.category else v.element.code: str(v.value)
              for v in submission.values.select_related("element")}
    submission.values.all().delete()
    elements = {e.pk: e for e in submission.form.elements.all()}
    DataValue.objects.bulk_create([DataValue(submission=submission, element_id=eid, category=cat, value=val)
                                   for (eid, cat), val in checked.values.items()])
    after = {value_field(elements[eid], cat): str(val) for (eid, cat), val in checked.values.items()}
    submission.confirmations = {k: v for k, v in confirmed.items() if k in checked.warnings}
    submission.version += 1
    now = timezone.now()
    if submit:
        submission.status = SubmissionStatus.SUBMITTED
        submission.submitted_at = now
        submission.submitted_by = actor
        submission.first_submitted_at = submission.first_submitted_at or now
    submission.save()
    audit_change(actor=actor, action="programme.submission.submit" if submit else "programme.submission.save",
                 obj=submission, unit=submission.unit,
                 changes={"values": diff(before, after), "confirmations": submission.confirmations})
    return checked


@transaction.atomic
def submission_submit(*, actor, submission: Submission, confirmations: Mapping[str, str] | None = None) -> Submission:
    """Submit a draft with the values it holds."""
    raw = {value_field(v.element, v.category): v.value for v in submission.values.select_related("element")}
    submission_save(actor=actor, submission=submission, values=raw, submit=True,
                    confirmations={**submission.confirmations, **(confirmations or {})})
    submission.refresh_from_db()
    return submission


def _review(actor, submission: Submission, *, allowed: set[str], what: str) -> Submission:
    require_manager(actor)
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status not in allowed:
        raise Conflict(_("Không thể %(w)s báo cáo đang ở trạng thái '%(s)s'.") % {
            "w": what, "s": submission.get_status_display()}, code="bad_state")
    return submission


@transaction.atomic
def submission_accept(*, actor, submission: Submission, comment: str = "") -> Submission:
    """Accept a submitted report: it is locked from now on."""
    submission = _review(actor, submission, allowed={SubmissionStatus.SUBMITTED}, what=_("chấp nhận"))
    submission.status = SubmissionStatus.ACCEPTED
    submission.reviewed_at, submission.reviewed_by = timezone.now(), actor
    submission.review_comment = _text(comment)
    submission.version += 1
    submission.save()
    audit_change(actor=actor, action="programme.submission.accept", obj=submission, unit=submission.unit,
                 changes={"status": ["submitted", "accepted"], "comment": submission.review_comment})
    return submission


@transaction.atomic
def submission_return(*, actor, submission: Submission, comment: str) -> Submission:
    """Send a submitted report back to its unit with a comment saying what to correct."""
    if not _text(comment):
        raise ValidationFailed({"comment": _("Hãy ghi rõ lý do trả lại báo cáo.")})
    submission = _review(actor, submission, allowed={SubmissionStatus.SUBMITTED}, what=_("trả lại"))
    submission.status = SubmissionStatus.RETURNED
    submission.reviewed_at, submission.reviewed_by = timezone.now(), actor
    submission.review_comment = _text(comment)
    submission.version += 1
    submission.save()
    audit_change(actor=actor, action="programme.submission.return", obj=submission, unit=submission.unit,
                 changes={"status": ["submitted", "returned"], "comment": submission.review_comment})
    return submission


@transaction.atomic
def submission_reopen(*, actor, submission: Submission, reason: str) -> Submission:
    """Unlock an accepted report for a correction (audited with the reason)."""
    if not _text(reason):
        raise ValidationFailed({"reason": _("Hãy ghi lý do mở lại báo cáo đã khoá.")})
    submission = _review(actor, submission, allowed={SubmissionStatus.ACCEPTED}, what=_("mở lại"))
    submission.status = SubmissionStatus.RETURNED
    submission.review_comment = _text(reason)
    submission.reviewed_at, submission.reviewed_by = timezone.now(), actor
    submission.version += 1
    submission.save()
    audit_change(actor=actor, action="programme.submission.reopen", obj=submission, unit=submission.unit,
                 changes={"status": ["accepted", "returned"], "reason": submission.review_comment})
    return submission


# ---------------------------------------------------------------- plans and tasks


def _require_plan_write(actor, plan: Plan) -> None:
    if is_manager(actor):
        return
    if plan.kind == Plan.Kind.MEMBER_UNIT and plan.member_unit_id:
        require_member_unit_write(actor, plan.member_unit_id)
        return
    raise PermissionDenied(_("Chỉ cơ quan thường trực được sửa chương trình, kế hoạch chung."))


@transaction.atomic
def plan_create(*, actor, year: int, kind: str, title: str, member_unit: MemberUnit | None = None,
                document_ref: str = "", adopted_on: dt.date | None = None) -> Plan:
    errors = {}
    if kind not in Plan.Kind.values:
        errors["kind"] = _("Loại kế hoạch không hợp lệ.")
    if not _text(title):
        errors["title"] = _("Tên kế hoạch không được để trống.")
    if not FIRST_YEAR <= int(year or 0) <= LAST_YEAR:
        errors["year"] = _("Năm phải trong giai đoạn %(a)s–%(b)s.") % {"a": FIRST_YEAR, "b": LAST_YEAR}
    if kind == Plan.Kind.MEMBER_UNIT and member_unit is None:
        errors["member_unit"] = _("Kế hoạch của đơn vị thành viên cần chọn đơn vị.")
    if errors:
        raise ValidationFailed(errors)
    plan = Plan(year=int(year), kind=kind, title=_text(title), document_ref=_text(document_ref),
                adopted_on=adopted_on, member_unit=member_unit if kind == Plan.Kind.MEMBER_UNIT else None)
    _require_plan_write(actor, plan)
    plan.save()
    audit_change(actor=actor, action="programme.plan.create", obj=plan, changes=snapshot(plan))
    return plan


@transaction.atomic
def task_create(*, actor, plan: Plan, title: str, lead_unit: MemberUnit | None, deadline: dt.date | None,
                supporting_units: Iterable[MemberUnit] = ()) -> Task:
    _require_plan_write(actor, plan)
    errors = {}
    if not _text(title):
        errors["title"] = _("Nội dung nhiệm vụ không được để trống.")
    if lead_unit is None:
        errors["lead_unit"] = _("Hãy chọn đơn vị chủ trì.")
    elif plan.member_unit_id and lead_unit.pk != plan.member_unit_id:
        errors["lead_unit"] = _("Nhiệm vụ trong kế hoạch của đơn vị phải do chính đơn vị chủ trì.")
    if deadline is None:
        errors["deadline"] = _("Hãy nhập thời hạn (dd/mm/yyyy).")
    supporting = [u for u in supporting_units if lead_unit is None or u.pk != lead_unit.pk]
    if errors:
        raise ValidationFailed(errors)
    assert lead_unit is not None and deadline is not None  # noqa: S101 — refused above
    task = Task.objects.create(plan=plan, title=_text(title), lead_unit=lead_unit, deadline=deadline)
    task.supporting_units.set(supporting)
    audit_change(actor=actor, action="programme.task.create", obj=task,
                 changes={**snapshot(task), "supporting_units": [u.pk for u in supporting]})
    return task


@transaction.atomic
def task_update(*, actor, task: Task, status: str, result: str = "", done_on: dt.date | None = None) -> Task:
    """Report progress on a task: the standing agency, or the lead unit's reporter."""
    if not is_manager(actor):
        require_member_unit_write(actor, task.lead_unit_id)
    if status not in TaskStatus.values:
        raise ValidationFailed({"status": _("Trạng thái nhiệm vụ không hợp lệ.")})
    if status == TaskStatus.DONE:
        done_on = done_on or timezone.localdate()
        if done_on > timezone.localdate():
            raise ValidationFailed({"done_on": _("Ngày hoàn thành ở tương lai.")})
    else:
        done_on = None
    before = snapshot(task, ["status", "result", "done_on"])
    task.status, task.result, task.done_on = status, _text(result), done_on
    task.save()
    audit_change(actor=actor, action="programme.task.update", obj=task,
                 changes=diff(before, snapshot(task, ["status", "result", "done_on"])))
    return task


# ---------------------------------------------------------------- evaluation


def _finalised(year: int) -> bool:
    return YearEvaluation.objects.filter(year=year, finalised_at__isnull=False).exists()


@transaction.atomic
def explanation_write(*, actor, indicator: Indicator, year: int, causes: str, solutions: str) -> Explanation:
    """Why a target was not met and what will be done: by the indicator's owner unit or the standing agency."""
    if not is_manager(actor):
        if indicator.owner_id is None:
            raise PermissionDenied(_("Chỉ tiêu chưa có đơn vị phụ trách; cơ quan thường trực giải trình."))
        require_member_unit_write(actor, indicator.owner_id)
    errors = {}
    if not _text(causes):
        errors["causes"] = _("Hãy nêu nguyên nhân không đạt chỉ tiêu.")
    if not _text(solutions):
        errors["solutions"] = _("Hãy nêu giải pháp khắc phục.")
    if errors:
        raise ValidationFailed(errors)
    if _finalised(year):
        raise Conflict(_("Đánh giá năm %(y)s đã hoàn tất; không sửa được giải trình.") % {"y": year},
                       code="finalised")
    explanation = Explanation.objects.filter(indicator=indicator, year=year).first() or Explanation(
        indicator=indicator, year=year)
    before = snapshot(explanation, ["causes", "solutions"]) if explanation.pk else {}
    explanation.causes, explanation.solutions = _text(causes), _text(solutions)
    explanation.member_unit = actor.member_unit if actor.member_unit_id else indicator.owner
    explanation.written_by = actor
    explanation.save()
    audit_change(actor=actor, action="programme.explanation.write", obj=explanation,
                 changes={"indicator": indicator.code, "year": year,
                          **diff(before, snapshot(explanation, ["causes", "solutions"]))})
    return explanation


@transaction.atomic
def evaluation_finalise(*, actor, year: int, summary: str = "") -> YearEvaluation:
    """Close the year's evaluation. Every not-achieved target must carry an explanation."""
    require_manager(actor)
    from .selectors import evaluation_for_year

    evaluation = evaluation_for_year(year=year, with_trend=False)
    missing = [row["name"] for row in evaluation["targets"] if row["status"] == "not_achieved"
               and not row["explanation"]]
    if missing:
        raise ValidationFailed({"explanations": _(
            "Còn %(n)s chỉ tiêu không đạt chưa có giải trình: %(names)s.") % {
            "n": len(missing), "names": "; ".join(missing)}})
    row, _created = YearEvaluation.objects.select_for_update().get_or_create(year=year)
    if row.finalised_at:
        raise Conflict(_("Đánh giá năm %(y)s đã hoàn tất.") % {"y": year}, code="finalised")
    row.finalised_at, row.finalised_by, row.summary = timezone.now(), actor, _text(summary)
    row.save()
    audit_change(actor=actor, action="programme.evaluation.finalise", obj=row, changes={"year": year})
    return row


@transaction.atomic
def member_evaluation_confirm(*, actor, year: int, member_unit: MemberUnit, rating: str,
                              comment: str = "") -> MemberUnitEvaluation:
    """The standing agency confirms (or changes) a member unit's rating for the year."""
    require_manager(actor)
    if rating not in Rating.values:
        raise ValidationFailed({"rating": _("Mức xếp loại không hợp lệ.")})
    row = MemberUnitEvaluation.objects.filter(year=year, member_unit=member_unit).first() or MemberUnitEvaluation(
        year=year, member_unit=member_unit)
    before = snapshot(row, ["rating", "comment"]) if row.pk else {}
    row.rating, row.comment = rating, _text(comment)
    row.confirmed_at, row.confirmed_by = timezone.now(), actor
    row.save()
    audit_change(actor=actor, action="programme.member_evaluation.confirm", obj=row,
                 changes={"member_unit": member_unit.code, "year": year,
                          **diff(before, snapshot(row, ["rating", "comment"]))})
    return row


# ---------------------------------------------------------------- reminders


def _recipients(key: str):
    from vitreem.accounts.models import User

    kind, _sep, pk = key.partition(":")
    if kind == "mu":
        return User.objects.filter(member_unit_id=int(pk), role=Role.REPORTER, is_active=True)
    return User.objects.filter(units__pk=int(pk), role=Role.COMMUNE_WORKER, is_active=True)


@transaction.atomic
def reminders_send(*, today: dt.date | None = None) -> list[Reminder]:
    """Remind units of reports not yet submitted: `remind_days_before` days before the deadline, and once
    after it has passed. Each (form, period, unit, kind) is reminded once; the e-mail goes to the unit's
    reporters (or the commune's workers) who have an address."""
    from django.core.mail import send_mail

    from .selectors import completeness

    today = today or timezone.localdate()
    sent: list[Reminder] = []
    done = set(Reminder.objects.filter(sent_on__year__gte=today.year - 1)
               .values_list("form_id", "period", "assignee_key", "kind"))
    for year in {today.year - 1, today.year}:
        for block in completeness(year=year, today=today):
            form = block["form"]
            for row in block["rows"]:
                for cell in row["cells"]:
                    if cell["received"]:
                        continue
                    days_left = (cell["due_on"] - today).days
                    if 0 <= days_left <= form.remind_days_before:
                        kind = Reminder.Kind.BEFORE
                    elif days_left < 0:
                        kind = Reminder.Kind.AFTER
                    else:
                        continue
                    if (form.pk, cell["period"], row["key"], kind) in done:
                        continue
                    emails = [u.email for u in _recipients(row["key"]) if u.email]
                    subject = (_("Nhắc nộp báo cáo: %(f)s, kỳ %(p)s") if kind == Reminder.Kind.BEFORE
                               else _("Báo cáo quá hạn: %(f)s, kỳ %(p)s")) % {"f": form.name, "p": cell["period"]}
                    body = _("Đơn vị %(u)s: báo cáo %(f)s kỳ %(p)s hạn nộp %(d)s.") % {
                        "u": row["name"], "f": form.name, "p": cell["period"], "d": cell["due_on"].strftime("%d/%m/%Y")}
                    if emails:
                        transaction.on_commit(functools.partial(send_mail, subject, body, None, emails))
                    sent.append(Reminder.objects.create(form=form, period=cell["period"], assignee_key=row["key"],
                                                        kind=kind, sent_on=today, recipients=len(emails)))
    if sent:
        audit_change(actor=None, action="programme.reminders.send", object_type="programme.reminder",
                     changes={"count": len(sent), "on": today.isoformat()})
    return sent
