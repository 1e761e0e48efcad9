"""Every write to a case: one service per step of Decree 56/2017, chapter III.

Each service is keyword-only, atomic, checks that the actor may see the case (`cases_for_user`)
and holds the right role, checks the optimistic lock (`expected_version`), validates the step and
its order, records a timeline event and an audit row. Bad input raises and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, Role
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from vitreem.core.scope import get_in_scope, require_unit, scope_for
from vitreem.core.text import nfc
from vitreem.registry.models import Child

from . import deadlines
from .models import (
    Case,
    CaseEvent,
    Channel,
    Concern,
    Outcome,
    Perpetrator,
    Plan,
    PlanItem,
    Rating,
    Referral,
    Review,
    Status,
    end_of_day,
)
from .selectors import cases_for_user

# Who does what. The commune worker owns and works the case; the commune chairman decides
# (temporary isolation, the plan, closure) — Decree 56/2017, Art. 23–26.
WORKER_ROLES = {Role.COMMUNE_WORKER, Role.ADMIN}
CHAIRMAN_ROLES = {Role.CHAIRMAN}
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


def _require_role(actor, roles: set, what: str) -> None:
    if getattr(actor, "role", None) not in roles:
        raise PermissionDenied(_("Vai trò của bạn không được %(w)s.") % {"w": what}, code="forbidden_role")


def _lock(actor, case: Case | int, expected_version: int | None, *, roles: set, what: str) -> Case:
    """Fetch the case for writing: visible to the actor, right role, not changed since it was read."""
    pk = case.pk if isinstance(case, Case) else int(case)
    if not cases_for_user(actor).filter(pk=pk).exists():
        raise NotFound(_("Không tìm thấy vụ việc hoặc bạn không có quyền xem."))
    _require_role(actor, roles, what)
    locked = Case.objects.select_for_update(of=("self",)).select_related("unit", "child").get(pk=pk)
    if not scope_for(actor).sees_unit(locked.unit_id):
        raise PermissionDenied(_("Vụ việc thuộc đơn vị ngoài phạm vi của bạn."), code="out_of_scope")
    if expected_version is not None and int(expected_version) != locked.version:
        raise Conflict(_("Vụ việc đã được người khác thay đổi trong lúc bạn đang sửa (phiên bản %(v)s, "
                         "bạn đang sửa phiên bản %(e)s). Hãy tải lại trang và nhập lại thay đổi.")
                       % {"v": locked.version, "e": expected_version}, field="version")
    return locked


def _require_status(case: Case, allowed: Iterable[str], what: str) -> None:
    if case.status not in set(allowed):
        raise OutOfOrder(_("Không thể %(w)s khi vụ việc đang ở bước “%(s)s”.")
                         % {"w": what, "s": Status(case.status).label}, field="status")


def _refresh_due(case: Case) -> None:
    """The nearest pending deadline, stored on the case so overdue lists are one indexed query."""
    due: list[tuple[dt.datetime, str]] = []
    if case.status != Status.CLOSED:
        if case.in_danger and case.emergency_done_at is None and case.emergency_due_at:
            due.append((case.emergency_due_at, "emergency"))
        if case.isolation_active and case.isolation_until:
            due.append((end_of_day(case.isolation_until), "isolation"))
        if case.status == Status.ASSESSED and case.plan_due_on:
            due.append((end_of_day(case.plan_due_on), "plan"))
        if case.status == Status.IMPLEMENTING and case.next_review_on:
            due.append((end_of_day(case.next_review_on), "review"))
    if due:
        case.next_due_at, case.next_due_kind = min(due)
    else:
        case.next_due_at, case.next_due_kind = None, ""


def _record(case: Case, *, actor, kind: str, before: dict[str, Any], from_status: str, text: str = "",
            data: dict[str, Any] | None = None, at: dt.datetime | None = None) -> CaseEvent:
    """Save the case (new version, refreshed deadline), add the timeline event, write the audit row."""
    _refresh_due(case)
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
    for name, limit in (("reporter_name", 150), ("reporter_phone", 20), ("reporter_relation", 100),
                        ("place", 255)):
        if name in fields:
            out[name] = _text(fields[name])
            if len(out[name]) > limit:
                errors[name] = _("Quá dài (tối đa %(n)s ký tự).") % {"n": limit}
    if "summary" in fields:
        out["summary"] = _text(fields["summary"])
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
def case_intake(*, actor, received_at: dt.datetime, channel: str, place: str, concern: str, summary: str,
                child: Child | int | None = None, new_child: dict[str, Any] | None = None,
                confirm_not_duplicate: bool = False, reporter_anonymous: bool = False, reporter_name: str = "",
                reporter_phone: str = "", reporter_relation: str = "", perpetrator: str = Perpetrator.UNKNOWN,
                in_danger: bool = False) -> Case:
    """Record a report (form 01). The child is one of the register, or is registered here in the same
    transaction (`new_child`: full_name, birth_date, sex, unit, village…) with the registry's duplicate
    check — PossibleDuplicate is raised unless `confirm_not_duplicate`."""
    _require_role(actor, WORKER_ROLES, _("tiếp nhận vụ việc"))
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
        child_obj = get_in_scope(Child.objects.select_related("unit"), actor,  # type: ignore[assignment]
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
        # Decree 56/2017, Art. 23: emergency intervention within 12 hours of receiving the information.
        case.emergency_due_at = deadlines.emergency_due(received_at)
    _refresh_due(case)
    case.save()
    case.code = f"VV-{timezone.localtime(received_at).year}-{case.pk:06d}"
    case.save(update_fields=["code"])
    CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.INTAKE, at=received_at, actor=actor,
                             to_status=case.status, text=case.summary,
                             data={"channel": case.channel, "concern": case.concern, "in_danger": case.in_danger})
    audit_change(actor=actor, action="case.intake", obj=case, unit=case.unit, changes=snapshot(case))
    return case


def _home_commune(actor):
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
def case_update(*, actor, case: Case | int, expected_version: int, **fields: Any) -> Case:
    """Correct the report's details. A stale `expected_version` is refused (Conflict)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed({name: _("Không sửa được trường này.") for name in sorted(unknown)})
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES, what=_("sửa vụ việc"))
    _require_status(case, [s for s in Status.values if s != Status.CLOSED], _("sửa thông tin"))
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


# ---------------------------------------------------------------- verification (form 02) and emergency

@transaction.atomic
def case_verify(*, actor, case: Case | int, expected_version: int | None, verified_on: Any, findings: str,
                founded: bool = True, in_danger: bool | None = None) -> Case:
    """Verification and initial assessment (form 02). An unfounded report goes to the chairman for closure."""
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES, what=_("xác minh vụ việc"))
    _require_status(case, [Status.RECEIVED, Status.EMERGENCY], _("xác minh"))
    if case.verified_on is not None:
        raise OutOfOrder(_("Vụ việc đã được xác minh ngày %(d)s.") % {"d": _fmt(case.verified_on)})
    errors: dict[str, str] = {}
    day = _as_date(verified_on, "verified_on", errors)
    if day and day < timezone.localtime(case.received_at).date():
        errors["verified_on"] = _("Ngày xác minh trước ngày tiếp nhận.")
    if day and day > timezone.localdate():
        errors["verified_on"] = _("Ngày xác minh không được ở tương lai.")
    if not _text(findings):
        errors["findings"] = _("Chưa nhập kết quả xác minh, đánh giá ban đầu.")
    if errors:
        raise ValidationFailed(errors)
    before, from_status = snapshot(case), case.status
    case.verified_on, case.verification = day, _text(findings)
    if in_danger is not None and bool(in_danger) != case.in_danger and case.emergency_done_at is None:
        case.in_danger = bool(in_danger)
        case.emergency_due_at = deadlines.emergency_due(case.received_at) if case.in_danger else None
    if not founded:
        case.status, case.outcome = Status.TO_CLOSE, Outcome.UNFOUNDED
    elif case.status == Status.RECEIVED:
        case.status = Status.VERIFIED
    _record(case, actor=actor, kind=CaseEvent.Kind.VERIFY, before=before, from_status=from_status,
            text=case.verification, data={"founded": bool(founded)})
    return case


def _mark_emergency_done(case: Case, at: dt.datetime) -> None:
    if case.emergency_done_at is None:
        case.emergency_done_at = at
        if case.emergency_due_at and at > case.emergency_due_at:
            case.deadlines_missed += 1


@transaction.atomic
def case_emergency(*, actor, case: Case | int, expected_version: int | None, done_at: dt.datetime,
                   action: str) -> Case:
    """Emergency intervention (Decree 56/2017, Art. 23): what was done to make the child safe, and when."""
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES, what=_("ghi nhận can thiệp khẩn cấp"))
    _require_status(case, [Status.RECEIVED, Status.VERIFIED, Status.EMERGENCY], _("can thiệp khẩn cấp"))
    errors: dict[str, str] = {}
    if not isinstance(done_at, dt.datetime):
        errors["done_at"] = _("Chưa nhập thời điểm can thiệp.")
    else:
        if timezone.is_naive(done_at):
            done_at = timezone.make_aware(done_at)
        if done_at < case.received_at:
            errors["done_at"] = _("Thời điểm can thiệp trước thời điểm tiếp nhận.")
        elif done_at > _now() + dt.timedelta(minutes=5):
            errors["done_at"] = _("Thời điểm can thiệp không được ở tương lai.")
    if not _text(action):
        errors["action"] = _("Chưa nhập biện pháp can thiệp khẩn cấp.")
    if errors:
        raise ValidationFailed(errors)
    before, from_status = snapshot(case), case.status
    if not case.in_danger:
        case.in_danger = True
        case.emergency_due_at = deadlines.emergency_due(case.received_at)
    _mark_emergency_done(case, done_at)
    case.emergency_action = "\n".join(filter(None, [case.emergency_action, _text(action)]))
    case.status = Status.EMERGENCY
    _record(case, actor=actor, kind=CaseEvent.Kind.EMERGENCY, before=before, from_status=from_status,
            text=_text(action), at=done_at)
    return case


@transaction.atomic
def case_isolate(*, actor, case: Case | int, expected_version: int | None, start: Any, until: Any, place: str,
                 decision_number: str) -> Case:
    """Temporary isolation from the environment or the person harming the child, by the chairman's
    decision (Decree 56/2017, Art. 23): at most 15 days unless extended by a decision."""
    case = _lock(actor, case, expected_version, roles=CHAIRMAN_ROLES, what=_("quyết định cách ly tạm thời"))
    _require_status(case, [Status.RECEIVED, Status.VERIFIED, Status.EMERGENCY, Status.ASSESSED, Status.PLANNED,
                           Status.IMPLEMENTING], _("cách ly tạm thời"))
    if case.isolation_active:
        raise OutOfOrder(_("Trẻ đang được cách ly đến ngày %(d)s; hãy gia hạn hoặc kết thúc cách ly.")
                         % {"d": _fmt(case.isolation_until)})
    errors: dict[str, str] = {}
    first = _as_date(start, "start", errors)
    last = _as_date(until, "until", errors)
    if first and last:
        if last < first:
            errors["until"] = _("Ngày kết thúc cách ly trước ngày bắt đầu.")
        elif (last - first).days + 1 > deadlines.ISOLATION_MAX_DAYS:
            errors["until"] = _("Cách ly tạm thời không quá %(n)s ngày (Nghị định 56/2017, Điều 23).") % {
                "n": deadlines.ISOLATION_MAX_DAYS}
        if first < timezone.localtime(case.received_at).date():
            errors["start"] = _("Ngày bắt đầu cách ly trước ngày tiếp nhận.")
    if not _text(decision_number):
        errors["decision_number"] = _("Cách ly tạm thời cần số quyết định.")
    if not _text(place):
        errors["place"] = _("Chưa nhập nơi cách ly (nơi trẻ được chăm sóc tạm thời).")
    if errors:
        raise ValidationFailed(errors)
    before, from_status = snapshot(case), case.status
    case.isolation_start, case.isolation_until = first, last
    case.isolation_place, case.isolation_decision = _text(place), _text(decision_number)
    case.isolation_ended_on = None
    if not case.in_danger:
        case.in_danger = True
        case.emergency_due_at = deadlines.emergency_due(case.received_at)
    _mark_emergency_done(case, _now())
    if case.status in (Status.RECEIVED, Status.VERIFIED):
        case.status = Status.EMERGENCY
    _record(case, actor=actor, kind=CaseEvent.Kind.ISOLATE, before=before, from_status=from_status,
            text=case.isolation_place, data={"decision": case.isolation_decision, "start": first, "until": last})
    return case


@transaction.atomic
def case_isolation_extend(*, actor, case: Case | int, expected_version: int | None, until: Any,
                          decision_number: str, reason: str = "") -> Case:
    """Extend temporary isolation beyond its end: only with a decision of the competent authority."""
    case = _lock(actor, case, expected_version, roles=CHAIRMAN_ROLES, what=_("gia hạn cách ly"))
    if not case.isolation_active:
        raise OutOfOrder(_("Trẻ không đang được cách ly tạm thời."))
    errors: dict[str, str] = {}
    last = _as_date(until, "until", errors)
    if last and case.isolation_until and last <= case.isolation_until:
        errors["until"] = _("Ngày gia hạn phải sau ngày kết thúc hiện tại (%(d)s).") % {
            "d": _fmt(case.isolation_until)}
    if not _text(decision_number):
        errors["decision_number"] = _("Gia hạn cách ly phải có quyết định của cơ quan có thẩm quyền (số quyết định).")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(case)
    old_until = case.isolation_until
    case.isolation_until = last
    _record(case, actor=actor, kind=CaseEvent.Kind.ISOLATION_EXTEND, before=before, from_status=case.status,
            text=_text(reason), data={"decision": _text(decision_number), "from": old_until, "until": last})
    return case


@transaction.atomic
def case_isolation_end(*, actor, case: Case | int, expected_version: int | None, ended_on: Any,
                       note: str = "") -> Case:
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES | CHAIRMAN_ROLES, what=_("kết thúc cách ly"))
    if not case.isolation_active:
        raise OutOfOrder(_("Trẻ không đang được cách ly tạm thời."))
    errors: dict[str, str] = {}
    day = _as_date(ended_on, "ended_on", errors)
    if day and case.isolation_start and day < case.isolation_start:
        errors["ended_on"] = _("Ngày kết thúc cách ly trước ngày bắt đầu.")
    if day and day > timezone.localdate():
        errors["ended_on"] = _("Ngày kết thúc cách ly không được ở tương lai.")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(case)
    case.isolation_ended_on = day
    if case.isolation_until and day and day > case.isolation_until:
        case.deadlines_missed += 1
    _record(case, actor=actor, kind=CaseEvent.Kind.ISOLATION_END, before=before, from_status=case.status,
            text=_text(note))
    return case


# ---------------------------------------------------------------- assessment (form 03) and plan (04, 05)

@transaction.atomic
def case_assess(*, actor, case: Case | int, expected_version: int | None, assessed_on: Any, assessment: str,
                meeting_minutes: str) -> Case:
    """Specific assessment and case meeting (form 03). Starts the plan deadline: N working days
    (Decree 56/2017, Art. 24: 5; the province may set another figure in CaseRules)."""
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES, what=_("đánh giá chi tiết"))
    _require_status(case, [Status.VERIFIED, Status.EMERGENCY], _("đánh giá chi tiết"))
    if case.verified_on is None:
        raise OutOfOrder(_("Cần xác minh, đánh giá ban đầu (mẫu 02) trước khi đánh giá chi tiết."))
    errors: dict[str, str] = {}
    day = _as_date(assessed_on, "assessed_on", errors)
    if day and day < case.verified_on:
        errors["assessed_on"] = _("Ngày đánh giá chi tiết trước ngày xác minh (%(d)s).") % {"d": _fmt(case.verified_on)}
    if day and day > timezone.localdate():
        errors["assessed_on"] = _("Ngày đánh giá không được ở tương lai.")
    if not _text(assessment):
        errors["assessment"] = _("Chưa nhập nội dung đánh giá chi tiết.")
    if not _text(meeting_minutes):
        errors["meeting_minutes"] = _("Chưa nhập biên bản họp (hội ý) về trường hợp.")
    if errors:
        raise ValidationFailed(errors)
    assert day is not None
    before, from_status = snapshot(case), case.status
    case.assessed_on, case.assessment, case.meeting_minutes = day, _text(assessment), _text(meeting_minutes)
    case.plan_due_on = deadlines.add_working_days(day, deadlines.plan_working_days(case.unit))
    case.status = Status.ASSESSED
    _record(case, actor=actor, kind=CaseEvent.Kind.ASSESS, before=before, from_status=from_status,
            text=case.assessment, data={"plan_due_on": case.plan_due_on})
    return case


def _clean_items(items: Iterable[dict[str, Any]], drafted_on: dt.date | None, errors: dict[str, str]) -> list[dict]:
    cleaned = []
    for i, raw in enumerate(items, start=1):
        kind = raw.get("kind")
        if kind not in PlanItem.Kind.values:
            errors[f"items.{i}.kind"] = _("Hoạt động %(i)s: loại dịch vụ không hợp lệ.") % {"i": i}
        description, responsible = _text(raw.get("description")), _text(raw.get("responsible"))
        if not description:
            errors[f"items.{i}.description"] = _("Hoạt động %(i)s: chưa nhập nội dung.") % {"i": i}
        if not responsible:
            errors[f"items.{i}.responsible"] = _("Hoạt động %(i)s: chưa nhập người/cơ quan thực hiện.") % {"i": i}
        due = _as_date(raw.get("due_on"), f"items.{i}.due_on", errors)
        if due and drafted_on and due < drafted_on:
            errors[f"items.{i}.due_on"] = _("Hoạt động %(i)s: thời hạn trước ngày lập kế hoạch.") % {"i": i}
        cleaned.append({"kind": kind, "description": description[:500], "responsible": responsible[:200],
                        "due_on": due})
    if not cleaned:
        errors["items"] = _("Kế hoạch cần ít nhất một hoạt động hỗ trợ, can thiệp.")
    return cleaned


@transaction.atomic
def plan_draft(*, actor, case: Case | int, expected_version: int | None, drafted_on: Any, goal: str,
               review_on: Any, items: Iterable[dict[str, Any]]) -> Plan:
    """The support and intervention plan (form 04), with its items and the review date."""
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES, what=_("lập kế hoạch"))
    _require_status(case, [Status.ASSESSED, Status.PLANNED], _("lập kế hoạch hỗ trợ, can thiệp"))
    errors: dict[str, str] = {}
    day = _as_date(drafted_on, "drafted_on", errors)
    review = _as_date(review_on, "review_on", errors)
    if day and case.assessed_on and day < case.assessed_on:
        errors["drafted_on"] = _("Ngày lập kế hoạch trước ngày đánh giá chi tiết.")
    if day and day > timezone.localdate():
        errors["drafted_on"] = _("Ngày lập kế hoạch không được ở tương lai.")
    if day and review and review <= day:
        errors["review_on"] = _("Ngày rà soát phải sau ngày lập kế hoạch.")
    if not _text(goal):
        errors["goal"] = _("Chưa nhập mục tiêu của kế hoạch.")
    rows = _clean_items(list(items), day, errors)
    if errors:
        raise ValidationFailed(errors)
    assert day is not None and review is not None
    before, from_status = snapshot(case), case.status
    case.plans.filter(status=Plan.State.DRAFT).update(status=Plan.State.SUPERSEDED)
    number = (case.plans.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    plan = Plan.objects.create(case=case, number=number, drafted_on=day, goal=_text(goal), review_on=review,
                               created_by=actor)
    PlanItem.objects.bulk_create([PlanItem(plan=plan, **row) for row in rows])
    if case.status == Status.ASSESSED:
        if case.plan_due_on and day and day > case.plan_due_on:
            case.deadlines_missed += 1
        case.plan_drafted_on = day
    case.status = Status.PLANNED
    _record(case, actor=actor, kind=CaseEvent.Kind.PLAN, before=before, from_status=from_status, text=plan.goal,
            data={"plan": plan.pk, "number": number, "items": len(rows), "review_on": review})
    return plan


@transaction.atomic
def plan_approve(*, actor, case: Case | int, expected_version: int | None, decision_number: str,
                 approved_on: Any) -> Plan:
    """The commune chairman approves the plan by decision (form 05)."""
    case = _lock(actor, case, expected_version, roles=CHAIRMAN_ROLES, what=_("phê duyệt kế hoạch"))
    plan = case.plans.filter(status=Plan.State.DRAFT).order_by("-number").first()
    if case.status != Status.PLANNED or plan is None:
        raise OutOfOrder(_("Không có kế hoạch nào chờ phê duyệt (vụ việc đang ở bước “%(s)s”).")
                         % {"s": Status(case.status).label}, field="status")
    errors: dict[str, str] = {}
    day = _as_date(approved_on, "approved_on", errors)
    if day and day < plan.drafted_on:
        errors["approved_on"] = _("Ngày phê duyệt trước ngày lập kế hoạch (%(d)s).") % {"d": _fmt(plan.drafted_on)}
    if day and day > timezone.localdate():
        errors["approved_on"] = _("Ngày phê duyệt không được ở tương lai.")
    if not _text(decision_number):
        errors["decision_number"] = _("Chưa nhập số quyết định phê duyệt.")
    if errors:
        raise ValidationFailed(errors)
    before, from_status = snapshot(case), case.status
    case.plans.filter(status=Plan.State.APPROVED).update(status=Plan.State.SUPERSEDED)
    plan.status, plan.decision_number, plan.approved_on, plan.approved_by = (
        Plan.State.APPROVED, _text(decision_number), day, actor)
    plan.save()
    case.status = Status.IMPLEMENTING
    case.next_review_on = plan.review_on
    _record(case, actor=actor, kind=CaseEvent.Kind.APPROVE, before=before, from_status=from_status,
            data={"plan": plan.pk, "decision": plan.decision_number, "approved_on": day})
    return plan


@transaction.atomic
def plan_item_update(*, actor, case: Case | int, expected_version: int | None, item_id: int, status: str,
                     outcome: str = "") -> PlanItem:
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES, what=_("cập nhật hoạt động"))
    _require_status(case, [Status.IMPLEMENTING], _("cập nhật hoạt động của kế hoạch"))
    item = PlanItem.objects.filter(pk=item_id, plan__case=case, plan__status=Plan.State.APPROVED).first()
    if item is None:
        raise NotFound(_("Không tìm thấy hoạt động trong kế hoạch đang thực hiện."))
    if status not in PlanItem.ItemStatus.values:
        raise ValidationFailed({"status": _("Trạng thái hoạt động không hợp lệ.")})
    before = snapshot(case)
    old = item.status
    item.status, item.outcome = status, _text(outcome) or item.outcome
    item.save()
    _record(case, actor=actor, kind=CaseEvent.Kind.ITEM, before=before, from_status=case.status,
            text=item.outcome, data={"item": item.pk, "description": item.description, "status": [old, status]})
    return item


@transaction.atomic
def case_note(*, actor, case: Case | int, expected_version: int | None, text: str, on: Any = None) -> CaseEvent:
    """A home visit or a note on the timeline."""
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES | CHAIRMAN_ROLES, what=_("ghi chú vụ việc"))
    _require_status(case, [s for s in Status.values if s != Status.CLOSED], _("ghi chú"))
    errors: dict[str, str] = {}
    day = _as_date(on, "on", errors, required=False) or timezone.localdate()
    if day > timezone.localdate():
        errors["on"] = _("Ngày không được ở tương lai.")
    if not _text(text):
        errors["text"] = _("Chưa nhập nội dung.")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(case)
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(12))) if day != timezone.localdate() else _now()
    return _record(case, actor=actor, kind=CaseEvent.Kind.VISIT, before=before, from_status=case.status,
                   text=_text(text), at=at)


# ---------------------------------------------------------------- referrals

@transaction.atomic
def referral_open(*, actor, case: Case | int, expected_version: int | None, member_unit: MemberUnit | int,
                  reason: str, guardian_consent: bool, child_consent: bool | None = None) -> Referral:
    """Refer the case to another agency. Information is shared only with the recorded consent of the
    guardian and of the child aged 7 or over (Law on Children 2016, Art. 33)."""
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES, what=_("chuyển gửi vụ việc"))
    _require_status(case, [s for s in Status.values if s != Status.CLOSED], _("chuyển gửi"))
    errors: dict[str, str] = {}
    unit = member_unit if isinstance(member_unit, MemberUnit) else MemberUnit.objects.filter(
        pk=member_unit, active=True).first()
    if unit is None:
        errors["member_unit"] = _("Chọn cơ quan, tổ chức nhận chuyển gửi.")
    elif case.referrals.filter(member_unit=unit, closed_at__isnull=True).exists():
        errors["member_unit"] = _("Vụ việc đang được chuyển gửi tới %(u)s.") % {"u": unit.name}
    if not _text(reason):
        errors["reason"] = _("Chưa nhập lý do, nội dung chuyển gửi.")
    age = case.child.age_on(timezone.localdate())
    if not guardian_consent:
        errors["guardian_consent"] = _("Chưa ghi nhận sự đồng ý của cha mẹ/người chăm sóc: không được chia sẻ "
                                       "thông tin của trẻ với cơ quan khác.")
    if age >= CONSENT_AGE and not child_consent:
        errors["child_consent"] = _("Trẻ từ đủ 7 tuổi: cần ghi nhận sự đồng ý của trẻ trước khi chuyển gửi.")
    if errors:
        raise ValidationFailed(errors)
    assert unit is not None
    before = snapshot(case)
    referral = Referral.objects.create(case=case, member_unit=unit, reason=_text(reason),
                                       child_consent=bool(child_consent) if age >= CONSENT_AGE else None,
                                       guardian_consent=True, opened_at=_now(), opened_by=actor)
    _record(case, actor=actor, kind=CaseEvent.Kind.REFERRAL, before=before, from_status=case.status,
            text=referral.reason, data={"referral": referral.pk, "member_unit": unit.name,
                                        "child_consent": referral.child_consent, "guardian_consent": True})
    return referral


@transaction.atomic
def referral_close(*, actor, case: Case | int, expected_version: int | None, referral_id: int,
                   result: str = "") -> Referral:
    """End a referral: the agency's access to the case ends with it. The case worker or the
    agency itself may close it."""
    scope = scope_for(actor)
    pk = case.pk if isinstance(case, Case) else int(case)
    referral = Referral.objects.filter(pk=referral_id, case_id=pk).select_related("member_unit").first()
    by_agency = (referral is not None and actor.role == Role.REFERRAL_AGENCY
                 and referral.member_unit_id in scope.member_unit_ids)
    if by_agency:
        if not cases_for_user(actor).filter(pk=pk).exists():
            raise NotFound(_("Không tìm thấy vụ việc hoặc bạn không có quyền xem."))
        case = Case.objects.select_for_update(of=("self",)).select_related("unit").get(pk=pk)
        if expected_version is not None and int(expected_version) != case.version:
            raise Conflict(_("Vụ việc đã được người khác thay đổi. Hãy tải lại trang."), field="version")
    else:
        case = _lock(actor, pk, expected_version, roles=WORKER_ROLES, what=_("kết thúc chuyển gửi"))
    if referral is None or referral.closed_at is not None:
        raise NotFound(_("Không tìm thấy lượt chuyển gửi đang mở."))
    before = snapshot(case)
    referral.closed_at, referral.result = _now(), _text(result)
    referral.save()
    _record(case, actor=actor, kind=CaseEvent.Kind.REFERRAL_CLOSE, before=before, from_status=case.status,
            text=referral.result, data={"referral": referral.pk, "member_unit": referral.member_unit.name})
    return referral


# ---------------------------------------------------------------- review (form 06), closure, reopening

@transaction.atomic
def case_review(*, actor, case: Case | int, expected_version: int | None, reviewed_on: Any, harm: str,
                perpetrator_access: str, care_obstacles: str, recommend_close: bool, note: str = "") -> Review:
    """Review (form 06). Closure is proposed only when harm, the perpetrator's access and the obstacles
    in the care environment are all low; otherwise the case goes back to planning."""
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES, what=_("rà soát vụ việc"))
    _require_status(case, [Status.IMPLEMENTING], _("rà soát, đánh giá"))
    errors: dict[str, str] = {}
    day = _as_date(reviewed_on, "reviewed_on", errors)
    approved = case.plans.filter(status=Plan.State.APPROVED).order_by("-number").first()
    if day and approved and approved.approved_on and day < approved.approved_on:
        errors["reviewed_on"] = _("Ngày rà soát trước ngày phê duyệt kế hoạch.")
    if day and day > timezone.localdate():
        errors["reviewed_on"] = _("Ngày rà soát không được ở tương lai.")
    ratings = {"harm": harm, "perpetrator_access": perpetrator_access, "care_obstacles": care_obstacles}
    for name, value in ratings.items():
        if value not in Rating.values:
            errors[name] = _("Chọn mức cao, trung bình hoặc thấp.")
    if recommend_close and not errors and any(v != Rating.LOW for v in ratings.values()):
        errors["recommend_close"] = _("Chỉ đề xuất đóng vụ việc khi cả ba mức nguy cơ đều thấp; "
                                      "nếu không, hãy lập kế hoạch mới.")
    if errors:
        raise ValidationFailed(errors)
    assert day is not None
    before, from_status = snapshot(case), case.status
    review = Review.objects.create(case=case, reviewed_on=day, recommend_close=bool(recommend_close),
                                   note=_text(note), reviewed_by=actor, **ratings)
    if case.next_review_on and day and day > case.next_review_on:
        case.deadlines_missed += 1
    case.next_review_on = None
    if recommend_close:
        case.status = Status.TO_CLOSE
    else:
        case.status = Status.ASSESSED
        case.plan_due_on = deadlines.add_working_days(day, deadlines.plan_working_days(case.unit))
    _record(case, actor=actor, kind=CaseEvent.Kind.REVIEW, before=before, from_status=from_status,
            text=review.note, data={**ratings, "recommend_close": bool(recommend_close), "review": review.pk})
    return review


@transaction.atomic
def case_close(*, actor, case: Case | int, expected_version: int | None, outcome: str, note: str = "") -> Case:
    """The chairman closes the case after a review proposing it (or an unfounded verification)."""
    case = _lock(actor, case, expected_version, roles=CHAIRMAN_ROLES, what=_("đóng vụ việc"))
    if case.status != Status.TO_CLOSE:
        raise OutOfOrder(_("Chưa thể đóng vụ việc: cần rà soát (mẫu 06) đề xuất đóng trước "
                           "(vụ việc đang ở bước “%(s)s”).") % {"s": Status(case.status).label}, field="status")
    if outcome not in Outcome.values:
        raise ValidationFailed({"outcome": _("Chọn kết quả khi đóng vụ việc.")})
    if case.isolation_active:
        raise OutOfOrder(_("Trẻ đang được cách ly tạm thời: kết thúc cách ly trước khi đóng vụ việc."))
    before, from_status = snapshot(case), case.status
    now = _now()
    # Closing ends every referral, and with it the agencies' access to the case.
    case.referrals.filter(closed_at__isnull=True).update(closed_at=now, result=_("Vụ việc đã đóng."))
    case.status, case.outcome, case.closed_at = Status.CLOSED, outcome, now
    _record(case, actor=actor, kind=CaseEvent.Kind.CLOSE, before=before, from_status=from_status,
            text=_text(note), data={"outcome": outcome})
    return case


@transaction.atomic
def case_reopen(*, actor, case: Case | int, expected_version: int | None, reason: str) -> Case:
    case = _lock(actor, case, expected_version, roles=WORKER_ROLES | CHAIRMAN_ROLES, what=_("mở lại vụ việc"))
    if case.status != Status.CLOSED:
        raise OutOfOrder(_("Chỉ mở lại được vụ việc đã đóng."), field="status")
    if not _text(reason):
        raise ValidationFailed({"reason": _("Mở lại vụ việc cần nêu lý do.")})
    before, from_status = snapshot(case), case.status
    case.status, case.closed_at, case.outcome = (Status.VERIFIED if case.verified_on else Status.RECEIVED), None, ""
    _record(case, actor=actor, kind=CaseEvent.Kind.REOPEN, before=before, from_status=from_status,
            text=_text(reason))
    return case


# ---------------------------------------------------------------- reassignment

# The provincial case supervisor and the standing agency's officer manage the caseload of the
# province; they hand a case to another commune worker (a worker leaving, on leave, overloaded).
REASSIGN_ROLES = {Role.CASE_SUPERVISOR, Role.PROVINCE_OFFICER, Role.ADMIN}


def owner_candidates(case: Case):
    """Active commune workers whose units cover the case's commune (the commune itself or a unit
    above it), current owner excluded: who may receive the case."""
    from vitreem.accounts.models import User

    covering: list[int] = []
    unit: Any = case.unit
    while unit is not None:
        covering.append(unit.pk)
        unit = unit.parent
    return (User.objects.filter(role=Role.COMMUNE_WORKER, is_active=True, unitmembership__unit_id__in=covering)
            .exclude(pk=case.owner_id).distinct().order_by("full_name", "username"))


@transaction.atomic
def case_reassign(*, actor, case: Case | int, expected_version: int | None, owner: Any, reason: str) -> Case:
    """Hand the case to another commune worker of its commune. The new owner is notified in the app
    (and by e-mail when they have an address); the old owner keeps no special access."""
    from vitreem.accounts.models import User

    from .notifications import assignment_notify

    case = _lock(actor, case, expected_version, roles=REASSIGN_ROLES, what=_("giao lại vụ việc"))
    _require_status(case, [s for s in Status.values if s != Status.CLOSED], _("giao lại vụ việc"))
    errors: dict[str, str] = {}
    pk = owner.pk if isinstance(owner, User) else owner
    try:
        new_owner = User.objects.filter(pk=int(pk), is_active=True).first() if pk not in (None, "") else None
    except (TypeError, ValueError):
        new_owner = None
    if new_owner is None:
        errors["owner"] = _("Người nhận: chọn một người làm công tác bảo vệ trẻ em của xã.")
    elif new_owner.pk == case.owner_id:
        errors["owner"] = _("Người nhận: vụ việc đang do %(u)s phụ trách.") % {"u": new_owner.display_name}
    elif new_owner.role != Role.COMMUNE_WORKER:
        errors["owner"] = _("Người nhận: %(u)s không phải người làm công tác bảo vệ trẻ em "
                            "cấp xã.") % {"u": new_owner.display_name}
    elif not owner_candidates(case).filter(pk=new_owner.pk).exists():
        errors["owner"] = _("Người nhận: %(u)s không phụ trách %(x)s, nơi có vụ việc.") % {
            "u": new_owner.display_name, "x": case.unit.name}
    if not _text(reason):
        errors["reason"] = _("Lý do: chưa nhập lý do giao lại vụ việc.")
    if errors:
        raise ValidationFailed(errors)
    assert new_owner is not None
    before = snapshot(case)
    old_owner = case.owner
    case.owner = new_owner
    event = _record(case, actor=actor, kind=CaseEvent.Kind.REASSIGN, before=before, from_status=case.status,
                    text=_text(reason), data={"from": old_owner.display_name, "from_id": old_owner.pk,
                                              "to": new_owner.display_name, "to_id": new_owner.pk})
    assignment_notify(case=case, owner=new_owner, actor=actor, at=event.at)
    return case
