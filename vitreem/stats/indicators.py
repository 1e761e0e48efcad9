"""Breakdowns of the child count for the standard statistical tables (Circular 13/2021/TT-BLĐTBXH
tables by sex, age band and ethnicity). Same counting rule as `children` (registry.indicators), so
each breakdown sums to it; each key has a drill-down to the child list with the matching filter."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Case, Value, When

from vitreem.registry.indicators import count_by_commune
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


@indicator("children_by_sex", "Trẻ em theo giới tính", order=10, by_commune=True,
           zero=lambda: dict.fromkeys(Sex.values, 0), drilldown=lambda p: child_list_url(p))
def children_by_sex(params: Params, communes) -> dict[int, dict[str, int]]:
    return count_by_commune(params.as_of, communes, by="sex")


@indicator("children_by_age_band", "Trẻ em theo nhóm tuổi", order=11, by_commune=True,
           zero=lambda: dict.fromkeys(AGE_BANDS, 0), drilldown=lambda p: child_list_url(p))
def children_by_age_band(params: Params, communes) -> dict[int, dict[str, int]]:
    day = params.as_of
    band = Case(*(When(child__birth_date__range=bounds, then=Value(name)) for name in AGE_BANDS
                  if (bounds := age_band_bounds(name, day))), default=Value(""))
    rows = count_by_commune(day, communes, by="age_band", annotate={"age_band": band})
    return {unit: {k: n for k, n in counts.items() if k} for unit, counts in rows.items()}


def _by_code(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: kv[0] if kv[0] != UNKNOWN else "~"))


@indicator("children_by_ethnicity", "Trẻ em theo dân tộc", order=12, by_commune=True, zero=dict, finish=_by_code,
           drilldown=lambda p: child_list_url(p))
def children_by_ethnicity(params: Params, communes) -> dict[int, dict[str, int]]:
    rows = count_by_commune(params.as_of, communes, by="ethnicity__code")
    return {unit: {code or UNKNOWN: n for code, n in counts.items()} for unit, counts in rows.items()}


# The list filter behind each key of a breakdown (registry.forms.ChildFilterForm).
KEY_FILTERS = {"by_group": "special", "children_by_sex": "sex", "children_by_age_band": "age_band",
               "children_by_ethnicity": "ethnicity"}


def drilldown_key(code: str, params: Params, key: str) -> str | None:
    name = KEY_FILTERS.get(code)
    if name is None or key == UNKNOWN:
        return None
    return child_list_url(params, **{name: key})
