"""Dated membership and the dated standing agency (issue 14 item 17, the 2025 reorganisation): the
selectors on either side of the switch, the services' checks and audit, the admin, the migration."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import login
from vitreem.accounts.demo import HEALTH_FROM
from vitreem.accounts.models import MemberUnit, StandingAgencyPeriod
from vitreem.accounts.selectors import (
    member_unit_choices,
    member_units_during,
    member_units_on,
    standing_agency_on,
)
from vitreem.accounts.services import (
    demo_member_units_ensure,
    member_unit_membership_set,
    standing_agency_switch,
)
from vitreem.core.errors import DomainError
from vitreem.core.models import AuditEntry

SWITCH = dt.date(2025, 3, 1)


@pytest.fixture
def committee(db):
    return demo_member_units_ensure()


def test_the_switch_date_is_decree_42_s_date_of_effect():
    # Decree 42/2025/NĐ-CP Art. 4: "có hiệu lực thi hành từ ngày 01 tháng 3 năm 2025".
    assert HEALTH_FROM == SWITCH


def test_standing_agency_on_either_side_of_the_switch(committee):
    dolisa, health = committee["so-ldtbxh"], committee["so-yte"]
    assert standing_agency_on(dt.date(2020, 12, 31)) is None  # before the programme: none recorded
    assert standing_agency_on(dt.date(2021, 1, 1)) == dolisa
    assert standing_agency_on(dt.date(2022, 12, 31)) == dolisa
    assert standing_agency_on(SWITCH - dt.timedelta(days=1)) == dolisa
    assert standing_agency_on(SWITCH) == health
    assert standing_agency_on(dt.date(2026, 12, 31)) == health
    assert list(StandingAgencyPeriod.objects.on(SWITCH)) == [health.standing_periods.get()]


def test_dolisa_is_a_member_until_the_switch_and_not_after(committee):
    dolisa = committee["so-ldtbxh"]
    assert dolisa in member_units_on(SWITCH - dt.timedelta(days=1))
    assert dolisa not in member_units_on(SWITCH)
    assert dolisa in member_units_during(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert dolisa not in member_units_during(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert member_units_on(SWITCH).count() == len(committee) - 1
    # A form offers it again only for the record that already names it.
    assert dolisa not in member_unit_choices(day=SWITCH)
    assert dolisa in member_unit_choices(day=SWITCH, keep=[dolisa.pk])
    # A unit switched off altogether is nobody's member.
    MemberUnit.objects.filter(pk=committee["tinh-doan"].pk).update(active=False)
    assert committee["tinh-doan"] not in member_units_on(dt.date(2022, 6, 1))


def test_is_standing_agency_is_derived_from_the_periods(committee):
    assert committee["so-yte"].is_standing_agency
    assert not committee["so-ldtbxh"].is_standing_agency
    assert not any(f.name == "is_standing_agency" for f in MemberUnit._meta.get_fields())


def test_standing_agency_switch_closes_the_period_and_is_audited(db, officer):
    old = MemberUnit.objects.create(code="a", name="Sở A", valid_from=dt.date(2021, 1, 1))
    new = MemberUnit.objects.create(code="b", name="Sở B", valid_from=dt.date(2021, 1, 1))
    StandingAgencyPeriod.objects.create(member_unit=old, valid_from=dt.date(2021, 1, 1))
    period = standing_agency_switch(actor=officer, member_unit=new, valid_from=dt.date(2025, 3, 1),
                                    legal_basis="Nghị định 42/2025/NĐ-CP, Điều 4")
    assert old.standing_periods.get().valid_to == dt.date(2025, 2, 28)
    assert period.valid_to is None and standing_agency_on(dt.date(2025, 3, 1)) == new
    actions = set(AuditEntry.objects.filter(action__startswith="accounts.standing_agency")
                  .values_list("action", "actor_id"))
    assert actions == {("accounts.standing_agency.end", officer.pk), ("accounts.standing_agency.start", officer.pk)}
    # A period that would start before a recorded one, or a unit not a member that day, is refused.
    with pytest.raises(DomainError):
        standing_agency_switch(actor=officer, member_unit=old, valid_from=dt.date(2024, 1, 1))
    with pytest.raises(DomainError):
        standing_agency_switch(actor=officer, member_unit=MemberUnit.objects.create(
            code="c", name="Sở C", valid_from=dt.date(2027, 1, 1)), valid_from=dt.date(2026, 1, 1))
    assert StandingAgencyPeriod.objects.count() == 2


def test_a_standing_agency_cannot_leave_during_its_period_and_a_change_is_audited(committee, officer):
    health = committee["so-yte"]
    with pytest.raises(DomainError):
        member_unit_membership_set(actor=officer, member_unit=health, valid_from=dt.date(2021, 1, 1),
                                   valid_to=dt.date(2025, 12, 31))
    education = committee["so-gddt"]
    member_unit_membership_set(actor=officer, member_unit=education, valid_from=dt.date(2021, 1, 1),
                               valid_to=dt.date(2026, 6, 30))
    entry = AuditEntry.objects.get(action="accounts.member_unit.period")
    assert entry.changes["valid_to"] == [None, "2026-06-30"]


def test_overlapping_periods_are_refused_by_the_model_and_in_the_admin(committee, admin_user):
    clash = StandingAgencyPeriod(member_unit=committee["so-gddt"], valid_from=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError):
        clash.full_clean()
    client = login(admin_user)
    health = committee["so-yte"]
    page = client.get(f"/admin/accounts/memberunit/{health.pk}/change/")
    assert page.status_code == 200
    assert any(d in page.content.decode() for d in ("01/03/2025", "2025-03-01"))
    audited = AuditEntry.objects.count()
    response = client.post("/admin/accounts/standingagencyperiod/add/", {
        "member_unit": committee["so-gddt"].pk, "valid_from": "2026-01-01", "legal_basis": "x"})
    assert response.status_code == 200  # re-rendered with the error
    assert StandingAgencyPeriod.objects.count() == 2 and AuditEntry.objects.count() == audited


@pytest.mark.django_db(transaction=True)
def test_migration_backfills_members_from_2021_and_the_flagged_unit_as_standing_agency():
    executor = MigrationExecutor(connection)
    before, after = [("accounts", "0002_api_token_second_factor_expiry")], [("accounts", "0003_member_unit_periods")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    Old = old_apps.get_model("accounts", "MemberUnit")
    Old.objects.create(code="so-ldtbxh", name="Sở Lao động - Thương binh và Xã hội", is_standing_agency=True)
    Old.objects.create(code="so-yte", name="Sở Y tế")
    Old.objects.create(code="tinh-doan", name="Tỉnh Đoàn", active=False)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new_apps = executor.loader.project_state(after).apps
    New = new_apps.get_model("accounts", "MemberUnit")
    Period = new_apps.get_model("accounts", "StandingAgencyPeriod")
    assert set(New.objects.values_list("valid_from", flat=True)) == {dt.date(2021, 1, 1)}
    assert set(New.objects.values_list("valid_to", flat=True)) == {None}
    period = Period.objects.get()
    assert (period.member_unit.code, period.valid_from, period.valid_to) == ("so-ldtbxh", dt.date(2021, 1, 1), None)
    assert "0003" in period.legal_basis
    # Back and forth again: the flag comes back from the period.
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    Old = executor.loader.project_state(before).apps.get_model("accounts", "MemberUnit")
    assert list(Old.objects.filter(is_standing_agency=True).values_list("code", flat=True)) == ["so-ldtbxh"]
    executor = MigrationExecutor(connection)
    executor.migrate(after)
