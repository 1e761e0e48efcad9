"""The rollup layer returns exactly what the engine computes, and is invalidated by audited changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vitreem.stats.engine import compute, indicators, params_for
from vitreem.stats.models import Rollup
from vitreem.stats.rollups import figures, mode_of

pytestmark = pytest.mark.django_db

CODES = ["children", "poor_household_children", "near_poor_household_children", "special_circumstances", "at_risk",
         "by_group", "allowance_recipients", "children_share", "cases_open", "cases_overdue"]


def _codes():
    registry = indicators()
    return [c for c in CODES if c in registry]


@pytest.mark.parametrize(("ref", "year"), [("legacy:62", 2022), ("2025:51", 2022), ("legacy:23500", 2025)])
def test_rollups_equal_engine(demo, ref, year):
    from vitreem.places.selectors import unit_resolve

    unit = unit_resolve(ref)
    day = params_for(year=year).as_of
    codes = _codes()
    first = figures(units=[unit], days=[day], codes=codes)[(unit.pk, day)]
    assert first == compute(params_for(year=year, unit=unit), codes)
    assert Rollup.objects.filter(unit=unit, as_of=day).exists()
    # second read comes from the stored rows and is the same
    assert figures(units=[unit], days=[day], codes=codes)[(unit.pk, day)] == first


def test_province_totals_agree_under_both_versions(demo):
    day = params_for(year=2022).as_of
    rows = figures(units=[demo.province, demo.province_2025], days=[day], codes=["children", "special_circumstances"])
    # Kon Tum's children are all in Quảng Ngãi after the merger
    assert rows[(demo.province.pk, day)] == rows[(demo.province_2025.pk, day)]
    assert rows[(demo.province.pk, day)]["children"] > 0


def test_scope_limits_partial_units(demo):
    worker_a = demo.users["commune"]
    day = params_for(year=2022).as_of
    mine = figures(units=[demo.province], days=[day], codes=["children", "special_circumstances"], user=worker_a)
    expected = compute(params_for(year=2022, unit=demo.province, user=worker_a), ["children", "special_circumstances"])
    assert mine[(demo.province.pk, day)] == expected
    whole = compute(params_for(year=2022, unit=demo.province), ["children"])
    assert expected["children"] < whole["children"]


def test_reporter_counts_nothing(demo):
    reporter = demo.users["reporter"]
    day = params_for(year=2022).as_of
    assert figures(units=[demo.province], days=[day], codes=["children"], user=reporter)[(demo.province.pk, day)] == {
        "children": 0}


def test_change_through_registry_service_invalidates(demo, django_capture_on_commit_callbacks):
    officer = demo.users["province"]
    from vitreem.registry import services
    from vitreem.registry.models import Child, SpecialGroup
    from vitreem.registry.rules import q_child_on, q_special_on

    today = timezone.localdate()
    day = params_for(year=today.year).as_of
    before = figures(units=[demo.province, demo.district], days=[day], codes=["special_circumstances"])
    child = (Child.objects.filter(q_child_on(today), unit__version="2025").exclude(q_special_on(today))
             .order_by("pk").first())
    group = SpecialGroup.objects.get(code="3")
    with django_capture_on_commit_callbacks(execute=True):
        services.special_episode_open(actor=officer, child=child, group=group, start=today - dt.timedelta(days=1))
    after = figures(units=[demo.province], days=[day], codes=["special_circumstances"])
    assert after[(demo.province.pk, day)]["special_circumstances"] == (
        before[(demo.province.pk, day)]["special_circumstances"] + 1)
    assert after[(demo.province.pk, day)] == compute(params_for(year=today.year, unit=demo.province),
                                                    ["special_circumstances"])


def test_backdated_change_invalidates_past_year(demo, django_capture_on_commit_callbacks):
    officer = demo.users["province"]
    from vitreem.registry import services
    from vitreem.registry.models import Child, SpecialGroup
    from vitreem.registry.rules import q_child_on, q_lives_in, q_special_on

    day = params_for(year=2022).as_of
    before = figures(units=[demo.province_2025], days=[day], codes=["special_circumstances", "by_group"])
    ids = params_for(year=2022, unit=demo.province).commune_ids(day)
    child = (Child.objects.filter(q_child_on(day) & q_lives_in(day, ids) & q_child_on(timezone.localdate()))
             .exclude(q_special_on(day)).order_by("pk").first())
    with django_capture_on_commit_callbacks(execute=True):
        services.special_episode_open(actor=officer, child=child, group=SpecialGroup.objects.get(code="1"),
                                      start=dt.date(2022, 6, 1))
    after = figures(units=[demo.province_2025], days=[day], codes=["special_circumstances", "by_group"])
    key = (demo.province_2025.pk, day)
    assert after[key]["special_circumstances"] == before[key]["special_circumstances"] + 1
    assert after[key]["by_group"]["1"] == before[key]["by_group"]["1"] + 1


def test_modes():
    assert mode_of("children") == "cache"
    assert mode_of("cases_overdue") == "live" or "cases_overdue" not in indicators()
    assert mode_of("population") == "cache"


def _stored_at(unit, day, code):
    return Rollup.objects.get(unit=unit, as_of=day, code=code).computed_at


def test_change_from_a_date_keeps_earlier_years(demo, django_capture_on_commit_callbacks):
    """An episode opened yesterday cannot alter 2022: the stored 2022 value stays, this year's is
    recomputed and equals the engine's."""
    from vitreem.registry import services
    from vitreem.registry.models import Child, SpecialGroup
    from vitreem.registry.rules import q_child_on, q_special_on

    officer = demo.users["province"]
    today = timezone.localdate()
    past, now = params_for(year=2022).as_of, params_for(year=today.year).as_of
    codes = ["special_circumstances", "at_risk"]
    before = figures(units=[demo.province], days=[past, now], codes=codes)
    kept_at = _stored_at(demo.province, past, "special_circumstances")
    child = (Child.objects.filter(q_child_on(today), unit__version="2025").exclude(q_special_on(today))
             .order_by("pk").first())
    with django_capture_on_commit_callbacks(execute=True):
        episode = services.special_episode_open(actor=officer, child=child, group=SpecialGroup.objects.get(code="3"),
                                                start=today - dt.timedelta(days=1))
    after = figures(units=[demo.province], days=[past, now], codes=codes)
    assert _stored_at(demo.province, past, "special_circumstances") == kept_at  # not recomputed
    assert after[(demo.province.pk, past)] == before[(demo.province.pk, past)]
    assert after[(demo.province.pk, now)] == compute(params_for(year=today.year, unit=demo.province), codes)
    assert after[(demo.province.pk, now)]["special_circumstances"] == (
        before[(demo.province.pk, now)]["special_circumstances"] + 1)
    # closing it again: this year's figure goes back, and is again the engine's
    with django_capture_on_commit_callbacks(execute=True):
        services.special_episode_close(actor=officer, episode=episode, end=today - dt.timedelta(days=1))
    closed = figures(units=[demo.province], days=[now], codes=codes)[(demo.province.pk, now)]
    assert closed == compute(params_for(year=today.year, unit=demo.province), codes)


def test_a_registration_changes_the_figures_from_the_child_s_first_residence_on(demo,
                                                                              django_capture_on_commit_callbacks):
    """A child registered counts from its first residence's start (its birth here): the stored 2022
    figure stays, the year of its birth and later are recomputed and equal the engine's."""
    from vitreem.places.selectors import unit_resolve
    from vitreem.registry import services

    today = timezone.localdate()
    past, born, now = (params_for(year=2022).as_of, params_for(year=today.year - 1).as_of,
                       params_for(year=today.year).as_of)
    before = figures(units=[demo.province], days=[past, born, now], codes=["children"])
    kept_at = _stored_at(demo.province, past, "children")
    with django_capture_on_commit_callbacks(execute=True):
        services.child_register(actor=demo.users["province"], unit=unit_resolve("2025:23500"),
                                confirm_not_duplicate=True,
                                data={"full_name": "Y Đo Đăng Ký", "birth_date": dt.date(today.year - 1, 3, 1),
                                      "sex": "F"})
    after = figures(units=[demo.province], days=[past, born, now], codes=["children"])
    assert _stored_at(demo.province, past, "children") == kept_at  # not recomputed
    assert after[(demo.province.pk, past)] == before[(demo.province.pk, past)]
    for day in (born, now):
        assert after[(demo.province.pk, day)]["children"] == before[(demo.province.pk, day)]["children"] + 1
        assert after[(demo.province.pk, day)] == compute(params_for(as_of=day, unit=demo.province), ["children"])


def test_undated_change_still_invalidates_every_year(demo, django_capture_on_commit_callbacks):
    from vitreem.registry import services
    from vitreem.registry.models import Child
    from vitreem.registry.rules import q_child_on

    past = params_for(year=2022).as_of
    figures(units=[demo.province], days=[past], codes=["children"])
    kept_at = _stored_at(demo.province, past, "children")
    child = Child.objects.filter(q_child_on(past), unit__version="2025").order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.child_end(actor=demo.users["province"], child=child,  # "child.end": not dated
                           on=timezone.localdate() - dt.timedelta(days=1), reason="left")
    value = figures(units=[demo.province], days=[past], codes=["children"])[(demo.province.pk, past)]["children"]
    assert _stored_at(demo.province, past, "children") > kept_at
    assert value == compute(params_for(year=2022, unit=demo.province), ["children"])["children"]


def test_since_of_entries():
    from types import SimpleNamespace

    from vitreem.stats.rollups import _since_of

    def entry(action, **changes):
        return SimpleNamespace(action=action, changes=changes)

    assert _since_of(entry("child.special_open", start="2026-11-29", end=None)) == dt.date(2026, 11, 29)
    assert _since_of(entry("child.special_close", end=[None, "2025-02-01"])) == dt.date(2025, 2, 1)
    assert _since_of(entry("child.special_close", end=["2024-05-01", "2025-02-01"])) == dt.date(2024, 5, 1)
    assert _since_of(entry("child.risk_assess", assessed_on=dt.date(2023, 1, 5))) == dt.date(2023, 1, 5)
    assert _since_of(entry("child.update", birth_date=["2010-01-01", "2011-01-01"])) is None  # not dated: all days
    assert _since_of(entry("child.special_open", start="không rõ")) is None
    assert _since_of(entry("child.special_close", end=["??", "2025-02-01"])) is None
    assert _since_of(entry("child.register", birth_date="2024-03-01", resident_since="2024-03-01")) == dt.date(2024, 3, 1)


def test_a_refresh_recomputes_today_first_then_the_latest_year_ends(demo):
    """A page opens on today's figures: after a change the worker's turn recomputes them before the
    past year-ends (each date is its own transaction, committed in that order)."""
    from vitreem.stats.rollups import refresh_days, rollups_refresh, stamp_units

    stamp_units([demo.commune_a_2025.pk])
    rollups_refresh(units=[demo.province_2025])
    days = refresh_days()
    stored = [_stored_at(demo.province_2025, day, "children") for day in days]
    assert days[-1] == timezone.localdate()
    assert stored == sorted(stored, reverse=True)  # the later the date, the earlier its row


def test_a_request_reads_the_stamps_table_once_and_again_after_its_own_change(demo, django_capture_on_commit_callbacks):
    """The stamps of a province's units are read once per request (places.selectors.read_once): the
    allowances' home of a province read them twice. A change the request itself makes stamps its units,
    and the figures read after it in the same request see the change (stale, "Đang cập nhật", not the
    value kept from before it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vitreem.places.selectors import stamp_read_once
    from vitreem.registry import services
    from vitreem.registry.models import Child, SpecialGroup
    from vitreem.registry.rules import q_child_on, q_special_on
    from vitreem.stats.rollups import _Stamps, _Store

    def table_reads(ctx) -> int:
        return sum('FROM "stats_unitstamp"' in q["sql"] for q in ctx.captured_queries)

    today = timezone.localdate()
    units = {u.pk for u in [demo.province, *demo.province.children.all()]} | set(
        demo.province.children.values_list("children__pk", flat=True))
    assert len(units) > 40  # a province's pages ask for ~400
    figures(units=[demo.province], days=[today], codes=["special_circumstances"])  # stored, fresh
    with CaptureQueriesContext(connection) as ctx, stamp_read_once():
        first = _Store.read(["special_circumstances"], units, today)
        assert _Store.read(["special_circumstances"], units, today) == first
        assert (("special_circumstances", demo.province.pk) in first[0]) is True  # fresh
        assert table_reads(ctx) == 1
        child = (Child.objects.filter(q_child_on(today), unit__version="2025").exclude(q_special_on(today))
                 .order_by("pk").first())
        with django_capture_on_commit_callbacks(execute=True):
            services.special_episode_open(actor=demo.users["province"], child=child, group=SpecialGroup.objects.get(
                code="3"), start=today - dt.timedelta(days=1))
        after = _Store.read(["special_circumstances"], units, today)
        assert ("special_circumstances", demo.province.pk) in after[1]  # stale now, in the same request
        assert table_reads(ctx) == 2
    with CaptureQueriesContext(connection) as outside:
        _Store.read(["special_circumstances"], units, today)
        _Store.read(["special_circumstances"], units, today)
    assert table_reads(outside) == 2  # outside a request (the task worker, a command): read every time

    from conftest import login

    # Each unit's stamps are read once per request: a set of units read before costs no query, a larger
    # one reads only the units not read yet.
    districts = {u.pk for u in demo.province.children.all()}
    with CaptureQueriesContext(connection) as parts, stamp_read_once():
        _Stamps(districts)
        _Stamps(districts)
        wider = _Stamps(units)
        _Stamps(districts | {demo.province.pk})
        assert table_reads(parts) == 2
        assert wider.rows == _Stamps(units).rows
    assert wider.rows == _Stamps(units).rows  # outside a request: a read of its own, the same rows

    officer = login(demo.users["province"])  # the allowances' home reads its figures, then its counts per unit
    officer.get("/benefits/")
    with CaptureQueriesContext(connection) as page:
        assert officer.get("/benefits/").status_code == 200
    assert table_reads(page) == 2


def test_a_province_reads_the_stamps_of_its_own_units_only(demo):
    """Each stamp carries its unit, year and app beside its key (`stamp_row`), and a province's pages read
    their units' rows by the unit, not the whole table: nationally the table holds ~600,000 rows and a
    province read and parsed them all on every page (3.7 s, `make bench BENCH_ARGS=stamps`). A change in
    another province leaves this province's figures fresh; one of its own communes' makes them stale."""
    from vitreem.places.models import AdminUnit, Level, Version
    from vitreem.stats.models import UnitStamp
    from vitreem.stats.rollups import _Stamps, stamp_units

    today = timezone.localdate()
    units = {u.pk for u in [demo.province, *demo.province.children.all()]} | set(
        demo.province.children.values_list("children__pk", flat=True))
    elsewhere = AdminUnit.objects.filter(level=Level.COMMUNE, version=Version.V2025, province_code="01").order_by(
        "code")[0]
    before = _Stamps(units, today).latest(demo.province.pk)
    stamp_units([elsewhere.pk], since=dt.date(today.year - 1, 3, 1), app="cases")
    stamps = _Stamps(units, today)
    assert stamps.latest(demo.province.pk) == before  # Hà Nội's change: not this province's
    assert elsewhere.pk not in stamps.of_unit and elsewhere.parent_id not in stamps.of_unit
    assert not any(key.startswith(f"u:{elsewhere.pk}:") for key in _Stamps(units).rows)
    stamp_units([demo.commune_a.pk], since=dt.date(today.year - 1, 3, 1), app="cases")
    stamps = _Stamps(units, today)
    assert stamps.latest(demo.province.pk) != before
    assert stamps.latest(demo.province.pk, frozenset({"cases"})) != before
    assert stamps.latest(demo.province.pk, frozenset({"registry"})) == before  # the cases' figures only
    # dated in last year: not the figures of the year before
    assert _Stamps(units, dt.date(today.year - 2, 12, 31)).latest(demo.province.pk, frozenset({"cases"})) == before
    # what the read brought back: every unit of this scope with a stamp, none of another
    stamped = set(UnitStamp.objects.filter(unit__isnull=False).values_list("unit_id", flat=True))
    assert set(_Stamps(units).of_unit) == stamped & units and stamped - units
    # the parts written are the key's
    for key, unit_id, year, app in UnitStamp.objects.filter(key__startswith="u:").values_list(
            "key", "unit_id", "year", "app"):
        assert key == f"u:{unit_id}" + (f":y{year}" if year else "") + (f":{app}" if app else "")
    assert UnitStamp.objects.get(key=f"u:{demo.commune_a.pk}:y{today.year - 1}:cases").year == today.year - 1


def test_the_migration_splits_every_stamp_s_key_into_its_parts(db):
    """stats/0002 writes the unit, year and app of the stamps written before it, from their keys (one
    statement on PostgreSQL, row by row on SQLite: each test run checks its database's); a stamp of a
    unit no longer in the tree keeps none (no page asks for it)."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from vitreem.places.models import AdminUnit
    from vitreem.stats.models import UnitStamp

    split_keys = importlib.import_module("vitreem.stats.migrations.0002_stamp_parts").split_keys
    unit = AdminUnit.objects.order_by("pk").first()
    gone = AdminUnit.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    now = timezone.now()
    keys = [f"u:{unit.pk}", f"u:{unit.pk}:y2023", f"u:{unit.pk}:cases", f"u:{unit.pk}:y2024:registry",
            f"u:{gone}:y2022", "all", "refreshed"]
    UnitStamp.objects.all().delete()  # the test database's own (its units' load stamped "all")
    UnitStamp.objects.bulk_create([UnitStamp(key=k, changed_at=now) for k in keys])
    split_keys(apps, SimpleNamespace(connection=connection, execute=connection.cursor().execute))
    assert {k: (u, y, a) for k, u, y, a in UnitStamp.objects.values_list("key", "unit_id", "year", "app")} == {
        f"u:{unit.pk}": (unit.pk, None, ""), f"u:{unit.pk}:y2023": (unit.pk, 2023, ""),
        f"u:{unit.pk}:cases": (unit.pk, None, "cases"), f"u:{unit.pk}:y2024:registry": (unit.pk, 2024, "registry"),
        f"u:{gone}:y2022": (None, 2022, ""), "all": (None, None, ""), "refreshed": (None, None, "")}
