"""Issue 21 item 1: importing one list wiped out the province's poverty figures of the year, because
the households an import classified became "this year's review". A commune's list counts only once
the commune's review of that year is decided (registry.models.PovertyReview)."""

import datetime as dt

from vitreem.registry import services
from vitreem.registry.tests.screens_fixtures import register
from vitreem.stats.engine import compute, params_for

from .conftest import years_ago
from .files import commune_list, xlsx

CODES = ["poor_household_children", "near_poor_household_children"]
HEADS = ["Blưm", "Hơn", "Khoa"]


def _figures(user, unit) -> tuple[int, int]:
    year = dt.date.today().year
    values = compute(params_for(year=year, unit=unit, user=user), CODES)
    return values[CODES[0]], values[CODES[1]]


def test_an_import_classifying_a_few_households_leaves_the_figures_in_force(worker_a, officer, units, run_import):
    year = dt.date.today().year
    commune, other = units.commune_a_2025, units.commune_b_2025
    # Last year's lists of both communes, decided in January of last year (the 2025 units existed then
    # from 2026 on; before, the legacy communes decided).
    decided = dt.date(year - 1, 1, 20)
    for legacy, current in ((units.commune_a, commune), (units.commune_b, other)):
        decider = legacy if decided < dt.date(2025, 7, 1) else current
        services.poverty_review_record(actor=officer, unit=decider, year=year - 1, decided_on=decided)
        for n, status in enumerate(("poor", "poor", "near_poor")):
            household = services.household_create(actor=officer, unit=current, head_name=f"Y {HEADS[n]}")
            services.household_poverty_set(actor=officer, household=household, year=year - 1, status=status)
            register(officer, f"H {HEADS[n]} {current.name.split()[-1]}", years_ago(6 + n), "F", current,
                     household=household)
    before = (_figures(officer, commune), _figures(officer, other), _figures(officer, units.province_2025))
    assert before == ((2, 1), (2, 1), (4, 2))

    rows = [["Nguyễn Văn An", years_ago(5).strftime("%d/%m/%Y"), "Nam", "Kinh", "", "Thôn 1", "Xã Đăk Hà",
             "Nguyễn Văn Bình", "Hộ nghèo", "", "Đang đi học", ""],
            ["Y Hoa", years_ago(8), "Nữ", "Xơ Đăng", "", "Thôn 2", "Đăk Hà", "A Blong", "CN", "", "Tiểu học", ""]]
    _batch, result = run_import(worker_a, "ds.xlsx", xlsx(commune_list(rows)))
    assert result["written"] and result["created"] == 2
    # The import classified two households for this year; no list of this year is decided: nothing moves.
    after = (_figures(officer, commune), _figures(officer, other), _figures(officer, units.province_2025))
    assert after == before

    # The commune's list of this year is decided: from then its classifications of this year count
    # (the two imported households only, as the commune has classified no other for this year), and
    # the other commune keeps last year's.
    services.poverty_review_record(actor=worker_a, unit=commune, year=year, decided_on=dt.date.today())
    assert _figures(officer, commune) == (1, 1)
    assert _figures(officer, other) == (2, 1)
    assert _figures(officer, units.province_2025) == (3, 2)
