"""The registry's counting rules, in one place. Stats, lists and eligibility all use these.

- A child *counts* on day D when born on or before D, under 16 on D, and their record has not
  ended (death, leaving the province) on or before D; a merged duplicate never counts.
- A child is *in special circumstances* on D when an episode covers D (start ≤ D, no end or end ≥ D).
- A child is *at risk* on D when at least one risk factor covers D and they are not in special
  circumstances on D (Law on Children Art. 10 and the provincial definition of "nguy cơ").
- A child *lives in* a set of units on D through the residence that covers D.
- A household's poverty status on D is its classification in the review *in force* on D in the
  household's commune: the latest year (up to D's) whose review that commune had decided on or
  before D (models.PovertyReview, Decision 24/2021/QĐ-TTg Art. 4: the annual review ends with the
  commune chairman recognising the list). Until a commune's new list is decided, its previous list
  is the one the commune and the allowances use; a commune with no decided review has no status in
  force. Classifying households (one by one, or an import of a few) never puts a year in force by
  itself: that is how one 30-row import once became the province's whole 2026 review (issue 21 item 1).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache, reduce
from operator import or_

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from vitreem.core.db import has_row
from vitreem.places.selectors import default_links

from .models import CHILD_AGE_LIMIT, ChildRisk, HouseholdPoverty, PovertyReview, Residence, SpecialEpisode


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
    return _special_on(day, tuple(group_codes or ()))


@lru_cache(maxsize=64)
def _special_on(day: dt.date, group_codes: tuple[str, ...]) -> Q:
    # One object per date and groups: the one pass of the counts tests a condition once per child when
    # several counts name the same object (registry.indicators._Atoms); four name this one. A Q is
    # never changed in place (combining or negating makes a new one), so sharing it is safe.
    episodes = SpecialEpisode.objects.filter(covers(day))
    if group_codes:
        episodes = episodes.filter(group__code__in=list(group_codes))
    return has_row(episodes, "child")


def q_at_risk_on(day: dt.date) -> Q:
    return has_row(ChildRisk.objects.filter(covers(day)), "child") & ~q_special_on(day)


def poverty_years_on(day: dt.date, units: Iterable[int] | None = None) -> dict[int, int]:
    """{commune id: year of the poverty review in force there on `day`} (see the module docstring), for
    every commune, or only for `units` (a page's households' communes: reading every review of the
    installation was a tenth of a commune's child list, and grows with the country).

    Across the 2025 reform a decided review also counts for the commune it was merged into (its
    default successor) and for the legacy communes merged into it: a household keeps the unit version
    it was registered in, and the list of the commune that governs it is the one in force. One query:
    the crosswalk's links are kept per process (places.selectors.default_links)."""
    links = default_links()
    reviews = PovertyReview.objects.filter(year__lte=day.year, decided_on__lte=day)
    if units is not None:
        wanted = set(units)
        # in_ids (core.db.InIds): a province's hundreds of communes as one array parameter each, not
        # one parameter per id compiled into the text (a few milliseconds of every page that reads them)
        reviews = reviews.filter(unit_id__in_ids=wanted.union(*(links.get(u, ()) for u in wanted)))
    decided = dict(reviews.values("unit_id").annotate(y=Max("year")).values_list("unit_id", "y"))
    years = dict(decided)
    for src, year in decided.items():
        for dst in links.get(src, ()):
            years[dst] = max(years.get(dst, 0), year)
    return years if units is None else {u: y for u, y in years.items() if u in wanted}


def _classified(status: str, province_code: str | None) -> QuerySet:
    """The classifications `status`; of one province's households only when `province_code` is given
    (a scope within one province: its households' rows carry its code, which never changes)."""
    rows = HouseholdPoverty.objects.filter(status=status)
    return rows.filter(province_code=province_code) if province_code else rows


def q_poverty_in_force(day: dt.date, status: str, province_code: str | None = None) -> Q:
    """Children whose household is classified `status` in the review in force on `day` in its commune.

    `province_code`: the list is within that province (a user's scope). Then the test reads that
    province's classifications only (the `poverty_province_year` index), which PostgreSQL can hash
    once: on the 25,000,000-child country the province's search "thi" with the poverty filter otherwise
    probed the household and the classifications of each of its 49,000 matches one by one (the
    matches of a name cannot be estimated): 248–286 ms; with the province's 18,000 poor households
    hashed, 149–164 ms (stop 49, alternated)."""
    by_year: dict[int, list[int]] = defaultdict(list)
    for unit_id, year in poverty_years_on(day).items():
        by_year[year].append(unit_id)
    if not by_year:
        return Q(pk__in=[])
    # One OR branch per year in force (one or two in practice: communes decide within weeks). The
    # commune is tested on the outer row (the child's household, one join), so the EXISTS stays the
    # (household, year) unique-index lookup of a single-year count.
    rows = _classified(status, province_code)
    return reduce(or_, (Q(household__unit_id__in_ids=ids)
                        & has_row(rows.filter(year=year), "household", outer="household")
                        for year, ids in sorted(by_year.items())))


def poverty_status_of(household_ids: Iterable[int], day: dt.date) -> dict[int, str]:
    """{household id: its status in the review in force on `day` in its commune}; households without
    one are absent. Up to 5,000 households (a page): three queries. More (an export): one query per 5,000,
    plus poverty_years_on's two."""
    ids = list(household_ids)
    status: dict[int, str] = {}
    if not ids:
        return status
    if len(ids) <= 5000:
        # A page's households: their classifications of every year (a few rows each), then the reviews
        # of their communes only.
        rows = list(HouseholdPoverty.objects.filter(household_id__in=ids, year__lte=day.year)
                    .values_list("household_id", "household__unit_id", "year", "status"))
        years = poverty_years_on(day, units={unit_id for _hh, unit_id, _year, _st in rows})
        return {hh: st for hh, unit_id, year, st in rows if years.get(unit_id) == year}
    years = poverty_years_on(day)  # an export's: every review, and only the years in force
    if not years:
        return status
    for i in range(0, len(ids), 5000):
        chunk = (HouseholdPoverty.objects.filter(household_id__in=ids[i:i + 5000], year__in=set(years.values()))
                 .values_list("household_id", "household__unit_id", "year", "status"))
        status.update({hh: st for hh, unit_id, year, st in chunk if years.get(unit_id) == year})
    return status


def q_poverty(year: int, status: str, province_code: str | None = None) -> Q:
    """Children whose household was classified `status` for `year` (decided or not: a list asked for
    by its year, such as the export of a year's classifications). `province_code`: as
    `q_poverty_in_force`."""
    return has_row(_classified(status, province_code).filter(year=year), "household", outer="household")
