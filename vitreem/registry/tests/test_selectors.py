"""children_filter and its helpers, directly (the page and the API are thin over them)."""

from __future__ import annotations

import datetime as dt

import pytest

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
    children = list(Child.objects.filter(pk__in=[world.an.pk, world.hoa.pk, world.binh.pk]))
    with django_assert_num_queries(4):  # special, at risk, the review year in force, poverty: not one per child
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
    """Until this year's review is recorded, last year's list is the one in force (lists, badges, indicators)."""
    from vitreem.registry.rules import poverty_year_on
    from vitreem.stats.engine import compute, params_for

    year = today().year
    household = services.household_create(actor=worker_a, unit=units.commune_a_2025, head_name="Y Blưm")
    services.household_poverty_set(actor=worker_a, household=household, year=year - 1, status="poor")
    child = register(worker_a, "A Thương", years_ago(5), "M", units.commune_a_2025, household=household)
    assert poverty_year_on(today()) == year - 1
    assert names(listing(worker_a, poverty="poor")) == ["A Thương"]
    assert children_flags([child], day=today())[child.pk]["poverty"] == "poor"
    figures = compute(params_for(year=year, unit=units.commune_a_2025, user=worker_a), ["poor_household_children"])
    assert figures["poor_household_children"] == 1

    # The new review is recorded for another household: this year's list is now the one in force.
    other = services.household_create(actor=worker_a, unit=units.commune_a_2025, head_name="Y Hơn")
    services.household_poverty_set(actor=worker_a, household=other, year=year, status="near_poor")
    assert poverty_year_on(today()) == year
    assert names(listing(worker_a, poverty="poor")) == []
    assert names(listing(worker_a, poverty="poor", poverty_year=year - 1)) == ["A Thương"]
    assert poverty_year_on(dt.date(2000, 6, 1)) == 2000  # no review at all: the year itself
