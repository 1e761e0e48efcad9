"""One pass for every unit (issue 13): units are sums of their communes computed together, the rollups
are filled in bulk and kept fresh commune by commune, and a page never waits for a wide recomputation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from vitreem.places.models import Level, version_on
from vitreem.stats import rollups
from vitreem.stats.engine import compute, compute_units, indicators, params_for, units_below
from vitreem.stats.models import Rollup
from vitreem.stats.rollups import (
    RefreshTurns,
    figures,
    installation_units,
    refresh_days,
    rollups_clear,
    rollups_refresh,
    rollups_refresh_if_changed,
    stamp_units,
)

pytestmark = pytest.mark.django_db

COUNTS = ["children", "poor_household_children", "near_poor_household_children", "special_circumstances", "at_risk",
          "allowance_recipients", "under5_children", "children_by_sex", "children_by_age_band", "children_by_ethnicity"]


def _grouped_queries(ctx: CaptureQueriesContext) -> list[str]:
    # (a plan asked for first, `EXPLAIN …`, is not a query of the data)
    return [q["sql"] for q in ctx.captured_queries if "GROUP BY" in q["sql"] and "registry_residence" in q["sql"]
            and not q["sql"].startswith("EXPLAIN")]


def test_every_unit_is_the_sum_of_its_communes_from_one_grouped_query(demo):
    """The province, its districts and all its communes of a day: as the engine computes each unit
    alone, with one grouped query for all the counts of children — however many units are asked."""
    day = params_for(year=2022).as_of
    districts = units_below(demo.province, day=day)
    communes = [c for d in districts for c in units_below(d, day=day)]
    units = [demo.province, *districts, *communes]
    with CaptureQueriesContext(connection) as many:
        values, _computed = compute_units(units, day, COUNTS)
    with CaptureQueriesContext(connection) as one:
        compute_units([demo.commune_a], day, COUNTS)
    assert len(_grouped_queries(many)) == len(_grouped_queries(one)) == 1
    for unit in units:
        assert values[unit.pk] == compute(params_for(as_of=day, unit=unit), COUNTS), unit.ref
    assert values[demo.province.pk]["children"] == sum(values[c.pk]["children"] for c in communes) > 0


def test_shares_are_computed_from_their_parts_at_each_level_never_averaged(demo):
    day = params_for(year=2022).as_of
    districts = units_below(demo.province, day=day)
    values, _ = compute_units([demo.province, *districts], day,
                              ["special_circumstances_share", "special_circumstances", "children"])
    province = values[demo.province.pk]
    assert province["special_circumstances_share"] == round(province["special_circumstances"] / province["children"], 4)
    average = sum(values[d.pk]["special_circumstances_share"] or 0 for d in districts) / len(districts)
    assert province["special_circumstances_share"] != round(average, 4)  # the demo's districts differ in size


def test_indicators_say_how_they_are_computed():
    registry = indicators()
    assert registry["children"].batch is not None  # a count of children: computed with the others
    assert registry["by_group"].by_commune is not None and registry["by_group"].batch is None
    assert registry["children_share"].parts == ("children", "population")
    # counted across both versions of the units, or over records of any level: for the unit itself
    assert registry["cases_received"].by_commune is None and not registry["cases_received"].parts
    assert registry["budget_allocated"].by_commune is None


def test_the_children_s_count_takes_one_split_only():
    """A breakdown by a column of the child is the grouped count's second grouping key; a second one
    would multiply its groups, so registering it is refused and registers nothing."""
    from django.core.exceptions import ImproperlyConfigured

    from vitreem.registry.indicators import CHILD_SPLITS, child_split

    assert set(CHILD_SPLITS) == {"children_by_ethnicity"}
    with pytest.raises(ImproperlyConfigured, match="split already"):
        child_split("children_by_schooling_test", "—", "schooling", dict)
    assert set(CHILD_SPLITS) == {"children_by_ethnicity"} and "children_by_schooling_test" not in indicators()


def test_a_refresh_fills_every_unit_and_date_and_a_change_recomputes_only_its_commune(
        demo, django_capture_on_commit_callbacks):
    from vitreem.registry import services
    from vitreem.registry.models import Child, SpecialGroup
    from vitreem.registry.rules import q_child_on, q_lives_in, q_special_on

    rollups_clear()
    pairs = rollups_refresh(years=[2022])
    day = params_for(year=2022).as_of
    units = [u for u in installation_units() if u.level != Level.COMMUNE or u.version == version_on(day)]
    assert pairs == len(units) == len({u.pk for u in units})
    assert {u.level for u in units} == {Level.PROVINCE, Level.DISTRICT, Level.COMMUNE}
    stored = set(Rollup.objects.filter(as_of=day, code="children").values_list("unit_id", flat=True))
    assert {u.pk for u in units} <= stored
    # a 2025 commune in 2022 is the sum of its legacy predecessors' stored values, read, not counted
    with CaptureQueriesContext(connection) as ctx:
        merged = figures(units=[demo.commune_a_2025], days=[day], codes=["children"])[(demo.commune_a_2025.pk, day)]
    assert not _grouped_queries(ctx)
    assert merged == compute(params_for(as_of=day, unit=demo.commune_a_2025), ["children"])
    assert Rollup.objects.filter(as_of=day, code="cases_received", unit=demo.province).exists()

    # a change in commune A, back-dated into 2022: A and its ancestors are recomputed, B is not
    commune_a, commune_b = demo.commune_a, demo.commune_b
    kept_b = Rollup.objects.get(unit=commune_b, as_of=day, code="special_circumstances").computed_at
    child = (Child.objects.filter(q_child_on(day) & q_lives_in(day, [commune_a.pk]) & q_child_on(timezone.localdate()))
             .exclude(q_special_on(day)).order_by("pk").first())
    before = figures(units=[demo.province], days=[day], codes=["special_circumstances"])[(demo.province.pk, day)]
    with django_capture_on_commit_callbacks(execute=True):
        services.special_episode_open(actor=demo.users["province"], child=child,
                                      group=SpecialGroup.objects.get(code="1"), start=dt.date(2022, 6, 1))
    with CaptureQueriesContext(connection) as ctx:
        after = figures(units=[demo.province], days=[day], codes=["special_circumstances"])[(demo.province.pk, day)]
    assert after["special_circumstances"] == before["special_circumstances"] + 1
    grouped = _grouped_queries(ctx)
    # one grouped query, over the few communes the change stamped (A's), not the province's
    assert len(grouped) == 1
    read = grouped[0].rsplit(".\"unit_id\" IN (", 1)[1].split(")")[0].split(", ")
    assert str(commune_a.pk) in read and str(commune_b.pk) not in read
    assert len(read) < len(units_below(demo.province, day=day)) < len(units)
    assert Rollup.objects.get(unit=commune_b, as_of=day, code="special_circumstances").computed_at == kept_b
    assert after == compute(params_for(as_of=day, unit=demo.province), ["special_circumstances"])


def test_a_refresh_interrupted_half_way_leaves_consistent_values_and_the_next_completes(demo, monkeypatch):
    rollups_clear()
    days = refresh_days([2021, 2022, 2023])
    order = sorted(days, reverse=True)  # the refresh's order: the latest date first
    calls = []
    real = rollups.compute_units

    def fails_on_the_second_date(units, day, codes, **kwargs):
        calls.append(day)
        if day == order[1]:
            raise RuntimeError("killed")
        return real(units, day, codes, **kwargs)

    monkeypatch.setattr(rollups, "compute_units", fails_on_the_second_date)
    with pytest.raises(RuntimeError):
        rollups_refresh(years=[2021, 2022, 2023])
    assert Rollup.objects.filter(as_of=order[0]).exists()  # the first date is complete and valid
    assert not Rollup.objects.filter(as_of__in=order[1:]).exists()  # nothing half-written
    monkeypatch.setattr(rollups, "compute_units", real)
    rollups_refresh(years=[2021, 2022, 2023])
    for day in days:
        values = figures(units=[demo.province], days=[day], codes=["children"])[(demo.province.pk, day)]
        assert values == compute(params_for(as_of=day, unit=demo.province), ["children"])


def test_a_refresh_counts_each_date_once_and_reads_its_stored_rows_once(demo):
    """One date's refresh: the grouped counts of the communes' stage are all it counts, and each
    level's stored rows are read once. A legacy district with no commune below it that the crosswalk
    names as a commune's predecessor (the island districts: Côn Đảo, Bạch Long Vĩ…) is counted with
    the communes, not apart when a 2025 province sums its communes on a legacy date; the communes'
    rows, read as units, are not read again as the parts of their district and province."""
    from vitreem.places.models import AdminUnit, UnitSuccession, Version

    island = AdminUnit.objects.create(version=Version.LEGACY, code="9991", level=Level.DISTRICT, name="Huyện đảo thử",
                                      short_name="Đảo thử", parent=demo.province, province_code=demo.province.province_code,
                                      search_key="dao thu")
    UnitSuccession.objects.create(old=island, new=demo.commune_a_2025, is_default=True)
    day = params_for(year=2022).as_of
    units = installation_units()
    assert island in units
    rollups_clear()
    with CaptureQueriesContext(connection) as refresh:
        rollups_refresh(years=[2022])
    registry = indicators()
    summed = [c for c in rollups.worker_codes()[Level.COMMUNE] if registry[c].by_commune is not None]
    leaves = [u for u in units if (u.level == Level.COMMUNE and u.version == version_on(day)) or u == island]
    rollups_clear()
    with CaptureQueriesContext(connection) as communes_alone:
        compute_units(leaves, day, summed)
    assert len(_grouped_queries(refresh)) == len(_grouped_queries(communes_alone)) > 0
    reads = [q for q in refresh.captured_queries if q["sql"].startswith("SELECT") and '"stats_rollup"' in q["sql"]]
    assert len(reads) == 3  # communes, districts, provinces: once each


def test_a_whole_refresh_reads_the_records_of_each_per_unit_figure_once_a_date(demo):
    """The figures computed for each unit itself (cases, activities, budget lines) of every district and
    province of a date: a refresh of the whole installation reads each one's records once, grouped by
    record unit, and each unit sums its own — as many reads as for the province alone."""
    def case_reads(ctx: CaptureQueriesContext) -> int:
        return sum(q["sql"].startswith('SELECT "cases_case"."unit_id"') for q in ctx.captured_queries)

    day = params_for(year=2022).as_of
    units = installation_units()
    assert len([u for u in units if u.level != Level.COMMUNE]) > 2
    rollups_clear()
    with CaptureQueriesContext(connection) as refresh:
        rollups_refresh(years=[2022])
    codes = list(rollups.worker_codes()[Level.PROVINCE])
    with CaptureQueriesContext(connection) as province:
        values, _ = compute_units([demo.province], day, codes)
    assert case_reads(refresh) == case_reads(province) > 0
    stored = figures(units=[demo.province], days=[day], codes=["cases_received", "cases_by_type"])  # the refresh's
    assert stored[(demo.province.pk, day)] == {c: values[demo.province.pk][c] for c in ["cases_received", "cases_by_type"]}


def test_a_unit_added_reaches_the_next_computation_of_a_running_process(demo):
    """The unit tree's shape is kept per process (places.selectors.unit_tree) until the tree's stamp
    moves, and a computation outside a request (the task worker, a command) reads the stamp once: a
    commune added in the admin is in its district's figures at the very next computation — before, the
    engine kept its own copy and looked at the stamp at most once a second, so a computation within
    that second summed the old tree."""
    from vitreem.places.models import AdminUnit, Version
    from vitreem.stats import engine

    day = params_for(year=2022).as_of
    before = engine._commune_ids(demo.district, day, None)
    with CaptureQueriesContext(connection) as kept:
        assert engine._commune_ids(demo.district, day, None) == before
    assert [q["sql"] for q in kept.captured_queries if '"places_adminunit"' in q["sql"]] == []  # kept, not read
    added = AdminUnit.objects.create(version=Version.LEGACY, code="99992", level=Level.COMMUNE, name="Xã Thêm Thử",
                                     short_name="Thêm Thử", parent=demo.district,
                                     province_code=demo.district.province_code, search_key="them thu")
    assert engine._commune_ids(demo.district, day, None) == before | {added.pk}
    assert engine._commune_ids(demo.province, day, None) >= before | {added.pk}  # its province's too


def test_a_request_reads_the_unit_tree_s_stamp_once(demo, client):
    """A request reads the tree's stamp once, for its scope, and the statistics' computations within it
    use that same reading (a computation opens no reading of its own inside a request), and a unit
    added is in the very next request's figures."""
    from django.core.cache import cache

    from vitreem.places.models import AdminUnit, Version
    from vitreem.places.selectors import stamp_read_once
    from vitreem.stats import engine

    client.force_login(demo.users["leader"])
    url = "/stats/?year=2022&unit=legacy:615"
    assert client.get(url).status_code == 200
    cache.clear()  # not the kept page: the figures are read again, through the units' communes
    with CaptureQueriesContext(connection) as again:
        client.get(url)
    assert sum('"places_treestamp"' in q["sql"] for q in again.captured_queries) == 1

    day = params_for(year=2022).as_of
    before = engine._commune_ids(demo.district, day, None)
    with stamp_read_once():  # the next request
        added = AdminUnit.objects.create(version=Version.LEGACY, code="99993", level=Level.COMMUNE,
                                         name="Xã Mới Thử", short_name="Mới Thử", parent=demo.district,
                                         province_code=demo.district.province_code, search_key="moi thu")
        with stamp_read_once():  # a computation inside it: the request's reading, stamped anew by the write
            assert engine._commune_ids(demo.district, day, None) == before | {added.pk}
    with stamp_read_once():
        engine._commune_ids(demo.district, day, None)
        with CaptureQueriesContext(connection) as nested, stamp_read_once():
            engine._commune_ids(demo.province, day, None)
    assert not any('"places_treestamp"' in q["sql"] for q in nested.captured_queries)


def test_stats_refresh_command(demo):
    rollups_clear()
    call_command("stats_refresh", "--year", "2023", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Rollup.objects.filter(as_of=dt.date(2023, 12, 31), unit=demo.province_2025).exists()
    assert not Rollup.objects.filter(as_of=dt.date(2022, 12, 31)).exists()
    with pytest.raises(CommandError, match="nằm ngoài khoảng"):
        call_command("stats_refresh", "--year", "1999")


def test_a_page_shows_the_last_values_marked_while_a_wide_change_is_recomputed(demo, client):
    year = timezone.localdate().year
    rollups_refresh(years=[year - 1, year])
    client.force_login(demo.users["leader"])
    path = f"/stats/?unit={demo.province_2025.ref}"
    page = client.get(path).content.decode()
    assert "Đang cập nhật" not in page
    stamp_units(None)  # a change of a code table: every figure is stale
    page = client.get(path).content.decode()
    assert "Đang cập nhật" in page  # the last values, marked
    computed_at = set(Rollup.objects.filter(unit=demo.province_2025).values_list("computed_at", flat=True))
    assert max(computed_at) < timezone.now()
    # the worker's turn brings them up to date; the page is then current and unmarked
    assert rollups_refresh_if_changed(None) is not None
    page = client.get(path).content.decode()
    assert "Đang cập nhật" not in page


def test_the_worker_s_turn_after_a_change_refreshes_only_the_units_it_stamped(demo, monkeypatch):
    """A change stamps its commune and the units whose figures include it; the worker's next turn
    refreshes those and reads no other unit's rows, and the province's stored value is then current."""
    since = rollups_refresh_if_changed(None)
    real, asked = rollups._refresh_day, []

    def spy(units, day, **kwargs):
        asked.append(units)
        return real(units, day, **kwargs)

    monkeypatch.setattr(rollups, "_refresh_day", spy)
    stamp_units([demo.commune_a.pk])
    rollups_refresh_if_changed(since)
    refreshed = {u.pk for u in asked[0]}
    assert {demo.commune_a.pk, demo.province.pk, demo.province_2025.pk} <= refreshed
    assert demo.commune_b.pk not in refreshed and len(refreshed) < len(installation_units()) / 4
    today = timezone.localdate()
    stored = rollups._Store.read(["children"], {demo.province.pk}, today)
    assert stored[0] and not stored[1]  # fresh, nothing stale left
    assert stored[0][("children", demo.province.pk)] == compute(params_for(as_of=today, unit=demo.province),
                                                               ["children"])["children"]


def test_the_worker_refreshes_only_after_a_change_or_on_a_new_day(demo):
    since = rollups_refresh_if_changed(None)
    assert since is not None
    assert rollups_refresh_if_changed(since) == since  # nothing changed: nothing done
    stamp_units([demo.commune_a.pk])
    today = timezone.localdate()
    assert not rollups._Store.read(["children"], {demo.province.pk}, today)[0]  # stale
    assert rollups_refresh_if_changed(since) >= since
    assert rollups._Store.read(["children"], {demo.province.pk}, today)[0]  # recomputed: fresh
    yesterday = since - dt.timedelta(days=1)
    assert rollups_refresh_if_changed(yesterday) > yesterday


def test_a_bounded_turn_stops_after_a_date_and_the_next_turns_go_on_from_there(demo):
    """`seconds`: a turn after changes does today's figures, then ends after the first other date past
    its time that recomputed something; the next turn goes on with the dates it did not reach (a date
    found fresh never ends a turn), and once every date is done `since` has moved on."""
    turns = RefreshTurns()
    assert turns.turn() == "day" and turns.turn() == ""
    # As if the day's turn had run a while ago: a turn's dates count as done until 2 s before it (for
    # stamps committed late), so a module whose figures were all stored could finish within those 2 s
    # and `since` had not moved at the end (seen once in a full run).
    turns.done = {day: at - dt.timedelta(seconds=5) for day, at in turns.done.items()}
    since = turns.since
    stamp_units([demo.commune_a.pk])
    days = sorted(refresh_days(), reverse=True)
    assert days[0] == timezone.localdate() and len(days) > 2

    def fresh() -> list[bool]:
        return [bool(rollups._Store.read(["children"], {demo.province.pk}, d)[0]) for d in days]

    assert fresh() == [False] * len(days)
    for done in range(2, len(days) + 1):  # today and one more date a turn
        assert turns.turn(seconds=0) == "changes"
        assert fresh() == [True] * done + [False] * (len(days) - done)
        assert (turns.since == since) == (done < len(days))  # moved on once every date is done
    last = Rollup.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    turns.turn(seconds=0)  # (looks 2 s back for stamps committed late: finds the rows fresh)
    assert Rollup.objects.order_by("-computed_at").values_list("computed_at", flat=True).first() == last
    today = timezone.localdate()
    assert rollups._Store.read(["children"], {demo.province.pk}, today)[0][("children", demo.province.pk)] == \
        compute(params_for(as_of=today, unit=demo.province), ["children"])["children"]


def test_under_steady_changes_bounded_turns_reach_every_date(demo):
    """A change before every turn keeps today's figures stale; the dates a turn did not reach come
    next all the same (the longest left first), so no year-end waits for the changes to stop."""
    turns = RefreshTurns()
    turns.turn()
    days = refresh_days()
    first = timezone.now()
    for _ in range(2 * len(days)):
        stamp_units([demo.commune_a.pk])  # a child registered: every date of the commune is stale
        assert turns.turn(seconds=0) == "changes"
    computed = {day: Rollup.objects.filter(unit=demo.province, code="children", as_of=day)
                .values_list("computed_at", flat=True).get() for day in days}
    assert all(at > first for at in computed.values()), computed


def test_vitreem_stats_reads_the_stored_figures_and_the_installation_is_the_sum_of_its_provinces(demo):
    import io
    import json

    rollups_refresh(years=[2022])
    day = params_for(year=2022).as_of
    expected = json.loads(json.dumps(compute(params_for(as_of=day)), default=str))
    out = io.StringIO()
    with CaptureQueriesContext(connection) as ctx:
        call_command("stats", "--year", "2022", "--json", stdout=out)
    got = json.loads(out.getvalue())
    assert {c: got[c] for c in expected} == expected and got["children"] > 0
    assert not _grouped_queries(ctx)  # the counts of children came from the stored rows
    out = io.StringIO()
    call_command("stats", "--year", "2022", "--unit", "legacy:615", "--json", stdout=out)
    district = json.loads(out.getvalue())
    assert district["children"] == compute(params_for(as_of=day, unit=demo.district), ["children"])["children"]


@pytest.mark.parametrize("username", ["leader", "commune"])
def test_home_pages_read_the_stored_figures(demo, client, username):
    """Issue 18 item 3: a home page shows its figures from the rollups — no count over the children's
    residences on a visit — in a bounded number of queries."""
    rollups_refresh(years=[timezone.localdate().year])
    client.force_login(demo.users[username])
    client.get("/")  # the first visit of the process (session, caches)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    assert not _grouped_queries(ctx)
    assert len(ctx.captured_queries) <= 45, len(ctx.captured_queries)


def test_a_page_keeping_figures_does_not_wait_for_a_refresh_holding_the_same_rows(db):
    """A page's save is a cache write: when the worker's refresh holds one of the rows (here another
    connection's uncommitted insert of the same key), the page gives up at once and keeps nothing,
    its transaction still usable and its lock timeout as it was. Waiting held a gunicorn worker for
    seconds under load and two such writers deadlocked (the load benchmark)."""
    from django.db import connections

    from vitreem.places.models import AdminUnit

    unit = AdminUnit.objects.filter(level=Level.PROVINCE).order_by("pk").first()
    day = dt.date(2024, 12, 31)
    store = rollups._Store()
    store._keep("children", unit.pk, day, 7, timezone.now())
    if connection.vendor != "postgresql":  # SQLite: one writer at a time, nothing else holds a row
        store.save(wait=False)
        assert Rollup.objects.get(code="children", unit=unit, as_of=day).value == 7
        return
    other = connections.create_connection("default")  # the refresh's own connection and transaction
    try:
        other.set_autocommit(False)
        with other.cursor() as cur:
            cur.execute("INSERT INTO stats_rollup (code, unit_id, as_of, value, computed_at) "
                        "VALUES ('children', %s, %s, '9', now())", [unit.pk, day])
        with connection.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = '20s'")  # were the page to wait: an error, not a hang
            cur.execute("SELECT current_setting('lock_timeout')")
            before = cur.fetchone()[0]
        store.save(wait=False)
        assert not Rollup.objects.filter(code="children", unit=unit, as_of=day).exists()  # kept nothing
        with connection.cursor() as cur:
            cur.execute("SELECT current_setting('lock_timeout')")
            assert cur.fetchone()[0] == before
    finally:
        other.rollback()
        other.close()
