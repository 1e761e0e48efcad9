"""Writes: the rules, the scope, the audit, and nothing half-saved on bad input."""

import datetime as dt

import pytest

from vitreem.activities import services
from vitreem.activities.models import Activity, BudgetAllocation, Participant, PlayPoint, Spending
from vitreem.activities.sheets import SheetInvalid
from vitreem.core.errors import DomainError, PermissionDenied, ValidationFailed
from vitreem.core.models import AuditEntry

from .helpers import recreation, sheet, talk, training

pytestmark = pytest.mark.django_db


def test_commune_worker_records_a_school_talk_with_audit(units, worker_a):
    activity = talk(worker_a, units.commune_a)
    assert activity.kind == "communication" and activity.status == "done"
    assert activity.end_date == activity.start_date
    entry = AuditEntry.objects.get(action="activity.create", object_id=str(activity.pk))
    assert entry.actor == worker_a and entry.unit_id == units.commune_a.pk


def test_activity_outside_the_users_units_is_refused(units, worker_a):
    with pytest.raises(PermissionDenied):
        talk(worker_a, units.commune_b)
    with pytest.raises(PermissionDenied):
        talk(worker_a, units.district)
    assert not Activity.objects.exists()
    assert not AuditEntry.objects.filter(action="activity.create").exists()


def test_read_only_roles_cannot_record(units, leader, reporter):
    for user in (leader, reporter):
        with pytest.raises(PermissionDenied):
            talk(user, units.commune_a)
    assert not Activity.objects.exists()


def test_province_officer_records_anywhere_in_the_province(units, officer):
    talk(officer, units.commune_b)
    talk(officer, units.district)
    talk(officer, units.province_legacy)
    assert Activity.objects.count() == 3


@pytest.mark.parametrize("extra, field", [
    ({"reached_male": 50}, "reached_male"),  # 50 + 60 != 120
    ({"reached_children": 130}, "reached_children"),  # 130 + 20 != 120
    ({"end_date": dt.date(2022, 3, 1)}, "end_date"),
    ({"comm_form": ""}, "comm_form"),
    ({"topic": "weather"}, "topic"),
    ({"reached_total": -5}, "reached_total"),
    ({"start_date": "31/02/2022"}, "start_date"),
])
def test_bad_communication_input_names_the_field_and_writes_nothing(units, worker_a, extra, field):
    with pytest.raises(ValidationFailed) as err:
        talk(worker_a, units.commune_a, **extra)
    assert field in err.value.errors
    assert not Activity.objects.exists()


def test_recreation_counts_must_add_up_by_sex_and_age_band(units, worker_a):
    with pytest.raises(ValidationFailed) as err:
        recreation(worker_a, units.commune_a, children_male=90)  # 90 + 100 != 200
    assert "children_male" in err.value.errors
    with pytest.raises(ValidationFailed) as err:
        recreation(worker_a, units.commune_a, age_11_15=10)  # 50 + 100 + 10 != 200
    assert "age_0_5" in err.value.errors
    with pytest.raises(ValidationFailed) as err:
        recreation(worker_a, units.commune_a, special_children=500)
    assert "special_children" in err.value.errors
    assert not Activity.objects.exists()


def test_unit_must_be_in_force_on_the_date(units, worker_a):
    with pytest.raises(ValidationFailed) as err:
        talk(worker_a, units.commune_a_2025, day=dt.date(2022, 3, 1))
    assert "unit" in err.value.errors
    assert talk(worker_a, units.commune_a_2025, day=dt.date(2025, 9, 1)).unit == units.commune_a_2025


def test_spending_without_an_allocation_line_is_refused(units, worker_a):
    with pytest.raises(ValidationFailed) as err:
        talk(worker_a, units.commune_a, cost=2_000_000)
    assert "budget_line" in err.value.errors
    with pytest.raises(DomainError) as err2:
        services.spending_record(actor=worker_a, amount=500_000, spent_on=dt.date(2022, 4, 1),
                                 unit=units.commune_a, source="commune", purpose="communication")
    assert err2.value.code == "no_allocation"
    assert not Activity.objects.exists() and not Spending.objects.exists()


def test_activity_cost_spends_from_its_line_only_when_done(units, worker_a):
    line = services.allocation_create(actor=worker_a, year=2022, unit=units.commune_a, source="commune",
                                      purpose="communication", amount=10_000_000)
    planned = talk(worker_a, units.commune_a, cost=2_000_000, budget_line=line, status="planned")
    assert not Spending.objects.exists()
    services.activity_set_status(actor=worker_a, activity=planned, status="done")
    spending = Spending.objects.get()
    assert spending.amount == 2_000_000 and spending.allocation == line and spending.activity == planned
    services.activity_set_status(actor=worker_a, activity=planned, status="cancelled")
    assert not Spending.objects.exists()
    other_year = services.allocation_create(actor=worker_a, year=2023, unit=units.commune_a, source="commune",
                                            purpose="communication", amount=1)
    with pytest.raises(ValidationFailed):
        talk(worker_a, units.commune_a, cost=5, budget_line=other_year)


def test_budget_line_of_another_commune_cannot_be_used(units, worker_a, worker_b):
    line_b = services.allocation_create(actor=worker_b, year=2022, unit=units.commune_b, source="commune",
                                        purpose="communication", amount=1_000_000)
    with pytest.raises(ValidationFailed):
        talk(worker_a, units.commune_a, cost=100, budget_line=line_b)
    with pytest.raises(PermissionDenied):
        services.spending_record(actor=worker_a, allocation=line_b, amount=100, spent_on=dt.date(2022, 2, 1))
    with pytest.raises(PermissionDenied):
        services.allocation_create(actor=worker_a, year=2022, unit=units.commune_b, source="commune",
                                   purpose="training", amount=1)
    assert BudgetAllocation.objects.count() == 1


def test_participants_sheet_all_or_nothing(units, worker_a):
    course = training(worker_a, units.commune_a)
    bad = sheet([["Nguyễn Thị Hoa", "UBND xã", "CTV", "Nữ", "Kinh", "6,5", "8,5"],
                 ["", "UBND xã", "CTV", "Nam", "Kinh", "", ""],
                 ["Y Blin", "Thôn 3", "CTV", "không rõ", "Xơ Đăng", "", ""],
                 ["A Thuận", "Thôn 4", "CTV", "Nam", "Ba Na", "120", ""]])
    with pytest.raises(SheetInvalid) as err:
        services.participants_import(actor=worker_a, activity=course, content=bad)
    rows = {(e.row, e.field) for e in err.value.rows}
    assert rows == {(3, "full_name"), (4, "sex"), (5, "pre_score")}
    assert "Dòng 3" in err.value.message
    assert not Participant.objects.exists()

    good = sheet([["Nguyễn Thị Hoa", "UBND xã", "CTV", "Nữ", "Kinh", "6,5", "8,5"],
                  ["A Thuận", "Thôn 4", "CTV", "nam", "Ba Na", 7, 9]])
    assert services.participants_import(actor=worker_a, activity=course, content=good) == 2
    hoa = Participant.objects.get(full_name="Nguyễn Thị Hoa")
    assert hoa.sex == "F" and str(hoa.pre_score) == "6.50" and hoa.person_key.startswith("nguyen thi hoa|F|")


def test_unreadable_file_is_a_clear_error(units, worker_a):
    course = training(worker_a, units.commune_a)
    with pytest.raises(SheetInvalid) as err:
        services.participants_import(actor=worker_a, activity=course, content=b"not a spreadsheet")
    assert err.value.rows[0].field == "file"
    with pytest.raises(SheetInvalid):
        services.participants_import(actor=worker_a, activity=course, content=sheet([["x"]], headings=["Cột A"]))


def test_participants_only_for_trainings_and_in_scope(units, worker_a, worker_b):
    the_talk = talk(worker_a, units.commune_a)
    with pytest.raises(DomainError):
        services.participant_add(actor=worker_a, activity=the_talk, data={"full_name": "A", "sex": "M"})
    course = training(worker_a, units.commune_a)
    with pytest.raises(PermissionDenied):
        services.participant_add(actor=worker_b, activity=course, data={"full_name": "A Thuận", "sex": "M"})
    assert not Participant.objects.exists()


def test_play_point_rules(units, worker_a):
    with pytest.raises(ValidationFailed):
        services.play_point_create(actor=worker_a, unit=units.commune_a, name="Sân chơi thôn 1",
                                   opened_on=dt.date(2022, 5, 1), closed_on=dt.date(2022, 1, 1))
    with pytest.raises(PermissionDenied):
        services.play_point_create(actor=worker_a, unit=units.commune_b, name="Sân chơi",
                                   opened_on=dt.date(2022, 5, 1))
    with pytest.raises(ValidationFailed):
        services.play_point_create(actor=worker_a, unit=units.district, name="Sân chơi",
                                   opened_on=dt.date(2022, 5, 1))
    point = services.play_point_create(actor=worker_a, unit=units.commune_a, name="Sân chơi thôn 1",
                                       opened_on=dt.date(2022, 5, 1))
    assert PlayPoint.objects.get() == point


def test_partners_are_managed_by_the_province(units, officer, worker_a):
    with pytest.raises(PermissionDenied):
        services.partner_create(actor=worker_a, name="UNICEF")
    unicef = services.partner_create(actor=officer, name="UNICEF", kind="un")
    with pytest.raises(ValidationFailed):
        services.partner_create(actor=officer, name="unicef")
    project = services.project_create(actor=officer, partner=unicef, name="Mô hình bảo vệ trẻ em dựa vào cộng đồng",
                                      unit=units.province_legacy, start_date=dt.date(2021, 1, 1),
                                      end_date=dt.date(2023, 12, 31), model_type="community_protection",
                                      funding=1_500_000_000, communes=[units.commune_a, units.commune_b])
    assert set(project.communes.all()) == {units.commune_a, units.commune_b}
    with pytest.raises(ValidationFailed):
        services.project_create(actor=officer, partner=unicef, name="X", unit=units.province_legacy,
                                start_date=dt.date(2022, 1, 1), end_date=dt.date(2021, 1, 1))
