"""children_filter and its helpers, directly (the page and the API are thin over them)."""

from __future__ import annotations

import datetime as dt

import pytest

from vitreem.places.models import REFORM_DATE
from vitreem.registry import services
from vitreem.registry.models import Child
from vitreem.registry.selectors import (
    age_band_bounds,
    children_filter,
    children_flags,
    children_for_user,
    episode_get_for_user,
    household_members_for_user,
    units_for_user,
)
from vitreem.registry.tests.screens_fixtures import register, today, world_fixture, years_ago  # noqa: F401

pytestmark = pytest.mark.django_db


def names(qs) -> list[str]:
    return [c.full_name for c in qs]


def listing(user, **filters):
    return children_filter(children_for_user(user=user, include_ended="as_of" in filters), user=user, **filters)


def test_age_band_bounds_are_inclusive():
    on = dt.date(2024, 3, 1)
    low, high = age_band_bounds("3-5", on)
    assert (low, high) == (dt.date(2018, 3, 2), dt.date(2021, 3, 1))  # 5 today at the oldest, 3 today at the youngest
    assert age_band_bounds("x", on) is None


def test_filter_order_and_search(world, worker_a):
    assert names(listing(worker_a)) == ["Nguyễn Văn An", "Lê Văn Bình", "Trần Thị Hoa"]
    assert names(listing(worker_a, q="Nguyễn Văn  An ")) == ["Nguyễn Văn An"]
    assert names(listing(worker_a, q="an")) == ["Nguyễn Văn An"]  # a word starting "an", not "tran"/"hoang"
    assert names(listing(worker_a, q="thi")) == ["Trần Thị Hoa"]
    assert names(listing(worker_a, q="hoa tran")) == ["Trần Thị Hoa"]  # given name first
    assert names(listing(worker_a, q="nguyen an")) == ["Nguyễn Văn An"]  # middle name left out
    assert names(listing(worker_a, q="le binh van")) == ["Lê Văn Bình"]
    assert names(listing(worker_a, q="nguyen hoa")) == []
    assert names(listing(worker_a, q="000000000000")) == []


def test_a_name_search_is_narrowed_to_the_one_province_of_the_scope(world, officer, worker_a, units):
    """A child never changes province, so a search by someone whose units are all in one province is
    also filtered on the rows' province code: the trigram index leads with it (registry/0013). Someone
    who sees two provinces gets no such filter, and finds the children of both."""
    from django.db import connection

    from conftest import OTHER_PROVINCE, PROVINCE
    from vitreem.accounts.models import Role
    from vitreem.core.scope import scope_for
    from vitreem.places.selectors import unit_resolve
    from vitreem.testing.factories import UserFactory

    assert scope_for(officer).province_code == scope_for(worker_a).province_code == "51"
    both = UserFactory(username="two_provinces", role=Role.ADMIN, units=PROVINCE + OTHER_PROVINCE)
    assert scope_for(both).province_code is None
    hanoi = register(both, "Đỗ Thị Hoa", years_ago(6), "F", unit_resolve("2025:00004"))
    assert hanoi.province_code == "01"

    sql, params = listing(officer, q="hoa").query.sql_with_params()
    assert '"registry_child"."province_code" = %s' in sql and "51" in params
    assert '"registry_child"."province_code" = %s' not in listing(both, q="hoa").query.sql_with_params()[0]
    assert names(listing(officer, q="hoa")) == ["Trần Thị Hoa"]
    assert sorted(names(listing(both, q="hoa"))) == ["Trần Thị Hoa", "Đỗ Thị Hoa"]
    assert names(listing(worker_a, q="thi hoa")) == ["Trần Thị Hoa"]

    with connection.cursor() as cur:
        found = set(connection.introspection.get_constraints(cur, "registry_child"))
    expected = {"child_province_name_trgm"} if connection.vendor == "postgresql" else set()
    assert found & {"child_province_name_trgm", "child_name_key_trgm"} == expected


def test_the_rows_of_a_child_moved_across_provinces_before_take_its_commune_s_province(world, units):
    """registry/0012: a child an administrator moved into another province before such moves were
    refused kept the province of the insert on its rows; the migration gives them its commune's, so the
    receiving province's searches (filtered on the code) find it."""
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    from vitreem.registry.models import Residence

    migration = importlib.import_module("vitreem.registry.migrations.0012_child_province_realigned")
    Child.objects.filter(pk=world.hoa.pk).update(province_code="01")
    Residence.objects.filter(child=world.hoa).update(province_code="01")
    untouched = Child.objects.exclude(pk=world.hoa.pk).values_list("pk", "province_code").order_by("pk")
    before = list(untouched)
    migration.realign(None, SimpleNamespace(connection=connection))
    assert Child.objects.get(pk=world.hoa.pk).province_code == "51"
    assert set(Residence.objects.filter(child=world.hoa).values_list("province_code", flat=True)) == {"51"}
    assert list(untouched) == before


def test_names_sort_word_by_word_and_the_same_on_both_databases(units, worker_a):
    """The folded keys compare byte by byte (PostgreSQL: the "C" collation, migration registry/0011;
    SQLite's own order): a space before any letter, so "le an" before "lea an" whatever the server's
    locale, browsing or searching. A language's collation (en_US) ignored the space and put "Lea An"
    first; bytewise comparison is also the fast one for the search's sort."""
    from django.db import connection

    for name in ("Lea An", "Lê An", "Lê Ân Ba"):
        register(worker_a, name, years_ago(5), "M", units.commune_a_2025)
    assert names(listing(worker_a)) == ["Lê An", "Lea An", "Lê Ân Ba"]  # given name first: "an", "an", "ba"
    assert names(listing(worker_a, q="an")) == ["Lê An", "Lea An", "Lê Ân Ba"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT attname, attcollation::regcollation::text FROM pg_attribute "
                        "WHERE attrelid = 'registry_child'::regclass AND attname IN ('name_key', 'given_key')")
            assert dict(cur.fetchall()) == {"name_key": '"C"', "given_key": '"C"'}


def test_filter_as_of_counts_children_of_that_day(units, worker_a):
    past = dt.date(2022, 6, 1)
    old = register(worker_a, "Đinh Văn Lớn", dt.date(2008, 1, 10), "M", units.commune_a, on=past)
    gone = register(worker_a, "Đinh Thị Đi", dt.date(2016, 2, 2), "F", units.commune_a, on=past)
    services.child_end(actor=worker_a, child=gone, on=dt.date(2023, 5, 1), reason="left")
    assert names(listing(worker_a, as_of=dt.date(2022, 12, 31))) == ["Đinh Thị Đi", "Đinh Văn Lớn"]
    assert names(listing(worker_a, as_of=dt.date(2023, 12, 31))) == ["Đinh Văn Lớn"]
    assert names(listing(worker_a, as_of=dt.date(2024, 12, 31))) == []  # turned 16 in January 2024
    assert names(listing(worker_a, as_of=dt.date(2007, 12, 31))) == []  # not born yet
    # Without as_of, ended records are left out; the unit filter reads the current address.
    assert names(listing(worker_a)) == ["Đinh Văn Lớn"] and old.ended_on is None


def test_filter_unit_outside_scope_gives_nothing(world, worker_a, units):
    assert names(listing(worker_a, unit=units.commune_b_2025)) == []
    assert names(listing(worker_a, unit=units.other_commune)) == []
    assert len(listing(worker_a, unit=units.province_2025)) == 3


def test_subgroup_filter(world, worker_a):
    services.special_episode_open(actor=worker_a, child=world.binh, group="4.2", start=today())
    assert names(listing(worker_a, special="4.2")) == ["Lê Văn Bình"]
    assert names(listing(worker_a, special="4")) == ["Lê Văn Bình"]
    assert names(listing(worker_a, special="4.1")) == []
    assert names(listing(worker_a, special="any")) == ["Nguyễn Văn An", "Lê Văn Bình"]
    # In special circumstances now: no longer counted "at risk" even with a risk factor.
    services.risk_assess(actor=worker_a, child=world.binh, assessed_on=today(), factors=["domestic_violence"])
    assert names(listing(worker_a, at_risk=True)) == ["Trần Thị Hoa"]


def test_poverty_year(world, worker_a):
    services.household_poverty_set(actor=worker_a, household=world.household_a, year=2024, status="near_poor")
    assert names(listing(worker_a, poverty="near_poor", poverty_year=2024)) == ["Nguyễn Văn An"]
    assert names(listing(worker_a, poverty="near_poor")) == []
    assert names(listing(worker_a, poverty="poor")) == ["Nguyễn Văn An"]


def test_flags(world, django_assert_num_queries):
    from vitreem.places.selectors import stamp_read_once

    children = list(Child.objects.filter(pk__in=[world.an.pk, world.hoa.pk, world.binh.pk]))
    children_flags(children, day=today())  # the crosswalk's links read for the tree's stamp (kept per process)
    # special and at risk (one query), the households' classifications, the reviews in force, and the
    # tree's stamp (which a request reads once anyway): not one per child
    with stamp_read_once(), django_assert_num_queries(4):
        flags = children_flags(children, day=today())
    assert flags[world.an.pk] == {"special": True, "at_risk": False, "poverty": "poor"}
    assert flags[world.hoa.pk] == {"special": False, "at_risk": True, "poverty": None}
    assert flags[world.binh.pk] == {"special": False, "at_risk": False, "poverty": None}


def test_units_for_user(worker_a, officer, reporter, units):
    # Her two units, and the legacy communes the 2025 reform merged into her Xã Đăk Hà (Xã Hà Mòn, Xã Đăk La):
    # their records from before July 2025 are her commune's (issue 21 item 2).
    assert {u.ref for u in units_for_user(user=worker_a)} == {"legacy:23500", "2025:23500", "legacy:23521",
                                                             "legacy:23524"}
    assert [u.ref for u in units_for_user(user=worker_a, level="commune", on=today())] == ["2025:23500"]
    refs = {u.ref for u in units_for_user(user=officer)}
    assert {"legacy:62", "legacy:615", "2025:51", "2025:23512"} <= refs and "legacy:00001" not in refs


def test_episode_and_members_scope(world, worker_a, worker_b):
    from vitreem.core.errors import NotFound

    episode = world.an.special_episodes.get()
    assert episode_get_for_user(user=worker_a, episode_id=episode.pk) == episode
    with pytest.raises(NotFound):
        episode_get_for_user(user=worker_b, episode_id=episode.pk)
    assert list(household_members_for_user(user=worker_a, household=world.household_a)) == [world.an]
    assert list(household_members_for_user(user=worker_b, household=world.household_a)) == []


def test_poverty_uses_the_review_in_force(units, worker_a):
    """A commune's list counts from the decision recognising it (lists, badges, indicators); until its
    new list is decided, the previous one stays in force (issue 21 item 1)."""
    from vitreem.registry.rules import poverty_years_on
    from vitreem.stats.engine import compute, params_for

    year = today().year
    commune = units.commune_a_2025
    household = services.household_create(actor=worker_a, unit=commune, head_name="Y Blưm")
    services.household_poverty_set(actor=worker_a, household=household, year=year - 1, status="poor")
    child = register(worker_a, "A Thương", years_ago(5), "M", commune, household=household)

    def poor_count():
        return compute(params_for(year=year, unit=commune, user=worker_a), ["poor_household_children"])[
            "poor_household_children"]

    # Classified, but no list decided: no status in force, counted nowhere.
    assert poverty_years_on(today()) == {}
    assert names(listing(worker_a, poverty="poor")) == [] and poor_count() == 0
    assert children_flags([child], day=today())[child.pk]["poverty"] is None

    # Decided by the commune of the day (the legacy one before the 2025 reform): counts for today's too.
    decided_last = dt.date(year - 2, 12, 12)
    services.poverty_review_record(actor=worker_a, unit=units.commune_a if decided_last < REFORM_DATE else commune,
                                   year=year - 1, decided_on=decided_last, decision_number="12/QĐ-UBND")
    assert poverty_years_on(today())[commune.pk] == year - 1
    assert names(listing(worker_a, poverty="poor")) == ["A Thương"]
    assert children_flags([child], day=today())[child.pk]["poverty"] == "poor"
    assert poor_count() == 1

    # This year's classification of another household alone changes nothing...
    other = services.household_create(actor=worker_a, unit=commune, head_name="Y Hơn")
    services.household_poverty_set(actor=worker_a, household=other, year=year, status="near_poor")
    assert poverty_years_on(today())[commune.pk] == year - 1
    assert names(listing(worker_a, poverty="poor")) == ["A Thương"] and poor_count() == 1
    # ... until this year's list is decided: then it is the one in force, from its date on.
    decided = today()
    services.poverty_review_record(actor=worker_a, unit=commune, year=year, decided_on=decided)
    assert poverty_years_on(today())[commune.pk] == year
    assert poverty_years_on(decided - dt.timedelta(days=1)).get(commune.pk) != year
    assert names(listing(worker_a, poverty="poor")) == [] and poor_count() == 0
    assert names(listing(worker_a, poverty="poor", poverty_year=year - 1)) == ["A Thương"]


def test_a_review_counts_across_the_2025_reform(units, worker_a, officer):
    """A legacy commune's decided list governs the households of the commune it was merged into."""
    from vitreem.registry.models import PovertyReview
    from vitreem.registry.rules import poverty_years_on

    PovertyReview.objects.create(unit=units.commune_a, year=2025, decided_on=dt.date(2024, 12, 11))
    years = poverty_years_on(dt.date(2025, 12, 31))
    assert years[units.commune_a.pk] == 2025 and years[units.commune_a_2025.pk] == 2025
    assert units.commune_b_2025.pk not in years
    assert poverty_years_on(dt.date(2024, 12, 10)) == {}  # not decided yet


def test_the_reviews_in_force_read_the_crosswalk_once_per_tree_stamp(units):
    """poverty_years_on reads the reviews (one query) and takes the crosswalk's default links from the
    process (places.selectors.default_links), read again only after the unit tree's stamp moved: a new
    crosswalk row counts at once, for every commune and for a page's communes alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vitreem.places.models import UnitSuccession
    from vitreem.places.selectors import stamp_read_once
    from vitreem.registry.models import PovertyReview
    from vitreem.registry.rules import poverty_years_on

    day = dt.date(2025, 12, 31)
    PovertyReview.objects.create(unit=units.commune_a, year=2025, decided_on=dt.date(2024, 12, 11))
    poverty_years_on(day)  # the links read for this stamp
    with stamp_read_once(), CaptureQueriesContext(connection) as queries:
        assert poverty_years_on(day, units={units.commune_a_2025.pk}) == {units.commune_a_2025.pk: 2025}
        assert poverty_years_on(day)[units.commune_a_2025.pk] == 2025
    tables = [q["sql"] for q in queries.captured_queries]
    assert not [t for t in tables if "places_unitsuccession" in t]
    assert len([t for t in tables if "registry_povertyreview" in t]) == 2
    assert units.commune_b_2025.pk not in poverty_years_on(day)

    UnitSuccession.objects.create(old=units.commune_a, new=units.commune_b_2025, is_default=True)  # stamps the tree
    assert poverty_years_on(day)[units.commune_b_2025.pk] == 2025
    assert poverty_years_on(day, units={units.commune_b_2025.pk}) == {units.commune_b_2025.pk: 2025}


def test_recording_a_review_is_checked_and_scoped(units, worker_a, worker_b):
    from vitreem.core.errors import PermissionDenied, ValidationFailed
    from vitreem.core.models import AuditEntry

    year = today().year
    with pytest.raises(ValidationFailed) as bad:
        services.poverty_review_record(actor=worker_a, unit=units.commune_a_2025, year=year,
                                       decided_on=dt.date(year - 3, 12, 1))
    assert "decided_on" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        services.poverty_review_record(actor=worker_a, unit=units.commune_a_2025, year=year, decided_on=None)
    assert "decided_on" in bad.value.errors
    with pytest.raises(PermissionDenied):
        services.poverty_review_record(actor=worker_b, unit=units.commune_a_2025, year=year,
                                       decided_on=dt.date(year - 1, 12, 12))
    row = services.poverty_review_record(actor=worker_a, unit=units.commune_a_2025, year=year,
                                         decided_on=dt.date(year - 1, 12, 12), decision_number=" 7/QĐ-UBND ")
    again = services.poverty_review_record(actor=worker_a, unit=units.commune_a_2025, year=year,
                                           decided_on=dt.date(year - 1, 12, 13), decision_number="7/QĐ-UBND")
    assert again.pk == row.pk and again.decided_on == dt.date(year - 1, 12, 13)
    entries = AuditEntry.objects.filter(action="poverty_review.record", unit=units.commune_a_2025)
    assert entries.count() == 2
    assert entries.order_by("-pk").first().changes["decided_on"] == [f"{year - 1}-12-12", f"{year - 1}-12-13"]


def test_the_list_s_count_of_open_records_reads_the_open_records_index(world, officer):
    """registry/0014: the capped count of the child list (open records of the scope's units) is
    answered from the partial index child_open_unit, without a visit of each row to test ended_on."""
    from django.db import connection

    from vitreem.registry.views import COUNT_CAP

    qs = listing(officer).order_by("unit_id")[: COUNT_CAP + 1]
    with connection.cursor() as cur:
        found = connection.introspection.get_constraints(cur, "registry_child")
    assert found["child_open_unit"]["columns"] == ["unit_id"]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # a handful of test rows: without these settings a table scan is cheaper, whatever the index
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_bitmapscan = off")
        explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
        cur.execute(f"{explain} SELECT COUNT(*) FROM ({sql}) sub", params)  # noqa: S608 — Django's own SQL
        plan = " ".join(str(row) for row in cur.fetchall())
    assert "child_open_unit" in plan, plan
    assert qs.count() == len(names(listing(officer))) > 0
