"""What every case service shares: the fetch-and-lock of a case for an action, the deadline it shows,
the timeline event and audit row of a step, and the value parsers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from vitreem.core.text import nfc

from .. import workflow
from ..models import (
    Case,
    CaseEvent,
    Status,
    end_of_day,
)
from ..selectors import cases_for_user

# Who does what. The commune worker owns and works the case; the commune chairman decides
# (temporary isolation, the plan, closure) — Decree 56/2017, Arts. 26–32. The table of who may
# take which step in which status is workflow.TRANSITIONS.
# Law on Children 2016, Art. 33 and Art. 6: the child's own consent counts from age 7.
CONSENT_AGE = 7
EDITABLE_FIELDS = ["channel", "reporter_anonymous", "reporter_name", "reporter_phone", "reporter_relation",
                   "place", "concern", "perpetrator", "in_danger", "summary"]


class OutOfOrder(DomainError):
    code = "out_of_order"
    status = 409


def _now() -> dt.datetime:
    return timezone.now()


def _fmt(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _as_date(value: Any, field: str, errors: dict[str, str], *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors[field] = _("Chưa nhập ngày (%(f)s).") % {"f": field}
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        try:
            return dt.datetime.strptime(str(value), "%d/%m/%Y").date()  # noqa: DTZ007 — a date, no zone
        except ValueError:
            errors[field] = _("Ngày không hợp lệ: %(v)s (dd/mm/yyyy).") % {"v": value}
            return None


def _require_ability(allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionDenied(_("Vai trò của bạn không được %(w)s.") % {"w": what}, code="forbidden_role")


def case_for_action(actor: User, case: Case | int, expected_version: int | None, *, action: str) -> Case:
    """Fetch and lock the case for writing (every service that changes a case starts here, the attachments'
    too): visible to the actor, the action allowed by the workflow table
    (workflow.TRANSITIONS: ability, status, condition) and not changed since it was read."""
    pk = case.pk if isinstance(case, Case) else int(case)
    if not cases_for_user(actor).filter(pk=pk).exists():
        raise NotFound(_("Không tìm thấy vụ việc hoặc bạn không có quyền xem."))
    locked = Case.objects.select_for_update(of=("self",)).select_related("unit", "child").get(pk=pk)
    refused = workflow.refusal(action, locked, actor)
    if refused is not None:
        why, message = refused
        if why == "status":
            raise OutOfOrder(str(message), field="status")
        raise PermissionDenied(str(message), code="out_of_scope" if why == "scope" else "forbidden_role")
    if expected_version is not None and int(expected_version) != locked.version:
        raise Conflict(_("Vụ việc đã được người khác thay đổi trong lúc bạn đang sửa (phiên bản %(v)s, "
                         "bạn đang sửa phiên bản %(e)s). Hãy tải lại trang và nhập lại thay đổi.")
                       % {"v": locked.version, "e": expected_version}, field="version")
    return locked


def case_due_refresh(case: Case) -> None:
    """The nearest pending deadline, stored on the case so overdue lists are one indexed query (set by every
    service that moves a deadline, and by the demo's bulk writes). Not saved here: the caller saves."""
    due: list[tuple[dt.datetime, str]] = []
    if case.status != Status.CLOSED:
        if case.in_danger and case.emergency_done_at is None and case.emergency_due_at:
            due.append((case.emergency_due_at, "emergency"))
        if case.isolation_active and case.isolation_until:
            due.append((end_of_day(case.isolation_until), "isolation"))
        if case.status == Status.ASSESSED and case.plan_due_on:
            due.append((end_of_day(case.plan_due_on), "plan"))
        if case.status == Status.PLANNED and case.approval_due_on:
            due.append((end_of_day(case.approval_due_on), "approval"))
        if case.status == Status.IMPLEMENTING and case.next_review_on:
            due.append((end_of_day(case.next_review_on), "review"))
    if due:
        case.next_due_at, case.next_due_kind = min(due)
    else:
        case.next_due_at, case.next_due_kind = None, ""


def _record(case: Case, *, actor: User, kind: str, before: dict[str, Any], from_status: str, text: str = "",
            data: dict[str, Any] | None = None, at: dt.datetime | None = None) -> CaseEvent:
    """Save the case (new version, refreshed deadline), add the timeline event, write the audit row."""
    case_due_refresh(case)
    case.version += 1
    case.save()
    event = CaseEvent.objects.create(case=case, kind=kind, at=at or _now(), actor=actor, from_status=from_status,
                                     to_status=case.status, text=text, data=data or {})
    changes: dict[str, Any] = diff(before, snapshot(case))
    changes.pop("updated_at", None)
    if data:
        changes["data"] = data
    audit_change(actor=actor, action=f"case.{kind}", obj=case, unit=case.unit, changes=changes)
    return event


def _text(value: Any) -> str:
    return nfc(value or "").strip()
