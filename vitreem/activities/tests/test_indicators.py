"""Counting rules and budget sums through the one statistics engine, and the CLI that prints them."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from vitreem.activities import services
from vitreem.activities.selectors import activity_figures, report_section
from vitreem.stats.engine import compute, indicators, params_for

from .helpers import campaign, recreation, talk, training

pytestmark = pytest.mark.django_db


def figures(year=2022, unit=None, user=None):
    return activity_figures(year=year, unit=unit, user=user)


def test_indicators_are_registered_in_the_engine():
    registry = indicators()
    for code in ("communication_events", "people_reached", "training_courses", "trainees", "campaigns",
                 "recreation_events", "children_in_recreation", "play_points", "budget_allocated", "budget_spent",
                 "budget_by_source"):
        assert code in registry


def test_people_reached_sums_done_communication_in_the_period(units, officer, worker_a):
    talk(worker_a, units.commune_a, total=120, children=100, male=60)
    talk(worker_a, units.commune_a, total=80, children=30, male=40, day=dt.date(2022, 12, 31))
    talk(worker_a, units.commune_a, total=500, children=0, male=0, status="planned")
    talk(worker_a, units.commune_a, total=500, children=0, male=0, status="cancelled")
    talk(worker_a, units.commune_a, total=999, children=0, male=0, day=dt.date(2023, 1, 1))
    talk(officer, units.commune_b, total=10, children=10, male=5)
    f = figures(unit=units.province_legacy)
    assert f["communication_events"] == 3
    assert f["people_reached"] == 210
    assert f["people_reached_by_group"] == {"children": 140, "adults": 70, "male": 105, "female": 105}
    assert figures(unit=units.commune_a)["people_reached"] == 200
    assert figures(unit=units.commune_b)["people_reached"] == 10


def test_district_and_province_level_activities_count_for_their_units_only(units, officer):
    talk(officer, units.province_legacy, total=1000, children=0, male=0)
    talk(officer, units.district, total=100, children=0, male=0)
    talk(officer, units.commune_a, total=10, children=0, male=0)
    assert figures(unit=units.province_legacy)["people_reached"] == 1110
    assert figures(unit=units.district)["people_reached"] == 110
    assert figures(unit=units.commune_a)["people_reached"] == 10
    # The 2025 province (Quảng Ngãi) took over Kon Tum: 2022 figures roll up into it.
    assert figures(unit=units.province_2025)["people_reached"] == 1110


def test_the_units_an_activity_counts_for_follow_the_unit_tree_as_it_is_now(units, officer):
    """A district's activity counts for a commune only while the commune is all of the district. The
    tree's shape is kept per process and read again once the tree's stamp moves: a second commune added
    under the district takes the district's activity away from the first at once; a unit computed
    again before any change does not read the tree again. (The engine itself: the stored figures of a
    tree changed in the admin are all marked stale by its audit row.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vitreem.places.models import AdminUnit, Level, Version

    def unit(code: str, level: str, parent: AdminUnit, name: str) -> AdminUnit:
        return AdminUnit.objects.create(version=Version.LEGACY, code=code, level=level, name=name, short_name=name,
                                        parent=parent, province_code=parent.province_code, search_key=name.lower())

    def reached(where: AdminUnit) -> int:
        return compute(params_for(year=2022, unit=where), ["people_reached"])["people_reached"]

    district = unit("998", Level.DISTRICT, units.province_legacy, "Huyen Thu")
    first = unit("99801", Level.COMMUNE, district, "Xa Mot")
    talk(officer, district, total=40, children=0, male=0)
    talk(officer, first, total=2, children=0, male=0)
    assert reached(first) == 42
    with CaptureQueriesContext(connection) as again:
        assert reached(first) == 42
    assert not [q for q in again.captured_queries if "\"places_adminunit\".\"level\" = 'commune'" in q["sql"]]
    unit("99802", Level.COMMUNE, district, "Xa Hai")
    assert reached(first) == 2
    assert reached(district) == 42


def test_trainees_count_once_per_course(units, worker_a):
    course = training(worker_a, units.commune_a)
    for name, sex, unit in [("Nguyễn Thị Hoa", "Nữ", "Thôn 1"), ("nguyen thi hoa", "nu", "thôn 1"),
                            ("Nguyễn Thị Hoa", "Nữ", "Thôn 2"), ("A Thuận", "Nam", "Thôn 1")]:
        services.participant_add(actor=worker_a, activity=course, data={"full_name": name, "sex": sex,
                                                                         "unit_name": unit})
    second = training(worker_a, units.commune_a, day=dt.date(2022, 9, 1))
    services.participant_add(actor=worker_a, activity=second, data={"full_name": "A Thuận", "sex": "Nam",
                                                                     "unit_name": "Thôn 1"})
    planned = training(worker_a, units.commune_a, day=dt.date(2022, 10, 1), status="planned")
    services.participant_add(actor=worker_a, activity=planned, data={"full_name": "B", "sex": "Nam"})
    f = figures(unit=units.commune_a)
    assert f["training_courses"] == 2
    # Hoa of Thôn 1 is listed twice in the first course (once); Hoa of Thôn 2 is another person; A Thuận
    # attended two courses (twice).
    assert f["trainees"] == 4


def test_recreation_and_campaign_counts(units, worker_a):
    recreation(worker_a, units.commune_a, total=200)
    recreation(worker_a, units.commune_a, total=160, day=dt.date(2022, 9, 10))
    campaign(worker_a, units.commune_a)
    f = figures(unit=units.commune_a)
    assert f["recreation_events"] == 2 and f["children_in_recreation"] == 360
    assert f["special_children_in_recreation"] == 20 and f["campaigns"] == 1


def test_play_points_open_on_a_date(units, officer):
    def point(unit, opened, closed=None):
        return services.play_point_create(actor=officer, unit=unit, name="Điểm", opened_on=opened, closed_on=closed)

    point(units.commune_a, dt.date(2021, 3, 1))
    point(units.commune_a, dt.date(2022, 6, 1))
    point(units.commune_b, dt.date(2020, 1, 1), closed=dt.date(2022, 12, 31))  # closed on the day: not open
    point(units.commune_b, dt.date(2023, 1, 1))  # not yet open
    pp = figures(unit=units.district)["play_points"]
    assert pp["points"] == 2 and pp["communes"] == 1
    assert pp["communes_total"] > 1 and pp["communes_share"] == round(1 / pp["communes_total"], 4)
    params = params_for(unit=units.district, as_of=dt.date(2022, 12, 30))
    assert compute(params, ["play_points"])["play_points"]["points"] == 3
    # After the reform the legacy points count for their successor communes (once per commune).
    pp25 = figures(year=2025, unit=units.province_2025)["play_points"]
    assert pp25["points"] == 3 and pp25["communes"] == 2


def test_budget_sums_by_source_and_unit(units, officer, worker_a):
    def line(unit, source, purpose, amount, year=2022):
        return services.allocation_create(actor=officer, year=year, unit=unit, source=source, purpose=purpose,
                                          amount=amount)

    prov = line(units.province_legacy, "provincial", "training", 300_000_000)
    line(units.province_legacy, "international", "communication", 150_000_000)
    dist = line(units.district, "district", "recreation", 80_000_000)
    comm = line(units.commune_a, "commune", "communication", 12_000_000)
    line(units.commune_b, "mobilisation", "recreation", 5_000_000)
    line(units.commune_a, "commune", "communication", 99_000_000, year=2023)
    services.spending_record(actor=officer, allocation=prov, amount=120_000_000, spent_on=dt.date(2022, 4, 1))
    services.spending_record(actor=officer, allocation=dist, amount=80_500_000, spent_on=dt.date(2022, 6, 1))
    talk(worker_a, units.commune_a, cost=3_000_000, budget_line=comm)
    f = figures(unit=units.province_legacy)
    assert f["budget_allocated"] == 547_000_000
    assert f["budget_spent"] == 203_500_000
    assert f["budget_by_source"] == {"provincial": 300_000_000, "district": 80_000_000, "commune": 12_000_000,
                                     "mobilisation": 5_000_000, "international": 150_000_000}
    assert f["budget_spent_by_source"]["district"] == 80_500_000
    assert f["budget_by_purpose"]["communication"] == 162_000_000
    d = figures(unit=units.district)
    assert d["budget_allocated"] == 97_000_000 and d["budget_spent"] == 83_500_000
    c = figures(unit=units.commune_a)
    assert c["budget_allocated"] == 12_000_000 and c["budget_spent"] == 3_000_000
    assert all(isinstance(v, int) for v in f["budget_by_source"].values())


def test_scope_limits_the_figures(units, officer, worker_a, worker_b, outsider, reporter):
    talk(officer, units.commune_a, total=100, children=0, male=0)
    talk(officer, units.commune_b, total=10, children=0, male=0)
    assert figures(user=worker_a)["people_reached"] == 100
    assert figures(user=worker_b)["people_reached"] == 10
    assert figures(user=outsider)["people_reached"] == 0
    assert figures(user=officer)["people_reached"] == 110
    assert figures(user=reporter)["people_reached"] == 110
    assert figures(unit=units.commune_b, user=worker_a)["people_reached"] == 0


def test_cli_prints_one_json_object(units, officer, worker_a):
    talk(worker_a, units.commune_a, total=120)
    training(worker_a, units.commune_a)
    services.allocation_create(actor=officer, year=2022, unit=units.province_legacy, source="provincial",
                               purpose="training", amount=1_000_000)
    out = StringIO()
    call_command("activities", "--year", "2022", "--json", stdout=out)
    data = json.loads(out.getvalue())
    for key in ("communication_events", "people_reached", "training_courses", "trainees", "campaigns",
                "recreation_events", "children_in_recreation", "play_points", "budget_allocated", "budget_spent",
                "budget_by_source"):
        assert key in data
    assert data["people_reached"] == 120 and data["training_courses"] == 1
    assert isinstance(data["play_points"], int) and set(data["play_points_detail"]) >= {"points", "communes"}
    assert data["budget_allocated"] == 1_000_000 and data["budget_by_source"]["provincial"] == 1_000_000
    out = StringIO()
    call_command("activities", "--year", "2022", "--unit", "23512", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["unit"] == "legacy:23512" and data["people_reached"] == 0
    out = StringIO()
    call_command("activities", "--year", "2022", stdout=out)
    assert "Số lượt người được truyền thông: 120" in out.getvalue()


def test_report_section_has_paragraphs_from_the_same_figures(units, officer, worker_a):
    talk(worker_a, units.commune_a, total=1234, children=1000, male=600)
    unicef = services.partner_create(actor=officer, name="UNICEF", kind="un")
    services.project_create(actor=officer, partner=unicef, name="Điểm tư vấn", unit=units.province_legacy,
                            start_date=dt.date(2021, 1, 1), model_type="counselling_point", funding=10)
    services.allocation_create(actor=officer, year=2022, unit=units.province_legacy, source="international",
                               purpose="communication", amount=2_500_000)
    section = report_section(year=2022, unit=units.province_legacy)
    assert section["figures"]["people_reached"] == 1234
    for area in ("communication", "training", "campaigns", "recreation", "partners", "budget"):
        assert section["paragraphs"][area]
    assert "1.234 lượt người" in section["paragraphs"]["communication"]
    assert "UNICEF" in section["paragraphs"]["partners"]
    assert "2.500.000 đồng" in section["paragraphs"]["budget"]
    assert section["tables"]["budget_by_unit"][0]["allocated"] == 2_500_000


def test_one_computation_reads_the_activities_and_budget_once(units, officer, worker_a):
    """The eight figures of the activities carried out share one grouped query, the five of the budget
    two, in one computation of a unit's figures (engine.with_unit_memo); a record added after it counts
    in the next one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    talk(worker_a, units.commune_a, total=120, children=100, male=60)
    recreation(worker_a, units.commune_a, total=200)
    line = services.allocation_create(actor=officer, year=2022, unit=units.commune_a, source="commune",
                                      purpose="communication", amount=12_000_000)
    codes = ["communication_events", "people_reached", "people_reached_by_group", "training_courses", "campaigns",
             "recreation_events", "children_in_recreation", "special_children_in_recreation", "budget_allocated",
             "budget_spent", "budget_by_source", "budget_spent_by_source", "budget_by_purpose"]
    params = params_for(year=2022, unit=units.commune_a)
    with CaptureQueriesContext(connection) as queries:
        values = compute(params, codes)
    assert values["people_reached"] == 120 and values["children_in_recreation"] == 200
    assert values["people_reached_by_group"] == {"children": 100, "adults": 20, "male": 60, "female": 60}
    assert values["budget_allocated"] == 12_000_000 and values["budget_by_purpose"]["communication"] == 12_000_000
    assert values["training_courses"] == 0 and values["budget_spent"] == 0
    read = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "activities_activity"' in sql for sql in read) == 1
    spendings = [sql for sql in read if 'FROM "activities_spending"' in sql]
    assert len(spendings) == 1  # its lines as a subquery
    assert sum('FROM "activities_budgetallocation"' in sql for sql in read if sql not in spendings) == 1

    talk(worker_a, units.commune_a, total=30, children=10, male=15)
    services.spending_record(actor=officer, allocation=line, amount=2_000_000, spent_on=dt.date(2022, 4, 1))
    values = compute(params, codes)
    assert values["communication_events"] == 2 and values["people_reached"] == 150
    assert values["budget_spent"] == 2_000_000 and values["budget_spent_by_source"]["commune"] == 2_000_000
