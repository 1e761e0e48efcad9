"""Review (form 06), closure and reopening: Decree 56/2017, Arts. 30–31."""

from __future__ import annotations

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
    Plan,
    Rating,
    Review,
    Status,
)
from ._common import _as_date, _now, _record, _text, case_for_action

# ---------------------------------------------------------------- review (form 06), closure, reopening

@transaction.atomic
def case_review(*, actor: User, case: Case | int, expected_version: int | None, reviewed_on: Any, harm: str,
                perpetrator_access: str, care_obstacles: str, recommend_close: bool, note: str = "") -> Review:
    """Review (form 06). Closure is proposed only when harm, the perpetrator's access and the obstacles
    in the care environment are all low; otherwise the case goes back to planning."""
    case = case_for_action(actor, case, expected_version, action="review")
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
def case_close(*, actor: User, case: Case | int, expected_version: int | None, outcome: str, note: str = "") -> Case:
    """The chairman closes the case after a review proposing it (or an unfounded verification)."""
    case = case_for_action(actor, case, expected_version, action="close")
    if outcome not in Outcome.values:
        raise ValidationFailed({"outcome": _("Chọn kết quả khi đóng vụ việc.")})
    before, from_status = snapshot(case), case.status
    now = _now()
    # Closing ends every referral, and with it the agencies' access to the case.
    case.referrals.filter(closed_at__isnull=True).update(closed_at=now, result=_("Vụ việc đã đóng."))
    case.status, case.outcome, case.closed_at = Status.CLOSED, outcome, now
    _record(case, actor=actor, kind=CaseEvent.Kind.CLOSE, before=before, from_status=from_status,
            text=_text(note), data={"outcome": outcome})
    return case


@transaction.atomic
def case_reopen(*, actor: User, case: Case | int, expected_version: int | None, reason: str) -> Case:
    case = case_for_action(actor, case, expected_version, action="reopen")
    if not _text(reason):
        raise ValidationFailed({"reason": _("Mở lại vụ việc cần nêu lý do.")})
    before, from_status = snapshot(case), case.status
    case.status, case.closed_at, case.outcome = (Status.VERIFIED if case.verified_on else Status.RECEIVED), None, ""
    _record(case, actor=actor, kind=CaseEvent.Kind.REOPEN, before=before, from_status=from_status,
            text=_text(reason))
    return case
