"""Yearly plans and their tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import PermissionDenied, ValidationFailed

from ..models import (
    Plan,
    Task,
    TaskStatus,
)
from ..permissions import is_manager, require_member_unit_write
from ._common import FIRST_YEAR, LAST_YEAR, _text

# ---------------------------------------------------------------- plans and tasks


def _require_plan_write(actor: User, plan: Plan) -> None:
    if is_manager(actor):
        return
    if plan.kind == Plan.Kind.MEMBER_UNIT and plan.member_unit_id:
        require_member_unit_write(actor, plan.member_unit_id)
        return
    raise PermissionDenied(_("Chỉ cơ quan thường trực được sửa chương trình, kế hoạch chung."))


@transaction.atomic
def plan_create(*, actor: User, year: int, kind: str, title: str, member_unit: MemberUnit | None = None,
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
def task_create(*, actor: User, plan: Plan, title: str, lead_unit: MemberUnit | None, deadline: dt.date | None,
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
def task_update(*, actor: User, task: Task, status: str, result: str = "", done_on: dt.date | None = None) -> Task:
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
