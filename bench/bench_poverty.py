"""Poverty counts by the review in force per commune (issue 21 item 1) against the single-year rule
they replaced, on the demo province (200,000 children by default), in the same run.

The new rule reads the communes' decided reviews and the 2025 crosswalk, then counts children whose
household's classification is that of the year in force in the household's commune; the baseline
counts one year's classification for every household (the old `poverty_year_on` rule, wrong when
communes decide on different days, which is the point). Both as the province's poor and near-poor
counts of this year and of 31/12/2022, and as the badges of one 50-child page. Cold (first call,
after ANALYZE) and warm (median of 5). Bounded: 5 repetitions per figure.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "200000"))


def _ms(fn) -> tuple[float, float, object]:
    started = time.perf_counter()
    value = fn()
    cold = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - started) * 1000)
    return cold, statistics.median(warm), value


def run(emit) -> None:
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from bench.common import ensure_demo
    from vitreem.registry.models import Child, HouseholdPoverty
    from vitreem.registry.rules import q_child_on, q_poverty, q_poverty_in_force
    from vitreem.registry.selectors import children_flags

    ensure_demo(CHILDREN)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    emit("poverty.load_average", os.getloadavg()[0], "load", cores=os.cpu_count(), db=connection.vendor)
    today = timezone.localdate()
    for day in (dt.date(2022, 12, 31), today):
        children = Child.objects.filter(q_child_on(day))
        # The replaced rule: the province's latest year with any classification, up to the day's year.
        old_year = HouseholdPoverty.objects.filter(year__lte=day.year).aggregate(y=Max("year"))["y"] or day.year
        for status in ("poor", "near_poor"):
            old_cold, old_warm, old = _ms(lambda c=children, y=old_year, s=status: c.filter(q_poverty(y, s)).count())
            new_cold, new_warm, new = _ms(lambda c=children, d=day, s=status: c.filter(q_poverty_in_force(d, s)).count())
            name = f"poverty.{status}_{day.isoformat()}"
            emit(f"{name}.in_force_cold", new_cold, "ms", f"{name}.single_year_cold", old_cold, count=new,
                 single_year_count=old)
            emit(f"{name}.in_force_warm", new_warm, "ms", f"{name}.single_year_warm", old_warm)
    page = list(Child.objects.filter(q_child_on(today)).order_by("given_key", "name_key", "pk")[:50])
    households = {c.household_id for c in page if c.household_id}

    def single_year():
        return dict(HouseholdPoverty.objects.filter(household_id__in=households, year=old_year)
                    .values_list("household_id", "status"))

    _c, old_warm, _v = _ms(single_year)
    cold, warm, _v = _ms(lambda: children_flags(page, day=today))
    emit("poverty.page_badges_warm", warm, "ms", "poverty.page_badges_single_year_query_warm", old_warm, cold_ms=cold)
