"""Breakdowns of the child count for the standard statistical tables (Circular 13/2021/TT-BLĐTBXH
tables by sex, age band and ethnicity). Same counting rule as `children` (registry.indicators), so
each breakdown sums to it; each key has a drill-down to the child list with the matching filter."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count

from vitreem.registry.indicators import children_on
from vitreem.registry.models import Sex
from vitreem.registry.selectors import AGE_BANDS, age_band_bounds

from .engine import Params, indicator

UNKNOWN = "?"  # ethnicity not recorded


def child_list_url(params: Params, **filters: str) -> str:
    """The child list behind a figure: the children counted on the as-of date in the unit."""
    query = {"as_of": params.as_of.isoformat(), **filters}
    if params.unit is not None:
        query["unit"] = params.unit.ref
    return "/registry/children/?" + urlencode(query)


@indicator("children_by_sex", "Trẻ em theo giới tính", order=10, drilldown=lambda p: child_list_url(p))
def children_by_sex(params: Params) -> dict[str, int]:
    rows = dict(children_on(params).values_list("sex").annotate(n=Count("pk")).values_list("sex", "n"))
    return {s: rows.get(s, 0) for s in Sex.values}


@indicator("children_by_age_band", "Trẻ em theo nhóm tuổi", order=11, drilldown=lambda p: child_list_url(p))
def children_by_age_band(params: Params) -> dict[str, int]:
    qs = children_on(params)
    out = {}
    for band in AGE_BANDS:
        bounds = age_band_bounds(band, params.as_of)
        out[band] = qs.filter(birth_date__range=bounds).count() if bounds else 0
    return out


@indicator("children_by_ethnicity", "Trẻ em theo dân tộc", order=12, drilldown=lambda p: child_list_url(p))
def children_by_ethnicity(params: Params) -> dict[str, int]:
    rows = children_on(params).values_list("ethnicity__code").annotate(n=Count("pk"))
    return {code or UNKNOWN: n for code, n in sorted(rows, key=lambda r: r[0] or "~")}


# The list filter behind each key of a breakdown (registry.forms.ChildFilterForm).
KEY_FILTERS = {"by_group": "special", "children_by_sex": "sex", "children_by_age_band": "age_band",
               "children_by_ethnicity": "ethnicity"}


def drilldown_key(code: str, params: Params, key: str) -> str | None:
    name = KEY_FILTERS.get(code)
    if name is None or key == UNKNOWN:
        return None
    return child_list_url(params, **{name: key})
