"""The annual report names the committee of its year (issue 14 item 17): the standing agency in force
on the period's last day and the units that were members during the year, read from the .docx."""

from __future__ import annotations

import pytest

from vitreem.reports.services import report_build

from .test_reports import docx_text

pytestmark = pytest.mark.django_db

DOLISA = "Sở Lao động - Thương binh và Xã hội"
HEALTH = "Sở Y tế"


def test_the_2022_report_names_dolisa_as_standing_agency_and_the_2022_members(demo):
    text = docx_text(report_build(year=2022, unit=demo.province, fmt="docx")[0])
    assert f"Cơ quan thường trực Ban Chỉ đạo tại ngày 31/12/2022: {DOLISA}." in text
    assert f"- {DOLISA} (cơ quan thường trực);" in text
    rows = [line for line in text.splitlines() if "từ 01/01/2021" in line]
    assert any(DOLISA in r and "đến 28/02/2025" in r and "Cơ quan thường trực" in r for r in rows)
    assert any(r.split(" | ")[1] == HEALTH and r.endswith("| ") for r in rows)  # a member, not standing
    assert f"{HEALTH} (cơ quan thường trực)" not in text


def test_a_2026_report_names_the_department_of_health(demo):
    text = docx_text(report_build(year=2026, unit=demo.province, fmt="docx")[0])
    # The current year's period ends today.
    line = next(x for x in text.splitlines() if x.startswith("Cơ quan thường trực Ban Chỉ đạo tại ngày"))
    assert line.endswith(f": {HEALTH}.")
    assert f"- {HEALTH} (cơ quan thường trực);" in text
    # DOLISA left the committee on 28/02/2025: not among 2026's members.
    assert DOLISA not in text
