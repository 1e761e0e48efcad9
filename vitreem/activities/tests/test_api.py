"""API: works, scoped (404/403 for another commune), clear JSON errors, nothing half-saved."""

import datetime as dt
import json

import pytest

from conftest import login
from vitreem.activities.models import Activity, BudgetAllocation, Participant, Spending

from .helpers import sheet, talk, training

pytestmark = pytest.mark.django_db

TALK = {"kind": "communication", "title": "Phát thanh phòng chống tảo hôn", "start_date": "2022-08-01",
        "unit": "legacy:23500", "topic": "child_marriage", "comm_form": "broadcast", "reached_total": 900,
        "reached_children": 300, "reached_adults": 600}


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def test_create_list_get_patch(units, worker_a, worker_b):
    c = login(worker_a)
    r = post(c, "/api/activities/activities", TALK)
    assert r.status_code == 201, r.content
    aid = r.json()["id"]
    assert r.json()["unit"] == "legacy:23500"
    assert [a["id"] for a in c.get("/api/activities/activities?year=2022").json()] == [aid]
    assert c.get(f"/api/activities/activities/{aid}").json()["reached_total"] == 900
    r = c.patch(f"/api/activities/activities/{aid}", json.dumps({"status": "cancelled", "version": 1}),
                content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["version"] == 2
    other = login(worker_b)
    assert other.get(f"/api/activities/activities/{aid}").status_code == 404
    assert other.get("/api/activities/activities?year=2022").json() == []
    r = other.patch(f"/api/activities/activities/{aid}", json.dumps({"status": "done"}),
                    content_type="application/json")
    assert r.status_code == 404


def test_bad_input_is_a_json_error_and_writes_nothing(units, worker_a):
    c = login(worker_a)
    r = post(c, "/api/activities/activities", {**TALK, "unit": "legacy:23512"})
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    r = post(c, "/api/activities/activities", {**TALK, "reached_children": 100})
    assert r.status_code == 400 and r.json()["field"] == "reached_children"
    r = post(c, "/api/activities/activities", {**TALK, "end_date": "2022-07-01"})
    assert r.status_code == 400 and "end_date" in r.json()["errors"]
    r = post(c, "/api/activities/activities", {**TALK, "cost": 1000})
    assert r.status_code == 400 and r.json()["field"] == "budget_line"
    assert not Activity.objects.exists()
    assert c.delete("/api/activities/activities").status_code == 405


def test_participants_api_and_sheet_rows(units, worker_a, worker_b):
    course = training(worker_a, units.commune_a)
    c = login(worker_a)
    r = post(c, f"/api/activities/activities/{course.pk}/participants", {"full_name": "Y Blin", "sex": "Nữ",
                                                                          "post_score": "8,5"})
    assert r.status_code == 201
    assert c.get(f"/api/activities/activities/{course.pk}/participants").json()[0]["post_score"] == 8.5
    bad = sheet([["A Thuận", "", "", "Nam", "", "", ""], ["", "", "", "Nam", "", "", ""]])
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = c.post(f"/api/activities/activities/{course.pk}/participants/upload",
               {"file": SimpleUploadedFile("a.xlsx", bad)})
    assert r.status_code == 400 and r.json()["code"] == "sheet_invalid"
    assert r.json()["rows"] == [{"row": 3, "field": "full_name", "message": "Thiếu họ và tên."}]
    assert Participant.objects.count() == 1
    r = login(worker_b).post(f"/api/activities/activities/{course.pk}/participants/upload",
                             {"file": SimpleUploadedFile("a.xlsx", bad)})
    assert r.status_code == 404


def test_play_points_and_budget_api(units, officer, worker_a, worker_b):
    c = login(worker_a)
    r = post(c, "/api/activities/play-points", {"unit": "legacy:23500", "name": "Sân chơi", "opened_on": "2021-06-01"})
    assert r.status_code == 201
    assert len(c.get("/api/activities/play-points?on=2022-12-31").json()) == 1
    assert login(worker_b).get("/api/activities/play-points").json() == []
    r = post(c, "/api/activities/budget/spendings", {"amount": 100, "spent_on": "2022-01-02", "unit": "legacy:23500",
                                                      "source": "commune", "purpose": "recreation"})
    assert r.status_code == 400 and r.json()["code"] == "no_allocation" and not Spending.objects.exists()
    r = post(c, "/api/activities/budget/allocations", {"year": 2022, "unit": "legacy:23500", "source": "commune",
                                                        "purpose": "recreation", "amount": 7_000_000})
    assert r.status_code == 201
    r = post(c, "/api/activities/budget/spendings", {"amount": 2_000_000, "spent_on": "2022-01-02",
                                                      "unit": "legacy:23500", "source": "commune",
                                                      "purpose": "recreation"})
    assert r.status_code == 201
    r = post(login(worker_b), "/api/activities/budget/allocations", {"year": 2022, "unit": "legacy:23500",
                                                                      "source": "commune", "purpose": "training",
                                                                      "amount": 1})
    assert r.status_code == 403 and BudgetAllocation.objects.count() == 1
    table = login(officer).get("/api/activities/budget?year=2022").json()
    assert table["allocated"] == 7_000_000 and table["spent"] == 2_000_000
    assert table["rows"][0]["by_source"]["commune"] == 7_000_000
    figures = login(officer).get("/api/activities/figures?year=2022").json()
    assert figures["budget_allocated"] == 7_000_000 and figures["play_points"]["points"] == 1
    assert login(worker_b).get("/api/activities/budget?year=2022").json()["allocated"] == 0


def test_figures_agree_with_cli_for_a_unit(units, worker_a):
    talk(worker_a, units.commune_a, total=77, children=70, male=7, day=dt.date(2022, 2, 2))
    body = login(worker_a).get("/api/activities/figures?year=2022&unit=legacy:23500").json()
    assert body["people_reached"] == 77 and body["unit"] == "legacy:23500"


def test_bare_unit_code_is_read_on_the_activity_date(units, worker_a):
    c = login(worker_a)
    r = post(c, "/api/activities/activities", {**TALK, "unit": "23500"})
    assert r.status_code == 201 and r.json()["unit"] == "legacy:23500"
    r = post(c, "/api/activities/activities", {**TALK, "unit": "23500", "start_date": "2025-08-01"})
    assert r.status_code == 201 and r.json()["unit"] == "2025:23500"
