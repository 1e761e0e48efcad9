"""A change in an app of rollups.APP_STAMPED makes stale only the figures that read that app's records
(engine.Indicator.reads); a change anywhere else, every figure of its units. And no figure reads an app
it does not declare."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from vitreem.stats.engine import compute, indicators, params_for
from vitreem.stats.models import Rollup
from vitreem.stats.rollups import APP_STAMPED, _Stamps, figures, reads_of, stamp_units

pytestmark = pytest.mark.django_db

CHILDREN = ["children", "special_circumstances", "by_group"]
CASES = ["cases_received", "cases_open"]


def _stored_at(unit, day, code):
    return Rollup.objects.get(unit=unit, as_of=day, code=code).computed_at


def test_every_figure_that_declares_its_reads_reads_no_other_stamped_app(demo):
    """Run each such indicator for the province and a commune, on a past and a present date, and look
    at the tables of its queries: a table of an app of APP_STAMPED that it does not declare would leave
    its stored values stale after a change there."""
    registry = indicators()
    declared = {code: reads for code, reads in reads_of(registry).items() if reads is not None}
    assert {"children", "cases_received", "training_courses", "allowance_recipients", "population"} <= declared.keys()
    for unit in (demo.province_2025, demo.commune_a_2025):
        for year in (2022, timezone.localdate().year):
            for code, reads in declared.items():
                with CaptureQueriesContext(connection) as queries:
                    compute(params_for(year=year, unit=unit), [code])
                tables = {t for q in queries.captured_queries for t in re.findall(r'(?:FROM|JOIN) "(\w+)"', q["sql"])}
                apps = {t.split("_")[0] for t in tables} & set(APP_STAMPED)
                assert apps <= reads, f"{code} reads {sorted(apps - reads)} (tables {sorted(tables)})"


def test_reads_of_a_derived_figure_are_its_parts():
    reads = reads_of(["children", "special_circumstances_share", "allowance_assisted_share",
                      "special_circumstances_assisted", "cases_open", "play_point_communes_share"])
    assert reads["children"] == {"registry"}
    assert reads["special_circumstances_share"] == {"registry"}
    assert reads["allowance_assisted_share"] == {"benefits", "registry"}
    assert reads["special_circumstances_assisted"] == {"activities", "benefits", "cases", "registry"}
    assert reads["cases_open"] == {"cases"}
    assert reads["play_point_communes_share"] == {"activities"}
    assert reads_of(["no_such_code"]) == {"no_such_code": None}  # unknown: any change


def test_an_app_s_stamp_concerns_the_figures_that_read_it_and_a_generic_one_all(demo):
    commune = demo.commune_a_2025
    day = timezone.localdate()
    before = _Stamps([commune.pk], day).latest(commune.pk)
    stamp_units([commune.pk], app="cases")
    stamps = _Stamps([commune.pk], day)
    cases_at = stamps.latest(commune.pk, frozenset({"cases"}))
    assert cases_at is not None and (before is None or cases_at > before)
    assert stamps.latest(commune.pk, None) == cases_at  # a figure that may read anything
    assert stamps.latest(commune.pk, frozenset({"activities"})) == before  # not the activities'
    assert stamps.latest(commune.pk, frozenset({"registry"})) == before  # nor the register's
    stamp_units([commune.pk])  # any other app (an import, privacy, places…): every figure
    stamps = _Stamps([commune.pk], day)
    everything = stamps.latest(commune.pk, frozenset({"registry"}))
    assert everything is not None and everything >= cases_at
    assert stamps.latest(commune.pk, frozenset({"activities"})) == everything


def test_a_case_taken_in_recomputes_the_cases_figures_of_its_days_and_keeps_the_children_s(
        demo, django_capture_on_commit_callbacks):
    from vitreem.cases.services import case_intake
    from vitreem.registry.models import Child
    from vitreem.registry.rules import q_child_on

    worker = demo.users["commune"]
    today = timezone.localdate()
    past, now = params_for(year=2022).as_of, params_for(year=today.year).as_of
    units = [demo.commune_a_2025, demo.province_2025, demo.province]
    before = figures(units=units, days=[past, now], codes=CHILDREN + CASES)
    kept = {(u.pk, d, c): _stored_at(u, d, c) for u in units for d in (past, now) for c in CHILDREN + CASES}
    child = Child.objects.filter(q_child_on(today), unit=demo.commune_a_2025).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        case_intake(actor=worker, child=child, received_at=timezone.now() - dt.timedelta(hours=1),
                    channel="hotline_111", place="Thôn 3", concern="neglect", summary="Trẻ ở nhà một mình",
                    reporter_name="Bà Lan", reporter_phone="0900000000")
    after = figures(units=units, days=[past, now], codes=CHILDREN + CASES)
    for unit in units:
        # today's case figures: recomputed, the engine's, one more case received
        assert {c: after[(unit.pk, now)][c] for c in CASES} == compute(params_for(year=today.year, unit=unit), CASES)
        assert after[(unit.pk, now)]["cases_received"] == before[(unit.pk, now)]["cases_received"] + 1
        assert all(_stored_at(unit, now, c) > kept[(unit.pk, now, c)] for c in CASES)
        # the children's figures of every day, and the cases' of a year before the case: kept as stored
        assert all(_stored_at(unit, d, c) == kept[(unit.pk, d, c)] for d in (past, now) for c in CHILDREN)
        assert all(_stored_at(unit, past, c) == kept[(unit.pk, past, c)] for c in CASES)
        assert after[(unit.pk, past)] == before[(unit.pk, past)]


def test_an_activity_recorded_keeps_the_cases_and_children_s_figures(demo, django_capture_on_commit_callbacks):
    from vitreem.activities.tests.helpers import training

    officer = demo.users["province"]
    day = params_for(year=2022).as_of
    units = [demo.commune_a, demo.province, demo.province_2025]  # 2022: the legacy commune
    codes = [*CHILDREN, *CASES, "training_courses"]
    before = figures(units=units, days=[day], codes=codes)
    kept = {(u.pk, c): _stored_at(u, day, c) for u in units for c in codes}
    with django_capture_on_commit_callbacks(execute=True):
        training(officer, demo.commune_a, day=dt.date(2022, 5, 10))
    after = figures(units=units, days=[day], codes=codes)
    for unit in units:
        assert after[(unit.pk, day)]["training_courses"] == before[(unit.pk, day)]["training_courses"] + 1
        assert after[(unit.pk, day)]["training_courses"] == compute(params_for(year=2022, unit=unit),
                                                                    ["training_courses"])["training_courses"]
        assert all(_stored_at(unit, day, c) == kept[(unit.pk, c)] for c in [*CHILDREN, *CASES])


def test_a_child_registered_keeps_the_cases_and_activities_figures(demo, django_capture_on_commit_callbacks):
    from vitreem.registry.services import child_register

    worker = demo.users["commune"]
    day = params_for(year=timezone.localdate().year).as_of
    units = [demo.commune_a_2025, demo.province_2025]
    others = [*CASES, "training_courses"]
    before = figures(units=units, days=[day], codes=["children", *others])
    kept = {(u.pk, c): _stored_at(u, day, c) for u in units for c in others}
    with django_capture_on_commit_callbacks(execute=True):
        child_register(actor=worker, data={"full_name": "Y Thử Nghiệm", "birth_date": dt.date(2019, 3, 2), "sex": "F"},
                       unit=demo.commune_a_2025, confirm_not_duplicate=True)
    after = figures(units=units, days=[day], codes=["children", *others])
    for unit in units:
        assert after[(unit.pk, day)]["children"] == before[(unit.pk, day)]["children"] + 1
        assert all(_stored_at(unit, day, c) == kept[(unit.pk, c)] for c in others)


def test_a_merge_stamps_every_figure(demo):
    """A merge moves the merged child's cases, allowances and participations: not a registry change alone."""
    from types import SimpleNamespace

    from vitreem.stats.rollups import invalidate_entries

    commune = demo.commune_a_2025
    day = timezone.localdate()
    before = _Stamps([commune.pk], day).latest(commune.pk, frozenset({"cases"}))
    invalidate_entries([SimpleNamespace(object_type="registry.child", object_id="", action="child.merge",
                                        unit_id=commune.pk, changes={})])
    after = _Stamps([commune.pk], day).latest(commune.pk, frozenset({"cases"}))
    assert after is not None and (before is None or after > before)


def test_an_import_s_batch_stamps_the_register_s_figures_only(demo):
    """An import writes the register alone (imports.columns.FIELDS): its batch's audit row makes the
    province's counts of children stale, not its cases' figures."""
    from types import SimpleNamespace

    from vitreem.stats.rollups import invalidate_entries

    province = demo.province_2025
    day = timezone.localdate()
    before = _Stamps([province.pk], day)
    invalidate_entries([SimpleNamespace(object_type="imports.importbatch", object_id="1", action="import.commit",
                                        unit_id=province.pk, changes={"rows": 500})])
    after = _Stamps([province.pk], day)
    registry = after.latest(province.pk, frozenset({"registry"}))
    assert registry is not None and registry != before.latest(province.pk, frozenset({"registry"}))
    assert after.latest(province.pk, frozenset({"cases"})) == before.latest(province.pk, frozenset({"cases"}))
