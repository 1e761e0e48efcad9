"""Decision 23/QĐ-TTg of 7 January 2021 (National Action Programme for Children 2021–2030), target by
target, with the decision's numbers. Each test is named after its row of the legal-basis page
(docs/en/legal-basis.md, "Programme (Decision 23/QĐ-TTg)")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from vitreem.cases.rules import ABUSE_CONCERNS
from vitreem.cases.tests.conftest import intake
from vitreem.programme.catalogue import INDICATORS, catalogue_update
from vitreem.programme.models import Indicator, Target
from vitreem.programme.selectors import evaluation_for_year, projection_for
from vitreem.registry.services import child_register
from vitreem.stats.engine import compute, params_for

from .test_services import _submit


def _spec(code: str) -> tuple:
    return next(s for s in INDICATORS if s[0] == code)


def test_objectives_are_numbered_as_the_decision_numbers_them(catalogue):
    """1 development, health and nutrition; 2 protection; 3 education, culture, play; 4 participation."""
    objective = dict(Indicator.objects.values_list("code", "objective"))
    assert {objective[c] for c in ("xa-phu-hop-tre-em", "tiem-chung-day-du", "suy-dinh-duong-thap-coi")} == {1}
    assert {objective[c] for c in ("tre-em-hcdb", "tre-em-hcdb-duoc-tro-giup", "tre-em-bi-xam-hai", "lao-dong-tre-em",
                                   "tai-nan-thuong-tich", "tu-vong-tai-nan-thuong-tich", "dang-ky-khai-sinh",
                                   "tao-hon")} == {2}
    assert {objective[c] for c in ("hoan-thanh-tieu-hoc", "hoan-thanh-thcs", "xa-co-diem-vui-choi")} == {3}
    assert objective["tre-em-duoc-lay-y-kien"] == 4


def test_abused_children_a_share_of_all_children_below_4_5_and_4_percent(catalogue):
    ind = Indicator.objects.get(code="tre-em-bi-xam-hai")
    assert (ind.measure, ind.direction, ind.national_2025, ind.national_2030) == ("percent", "down", D("4.5"), D("4"))
    assert (ind.numerator_code, ind.denominator_code) == ("children_abused", "children")


def test_abuse_counts_every_form_of_law_on_children_art_4_5(worker_a, units, officer, catalogue):
    """Violence, exploitation, sexual abuse, trafficking, abandonment and neglect each count; an injury, a
    child marriage or an unfounded report does not; a child with two cases counts once."""
    assert set(ABUSE_CONCERNS) == {"physical_violence", "psychological_violence", "sexual_abuse", "exploitation",
                                   "trafficking", "neglect"}
    names = ["Y Hoa", "A Dũng", "Y Lan", "A Tâm", "Y Mai", "A Sơn", "Y Nhung", "A Bình", "Y Thảo"]
    kids = [child_register(actor=worker_a, data={"full_name": name, "birth_date": dt.date(2014, 1, 1 + i),
                                                 "sex": "F"}, unit=units.commune_a_2025, confirm_not_duplicate=True)
            for i, name in enumerate(names)]
    for kid, concern in zip(kids, [*ABUSE_CONCERNS, "injury", "child_marriage"], strict=False):
        intake(worker_a, kid, concern=concern)
    intake(worker_a, kids[0], concern="sexual_abuse")  # the same child again
    from vitreem.cases import services

    unfounded = intake(worker_a, kids[8], concern="neglect")
    services.case_verify(actor=worker_a, case=unfounded, expected_version=None, verified_on=timezone.localdate(),
                         findings="Không có sự việc", founded=False)
    year = timezone.localdate().year
    Target.objects.create(indicator=Indicator.objects.get(code="tre-em-bi-xam-hai"), year=year, value=D("4.5"))
    values = compute(params_for(year=year, unit=units.province_2025, user=officer),
                     ["children_abused", "children_harmed_by_violence", "children"])
    assert values["children_abused"] == 6
    assert values["children_harmed_by_violence"] == 3  # violence only: a part of it
    row = {r["code"]: r for r in evaluation_for_year(year=year, unit=units.province_2025)["targets"]}[
        "tre-em-bi-xam-hai"]
    assert row["value"] == (D(6) * 100 / values["children"]).quantize(D("0.01")) and row["measure"] == "percent"


def test_injury_targets_per_100000_children_use_vitreems_count_of_children(catalogue, reporter_health, officer):
    for code, n2025, n2030 in (("tai-nan-thuong-tich", D(550), D(500)), ("tu-vong-tai-nan-thuong-tich", D(16),
                                                                          D(15))):
        ind = Indicator.objects.get(code=code)
        assert (ind.measure, ind.source, ind.denominator_code) == ("per_100000", "reported", "children")
        assert (ind.national_2025, ind.national_2030) == (n2025, n2030)
    ind = Indicator.objects.get(code="tai-nan-thuong-tich")
    Target.objects.create(indicator=ind, year=2022, value=D(550))
    _submit(reporter_health, "yte-tai-nan-thuong-tich", "2022", catalogue["so-yte"],
            {"children_injured": "3", "injury_deaths": "1"}, accept_by=officer)
    children = compute(params_for(year=2022), ["children"])["children"]
    row = {r["code"]: r for r in evaluation_for_year(year=2022)["targets"]}["tai-nan-thuong-tich"]
    if children:
        assert row["value"] == (D(3) * 100000 / children).quantize(D("0.01"))
    else:
        assert row["value"] is None and row["status"] == "no_data"


def test_birth_registration_is_the_share_of_under_5s_registered(worker_a, units, catalogue):
    ind = Indicator.objects.get(code="dang-ky-khai-sinh")
    assert (ind.source, ind.numerator_code, ind.denominator_code) == ("computed", "under5_birth_registered",
                                                                      "under5_children")
    today = timezone.localdate()
    for i, (years, registered) in enumerate([(1, True), (3, False), (4, True), (7, True)]):
        child_register(actor=worker_a, data={"full_name": ["A Nam", "A Minh", "A Phúc", "A Khang"][i], "sex": "M",
                                             "birth_registered": registered,
                                             "birth_date": today.replace(year=today.year - years) - dt.timedelta(days=3)},
                       unit=units.commune_a_2025, confirm_not_duplicate=True)
    values = compute(params_for(year=today.year, unit=units.province_2025), ["under5_children", "under5_birth_registered"])
    assert values == {"under5_children": 3, "under5_birth_registered": 2}  # the 7-year-old is not under 5


def test_play_points_one_figure_one_source_with_the_report_beside_it(catalogue, officer, units, member_units):
    """Communes with a play point come from the play points activities records; the culture department's
    report is shown beside the value, never instead of it."""
    from vitreem.activities import services as activities

    ind = Indicator.objects.get(code="xa-co-diem-vui-choi")
    assert ind.source == "computed" and ind.check_numerator_element.code == "communes_play_points"
    Target.objects.create(indicator=ind, year=2022, value=D(33))
    activities.play_point_create(actor=officer, unit=units.commune_a, name="Sân chơi thôn 1",
                                 opened_on=dt.date(2021, 5, 1))
    from vitreem.accounts.models import Role, User

    reporter = User.objects.filter(role=Role.REPORTER, member_unit__code="so-vhttdl").first()
    if reporter is None:
        from conftest import PROVINCE
        from vitreem.testing.factories import UserFactory

        reporter = UserFactory(username="reporter_vh", role=Role.REPORTER, units=PROVINCE, member_unit=member_units["so-vhttdl"])
    _submit(reporter, "vhttdl-diem-vui-choi", "2022", member_units["so-vhttdl"],
            {"communes": "102", "communes_play_points": "33"}, accept_by=officer)
    row = {r["code"]: r for r in evaluation_for_year(year=2022)["targets"]}["xa-co-diem-vui-choi"]
    assert row["value"] == (D(100) / D(102)).quantize(D("0.01"))  # 1 commune of Kon Tum's 102
    assert row["check"]["value"] == D("32.35") and "điểm vui chơi" in row["check"]["reported_by"]
    assert row["status"] == "not_achieved"


@pytest.mark.parametrize(("points", "measure", "value", "meaningful"), [
    ([(2022, D(40)), (2023, D(80)), (2024, D(120))], "percent", D(100), False),  # 219 % on the line: capped
    ([(2022, D(96)), (2023, D(97)), (2024, D(98))], "percent", D(99), True),
    ([(2022, D(30)), (2023, D(15)), (2024, D(0))], "per_100000", D(0), False),  # below zero: floored
    ([(2022, D(900)), (2023, D(1000))], "number", D(1200), True),  # a count has no ceiling
])
def test_projections_stay_within_what_the_measure_allows(points, measure, value, meaningful):
    p = projection_for(points, 2025, D(90), measure, "up")
    assert p["value"] == value and p["meaningful"] is meaningful
    if not meaningful:
        assert p["on_track"] is None and p["note"]
    else:
        assert p["on_track"] is (value >= 90)


def test_catalogue_update_corrects_an_installed_catalogue(catalogue):
    Indicator.objects.filter(code="tre-em-bi-xam-hai").update(measure="per_100000", objective=1,
                                                              numerator_code="children_harmed_by_violence")
    Target.objects.create(indicator=Indicator.objects.get(code="tre-em-bi-xam-hai"), year=2022, value=D("5.5"))
    result = catalogue_update()
    ind = Indicator.objects.get(code="tre-em-bi-xam-hai")
    assert (ind.measure, ind.objective, ind.numerator_code) == ("percent", 2, "children_abused")
    assert result["updated"] >= 1 and ind.targets.get(year=2022).value == D("5.5")  # the province's target stays
    assert _spec("tre-em-bi-xam-hai")[4] == "percent"
