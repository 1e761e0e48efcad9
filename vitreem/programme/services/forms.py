"""Report forms, their data elements and validation rules, edited by the standing agency."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import ValidationFailed
from vitreem.core.text import format_number
from vitreem.places.models import AdminUnit

from ..models import (
    DISAGGREGATION_OPTIONS,
    DataElement,
    DataValue,
    Indicator,
    Measure,
    ReportForm,
    Severity,
    Submission,
    ValidationRule,
)
from ..permissions import require_manager
from ._common import _decimal, _small_int, _text

# ---------------------------------------------------------------- report forms


@transaction.atomic
def form_create(*, actor: User, code: str, name: str, period_type: str, deadline_days: int = 15,
                member_units: Iterable[MemberUnit] = (), for_communes: bool = False,
                province: AdminUnit | None = None, name_en: str = "") -> ReportForm:
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
    form = ReportForm.objects.create(code=code, name=_text(name), name_en=_text(name_en)[:300], period_type=period_type,
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




def form_used(form: ReportForm) -> bool:
    """Reports have been opened for the form: its period type can no longer change."""
    return Submission.objects.filter(form=form).exists()


@transaction.atomic
def form_update(*, actor: User, form: ReportForm, data: Mapping[str, Any]) -> ReportForm:
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
    if "name_en" in data:
        form.name_en = _text(data["name_en"])[:300]
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
    if element is None or "name_en" in data:
        out["name_en"] = _text(data.get("name_en"))[:300]
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
def element_add(*, actor: User, form: ReportForm, code: str, name: str, measure: str = "number",
                disaggregations: Iterable[str] = (), part_of: DataElement | None = None,
                required: bool = True, order: Any = None, name_en: str = "") -> DataElement:
    require_manager(actor)
    errors: dict[str, str] = {}
    values = _element_fields(form, {"code": code, "name": name, "name_en": name_en, "measure": measure,
                                    "disaggregations": list(disaggregations), "part_of": part_of,
                                    "required": required, "order": order}, errors, element=None)
    if errors:
        raise ValidationFailed(errors)
    values.setdefault("order", form.elements.count())
    element = DataElement.objects.create(form=form, **values)
    audit_change(actor=actor, action="programme.element.create", obj=element, changes=snapshot(element))
    return element


@transaction.atomic
def element_update(*, actor: User, element: DataElement, data: Mapping[str, Any]) -> DataElement:
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
def element_remove(*, actor: User, element: DataElement) -> str:
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
def element_restore(*, actor: User, element: DataElement) -> DataElement:
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
def rule_add(*, actor: User, form: ReportForm, kind: str, left: DataElement | None, severity: str = Severity.ERROR,
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
def rule_update(*, actor: User, rule: ValidationRule, data: Mapping[str, Any]) -> ValidationRule:
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
def rule_remove(*, actor: User, rule: ValidationRule) -> str:
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
def rule_restore(*, actor: User, rule: ValidationRule) -> ValidationRule:
    require_manager(actor)
    if not rule.active:
        rule.active = True
        rule.save(update_fields=["active"])
        audit_change(actor=actor, action="programme.rule.restore", obj=rule, changes={"active": [False, True]})
    return rule
