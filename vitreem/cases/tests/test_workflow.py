"""The case workflow is one table (workflow.TRANSITIONS): the page and the API show what
`case_actions_for` returns, and the services accept exactly that.

For every status (and the states that change what is allowed: an isolation in force, an open
referral) × every persona, each action of the table is tried through its service with valid data,
inside a transaction that is rolled back: an action shown must be accepted, an action not shown must
be refused (not found, not allowed, or out of order) — never accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from conftest import COMMUNE_A
from vitreem.accounts.models import Role
from vitreem.cases import services
from vitreem.cases.attachments import attachment_add
from vitreem.cases.models import Case, Plan, PlanItem, Status
from vitreem.cases.selectors import cases_for_user
from vitreem.cases.workflow import TRANSITIONS, case_actions_for
from vitreem.core.errors import DomainError, NotFound, PermissionDenied
from vitreem.testing.factories import UserFactory

from .conftest import advance_to_implementing, intake


class _Rollback(Exception):
    pass


def _calls(today: dt.date) -> dict[str, Callable[[Any, Case], Any]]:
    """One valid call of each action's service."""
    def item_id(case: Case) -> int:
        item = PlanItem.objects.filter(plan__case=case, plan__status=Plan.State.APPROVED).first()
        return item.pk if item else 0

    def referral_id(case: Case) -> int:
        referral = case.referrals.filter(closed_at__isnull=True).first()
        return referral.pk if referral else 0

    def reassign_to(case: Case) -> int:
        return services.owner_candidates(case).values_list("pk", flat=True).first() or 0

    def extend_until(case: Case) -> dt.date:
        return (case.isolation_until or today) + dt.timedelta(days=1)

    v: dict[str, Any] = {"expected_version": None}
    return {
        "edit": lambda u, c: services.case_update(actor=u, case=c.pk, expected_version=c.version,
                                                  summary="Cập nhật nội dung sự việc"),
        "verify": lambda u, c: services.case_verify(actor=u, case=c.pk, **v, verified_on=today, findings="Có thật"),
        "emergency": lambda u, c: services.case_emergency(actor=u, case=c.pk, **v, done_at=timezone.now(),
                                                          action="Đưa trẻ đến nơi an toàn"),
        "isolate": lambda u, c: services.case_isolate(actor=u, case=c.pk, **v, start=today,
                                                      until=today + dt.timedelta(days=5), place="Nhà bà ngoại",
                                                      decision_number="3/QĐ-UBND"),
        "isolation_extend": lambda u, c: services.case_isolation_extend(actor=u, case=c.pk, **v,
                                                                        until=extend_until(c),
                                                                        decision_number="4/QĐ-UBND"),
        "isolation_end": lambda u, c: services.case_isolation_end(actor=u, case=c.pk, **v, ended_on=today),
        "assess": lambda u, c: services.case_assess(actor=u, case=c.pk, **v, assessed_on=today, assessment="Nguy cơ",
                                                    meeting_minutes="Biên bản họp"),
        "plan": lambda u, c: services.plan_draft(actor=u, case=c.pk, **v, drafted_on=today, goal="An toàn",
                                                 review_on=today + dt.timedelta(days=30),
                                                 items=[{"kind": "medical", "description": "Khám",
                                                         "responsible": "Trạm y tế", "due_on": today}]),
        "approve": lambda u, c: services.plan_approve(actor=u, case=c.pk, **v, decision_number="9/QĐ-UBND",
                                                      approved_on=today),
        "item": lambda u, c: services.plan_item_update(actor=u, case=c.pk, **v, item_id=item_id(c), status="done"),
        "review": lambda u, c: services.case_review(actor=u, case=c.pk, **v, reviewed_on=today, harm="low",
                                                    perpetrator_access="low", care_obstacles="low",
                                                    recommend_close=False),
        "close": lambda u, c: services.case_close(actor=u, case=c.pk, **v, outcome="resolved"),
        "reopen": lambda u, c: services.case_reopen(actor=u, case=c.pk, **v, reason="Tái diễn"),
        "note": lambda u, c: services.case_note(actor=u, case=c.pk, **v, text="Thăm gia đình"),
        "attach": lambda u, c: attachment_add(actor=u, case=c.pk, upload=SimpleUploadedFile(
            "bien-ban.pdf", b"%PDF-1.4 test", content_type="application/pdf")),
        "referral": lambda u, c: services.referral_open(actor=u, case=c.pk, **v, member_unit=_other_unit(c),
                                                        reason="Phối hợp", guardian_consent=True, child_consent=True),
        "referral_close": lambda u, c: services.referral_close(actor=u, case=c.pk, **v, referral_id=referral_id(c)),
        "reassign": lambda u, c: services.case_reassign(actor=u, case=c.pk, **v, owner=reassign_to(c),
                                                        reason="Nghỉ phép"),
    }


def _other_unit(case: Case) -> int:
    from vitreem.accounts.models import MemberUnit

    unit, _ = MemberUnit.objects.get_or_create(code="so-yte", defaults={"name": "Sở Y tế", "kind": "department"})
    return unit.pk


def _accepted(call: Callable[[], Any]) -> bool:
    """Run the service and roll it back. True when it went through; False when it was refused."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return True
    except (NotFound, PermissionDenied):
        return False
    except DomainError as exc:
        if exc.code == "out_of_order":
            return False
        raise AssertionError(f"refused for its data, not for the workflow: {exc.code} {exc}") from exc


@pytest.fixture
def cases_by_state(worker_a, chairman_a, child_a, police) -> dict[str, Case]:
    today = timezone.localdate()
    UserFactory(username="worker_a2", role=Role.COMMUNE_WORKER, units=COMMUNE_A)  # someone to hand a case to
    made: dict[str, Case] = {"received": intake(worker_a, child_a)}
    case = intake(worker_a, child_a)
    made["verified"] = services.case_verify(actor=worker_a, case=case, expected_version=None, verified_on=today,
                                            findings="Có thật")
    case = intake(worker_a, child_a, in_danger=True)
    made["emergency"] = services.case_emergency(actor=worker_a, case=case, expected_version=None,
                                                done_at=timezone.now(), action="Đưa trẻ đi")
    case = intake(worker_a, child_a, in_danger=True)
    made["isolated"] = services.case_isolate(actor=chairman_a, case=case, expected_version=None, start=today,
                                             until=today + dt.timedelta(days=5), place="Nhà bà ngoại",
                                             decision_number="1/QĐ-UBND")
    case = intake(worker_a, child_a)
    services.case_verify(actor=worker_a, case=case, expected_version=None, verified_on=today, findings="Có thật")
    made["assessed"] = services.case_assess(actor=worker_a, case=case, expected_version=None, assessed_on=today,
                                            assessment="Nguy cơ", meeting_minutes="Họp")
    case = intake(worker_a, child_a)
    services.case_verify(actor=worker_a, case=case, expected_version=None, verified_on=today, findings="Có thật")
    services.case_assess(actor=worker_a, case=case, expected_version=None, assessed_on=today, assessment="Nguy cơ",
                         meeting_minutes="Họp")
    services.plan_draft(actor=worker_a, case=case, expected_version=None, drafted_on=today, goal="An toàn",
                        review_on=today + dt.timedelta(days=30),
                        items=[{"kind": "medical", "description": "Khám", "responsible": "Trạm y tế", "due_on": today}])
    made["planned"] = case
    made["implementing"] = advance_to_implementing(intake(worker_a, child_a), worker_a, chairman_a)
    case = intake(worker_a, child_a)
    made["to_close"] = services.case_verify(actor=worker_a, case=case, expected_version=None, verified_on=today,
                                            findings="Không có sự việc", founded=False)
    case = intake(worker_a, child_a)
    services.case_verify(actor=worker_a, case=case, expected_version=None, verified_on=today,
                         findings="Không có sự việc", founded=False)
    made["closed"] = services.case_close(actor=chairman_a, case=case, expected_version=None, outcome="unfounded")
    case = intake(worker_a, child_a)
    services.referral_open(actor=worker_a, case=case, expected_version=None, member_unit=police.pk,
                           reason="Điều tra", guardian_consent=True, child_consent=True)
    made["referred"] = case
    for case in made.values():
        case.refresh_from_db()
    assert {c.status for c in made.values()} == set(Status.values)
    return made


PERSONAS = ["worker_a", "worker_b", "chairman_a", "chairman_b", "supervisor", "officer", "admin_user", "leader",
            "reporter", "agency_user"]
STATES = ["received", "verified", "emergency", "isolated", "assessed", "planned", "implementing", "to_close",
          "closed", "referred"]


@pytest.mark.parametrize("state", STATES)
def test_every_action_shown_is_accepted_and_every_other_refused(state, cases_by_state, request):
    case = cases_by_state[state]
    calls = _calls(timezone.localdate())
    assert set(calls) == set(TRANSITIONS), "every action of the table has a call here"
    mismatches = []
    for persona in PERSONAS:
        user = request.getfixturevalue(persona)
        fresh = Case.objects.select_related("unit", "child").get(pk=case.pk)
        visible = cases_for_user(user).filter(pk=case.pk).exists()
        shown = set(case_actions_for(user, fresh)) if visible else set()
        for action, call in calls.items():
            accepted = _accepted(lambda call=call, user=user: call(user, Case.objects.get(pk=case.pk)))
            if accepted != (action in shown):
                mismatches.append(f"{persona} {action}: shown={action in shown} accepted={accepted}")
    assert mismatches == []


def test_the_walk_exercises_every_action(cases_by_state, worker_a, chairman_a, supervisor, agency_user):
    """The table is not vacuous: across the states each action is offered to someone."""
    offered: set[str] = set()
    for case in cases_by_state.values():
        for user in (worker_a, chairman_a, supervisor, agency_user):
            if cases_for_user(user).filter(pk=case.pk).exists():
                offered |= set(case_actions_for(user, case))
    assert offered == set(TRANSITIONS)


def test_the_page_and_the_api_show_the_table(cases_by_state, client_for, chairman_a, worker_a):
    """What the case page offers and what the API lists under `actions` is `case_actions_for`."""
    case = cases_by_state["planned"]
    for user in (chairman_a, worker_a):
        expected = case_actions_for(user, case)
        client = client_for(user)
        body = client.get(f"/api/cases/{case.pk}").json()
        assert body["actions"] == expected
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert (f'action="/cases/{case.pk}/do/approve/"' in page) == ("approve" in expected)
        assert (f'action="/cases/{case.pk}/do/plan/"' in page) == ("plan" in expected)
