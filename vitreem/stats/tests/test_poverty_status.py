"""A page's households get the poverty status of the review in force in their commune, read from the
reviews of their communes only (registry.rules.poverty_status_of): the same as from every review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vitreem.registry.models import Household, HouseholdPoverty
from vitreem.registry.rules import poverty_status_of, poverty_years_on

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("day", [dt.date(2024, 12, 31), dt.date(2025, 12, 31), None])
def test_a_page_of_households_reads_its_communes_reviews_only(demo, day):
    day = day or timezone.localdate()
    everywhere = poverty_years_on(day)
    ids = list(Household.objects.order_by("pk").values_list("pk", flat=True))
    expected = {hh: st for hh, unit_id, year, st in HouseholdPoverty.objects.filter(household_id__in=ids).values_list(
        "household_id", "household__unit_id", "year", "status") if everywhere.get(unit_id) == year}
    assert expected  # the demo's households have lists in force
    got: dict[int, str] = {}
    for i in range(0, len(ids), 50):  # a page at a time, as the child list asks
        page = ids[i:i + 50]
        got.update(poverty_status_of(page, day))
        units = set(Household.objects.filter(pk__in=page).values_list("unit_id", flat=True))
        assert poverty_years_on(day, units=units) == {u: y for u, y in everywhere.items() if u in units}
    assert got == expected
