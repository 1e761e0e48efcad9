"""Registry indicators: the committee's headline figures about children."""

from __future__ import annotations

from django.db.models import Count, Sum

from vitreem.places.models import Population
from vitreem.stats.engine import Params, indicator

from .models import Child, PovertyStatus, SpecialGroup
from .rules import q_at_risk_on, q_child_on, q_lives_in, q_poverty_in_force, q_special_on


def children_on(params: Params, day=None):
    day = day or params.as_of
    return Child.objects.filter(q_child_on(day) & q_lives_in(day, params.commune_ids(day)))


def _drill(params: Params, **filters) -> str:
    from urllib.parse import urlencode

    query = {"as_of": params.as_of.isoformat(), **filters}
    if params.unit is not None:
        query["unit"] = params.unit.ref
    return "/registry/children/?" + urlencode(query)


@indicator("children", "Số trẻ em dưới 16 tuổi", order=1, drilldown=lambda p: _drill(p))
def children(params: Params) -> int:
    return children_on(params).count()


@indicator("population", "Dân số", order=2)
def population(params: Params) -> int:
    ids = params.commune_ids(params.as_of)
    qs = Population.objects.filter(year=params.as_of.year)
    total = qs.filter(unit_id__in=ids).aggregate(n=Sum("total"))["n"] if ids is not None else None
    if not total and params.unit is not None:
        total = qs.filter(unit=params.unit).aggregate(n=Sum("total"))["n"]
    if total is None and ids is None:
        total = qs.filter(unit__level="commune").aggregate(n=Sum("total"))["n"]
    return int(total or 0)


@indicator("children_share", "Tỷ lệ trẻ em trong dân số", measure="percent", order=3)
def children_share(params: Params) -> float | None:
    pop = population(params)
    return round(children(params) / pop, 4) if pop else None


@indicator("poor_household_children", "Trẻ em thuộc hộ nghèo", order=4,
           drilldown=lambda p: _drill(p, poverty=PovertyStatus.POOR))
def poor_household_children(params: Params) -> int:
    return children_on(params).filter(q_poverty_in_force(params.as_of, PovertyStatus.POOR)).count()


@indicator("near_poor_household_children", "Trẻ em thuộc hộ cận nghèo", order=5,
           drilldown=lambda p: _drill(p, poverty=PovertyStatus.NEAR_POOR))
def near_poor_household_children(params: Params) -> int:
    return children_on(params).filter(q_poverty_in_force(params.as_of, PovertyStatus.NEAR_POOR)).count()


@indicator("special_circumstances", "Trẻ em có hoàn cảnh đặc biệt", order=6,
           drilldown=lambda p: _drill(p, special="any"))
def special_circumstances(params: Params) -> int:
    return children_on(params).filter(q_special_on(params.as_of)).count()


@indicator("at_risk", "Trẻ em có nguy cơ rơi vào hoàn cảnh đặc biệt", order=7,
           drilldown=lambda p: _drill(p, at_risk="1"))
def at_risk(params: Params) -> int:
    return children_on(params).filter(q_at_risk_on(params.as_of)).count()


@indicator("by_group", "Trẻ em có hoàn cảnh đặc biệt theo nhóm", order=8)
def by_group(params: Params) -> dict[str, int]:
    """Children per Art. 10 group on the date (a child in two groups counts in both)."""
    from .models import SpecialEpisode
    from .rules import covers

    day = params.as_of
    ids = children_on(params).values("pk")
    rows = (SpecialEpisode.objects.filter(covers(day), child_id__in=ids)
            .values("group__code").annotate(n=Count("child", distinct=True)))
    counts = {row["group__code"]: row["n"] for row in rows}
    return {g.code: counts.get(g.code, 0) for g in SpecialGroup.objects.filter(parent__isnull=True)}
