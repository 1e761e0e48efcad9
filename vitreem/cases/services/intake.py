"""Intake (form 01) and editing the report's facts: Decree 56/2017, Art. 25."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import ValidationFailed
from vitreem.core.scope import get_in_scope, require_unit, scope_for
from vitreem.core.text import text_problem
from vitreem.registry.models import Child

from .. import deadlines
from ..models import (
    Case,
    CaseEvent,
    Channel,
    Concern,
    Perpetrator,
    Status,
)
from ._common import (
    EDITABLE_FIELDS,
    _now,
    _record,
    _require_ability,
    _text,
    case_due_refresh,
    case_for_action,
)

# ---------------------------------------------------------------- intake (form 01)

def _clean_intake(fields: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "channel" in fields:
        if fields["channel"] not in Channel.values:
            errors["channel"] = _("Kênh tiếp nhận không hợp lệ.")
        out["channel"] = fields["channel"]
    if "concern" in fields:
        if fields["concern"] not in Concern.values:
            errors["concern"] = _("Loại vụ việc không hợp lệ.")
        out["concern"] = fields["concern"]
    if "perpetrator" in fields:
        value = fields["perpetrator"] or Perpetrator.UNKNOWN
        if value not in Perpetrator.values:
            errors["perpetrator"] = _("Quan hệ của người gây hại với trẻ không hợp lệ.")
        out["perpetrator"] = value
    for name, label, limit in (("reporter_name", _("Tên người báo tin"), 150),
                               ("reporter_phone", _("Số điện thoại người báo tin"), 20),
                               ("reporter_relation", _("Quan hệ của người báo tin với trẻ"), 100),
                               ("place", _("Nơi xảy ra sự việc"), 255), ("summary", _("Nội dung sự việc"), 10_000)):
        if name in fields:
            out[name] = _text(fields[name])
            if problem := text_problem(out[name], label=label, max_length=limit):
                errors[name] = problem
    for name in ("reporter_anonymous", "in_danger"):
        if name in fields:
            out[name] = bool(fields[name])
    return out


def _check_intake(data: dict[str, Any], errors: dict[str, str]) -> None:
    if not data.get("place"):
        errors.setdefault("place", _("Chưa nhập nơi xảy ra sự việc."))
    if not data.get("summary"):
        errors.setdefault("summary", _("Chưa nhập nội dung sự việc."))
    if data.get("reporter_anonymous"):
        data["reporter_name"] = data["reporter_phone"] = ""
    elif not data.get("reporter_name"):
        errors.setdefault("reporter_name", _("Nhập tên người báo tin hoặc chọn “ẩn danh”."))


@transaction.atomic
def case_intake(*, actor: User, received_at: dt.datetime, channel: str, place: str, concern: str, summary: str,
                child: Child | int | None = None, new_child: dict[str, Any] | None = None,
                confirm_not_duplicate: bool = False, reporter_anonymous: bool = False, reporter_name: str = "",
                reporter_phone: str = "", reporter_relation: str = "", perpetrator: str = Perpetrator.UNKNOWN,
                in_danger: bool = False) -> Case:
    """Record a report (form 01). The child is one of the register, or is registered here in the same
    transaction (`new_child`: full_name, birth_date, sex, unit, village…) with the registry's duplicate
    check — PossibleDuplicate is raised unless `confirm_not_duplicate`."""
    _require_ability(scope_for(actor).works_cases, _("tiếp nhận vụ việc"))
    errors: dict[str, str] = {}
    data = _clean_intake({"channel": channel, "place": place, "concern": concern, "summary": summary,
                          "reporter_anonymous": reporter_anonymous, "reporter_name": reporter_name,
                          "reporter_phone": reporter_phone, "reporter_relation": reporter_relation,
                          "perpetrator": perpetrator, "in_danger": in_danger}, errors)
    _check_intake(data, errors)
    now = _now()
    if not isinstance(received_at, dt.datetime):
        errors["received_at"] = _("Chưa nhập thời điểm tiếp nhận.")
    else:
        if timezone.is_naive(received_at):
            received_at = timezone.make_aware(received_at)
        if received_at > now + dt.timedelta(minutes=5):
            errors["received_at"] = _("Thời điểm tiếp nhận không được ở tương lai.")
    if child is None and not new_child:
        errors["child"] = _("Chọn trẻ trong danh sách hoặc nhập thông tin trẻ mới.")
    if errors:
        raise ValidationFailed(errors)

    child_obj: Child
    if child is not None:
        child_obj = get_in_scope(Child.objects.select_related("unit"), actor,
                                 pk=child.pk if isinstance(child, Child) else child)
    else:
        from vitreem.registry.services import child_register

        raw = dict(new_child or {})
        unit = raw.pop("unit", None) or _home_commune(actor)
        try:
            child_obj = child_register(actor=actor, data=raw, unit=unit, confirm_not_duplicate=confirm_not_duplicate,
                                       source="case")
        except ValidationFailed as exc:
            raise ValidationFailed({f"child.{k}": v for k, v in exc.errors.items()}) from None
    if child_obj.ended_on is not None:
        raise ValidationFailed({"child": _("Hồ sơ của trẻ đã kết thúc, không tạo vụ việc được.")})
    if received_at.date() < child_obj.birth_date:
        raise ValidationFailed({"received_at": _("Thời điểm tiếp nhận trước ngày sinh của trẻ.")})
    require_unit(actor, child_obj.unit)

    case = Case(child=child_obj, unit=child_obj.unit, owner=actor, created_by=actor, received_at=received_at,
                status=Status.RECEIVED, code=f"tmp-{uuid.uuid4().hex[:16]}", **data)
    if case.in_danger:
        # Decree 56/2017, Arts. 26(3) and 31(2): emergency intervention within 12 hours of receiving the information.
        case.emergency_due_at = deadlines.emergency_due(received_at)
    case_due_refresh(case)
    case.save()
    case.code = f"VV-{timezone.localtime(received_at).year}-{case.pk:06d}"
    case.save(update_fields=["code"])
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.INTAKE, at=received_at, actor=actor,
                             to_status=case.status, text=case.summary,
                             data={"channel": case.channel, "concern": case.concern, "in_danger": case.in_danger})
    audit_change(actor=actor, action="case.intake", obj=case, unit=case.unit, changes=snapshot(case))
    return case


def _home_commune(actor: User):
    """The commune of the worker's current version (for a child registered from the intake)."""
    from vitreem.places.models import Level, version_on

    version = version_on(timezone.localdate())
    units = [u for u in actor.units.all() if u.level == Level.COMMUNE]
    for unit in units:
        if unit.version == version:
            return unit
    if units:
        return units[0]
    raise ValidationFailed({"child.unit": _("Chọn xã/phường nơi trẻ cư trú.")})


@transaction.atomic
def case_update(*, actor: User, case: Case | int, expected_version: int, **fields: Any) -> Case:
    """Correct the report's details. A stale `expected_version` is refused (Conflict)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed({name: _("Không sửa được trường này.") for name in sorted(unknown)})
    case = case_for_action(actor, case, expected_version, action="edit")
    errors: dict[str, str] = {}
    data = _clean_intake(fields, errors)
    merged = {name: getattr(case, name) for name in EDITABLE_FIELDS} | data
    _check_intake(merged, errors)
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(case)
    for key, value in merged.items():
        setattr(case, key, value)
    if case.in_danger and case.emergency_due_at is None:
        case.emergency_due_at = deadlines.emergency_due(case.received_at)
    if not case.in_danger and case.emergency_done_at is None:
        case.emergency_due_at = None
    if diff(before, snapshot(case)):
        _record(case, actor=actor, kind=CaseEvent.Kind.UPDATE, before=before, from_status=case.status)
    return case
