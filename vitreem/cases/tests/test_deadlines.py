"""Working-day arithmetic against a plain day-by-day reference, across Tết, weekends and overrides."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vitreem.cases.deadlines import add_working_days, is_working_day, working_days_between


@cache
def ref_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def ref_is_working(day: dt.date, overrides: dict[dt.date, bool]) -> bool:
    if day in overrides:
        return overrides[day]
    return day.weekday() < 5 and day not in ref_holidays(day.year)


def ref_add(start: dt.date, n: int, overrides: dict[dt.date, bool]) -> dt.date:
    day, left = start, n
    while left:
        day += dt.timedelta(days=1)
        if ref_is_working(day, overrides):
            left -= 1
    return day


def ref_between(start: dt.date, end: dt.date, overrides: dict[dt.date, bool]) -> int:
    return sum(ref_is_working(start + dt.timedelta(days=i), overrides) for i in range(1, (end - start).days + 1))


# Around the lunar new year of 2021–2027, where the long breaks are.
TET = [dt.date(2021, 2, 12), dt.date(2022, 2, 1), dt.date(2023, 1, 22), dt.date(2024, 2, 10), dt.date(2025, 1, 29),
       dt.date(2026, 2, 17), dt.date(2027, 2, 6)]
near_tet = st.builds(lambda t, k: t + dt.timedelta(days=k), st.sampled_from(TET), st.integers(-20, 10))
any_day = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))
overrides_st = st.dictionaries(st.dates(min_value=dt.date(2020, 12, 1), max_value=dt.date(2028, 3, 31)),
                               st.booleans(), max_size=6)


@settings(max_examples=300, deadline=None)
@given(start=st.one_of(near_tet, any_day), n=st.integers(0, 40))
def test_add_working_days_matches_the_day_by_day_reference(start, n):
    assert add_working_days(start, n, overrides={}) == ref_add(start, n, {})


@settings(max_examples=200, deadline=None)
@given(start=near_tet, n=st.integers(0, 30), overrides=overrides_st)
def test_overrides_make_up_days_and_extra_days_off(start, n, overrides):
    assert add_working_days(start, n, overrides=overrides) == ref_add(start, n, overrides)


@settings(max_examples=200, deadline=None)
@given(start=st.one_of(near_tet, any_day), days=st.integers(0, 120), overrides=overrides_st)
# Found by this test: Saturday 21/01/2023, a Tết holiday, declared a working day.
@example(start=dt.date(2023, 1, 20), days=1, overrides={dt.date(2023, 1, 21): True})
def test_working_days_between_matches_reference(start, days, overrides):
    end = start + dt.timedelta(days=days)
    assert working_days_between(start, end, overrides=overrides) == ref_between(start, end, overrides)


@settings(max_examples=100, deadline=None)
@given(start=any_day, n=st.integers(1, 40))
def test_result_is_a_working_day_and_the_count_is_exact(start, n):
    due = add_working_days(start, n, overrides={})
    assert is_working_day(due, overrides={})
    assert working_days_between(start, due, overrides={}) == n


@pytest.mark.parametrize(("start", "n", "expected"), [
    # Assessment on Friday 24/01/2025, Tết 27/01–01/02 (Mon–Sat): 5 working days end Fri 07/02.
    (dt.date(2025, 1, 24), 5, dt.date(2025, 2, 7)),
    # The same with a province's 7 days: Tue 11/02.
    (dt.date(2025, 1, 24), 7, dt.date(2025, 2, 11)),
    # Tết 2024: 08–14/02; assessed Wed 07/02 → 5 working days end Wed 21/02.
    (dt.date(2024, 2, 7), 5, dt.date(2024, 2, 21)),
    # 30/4 and 1/5/2025 plus the 2/5 day off: assessed Tue 29/04 → Fri 09/05.
    (dt.date(2025, 4, 29), 5, dt.date(2025, 5, 9)),
    # Over a plain weekend: Friday + 1 = Monday.
    (dt.date(2025, 3, 7), 1, dt.date(2025, 3, 10)),
])
def test_known_dates(start, n, expected):
    assert add_working_days(start, n, overrides={}) == expected


def test_saturday_make_up_day_from_the_database(db):
    from vitreem.cases.models import WorkdayOverride

    WorkdayOverride.objects.create(day=dt.date(2025, 3, 8), is_working=True, note="Làm bù")
    assert add_working_days(dt.date(2025, 3, 7), 1) == dt.date(2025, 3, 8)
