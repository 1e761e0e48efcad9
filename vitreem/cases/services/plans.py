"""Assessment (form 03), the support plan (forms 04, 05), its items and case notes: Decree 56/2017, Arts.
28–29."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import snapshot
from vitreem.core.errors import NotFound, ValidationFailed

from .. import deadlines
from ..models import (
    Case,
    CaseEvent,
    Plan,
    PlanItem,
    Status,
)
from ._common import _as_date, _fmt, _now, _record, _text, case_for_action

# ---------------------------------------------------------------- assessment (form 03) and plan (04, 05)

@transaction.atomic
def case_assess(*, actor: User, case: Case | int, expected_version: int | None, assessed_on: Any, assessment: str,
                meeting_minutes: str) -> Case:
    """Specific assessment and case meeting (form 03). Starts the plan deadline: N working days
    (Decree 56/2017, Art. 28(1): 5; the province may set another figure in CaseRules)."""
    case = case_for_action(actor, case, expected_version, action="assess")
    assert case.verified_on is not None
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
def plan_draft(*, actor: User, case: Case | int, expected_version: int | None, drafted_on: Any, goal: str,
               review_on: Any, items: Iterable[dict[str, Any]]) -> Plan:
    """The support and intervention plan (form 04), with its items and the review date."""
    case = case_for_action(actor, case, expected_version, action="plan")
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
    # Decree 56/2017, Art. 28(4): the chairman has 2 working days from the plan's submission.
    case.approval_due_on = deadlines.add_working_days(day, deadlines.APPROVAL_WORKING_DAYS)
    case.status = Status.PLANNED
    _record(case, actor=actor, kind=CaseEvent.Kind.PLAN, before=before, from_status=from_status, text=plan.goal,
            data={"plan": plan.pk, "number": number, "items": len(rows), "review_on": review})
    return plan


@transaction.atomic
def plan_approve(*, actor: User, case: Case | int, expected_version: int | None, decision_number: str,
                 approved_on: Any) -> Plan:
    """The commune chairman approves the plan by decision (form 05) within 2 working days of its
    submission (Decree 56/2017, Art. 28(4)); a later decision counts as a missed deadline. A plan whose
    review date falls on or before the decision's date cannot be approved: the decision would set a
    review that has already passed (form 05, Art. 2)."""
    case = case_for_action(actor, case, expected_version, action="approve")
    plan = case.plans.filter(status=Plan.State.DRAFT).order_by("-number").first()
    assert plan is not None  # the workflow table's condition
    errors: dict[str, str] = {}
    day = _as_date(approved_on, "approved_on", errors)
    if day and day < plan.drafted_on:
        errors["approved_on"] = _("Ngày phê duyệt trước ngày lập kế hoạch (%(d)s).") % {"d": _fmt(plan.drafted_on)}
    elif day and day > timezone.localdate():
        errors["approved_on"] = _("Ngày phê duyệt không được ở tương lai.")
    elif day and plan.review_on <= day:
        errors["approved_on"] = _("Kế hoạch đặt ngày rà soát %(r)s, không sau ngày phê duyệt %(d)s: người làm công "
                                  "tác bảo vệ trẻ em cần lập lại kế hoạch với ngày rà soát mới trước khi phê "
                                  "duyệt.") % {"r": _fmt(plan.review_on), "d": _fmt(day)}
    if not _text(decision_number):
        errors["decision_number"] = _("Chưa nhập số quyết định phê duyệt.")
    if errors:
        raise ValidationFailed(errors)
    assert day is not None
    before, from_status = snapshot(case), case.status
    if case.approval_due_on and day > case.approval_due_on:
        case.deadlines_missed += 1
    case.approval_due_on = None
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
def plan_item_update(*, actor: User, case: Case | int, expected_version: int | None, item_id: int, status: str,
                     outcome: str = "") -> PlanItem:
    case = case_for_action(actor, case, expected_version, action="item")
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
def case_note(*, actor: User, case: Case | int, expected_version: int | None, text: str, on: Any = None,
              at: dt.datetime | None = None) -> CaseEvent:
    """A home visit or a note on the timeline. `at` is when it happened as the worker recorded it (a
    visit noted offline keeps its own time when it reaches the server later); `on` a day only."""
    case = case_for_action(actor, case, expected_version, action="note")
    errors: dict[str, str] = {}
    if at is not None:
        at = at if timezone.is_aware(at) else timezone.make_aware(at)
        day = timezone.localtime(at).date()
        if at > _now() + dt.timedelta(minutes=5):
            errors["at"] = _("Thời điểm không được ở tương lai.")
    else:
        day = _as_date(on, "on", errors, required=False) or timezone.localdate()
        if day > timezone.localdate():
            errors["on"] = _("Ngày không được ở tương lai.")
    if not _text(text):
        errors["text"] = _("Chưa nhập nội dung.")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(case)
    if at is None:
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(12))) if day != timezone.localdate() else _now()
    return _record(case, actor=actor, kind=CaseEvent.Kind.VISIT, before=before, from_status=case.status,
                   text=_text(text), at=at)
