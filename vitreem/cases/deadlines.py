"""Deadline arithmetic for Decree 56/2017: hours from receipt, and working days.

Working days skip Saturdays, Sundays and Vietnam's public holidays as published by the `holidays`
package (Tết and the other lunar-calendar holidays, and substituted days off, for any year), with
the province's own exceptions on top (`WorkdayOverride`: a Saturday worked to make up for a bridge
holiday, an extra day off). Nothing here is written for one particular year.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
from django.conf import settings

# Decree 56/2017, Arts. 26(3) and 31(2): emergency intervention (or temporary isolation, Art. 32(2))
# within 12 hours of receiving the information.
EMERGENCY_HOURS = 12
# Decree 56/2017, Art. 32(3): temporary isolation at most 15 days in total, extensions included, unless a
# competent authority asks in writing for longer.
ISOLATION_MAX_DAYS = 15
DEFAULT_PLAN_WORKING_DAYS = 5  # Decree 56/2017, Art. 28(1); provinces may set more (CaseRules).
# Decree 56/2017, Art. 28(4): the chairman approves the plan within 2 working days of receiving it.
APPROVAL_WORKING_DAYS = 2


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def _overrides() -> dict[dt.date, bool]:
    """The province's exceptions, read once per call chain (a handful of rows at most)."""
    from .models import WorkdayOverride

    try:
        return dict(WorkdayOverride.objects.values_list("day", "is_working"))
    except Exception:  # noqa: BLE001 — before migrations (e.g. import-time checks) there is no table
        return {}


def is_working_day(day: dt.date, overrides: dict[dt.date, bool] | None = None) -> bool:
    overrides = _overrides() if overrides is None else overrides
    if day in overrides:
        return overrides[day]
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def add_working_days(start: dt.date, n: int, overrides: dict[dt.date, bool] | None = None) -> dt.date:
    """The n-th working day after `start` (the day of the event itself does not count).

    Jumps whole weeks first (5 working days per 7 calendar days), then corrects for the holidays and
    overrides met on the way, so long periods do not walk day by day.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    overrides = _overrides() if overrides is None else overrides
    if n == 0:
        return start
    weeks = n // 5
    day = start + dt.timedelta(days=7 * weeks)
    # A jump of whole weeks crosses exactly 5 weekdays a week; correct for the days off (and
    # weekend days worked) met on the way, then walk the last few days.
    count = 5 * weeks - _lost_days(start, day, overrides)
    while count < n:
        day += dt.timedelta(days=1)
        if is_working_day(day, overrides):
            count += 1
    while count > n or not is_working_day(day, overrides):
        if is_working_day(day, overrides):
            count -= 1
        day -= dt.timedelta(days=1)
    return day


def _lost_days(start: dt.date, end: dt.date, overrides: dict[dt.date, bool]) -> int:
    """Weekdays in (start, end] that are not working days, minus weekend days that are."""
    lost = 0
    years = range(start.year, end.year + 1)
    off = set().union(*(_public_holidays(y) for y in years))
    for day in off:
        if start < day <= end and day.weekday() < 5 and overrides.get(day, False) is False:
            lost += 1
    for day, working in overrides.items():
        if not start < day <= end or (day in off and day.weekday() < 5):
            continue  # a weekday holiday was settled above; a weekend holiday made a working day is not
        if day.weekday() < 5 and not working:
            lost += 1
        elif day.weekday() >= 5 and working:
            lost -= 1
    return lost


def working_days_between(start: dt.date, end: dt.date, overrides: dict[dt.date, bool] | None = None) -> int:
    """Working days in (start, end]; 0 when end <= start."""
    overrides = _overrides() if overrides is None else overrides
    if end <= start:
        return 0
    full_weeks, extra = divmod((end - start).days, 7)
    weekdays = full_weeks * 5
    for i in range(1, extra + 1):
        if (start + dt.timedelta(days=7 * full_weeks + i)).weekday() < 5:
            weekdays += 1
    return weekdays - _lost_days(start, end, overrides)


def plan_working_days(unit) -> int:
    """The province's rule for drafting the plan (CaseRules), else the installation setting."""
    from .models import CaseRules

    code = getattr(unit, "province_code", None) or getattr(unit, "code", "")
    rule = CaseRules.objects.filter(province_code=code).first() if code else None
    if rule is not None:
        return rule.plan_working_days
    return int(getattr(settings, "VITREEM_CASE_PLAN_WORKING_DAYS", DEFAULT_PLAN_WORKING_DAYS))


def due_soon_hours(unit) -> int:
    from .models import CaseRules

    code = getattr(unit, "province_code", None) or ""
    rule = CaseRules.objects.filter(province_code=code).first() if code else None
    return rule.due_soon_hours if rule is not None else int(getattr(settings, "VITREEM_CASE_DUE_SOON_HOURS", 48))


def emergency_due(received_at: dt.datetime) -> dt.datetime:
    return received_at + dt.timedelta(hours=EMERGENCY_HOURS)
