"""Verification (form 02), the emergency intervention and temporary isolation: Decree 56/2017, Arts. 26,
27 and 32."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import snapshot
from vitreem.core.errors import ValidationFailed

from .. import deadlines
from ..models import (
    Case,
    CaseEvent,
    Outcome,
    Status,
)
from ._common import _as_date, _fmt, _now, _record, _text, case_for_action

# ---------------------------------------------------------------- verification (form 02) and emergency

@transaction.atomic
def case_verify(*, actor: User, case: Case | int, expected_version: int | None, verified_on: Any, findings: str,
                founded: bool = True, in_danger: bool | None = None) -> Case:
    """Verification and initial assessment (form 02). An unfounded report goes to the chairman for closure."""
    case = case_for_action(actor, case, expected_version, action="verify")
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
def case_emergency(*, actor: User, case: Case | int, expected_version: int | None, done_at: dt.datetime,
                   action: str) -> Case:
    """Emergency intervention (Decree 56/2017, Art. 31): what was done to make the child safe, and when."""
    case = case_for_action(actor, case, expected_version, action="emergency")
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
def case_isolate(*, actor: User, case: Case | int, expected_version: int | None, start: Any, until: Any, place: str,
                 decision_number: str, request_number: str = "", request_date: Any = None,
                 request_body: str = "") -> Case:
    """Temporary isolation from the parents or carers harming the child, by the commune chairman's
    decision on form 07 (Decree 56/2017, Art. 32(2)). At most 15 days in total, extensions included,
    unless a competent authority asks in writing for longer (Art. 32(3)): then its request is
    recorded with its number and date."""
    case = case_for_action(actor, case, expected_version, action="isolate")
    errors: dict[str, str] = {}
    first = _as_date(start, "start", errors)
    last = _as_date(until, "until", errors)
    request = _clean_request(request_number, request_date, request_body, errors)
    if first and last:
        if last < first:
            errors["until"] = _("Ngày kết thúc cách ly trước ngày bắt đầu.")
        else:
            _check_isolation_days(first, last, request, errors)
        if first < timezone.localtime(case.received_at).date():
            errors["start"] = _("Ngày bắt đầu cách ly trước ngày tiếp nhận.")
    if not _text(decision_number):
        errors["decision_number"] = _("Cách ly tạm thời cần số quyết định của Chủ tịch UBND xã (mẫu 07).")
    if not _text(place):
        errors["place"] = _("Chưa nhập nơi cách ly (nơi trẻ được chăm sóc tạm thời).")
    if errors:
        raise ValidationFailed(errors)
    before, from_status = snapshot(case), case.status
    case.isolation_start, case.isolation_until = first, last
    case.isolation_place, case.isolation_decision = _text(place), _text(decision_number)
    case.isolation_ended_on = None
    _set_request(case, request)
    if not case.in_danger:
        case.in_danger = True
        case.emergency_due_at = deadlines.emergency_due(case.received_at)
    _mark_emergency_done(case, _now())
    if case.status in (Status.RECEIVED, Status.VERIFIED):
        case.status = Status.EMERGENCY
    _record(case, actor=actor, kind=CaseEvent.Kind.ISOLATE, before=before, from_status=from_status,
            text=case.isolation_place, data={"decision": case.isolation_decision, "start": first, "until": last,
                                             **_request_data(request)})
    return case


def _clean_request(number: Any, day: Any, body: Any, errors: dict[str, str]) -> dict[str, Any] | None:
    """A competent authority's written request to keep the child isolated past 15 days (Decree
    56/2017, Art. 32(3)): number and date both, or nothing."""
    number, body = _text(number), _text(body)
    when = _as_date(day, "request_date", errors, required=False)
    if not number and when is None and not body:
        return None
    if not number:
        errors["request_number"] = _("Văn bản đề nghị của cơ quan có thẩm quyền: chưa nhập số văn bản.")
    if when is None and "request_date" not in errors:
        errors["request_date"] = _("Văn bản đề nghị của cơ quan có thẩm quyền: chưa nhập ngày văn bản.")
    elif when is not None and when > timezone.localdate():
        errors["request_date"] = _("Ngày của văn bản đề nghị không được ở tương lai.")
    return {"number": number[:60], "date": when, "body": body[:200]}


def _check_isolation_days(first: dt.date, last: dt.date, request: dict[str, Any] | None,
                          errors: dict[str, str]) -> None:
    days = (last - first).days + 1
    if days > deadlines.ISOLATION_MAX_DAYS and request is None:
        errors["until"] = _("Cách ly tạm thời tối đa %(n)s ngày kể cả gia hạn (Nghị định 56/2017, Điều 32 "
                            "khoản 3); từ %(a)s đến %(b)s là %(d)s ngày. Cách ly lâu hơn chỉ khi cơ quan có thẩm "
                            "quyền đề nghị bằng văn bản: nhập số và ngày văn bản đó.") % {
            "n": deadlines.ISOLATION_MAX_DAYS, "a": _fmt(first), "b": _fmt(last), "d": days}


def _set_request(case: Case, request: dict[str, Any] | None) -> None:
    if request is not None:
        case.isolation_request_number = request["number"]
        case.isolation_request_date = request["date"]
        case.isolation_request_body = request["body"]


def _request_data(request: dict[str, Any] | None) -> dict[str, Any]:
    return {"request": {"number": request["number"], "date": request["date"], "body": request["body"]}} \
        if request else {}


@transaction.atomic
def case_isolation_extend(*, actor: User, case: Case | int, expected_version: int | None, until: Any,
                          decision_number: str, reason: str = "", request_number: str = "",
                          request_date: Any = None, request_body: str = "") -> Case:
    """Extend temporary isolation by the chairman's decision. The whole isolation, from its first
    day, stays within 15 days unless a competent authority's written request (number and date,
    recorded here or at the start) asks for longer (Decree 56/2017, Art. 32(3))."""
    case = case_for_action(actor, case, expected_version, action="isolation_extend")
    errors: dict[str, str] = {}
    last = _as_date(until, "until", errors)
    request = _clean_request(request_number, request_date, request_body, errors)
    if request is None and case.isolation_request_number:
        request = {"number": case.isolation_request_number, "date": case.isolation_request_date,
                   "body": case.isolation_request_body}
    if last and case.isolation_until and last <= case.isolation_until:
        errors["until"] = _("Ngày gia hạn phải sau ngày kết thúc hiện tại (%(d)s).") % {
            "d": _fmt(case.isolation_until)}
    elif last and case.isolation_start:
        _check_isolation_days(case.isolation_start, last, request, errors)
    if not _text(decision_number):
        errors["decision_number"] = _("Gia hạn cách ly cần số quyết định gia hạn của Chủ tịch UBND xã.")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(case)
    old_until = case.isolation_until
    case.isolation_until = last
    _set_request(case, request)
    _record(case, actor=actor, kind=CaseEvent.Kind.ISOLATION_EXTEND, before=before, from_status=case.status,
            text=_text(reason), data={"decision": _text(decision_number), "from": old_until, "until": last,
                                      **_request_data(request)})
    return case


@transaction.atomic
def case_isolation_end(*, actor: User, case: Case | int, expected_version: int | None, ended_on: Any,
                       note: str = "") -> Case:
    """The commune chairman cancels the isolation decision, when the parents or carers are assessed
    as keeping the child safe (Decree 56/2017, Art. 32(3)). Only he may end it."""
    case = case_for_action(actor, case, expected_version, action="isolation_end")
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
