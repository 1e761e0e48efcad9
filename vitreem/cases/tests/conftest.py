"""Fixtures of the case tests: the case personas on top of the shared ones, a child, a case at each step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import COMMUNE_A, PASSWORD, PROVINCE
from vitreem.accounts.models import MemberUnit, Role
from vitreem.cases import services
from vitreem.registry.models import Child
from vitreem.registry.services import child_register
from vitreem.testing.factories import UserFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def chairman_a(db):
    return UserFactory(username="chairman_a", role=Role.CHAIRMAN, units=COMMUNE_A)


@pytest.fixture
def chairman_b(db):
    from conftest import COMMUNE_B

    return UserFactory(username="chairman_b", role=Role.CHAIRMAN, units=COMMUNE_B)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor", role=Role.CASE_SUPERVISOR, units=PROVINCE)


@pytest.fixture
def police(db):
    return MemberUnit.objects.get_or_create(code="cong-an", defaults={"name": "Công an tỉnh", "kind": "agency"})[0]


@pytest.fixture
def agency_user(db, police):
    return UserFactory(username="police_officer", role=Role.REFERRAL_AGENCY, units=PROVINCE, member_unit=police)


@pytest.fixture
def child_a(worker_a, units) -> Child:
    return child_register(actor=worker_a, data={"full_name": "Nguyễn Thị Hoa", "birth_date": dt.date(2014, 3, 2),
                                                "sex": "F"},
                          unit=units.commune_a_2025, confirm_not_duplicate=True, on=dt.date(2025, 8, 1))


@pytest.fixture
def young_child_a(worker_a, units) -> Child:
    today = timezone.localdate()
    return child_register(actor=worker_a, data={"full_name": "Y Bông", "birth_date": today.replace(year=today.year - 4),
                                                "sex": "M"},
                          unit=units.commune_a_2025, confirm_not_duplicate=True)


def intake(worker, child, **extra):
    data = {"received_at": timezone.now() - dt.timedelta(hours=1), "channel": "hotline_111", "place": "Thôn 3",
                "concern": "physical_violence", "summary": "Hàng xóm báo trẻ bị đánh", "reporter_name": "Bà Lan",
                "reporter_phone": "0900000000", "perpetrator": "step_parent", "in_danger": False}
    data.update(extra)
    return services.case_intake(actor=worker, child=child, **data)


@pytest.fixture
def case_a(worker_a, child_a):
    return intake(worker_a, child_a)


def advance_to_implementing(case, worker, chairman):
    """verify → assess → plan → approve, with today's dates."""
    today = timezone.localdate()
    case = services.case_verify(actor=worker, case=case, expected_version=None, verified_on=today,
                                findings="Có dấu vết bầm tím")
    case = services.case_assess(actor=worker, case=case, expected_version=None, assessed_on=today,
                                assessment="Nguy cơ cao", meeting_minutes="Họp với gia đình và công an xã")
    services.plan_draft(actor=worker, case=case, expected_version=None, drafted_on=today, goal="Trẻ an toàn",
                        review_on=today + dt.timedelta(days=30),
                        items=[{"kind": "psychological", "description": "Tư vấn tâm lý", "responsible": "Trạm y tế",
                                "due_on": today + dt.timedelta(days=10)}])
    services.plan_approve(actor=chairman, case=case, expected_version=None, decision_number="12/QĐ-UBND",
                          approved_on=today)
    case.refresh_from_db()
    return case


__all__ = ["PASSWORD", "intake", "advance_to_implementing"]
