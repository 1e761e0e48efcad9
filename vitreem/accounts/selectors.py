"""Reads of the committee's membership: which member units, and which standing agency, on a day.

Membership and the standing agency are dated (issue 14 item 17): a report of 2022 names the bodies of
2022, a report of 2026 those of 2026, and a form offers the units that are members on the day it is for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from .models import MemberUnit, MemberUnitQuerySet, StandingAgencyPeriod


def member_units_on(day: dt.date) -> MemberUnitQuerySet:
    """The units that are members of the committee on `day` (their period covers it, the record is on)."""
    return MemberUnit.objects.on(day)  # type: ignore[return-value]


def member_units_during(start: dt.date, end: dt.date) -> MemberUnitQuerySet:
    """The units that were members at any time from `start` to `end` (a report's period)."""
    return MemberUnit.objects.filter(active=True).overlapping(start, end)  # type: ignore[return-value]


def member_unit_choices(*, day: dt.date, keep: Iterable[int | None] = ()) -> MemberUnitQuerySet:
    """What a form may offer: the units that are members on `day`, and the ones a record already
    points to (`keep`), so an old record that names a unit since ended still shows and keeps it."""
    kept = [pk for pk in keep if pk]
    on = Q(pk__in=member_units_on(day).values("pk"))
    return MemberUnit.objects.filter(on | Q(pk__in=kept) if kept else on)


def standing_agency_period_on(day: dt.date) -> StandingAgencyPeriod | None:
    return StandingAgencyPeriod.objects.on(day).select_related("member_unit").order_by("-valid_from").first()


def standing_agency_on(day: dt.date) -> MemberUnit | None:
    """The committee's standing agency (cơ quan thường trực) on `day`; None when no period covers it."""
    period = standing_agency_period_on(day)
    return period.member_unit if period is not None else None
