"""The demo part: several years of activities and budgets, fast, deterministic, consistent with the rules."""

import pytest

from vitreem.activities.models import Activity, BudgetAllocation, Participant, PlayPoint, Spending
from vitreem.activities.selectors import activity_figures
from vitreem.demo.services import demo_seed
from vitreem.places.selectors import unit_resolve

pytestmark = pytest.mark.django_db


def _counts():
    return (Activity.objects.count(), Participant.objects.count(), PlayPoint.objects.count(),
            BudgetAllocation.objects.count(), Spending.objects.count())


def test_demo_seeds_five_years_of_activities_and_budgets():
    demo_seed(children=2000, parts=["activities"], log=lambda *_: None)
    activities, participants, points, lines, spendings = _counts()
    assert activities > 2000 and participants > 1000 and points > 20 and lines > 500 and spendings > lines
    years = {a.year for a in Activity.objects.dates("start_date", "year")}
    assert years == {2021, 2022, 2023, 2024, 2025}
    province = unit_resolve("legacy:62")
    f = activity_figures(year=2022, unit=province)
    assert f["communication_events"] > 300 and f["people_reached"] > 100_000
    assert f["training_courses"] > 20 and f["trainees"] > 500
    assert f["recreation_events"] > 100 and f["campaigns"] >= 10
    assert 0 < f["budget_spent"] < f["budget_allocated"]
    assert all(v > 0 for k, v in f["budget_by_source"].items() if k != "district") and f["budget_by_source"]["district"] > 0
    share = f["play_points"]["communes_share"]
    assert 0.15 < share < 0.6
    # Every spending names an allocation line of the same year (the rule the services enforce).
    assert not Spending.objects.exclude(allocation__year=__import__("django.db.models", fromlist=["F"]).F(
        "spent_on__year")).exists()
    # 2025: activities after the reform are on the 2025 communes, and the 2025 province sees the whole year.
    f25 = activity_figures(year=2025, unit=unit_resolve("2025:51"))
    assert f25["communication_events"] > 300


def test_demo_is_deterministic():
    demo_seed(children=2000, parts=["activities"], log=lambda *_: None)
    first = list(Activity.objects.order_by("pk").values_list("title", "start_date", "reached_total")[:500])
    counts = _counts()
    for model in (Participant, Spending):
        model.objects.all().delete()
    Activity.objects.all().delete()
    for model in (BudgetAllocation, PlayPoint):
        model.objects.all().delete()
    from vitreem.activities.models import Partner, Project

    Project.objects.all().delete()
    Partner.objects.all().delete()
    demo_seed(children=2000, parts=["activities"], log=lambda *_: None)
    assert list(Activity.objects.order_by("pk").values_list("title", "start_date", "reached_total")[:500]) == first
    assert _counts() == counts
