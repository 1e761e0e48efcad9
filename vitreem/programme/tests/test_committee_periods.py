"""The programme pages name the standing agency of the year shown and evaluate that year's members
(issue 14 item 17)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import login
from vitreem.programme.forms import TaskForm
from vitreem.programme.selectors import member_unit_evaluations

pytestmark = pytest.mark.django_db


def test_member_units_page_names_the_standing_agency_of_the_year(member_units, officer):
    client = login(officer)
    page_2022 = client.get("/programme/member-units/?year=2022").content.decode()
    assert "Cơ quan thường trực tại ngày 31/12/2022: Sở Lao động - Thương binh và Xã hội." in page_2022
    page_2026 = client.get("/programme/member-units/?year=2026").content.decode()
    assert ": Sở Y tế." in page_2026


def test_a_year_evaluates_and_plans_with_that_year_s_members(member_units):
    dolisa = member_units["so-ldtbxh"]
    names = {m["member_unit"].code for m in member_unit_evaluations(year=2022, target_rows=[])}
    assert "so-ldtbxh" in names
    names = {m["member_unit"].code for m in member_unit_evaluations(year=2026, target_rows=[])}
    assert "so-ldtbxh" not in names and "so-yte" in names
    assert dolisa in TaskForm(year=2024).fields["lead_unit"].queryset  # type: ignore[attr-defined]
    assert dolisa not in TaskForm(year=2026).fields["lead_unit"].queryset  # type: ignore[attr-defined]
    assert dt.date(2025, 2, 28) == dolisa.valid_to
