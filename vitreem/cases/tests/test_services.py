"""The steps of a case as services: the whole path, the order of steps, bad input writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vitreem.cases import services
from vitreem.cases.models import Case, CaseEvent, Plan, Referral, Status
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from vitreem.core.models import AuditEntry
from vitreem.registry.models import Child
from vitreem.registry.services import PossibleDuplicate

from .conftest import advance_to_implementing, intake

pytestmark = pytest.mark.django_db


def test_whole_path_from_report_to_closure(worker_a, chairman_a, child_a):
    case = intake(worker_a, child_a, in_danger=True)
    assert case.status == Status.RECEIVED and case.code.startswith("VV-")
    assert case.emergency_due_at == case.received_at + dt.timedelta(hours=12)
    assert case.next_due_kind == "emergency"
    case = services.case_emergency(actor=worker_a, case=case, expected_version=case.version,
                                   done_at=timezone.now(), action="Đưa trẻ về nhà bà ngoại")
    assert case.status == Status.EMERGENCY and case.deadlines_missed == 0 and case.next_due_at is None
    case = advance_to_implementing(case, worker_a, chairman_a)
    assert case.status == Status.IMPLEMENTING and case.next_due_kind == "review"
    plan = case.plans.get()
    assert plan.status == Plan.State.APPROVED and plan.approved_by == chairman_a
    item = plan.items.get()
    services.plan_item_update(actor=worker_a, case=case, expected_version=None, item_id=item.pk, status="done",
                              outcome="Đã tư vấn 3 buổi")
    services.case_note(actor=worker_a, case=case, expected_version=None, text="Thăm gia đình")
    review = services.case_review(actor=worker_a, case=case, expected_version=None, reviewed_on=timezone.localdate(),
                                  harm="low", perpetrator_access="low", care_obstacles="low", recommend_close=True)
    assert review.recommend_close
    case = services.case_close(actor=chairman_a, case=case, expected_version=None, outcome="resolved")
    assert case.status == Status.CLOSED and case.closed_at and case.next_due_at is None
    kinds = list(case.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds[0] == "intake" and kinds[-1] == "close" and "approve" in kinds and "review" in kinds
    actions = set(AuditEntry.objects.filter(object_type="cases.case", object_id=str(case.pk))
                  .values_list("action", flat=True))
    assert {"case.intake", "case.emergency", "case.verify", "case.assess", "case.plan", "case.approve",
            "case.review", "case.close"} <= actions
    case = services.case_reopen(actor=worker_a, case=case, expected_version=None, reason="Tái diễn bạo lực")
    assert case.status == Status.VERIFIED and case.closed_at is None


def test_review_not_low_goes_back_to_planning_with_a_new_deadline(worker_a, chairman_a, case_a):
    case = advance_to_implementing(case_a, worker_a, chairman_a)
    services.case_review(actor=worker_a, case=case, expected_version=None, reviewed_on=timezone.localdate(),
                         harm="medium", perpetrator_access="low", care_obstacles="high", recommend_close=False)
    case.refresh_from_db()
    assert case.status == Status.ASSESSED and case.plan_due_on > timezone.localdate()
    assert case.next_due_kind == "plan"


def test_intake_registers_an_unknown_child_with_the_duplicate_check(worker_a, child_a, units):
    base = {"received_at": timezone.now(), "channel": "school", "place": "Trường tiểu học", "concern": "neglect",
                "summary": "Trẻ nghỉ học nhiều ngày", "reporter_anonymous": True}
    same = {"full_name": "Nguyễn Thị Hoa", "birth_date": dt.date(2014, 3, 2), "sex": "F"}
    before = Child.objects.count()
    with pytest.raises(PossibleDuplicate):
        services.case_intake(actor=worker_a, new_child=same, **base)
    assert Child.objects.count() == before and not Case.objects.exists()
    case = services.case_intake(actor=worker_a, new_child=same, confirm_not_duplicate=True, **base)
    assert Child.objects.count() == before + 1 and case.child.source == "case"
    assert case.unit == units.commune_a_2025 and case.reporter_name == ""


def test_intake_bad_input_names_every_field_and_writes_nothing(worker_a, child_a):
    with pytest.raises(ValidationFailed) as exc:
        services.case_intake(actor=worker_a, child=child_a, received_at=timezone.now() + dt.timedelta(days=1),
                             channel="fax", place="", concern="x", summary="")
    assert {"received_at", "channel", "place", "concern", "summary", "reporter_name"} <= set(exc.value.errors)
    assert not Case.objects.exists()


def test_intake_child_of_another_commune_is_not_found(worker_b, child_a):
    with pytest.raises(NotFound):
        intake(worker_b, child_a)
    assert not Case.objects.exists()


@pytest.mark.parametrize("persona", ["chairman_a", "supervisor", "leader", "reporter", "agency_user"])
def test_only_workers_take_reports(request, persona, child_a):
    with pytest.raises((PermissionDenied, NotFound)):
        intake(request.getfixturevalue(persona), child_a)


def _count_state():
    return (Case.objects.values_list("status", "version").first(), CaseEvent.objects.count(),
            AuditEntry.objects.filter(kind="change").count(), Plan.objects.count(), Referral.objects.count())


def test_out_of_order_steps_are_refused_and_nothing_is_saved(worker_a, chairman_a, case_a):
    state = _count_state()
    with pytest.raises(DomainError) as exc:
        services.case_close(actor=chairman_a, case=case_a, expected_version=None, outcome="resolved")
    assert exc.value.code == "out_of_order" and "rà soát" in exc.value.message
    with pytest.raises(DomainError) as exc:
        services.plan_approve(actor=chairman_a, case=case_a, expected_version=None, decision_number="1/QĐ",
                              approved_on=timezone.localdate())
    assert exc.value.code == "out_of_order" and "Không có kế hoạch" in exc.value.message
    with pytest.raises(DomainError):
        services.case_assess(actor=worker_a, case=case_a, expected_version=None, assessed_on=timezone.localdate(),
                             assessment="x", meeting_minutes="y")
    with pytest.raises(DomainError):
        services.case_review(actor=worker_a, case=case_a, expected_version=None, reviewed_on=timezone.localdate(),
                             harm="low", perpetrator_access="low", care_obstacles="low", recommend_close=True)
    assert _count_state() == state


def test_closure_needs_all_ratings_low(worker_a, chairman_a, case_a):
    case = advance_to_implementing(case_a, worker_a, chairman_a)
    state = _count_state()
    with pytest.raises(ValidationFailed) as exc:
        services.case_review(actor=worker_a, case=case, expected_version=None, reviewed_on=timezone.localdate(),
                             harm="high", perpetrator_access="low", care_obstacles="low", recommend_close=True)
    assert "recommend_close" in exc.value.errors
    assert _count_state() == state


def test_worker_cannot_approve_and_chairman_of_another_commune_cannot_see(worker_a, chairman_b, case_a):
    with pytest.raises(PermissionDenied):
        services.case_isolate(actor=worker_a, case=case_a, expected_version=None, start=timezone.localdate(),
                              until=timezone.localdate(), place="Nhà tạm lánh", decision_number="1/QĐ")
    with pytest.raises(NotFound):
        services.case_verify(actor=chairman_b, case=case_a, expected_version=None, verified_on=timezone.localdate(),
                             findings="x")


def test_isolation_at_most_15_days_and_extension_needs_a_decision(chairman_a, worker_a, case_a):
    """Decree 56/2017, Art. 32(3): 15 days at most in total, extensions included; longer only at a
    competent authority's written request (number and date); only the chairman ends it."""
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as exc:
        services.case_isolate(actor=chairman_a, case=case_a, expected_version=None, start=today,
                              until=today + dt.timedelta(days=15), place="Trung tâm CTXH", decision_number="5/QĐ")
    assert "until" in exc.value.errors and "16 ngày" in exc.value.errors["until"]
    case = services.case_isolate(actor=chairman_a, case=case_a, expected_version=None, start=today,
                                 until=today + dt.timedelta(days=9), place="Trung tâm CTXH", decision_number="5/QĐ")
    assert case.status == Status.EMERGENCY and case.isolation_active and case.next_due_kind == "isolation"
    state = _count_state()
    with pytest.raises(ValidationFailed) as exc:
        services.case_isolation_extend(actor=chairman_a, case=case, expected_version=None,
                                       until=today + dt.timedelta(days=12), decision_number="  ")
    assert "decision_number" in exc.value.errors
    # Day 1 to day 16 is 16 days: refused without a competent authority's written request.
    with pytest.raises(ValidationFailed) as exc:
        services.case_isolation_extend(actor=chairman_a, case=case, expected_version=None,
                                       until=today + dt.timedelta(days=15), decision_number="7/QĐ")
    assert "until" in exc.value.errors
    # A request needs both its number and its date.
    with pytest.raises(ValidationFailed) as exc:
        services.case_isolation_extend(actor=chairman_a, case=case, expected_version=None,
                                       until=today + dt.timedelta(days=20), decision_number="7/QĐ",
                                       request_number="12/CV-CA")
    assert "request_date" in exc.value.errors
    assert _count_state() == state
    case.refresh_from_db()
    assert case.isolation_until == today + dt.timedelta(days=9)
    # Extended to the 15th day: allowed with the chairman's decision alone.
    case = services.case_isolation_extend(actor=chairman_a, case=case, expected_version=case.version,
                                          until=today + dt.timedelta(days=14), decision_number="7/QĐ")
    assert case.isolation_until == today + dt.timedelta(days=14)
    case = services.case_isolation_extend(actor=chairman_a, case=case, expected_version=case.version,
                                          until=today + dt.timedelta(days=20), decision_number="8/QĐ",
                                          request_number="12/CV-CA", request_date=today,
                                          request_body="Công an huyện Đăk Hà")
    assert case.isolation_until == today + dt.timedelta(days=20)
    assert (case.isolation_request_number, case.isolation_request_date) == ("12/CV-CA", today)
    with pytest.raises(PermissionDenied):
        services.case_isolation_end(actor=worker_a, case=case, expected_version=None, ended_on=today)
    case = services.case_isolation_end(actor=chairman_a, case=case, expected_version=None, ended_on=today)
    assert not case.isolation_active


def test_referral_needs_consent(worker_a, case_a, police):
    state = _count_state()
    with pytest.raises(ValidationFailed) as exc:
        services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=police.pk,
                               reason="Điều tra", guardian_consent=True, child_consent=False)
    assert "child_consent" in exc.value.errors  # the child is 11
    with pytest.raises(ValidationFailed) as exc:
        services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=police.pk,
                               reason="Điều tra", guardian_consent=False, child_consent=True)
    assert "guardian_consent" in exc.value.errors
    assert _count_state() == state
    referral = services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=police.pk,
                                      reason="Điều tra", guardian_consent=True, child_consent=True)
    assert referral.is_open and referral.child_consent is True


def test_referral_records_its_ground_and_respects_a_restriction(worker_a, case_a, police):
    """Law 91/2025/QH15 Art. 24(2) (consent of the child 7+ and the representative), Art. 19(1) (exceptions,
    proven by the one disclosing), Art. 10(1) (a restriction stops what rests on consent)."""
    from vitreem.privacy import services as privacy

    referral = services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=police.pk,
                                      reason="Điều tra", guardian_consent=True, child_consent=True)
    row = AuditEntry.objects.get(action="privacy.disclosure")
    assert row.changes["basis"] == "consent" and row.changes["form"]["child"] is True
    assert row.changes["to"] == police.name
    services.referral_close(actor=worker_a, case=case_a, expected_version=None, referral_id=referral.pk)
    req = privacy.request_register(actor=worker_a, child=case_a.child, kind="restriction", requester_name="Mẹ",
                                   received_on=timezone.localdate())
    privacy.request_answer(actor=worker_a, request_id=req.pk, done=True, answer="Đã hạn chế")
    state = _count_state()
    with pytest.raises(ValidationFailed) as exc:
        services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=police.pk,
                               reason="Điều tra", guardian_consent=True, child_consent=True)
    assert "exception" in exc.value.errors and _count_state() == state
    with pytest.raises(ValidationFailed) as exc:
        services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=police.pk,
                               reason="Điều tra", guardian_consent=False, exception="19_1_a")
    assert "exception_note" in exc.value.errors
    urgent = services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=police.pk,
                                    reason="Điều tra", guardian_consent=False, exception="19_1_a",
                                    exception_note="Trẻ bị đe dọa tính mạng, cần công an can thiệp ngay")
    assert urgent.guardian_consent is False
    last = AuditEntry.objects.filter(action="privacy.disclosure").order_by("-pk").first()
    assert last is not None and last.changes["basis"] == "19_1_a" and "tính mạng" in last.changes["note"]


def test_referral_of_a_child_under_7_needs_only_the_guardian(worker_a, young_child_a, police):
    case = intake(worker_a, young_child_a)
    referral = services.referral_open(actor=worker_a, case=case, expected_version=None, member_unit=police,
                                      reason="Khám sức khoẻ", guardian_consent=True)
    assert referral.child_consent is None


def test_stale_edit_is_refused_with_changed_by_someone_else(worker_a, case_a):
    version = case_a.version
    services.case_update(actor=worker_a, case=case_a, expected_version=version, place="Thôn 5")
    state = _count_state()
    with pytest.raises(Conflict) as exc:
        services.case_update(actor=worker_a, case=case_a, expected_version=version, place="Thôn 7")
    assert "người khác thay đổi" in exc.value.message and exc.value.status == 409
    assert _count_state() == state
    case_a.refresh_from_db()
    assert case_a.place == "Thôn 5" and case_a.version == version + 1


def test_plan_deadline_follows_province_rule(worker_a, case_a, units):
    from vitreem.cases.deadlines import add_working_days
    from vitreem.cases.models import CaseRules

    CaseRules.objects.create(province_code=units.commune_a_2025.province_code, plan_working_days=7)
    today = timezone.localdate()
    case = services.case_verify(actor=worker_a, case=case_a, expected_version=None, verified_on=today, findings="x")
    case = services.case_assess(actor=worker_a, case=case, expected_version=None, assessed_on=today,
                                assessment="a", meeting_minutes="m")
    assert case.plan_due_on == add_working_days(today, 7)


def test_late_emergency_counts_as_a_missed_deadline(worker_a, child_a):
    case = intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=20))
    assert case.next_due_at < timezone.now()
    case = services.case_emergency(actor=worker_a, case=case, expected_version=None, done_at=timezone.now(),
                                   action="Đưa trẻ đi khám")
    assert case.deadlines_missed == 1
