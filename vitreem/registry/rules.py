"""The registry's counting rules, in one place. Stats, lists and eligibility all use these.

- A child *counts* on day D when born on or before D, under 16 on D, and their record has not
  ended (death, leaving the province) on or before D; a merged duplicate never counts.
- A child is *in special circumstances* on D when an episode covers D (start ≤ D, no end or end ≥ D).
- A child is *at risk* on D when at least one risk factor covers D and they are not in special
  circumstances on D (Law on Children Art. 10 and the provincial definition of "nguy cơ").
- A child *lives in* a set of units on D through the residence that covers D.
- A household's poverty status on D is its classification in the review *in force* on D: the
  review of D's year once any household has been classified for that year, else the latest
  earlier review. The annual review (rà soát hộ nghèo) ends in December; until its results are
  recorded, the previous year's list is the one communes and allowances use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q

from .models import CHILD_AGE_LIMIT, ChildRisk, HouseholdPoverty, Residence, SpecialEpisode


def sixteen_years_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - CHILD_AGE_LIMIT)
    except ValueError:  # 29 February
        return day.replace(year=day.year - CHILD_AGE_LIMIT, day=28)


def covers(day: dt.date, prefix: str = "") -> Q:
    """Q for a dated row (start/end) that covers `day`."""
    return Q(**{f"{prefix}start__lte": day}) & (Q(**{f"{prefix}end__isnull": True}) | Q(**{f"{prefix}end__gte": day}))


def q_child_on(day: dt.date) -> Q:
    """Children under 16 and on the register on `day`."""
    # A merged duplicate never counted: it was the same child as its survivor, on every date.
    return (Q(birth_date__lte=day) & Q(birth_date__gt=sixteen_years_before(day))
            & (Q(ended_on__isnull=True) | Q(ended_on__gt=day)) & ~Q(end_reason="merged"))


def q_lives_in(day: dt.date, unit_ids: Iterable[int] | None) -> Q:
    if unit_ids is None:
        return Q()
    return Q(Exists(Residence.objects.filter(covers(day), child=OuterRef("pk"), unit_id__in=list(unit_ids))))


def q_special_on(day: dt.date, group_codes: Iterable[str] | None = None) -> Q:
    episodes = SpecialEpisode.objects.filter(covers(day), child=OuterRef("pk"))
    if group_codes:
        episodes = episodes.filter(group__code__in=list(group_codes))
    return Q(Exists(episodes))


def q_at_risk_on(day: dt.date) -> Q:
    return Q(Exists(ChildRisk.objects.filter(covers(day), child=OuterRef("pk")))) & ~q_special_on(day)


def poverty_year_on(day: dt.date) -> int:
    """The year of the poverty review in force on `day` (see the module docstring); `day.year`
    when no review at all is recorded. One indexed MAX query."""
    from django.db.models import Max

    latest = HouseholdPoverty.objects.filter(year__lte=day.year).aggregate(y=Max("year"))["y"]
    return int(latest) if latest is not None else day.year


def q_poverty(year: int, status: str) -> Q:
    """Children whose household was classified `status` for `year`."""
    return Q(Exists(HouseholdPoverty.objects.filter(household=OuterRef("household"), year=year, status=status)))
