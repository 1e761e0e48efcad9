"""The demo province reproduces the committee's 2022 figures, and the stats engine counts them."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction

from vitreem.demo.services import demo_seed
from vitreem.places.models import Version
from vitreem.places.selectors import unit_resolve
from vitreem.registry.models import Child, Residence
from vitreem.stats.engine import compute, params_for

pytestmark = pytest.mark.django_db

N = 4000
SCALE = N / 200_000


def scaled(n):
    return max(1, round(n * SCALE))


@pytest.fixture
def demo(db):
    demo_seed(children=N, seed=7, parts=["registry"], log=lambda *_: None)


def test_2022_figures_are_reproduced_exactly(demo):
    figures = compute(params_for(year=2022))
    assert figures["poor_household_children"] == scaled(27_678)
    assert figures["near_poor_household_children"] == scaled(46_177)
    assert figures["children"] > N
    assert 0.340 <= figures["children_share"] <= 0.349
    assert figures["special_circumstances"] > scaled(2_500)
    assert figures["at_risk"] == scaled(44_350) > scaled(44_000)
    assert sum(figures["by_group"].values()) >= figures["special_circumstances"]


def test_stats_command_prints_the_engine_figures_as_json(demo):
    out = io.StringIO()
    call_command("stats", "--year", "2022", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    expected = compute(params_for(year=2022))
    for key in ("children", "population", "children_share", "poor_household_children",
                "near_poor_household_children", "special_circumstances", "at_risk", "by_group"):
        assert printed[key] == expected[key]
    assert printed["as_of"] == "2022-12-31"


def test_stats_for_a_legacy_district_and_a_commune_add_up(demo):
    province = compute(params_for(year=2022, unit=unit_resolve("legacy:62")), ["children"])["children"]
    districts = unit_resolve("legacy:62").children.all()
    total = sum(compute(params_for(year=2022, unit=d), ["children"])["children"] for d in districts)
    assert total == province == compute(params_for(year=2022), ["children"])["children"]


def test_province_totals_agree_under_both_versions_across_the_reform(demo):
    for year in (2022, 2025):
        legacy = compute(params_for(year=year, unit=unit_resolve("legacy:62")), ["children", "special_circumstances"])
        new = compute(params_for(year=year, unit=unit_resolve("2025:51")), ["children", "special_circumstances"])
        assert legacy == new
    # After the reform the children live in 2025 units; before it, in legacy ones.
    assert Residence.objects.filter(start=dt.date(2025, 7, 1), unit__version=Version.V2025).exists()
    assert not Child.objects.filter(ended_on__isnull=True, unit__version=Version.LEGACY, source="demo").exists()


def test_scope_limits_the_figures_to_the_users_commune(demo, worker_a, worker_b):
    all_2022 = compute(params_for(year=2022), ["children"])["children"]
    a = compute(params_for(year=2022, user=worker_a), ["children"])["children"]
    b = compute(params_for(year=2022, user=worker_b), ["children"])["children"]
    # Her 2025 commune's area in 2022 (the legacy communes merged into it included: issue 21 item 2).
    commune_a = compute(params_for(year=2022, unit=unit_resolve("2025:23500")), ["children"])["children"]
    commune_b = compute(params_for(year=2022, unit=unit_resolve("2025:23512")), ["children"])["children"]
    assert a == commune_a and 0 < a < all_2022
    assert b == commune_b and 0 < b < all_2022


def test_same_seed_same_data(db):
    def snapshot():
        with transaction.atomic():
            demo_seed(children=1500, seed=11, parts=["registry"], log=lambda *_: None)
            rows = list(Child.objects.order_by("id").values_list("full_name", "birth_date", "personal_id", "sex"))
            transaction.set_rollback(True)
        return rows

    first = snapshot()
    assert first and first == snapshot()


def test_planted_duplicates_point_at_their_original(demo):
    dups = Child.objects.filter(source__startswith="demo-dup:")
    assert dups.count() == scaled(1000)
    for dup in dups[:20]:
        original = Child.objects.get(pk=int(dup.source.split(":")[1]))
        assert original.source == "demo" and dup.household_id is None
        assert original.sex == dup.sex
