"""Decree 56/2017/NĐ-CP, chapter III, clause by clause, with the law's numbers. Each test is named
after the row of the legal-basis page (docs/en/legal-basis.md, "Cases (Decree 56/2017)") it proves.

Dates are real dates around Tết 2026 (lunar new year's eve Mon 16 Feb – Fri 20 Feb 2026, public
holidays per the `holidays` package): working days skip them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vitreem.cases import services
from vitreem.cases.models import CaseEvent, Notification, Status
from vitreem.cases.notifications import deadline_notifications_send
from vitreem.cases.services import OutOfOrder
from vitreem.core.errors import PermissionDenied, ValidationFailed

from .conftest import intake

FRI_BEFORE_TET = dt.date(2026, 2, 13)


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _planned(worker, chairman, child, *, drafted: dt.date, review: dt.date | None = None):
    case = intake(worker, child, received_at=_at(drafted - dt.timedelta(days=3)))
    services.case_verify(actor=worker, case=case, expected_version=None, verified_on=drafted - dt.timedelta(days=3),
                         findings="Có thật")
    services.case_assess(actor=worker, case=case, expected_version=None, assessed_on=drafted - dt.timedelta(days=2),
                         assessment="Nguy cơ cao", meeting_minutes="Họp tại UBND xã")
    services.plan_draft(actor=worker, case=case, expected_version=None, drafted_on=drafted, goal="Trẻ an toàn",
                        review_on=review or drafted + dt.timedelta(days=45),
                        items=[{"kind": "medical", "description": "Khám sức khỏe", "responsible": "Trạm y tế xã",
                                "due_on": drafted + dt.timedelta(days=7)}])
    case.refresh_from_db()
    return case


def test_art_28_4_chairman_approves_within_2_working_days_across_tet(worker_a, chairman_a, child_a):
    """Art. 28(4): 02 working days. Submitted Fri 13 Feb 2026: Mon 16–Fri 20 are Tết, so the two
    working days are Mon 23 and Tue 24 Feb."""
    case = _planned(worker_a, chairman_a, child_a, drafted=FRI_BEFORE_TET)
    assert case.status == Status.PLANNED
    assert case.approval_due_on == dt.date(2026, 2, 24)
    assert case.next_due_kind == "approval"
    assert case.next_due_at == _at(dt.date(2026, 2, 25), 0)  # due at the end of the 24th
    assert case.next_due_at <= timezone.now()  # today is past February 2026: overdue
    plan = services.plan_approve(actor=chairman_a, case=case, expected_version=None, decision_number="15/QĐ-UBND",
                                 approved_on=dt.date(2026, 2, 24))
    case.refresh_from_db()
    assert plan.approved_on == dt.date(2026, 2, 24) and case.deadlines_missed == 0 and case.approval_due_on is None


def test_art_28_4_a_decision_after_the_2_working_days_is_a_missed_deadline(worker_a, chairman_a, child_a):
    case = _planned(worker_a, chairman_a, child_a, drafted=FRI_BEFORE_TET)
    services.plan_approve(actor=chairman_a, case=case, expected_version=None, decision_number="16/QĐ-UBND",
                          approved_on=dt.date(2026, 2, 25))
    case.refresh_from_db()
    assert case.deadlines_missed == 1 and case.status == Status.IMPLEMENTING


def test_art_28_4_the_chairman_and_the_worker_are_told_before_and_after(worker_a, chairman_a, chairman_b, child_a):
    """The approval deadline is the chairman's: he is told when it is near and when it is missed,
    and so is the worker who owns the case; the chairman of another commune is not."""
    today = timezone.localdate()
    case = _planned(worker_a, chairman_a, child_a, drafted=today)
    due = case.next_due_at
    assert case.next_due_kind == "approval"
    soon = deadline_notifications_send(now=due - dt.timedelta(hours=3))
    assert soon["created"] == 2
    late = deadline_notifications_send(now=due + dt.timedelta(hours=1))
    assert late["created"] == 2
    notices = {(n.user_id, n.kind) for n in Notification.objects.filter(case=case, due_kind="approval")}
    assert notices == {(worker_a.pk, "due_soon"), (chairman_a.pk, "due_soon"), (worker_a.pk, "overdue"),
                       (chairman_a.pk, "overdue")}
    assert not Notification.objects.filter(user=chairman_b).exists()
    message = Notification.objects.get(user=chairman_a, kind="due_soon").message
    assert case.code in message and "phê duyệt" in message
    assert deadline_notifications_send(now=due + dt.timedelta(hours=2))["created"] == 0


def test_form_05_refuses_a_plan_whose_review_date_is_not_after_the_decision(worker_a, chairman_a, child_a):
    """A decision (form 05) may not approve a plan whose review date has already passed."""
    today = timezone.localdate()
    case = _planned(worker_a, chairman_a, child_a, drafted=today - dt.timedelta(days=400),
                    review=today - dt.timedelta(days=365))
    events = CaseEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.plan_approve(actor=chairman_a, case=case, expected_version=None, decision_number="17/QĐ-UBND",
                              approved_on=today)
    assert "approved_on" in exc.value.errors and "lập lại kế hoạch" in exc.value.errors["approved_on"]
    assert CaseEvent.objects.count() == events
    case.refresh_from_db()
    assert case.status == Status.PLANNED


def test_art_32_3_isolation_counts_15_days_with_its_extensions(worker_a, chairman_a, child_a):
    """Art. 32(3): 15 days at most in total. 1–10 March then extended: to 15 March is the 15th day
    (accepted), to 16 March the 16th (refused without a competent authority's written request)."""
    start = dt.date(2026, 3, 1)
    case_a = intake(worker_a, child_a, received_at=_at(dt.date(2026, 2, 27)))
    case = services.case_isolate(actor=chairman_a, case=case_a, expected_version=None, start=start,
                                 until=dt.date(2026, 3, 10), place="Nhà bà ngoại", decision_number="2/QĐ-UBND")
    with pytest.raises(ValidationFailed) as exc:
        services.case_isolation_extend(actor=chairman_a, case=case, expected_version=None,
                                       until=dt.date(2026, 3, 16), decision_number="3/QĐ-UBND")
    assert "16 ngày" in exc.value.errors["until"]
    case = services.case_isolation_extend(actor=chairman_a, case=case, expected_version=None,
                                          until=dt.date(2026, 3, 15), decision_number="3/QĐ-UBND")
    assert case.isolation_until == dt.date(2026, 3, 15)


def test_art_32_3_longer_only_at_a_written_request_with_number_and_date(worker_a, chairman_a, child_a):
    start = dt.date(2026, 3, 1)
    case_a = intake(worker_a, child_a, received_at=_at(dt.date(2026, 2, 27)))
    with pytest.raises(ValidationFailed) as exc:
        services.case_isolate(actor=chairman_a, case=case_a, expected_version=None, start=start,
                              until=dt.date(2026, 3, 31), place="Trung tâm CTXH", decision_number="2/QĐ-UBND",
                              request_date=dt.date(2026, 2, 28))
    assert "request_number" in exc.value.errors
    case = services.case_isolate(actor=chairman_a, case=case_a, expected_version=None, start=start,
                                 until=dt.date(2026, 3, 31), place="Trung tâm CTXH", decision_number="2/QĐ-UBND",
                                 request_number="45/CV-CAH", request_date=dt.date(2026, 2, 28),
                                 request_body="Công an huyện Đăk Hà")
    assert case.isolation_request_number == "45/CV-CAH"
    event = case.events.get(kind=CaseEvent.Kind.ISOLATE)
    assert event.data["request"]["number"] == "45/CV-CAH"


def test_art_32_3_only_the_commune_chairman_ends_the_isolation(worker_a, chairman_a, supervisor, case_a):
    today = timezone.localdate()
    case = services.case_isolate(actor=chairman_a, case=case_a, expected_version=None, start=today,
                                 until=today + dt.timedelta(days=3), place="Nhà bà ngoại", decision_number="2/QĐ")
    for other in (worker_a, supervisor):
        with pytest.raises(PermissionDenied):
            services.case_isolation_end(actor=other, case=case, expected_version=None, ended_on=today)
    case = services.case_isolation_end(actor=chairman_a, case=case, expected_version=None, ended_on=today)
    assert case.isolation_ended_on == today


def test_art_26_3_and_31_2_emergency_within_12_hours(worker_a, child_a):
    received = _at(dt.date(2026, 2, 16), 20)  # lunar new year's eve: hours, not working days
    case = intake(worker_a, child_a, received_at=received, in_danger=True)
    assert case.emergency_due_at == received + dt.timedelta(hours=12)


def test_art_28_1_plan_within_5_working_days_across_tet(worker_a, child_a):
    """Assessed Thu 12 Feb 2026: Fri 13, then Tết, then Mon 23 – Thu 26 Feb: the 5th working day."""
    case = intake(worker_a, child_a, received_at=_at(dt.date(2026, 2, 10)))
    services.case_verify(actor=worker_a, case=case, expected_version=None, verified_on=dt.date(2026, 2, 11),
                         findings="Có thật")
    case = services.case_assess(actor=worker_a, case=case, expected_version=None, assessed_on=dt.date(2026, 2, 12),
                                assessment="Nguy cơ", meeting_minutes="Họp")
    assert case.plan_due_on == dt.date(2026, 2, 26)


def test_art_30_closure_needs_the_review_proposing_it(chairman_a, case_a):
    with pytest.raises(OutOfOrder) as exc:
        services.case_close(actor=chairman_a, case=case_a, expected_version=None, outcome="resolved")
    assert "mẫu 06" in exc.value.message
