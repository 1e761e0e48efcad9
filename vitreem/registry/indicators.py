"""Registry indicators: the committee's headline figures about children."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from vitreem.places.models import Population
from vitreem.stats.engine import Params, indicator

from .models import Child, PovertyStatus, Residence, SpecialGroup
from .rules import covers, q_at_risk_on, q_child_on, q_lives_in, q_poverty_in_force, q_special_on

# Above this many communes the grouped queries read every residence of the day and drop the others in
# Python: a long IN list costs more than it saves (and SQLite bounds the number of parameters).
IN_LIST_LIMIT = 1000


def children_on(params: Params, day=None):
    """The children counted on `day` (default: the as-of date) in the params' unit and scope."""
    day = day or params.as_of
    return Child.objects.filter(q_child_on(day) & q_lives_in(day, params.commune_ids(day)))


def residences_on(day: dt.date, communes: Iterable[int] | None, q: Q | None = None) -> QuerySet[Residence]:
    """The residences covering `day` of the children counted that day who satisfy `q` (in `communes`,
    None: all). Grouping them by `unit_id` gives one value per commune in one query: a child lives in
    one commune on a day (a move ends the old residence the day before the new one)."""
    kids = Child.objects.filter(q_child_on(day) & (q or Q())).values("pk")
    rows = Residence.objects.filter(covers(day), child_id__in=kids)
    if communes is not None and len(communes := list(communes)) <= IN_LIST_LIMIT:
        rows = rows.filter(unit_id__in=sorted(communes))
    return rows


def count_by_commune(day: dt.date, communes: Iterable[int] | None, q: Q | None = None, *,
                     by: str | None = None, annotate: dict[str, Any] | None = None) -> dict[int, Any]:
    """{commune id: children counted on `day` there who satisfy `q`} — or, with `by` (a field of the
    child, or a name of `annotate`: expressions over the residence rows), {commune id: {its value:
    children}} — in one grouped query."""
    wanted = None if communes is None else set(communes)
    rows = residences_on(day, wanted, q)
    if annotate:
        rows = rows.annotate(**annotate)
    if by is None:
        counts = rows.values_list("unit_id").annotate(n=Count("child_id", distinct=True))
        return {unit_id: n for unit_id, n in counts if wanted is None or unit_id in wanted}
    out: dict[int, dict[Any, int]] = defaultdict(dict)
    for unit_id, key, n in rows.values_list("unit_id", by if annotate and by in annotate else f"child__{by}").annotate(n=Count("child_id", distinct=True)):
        if wanted is None or unit_id in wanted:
            out[unit_id][key] = n
    return dict(out)


def _drill(params: Params, **filters) -> str:
    from urllib.parse import urlencode

    query = {"as_of": params.as_of.isoformat(), **filters}
    if params.unit is not None:
        query["unit"] = params.unit.ref
    return "/registry/children/?" + urlencode(query)


@indicator("children", "Số trẻ em dưới 16 tuổi", order=1, by_commune=True, drilldown=lambda p: _drill(p))
def children(params: Params, communes) -> dict[int, int]:
    return count_by_commune(params.as_of, communes)


@indicator("population", "Dân số", order=2)
def population(params: Params) -> int:
    # Per unit: a unit without its communes' figures falls back to its own row (not a sum).
    ids = params.commune_ids(params.as_of)
    qs = Population.objects.filter(year=params.as_of.year)
    total = qs.filter(unit_id__in=ids).aggregate(n=Sum("total"))["n"] if ids is not None else None
    if not total and params.unit is not None:
        total = qs.filter(unit=params.unit).aggregate(n=Sum("total"))["n"]
    if total is None and ids is None:
        total = qs.filter(unit__level="commune").aggregate(n=Sum("total"))["n"]
    return int(total or 0)


def share(part: int | None, whole: int | None) -> float | None:
    """A share computed from its additive parts at each level (never an average of shares)."""
    return round(part / whole, 4) if whole and part is not None else None


@indicator("children_share", "Tỷ lệ trẻ em trong dân số", measure="percent", order=3,
           parts=("children", "population"))
def children_share(children: int, population: int) -> float | None:
    return share(children, population)


@indicator("poor_household_children", "Trẻ em thuộc hộ nghèo", order=4, by_commune=True,
           drilldown=lambda p: _drill(p, poverty=PovertyStatus.POOR))
def poor_household_children(params: Params, communes) -> dict[int, int]:
    return count_by_commune(params.as_of, communes, q_poverty_in_force(params.as_of, PovertyStatus.POOR))


@indicator("near_poor_household_children", "Trẻ em thuộc hộ cận nghèo", order=5, by_commune=True,
           drilldown=lambda p: _drill(p, poverty=PovertyStatus.NEAR_POOR))
def near_poor_household_children(params: Params, communes) -> dict[int, int]:
    return count_by_commune(params.as_of, communes, q_poverty_in_force(params.as_of, PovertyStatus.NEAR_POOR))


@indicator("special_circumstances", "Trẻ em có hoàn cảnh đặc biệt", order=6, by_commune=True,
           drilldown=lambda p: _drill(p, special="any"))
def special_circumstances(params: Params, communes) -> dict[int, int]:
    return count_by_commune(params.as_of, communes, q_special_on(params.as_of))


@indicator("at_risk", "Trẻ em có nguy cơ rơi vào hoàn cảnh đặc biệt", order=7, by_commune=True,
           drilldown=lambda p: _drill(p, at_risk="1"))
def at_risk(params: Params, communes) -> dict[int, int]:
    return count_by_commune(params.as_of, communes, q_at_risk_on(params.as_of))


def _top_groups() -> dict[str, int]:
    return dict.fromkeys(SpecialGroup.objects.filter(parent__isnull=True).values_list("code", flat=True), 0)


@indicator("by_group", "Trẻ em có hoàn cảnh đặc biệt theo nhóm", order=8, by_commune=True, zero=_top_groups)
def by_group(params: Params, communes) -> dict[int, dict[str, int]]:
    """Children per Art. 10 group on the date (a child in two groups counts in both)."""
    day = params.as_of
    wanted = None if communes is None else set(communes)
    # the episodes covering the day, through the child's residence that day: one join, one grouping
    episode = "child__special_episodes__"
    rows = (residences_on(day, wanted).filter(covers(day, episode))
            .values_list("unit_id", f"{episode}group__code").annotate(n=Count("child_id", distinct=True)))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for unit_id, code, n in rows:
        if wanted is None or unit_id in wanted:
            out[unit_id][code] = n
    return dict(out)
