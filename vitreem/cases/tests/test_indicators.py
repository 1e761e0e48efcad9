"""Case statistics through the one engine: counts for a unit and period, scoped, names never exposed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vitreem.cases import services
from vitreem.stats.engine import compute, params_for

from .conftest import advance_to_implementing, intake

pytestmark = pytest.mark.django_db

CODES = ["cases_received", "cases_by_type", "cases_by_channel", "cases_open", "cases_overdue", "cases_closed",
         "cases_closed_within_deadline", "children_harmed_by_violence", "child_marriages_recorded",
         "cases_by_outcome"]


def test_counts_for_unit_period_and_scope(worker_a, chairman_a, child_a, units, officer, worker_b, reporter):
    year = timezone.localdate().year
    intake(worker_a, child_a, concern="sexual_abuse")
    intake(worker_a, child_a, concern="physical_violence", channel="school")
    intake(worker_a, child_a, concern="child_marriage", in_danger=True,
           received_at=timezone.now() - dt.timedelta(hours=13))
    closed = intake(worker_a, child_a, concern="neglect")
    closed = advance_to_implementing(closed, worker_a, chairman_a)
    services.case_review(actor=worker_a, case=closed, expected_version=None, reviewed_on=timezone.localdate(),
                         harm="low", perpetrator_access="low", care_obstacles="low", recommend_close=True)
    services.case_close(actor=chairman_a, case=closed, expected_version=None, outcome="resolved")

    values = compute(params_for(year=year, unit=units.province_2025, user=officer), CODES)
    assert values["cases_received"] == 4
    assert values["cases_by_type"]["sexual_abuse"] == 1 and values["cases_by_type"]["child_marriage"] == 1
    assert values["cases_by_channel"]["school"] == 1 and values["cases_by_channel"]["hotline_111"] == 3
    assert values["cases_open"] == 3 and values["cases_overdue"] == 1
    assert values["cases_closed"] == 1 and values["cases_closed_within_deadline"] == 1
    assert values["cases_by_outcome"]["resolved"] == 1
    assert values["children_harmed_by_violence"] == 1  # two violence cases, one child
    assert values["child_marriages_recorded"] == 1
    # The legacy province counts the same cases (crosswalk), another commune's worker sees none,
    # and a past year has none.
    assert compute(params_for(year=year, unit=units.province_legacy, user=None), ["cases_received"]) == {
        "cases_received": 4}
    assert compute(params_for(year=year, unit=units.province_2025, user=worker_b), ["cases_received"]) == {
        "cases_received": 0}
    assert compute(params_for(year=2021, unit=units.province_2025, user=officer), ["cases_received"]) == {
        "cases_received": 0}
    from vitreem.cases.indicators import params_for_counts

    counts = params_for_counts(user=reporter, year=year)
    assert counts is not None and compute(counts, ["cases_received"]) == {"cases_received": 4}


def test_one_computation_reads_the_counted_cases_once(worker_a, child_a, units, officer):
    """The eight counts share one grouped query in one computation of a unit's figures
    (engine.with_unit_memo); a case recorded after it counts in the next one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    year = timezone.localdate().year
    intake(worker_a, child_a, concern="child_marriage")
    counted = ["cases_received", "cases_by_type", "cases_by_channel", "cases_by_outcome", "cases_open",
               "cases_closed", "cases_closed_within_deadline", "child_marriages_recorded"]
    params = params_for(year=year, unit=units.province_2025, user=None)
    with CaptureQueriesContext(connection) as queries:
        values = compute(params, counted)
    assert values["cases_received"] == 1 and values["child_marriages_recorded"] == 1
    assert values["cases_by_type"]["child_marriage"] == 1 and values["cases_open"] == 1
    assert sum('FROM "cases_case"' in q["sql"] for q in queries.captured_queries) == 1

    intake(worker_a, child_a, concern="neglect", channel="school")
    values = compute(params, counted)
    assert values["cases_received"] == 2 and values["cases_by_channel"]["school"] == 1
    assert values["child_marriages_recorded"] == 1
