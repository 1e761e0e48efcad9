"""Registry indicators: the committee's headline figures about children, and the grouped counts that
other apps' indicators of children use (`child_count`, `children_with_commune`).

Every count of children is additive (a child lives in one commune on a day), so the engine computes
it for every commune at once and sums it up the tree (stats.engine). The counts registered with
`child_count` are moreover computed together: one grouped query per as-of date gives every such
indicator a request wants (`child_counts`), which is what makes a full fill of the rollups cost about
one pass over the day's residences."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from vitreem.places.models import Population
from vitreem.stats.engine import SOURCES, Params, indicator

from .models import Child, Ethnicity, PovertyStatus, Residence, Sex, SpecialGroup
from .rules import covers, q_at_risk_on, q_child_on, q_poverty_in_force, q_special_on
from .selectors import AGE_BANDS, age_band_bounds

# Above this many communes the grouped queries read every residence of the day and drop the others in
# Python: a long IN list costs more than it saves (and SQLite bounds the number of parameters).
IN_LIST_LIMIT = 1000


def children_with_commune(day: dt.date, communes: set[int] | None) -> QuerySet[Child]:
    """The children counted on `day`, joined to their residence that day (in `communes`, None: all).
    Grouping by `residences__unit_id` gives one value per commune in one query: a child lives in one
    commune on a day (a move ends the old residence the day before the new one). The join starts from
    the child and the residences' (unit, start, end) index, so one commune reads its own rows only."""
    residence = covers(day, "residences__")
    if communes is not None and len(communes) <= IN_LIST_LIMIT:
        residence &= Q(residences__unit_id__in=sorted(communes))
    # One filter() call: the date and the commune are conditions on the same residence (two calls would
    # join the residences twice, and a child who lived in two of the communes would count in both).
    return Child.objects.filter(q_child_on(day)).filter(residence)


def grouped_by_commune(rows: Iterable[tuple[int, Any, int]], communes: set[int] | None) -> dict[int, dict[Any, int]]:
    """{commune id: {key: n}} from (commune id, key, n) rows, keeping the communes asked for."""
    out: dict[int, dict[Any, int]] = defaultdict(dict)
    for unit_id, key, n in rows:
        if communes is None or unit_id in communes:
            out[unit_id][key] = n
    return dict(out)


CountRule = Callable[[Params], "Q | dict[str, Q]"]
# code -> the condition on the child (or, for a breakdown, {key: condition}) of a count of children
CHILD_COUNTS: dict[str, CountRule] = {}


def child_counts(params: Params, communes: Iterable[int] | None, codes: list[str]) -> dict[str, dict[int, Any]]:
    """{code: {commune id: value}} for counts registered with `child_count`, in one grouped query: the
    children counted on the as-of date, by the commune of their residence that day, each count with
    its condition as an aggregate filter."""
    day = params.as_of
    wanted = None if communes is None else set(communes)
    rows = children_with_commune(day, wanted)
    aggregates: dict[str, Count] = {}
    keys: dict[str, tuple[str, str | None]] = {}  # aggregate name -> (code, breakdown key)
    for code in codes:
        rule = CHILD_COUNTS[code](params)
        for key, q in (rule.items() if isinstance(rule, dict) else [(None, rule)]):
            name = f"n{len(aggregates)}"
            aggregates[name] = Count("pk", distinct=True, filter=q if q else None)
            keys[name] = (code, key)
    out: dict[str, dict[int, Any]] = {code: {} for code in codes}
    grouped: Iterable[Any] = rows.values("residences__unit_id").annotate(**aggregates)
    for row in grouped:
        unit_id = row["residences__unit_id"]
        if wanted is not None and unit_id not in wanted:
            continue
        for name, (code, key) in keys.items():
            if key is None:
                out[code][unit_id] = row[name]
            else:
                out[code].setdefault(unit_id, {})[key] = row[name]
    return out


def child_count(code: str, label: str, **options: Any) -> Callable[[CountRule], CountRule]:
    """Register an indicator that counts the children counted on the as-of date who satisfy a
    condition: the decorated function gives it (`Q`, or `{key: Q}` for a breakdown)."""

    def register(rule: CountRule) -> CountRule:
        CHILD_COUNTS[code] = rule
        indicator(code, label, batch=child_counts, **options)(rule)
        return rule

    return register


def _units_of_children(ids: list[int]) -> set[int]:
    return set(Residence.objects.filter(child_id__in=ids).values_list("unit_id", flat=True).distinct())


def _province_codes() -> set[str]:
    return set(Child.objects.order_by().values_list("province_code", flat=True).distinct())


SOURCES.units_of_children = _units_of_children
SOURCES.province_codes = _province_codes


def _drill(params: Params, **filters) -> str:
    from urllib.parse import urlencode

    query = {"as_of": params.as_of.isoformat(), **filters}
    if params.unit is not None:
        query["unit"] = params.unit.ref
    return "/registry/children/?" + urlencode(query)


@child_count("children", "Số trẻ em dưới 16 tuổi", order=1, drilldown=lambda p: _drill(p))
def children(params: Params) -> Q:
    return Q()


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


@child_count("poor_household_children", "Trẻ em thuộc hộ nghèo", order=4,
             drilldown=lambda p: _drill(p, poverty=PovertyStatus.POOR))
def poor_household_children(params: Params) -> Q:
    return q_poverty_in_force(params.as_of, PovertyStatus.POOR)


@child_count("near_poor_household_children", "Trẻ em thuộc hộ cận nghèo", order=5,
             drilldown=lambda p: _drill(p, poverty=PovertyStatus.NEAR_POOR))
def near_poor_household_children(params: Params) -> Q:
    return q_poverty_in_force(params.as_of, PovertyStatus.NEAR_POOR)


@child_count("special_circumstances", "Trẻ em có hoàn cảnh đặc biệt", order=6, drilldown=lambda p: _drill(p, special="any"))
def special_circumstances(params: Params) -> Q:
    return q_special_on(params.as_of)


@child_count("at_risk", "Trẻ em có nguy cơ rơi vào hoàn cảnh đặc biệt", order=7, drilldown=lambda p: _drill(p, at_risk="1"))
def at_risk(params: Params) -> Q:
    return q_at_risk_on(params.as_of)


def _top_groups() -> dict[str, int]:
    return dict.fromkeys(SpecialGroup.objects.filter(parent__isnull=True).values_list("code", flat=True), 0)


def _group_labels() -> dict[str, str]:
    return {g.code: g.local_name for g in SpecialGroup.objects.filter(parent__isnull=True).order_by("number")}


@indicator("by_group", "Trẻ em có hoàn cảnh đặc biệt theo nhóm", order=8, by_commune=True, zero=_top_groups,
           key_labels=_group_labels, key_drilldown=lambda p, key: _drill(p, special=key))
def by_group(params: Params, communes) -> dict[int, dict[str, int]]:
    """Children per Art. 10 group on the date (a child in two groups counts in both)."""
    day = params.as_of
    wanted = None if communes is None else set(communes)
    # the episodes covering the day of the children counted, by their commune that day: one grouping
    rows = (children_with_commune(day, wanted).filter(covers(day, "special_episodes__"))
            .values_list("residences__unit_id", "special_episodes__group__code").annotate(n=Count("pk", distinct=True)))
    return grouped_by_commune(rows, wanted)


# ---------------------------------------------------------------- breakdowns of the child count
# For the standard statistical tables (Circular 13/2021/TT-BLĐTBXH: by sex, age band and ethnicity).
# Same counting rule as `children`, so each breakdown sums to it; each key has a drill-down to the
# child list with the matching filter.

UNKNOWN = "?"  # ethnicity not recorded


@child_count("children_by_sex", "Trẻ em theo giới tính", order=10, zero=lambda: dict.fromkeys(Sex.values, 0),
             drilldown=lambda p: _drill(p), key_labels=lambda: {k: str(v) for k, v in Sex.choices},
             key_drilldown=lambda p, key: _drill(p, sex=key))
def children_by_sex(params: Params) -> dict[str, Q]:
    return {sex: Q(sex=sex) for sex in Sex.values}


@child_count("children_by_age_band", "Trẻ em theo nhóm tuổi", order=11, zero=lambda: dict.fromkeys(AGE_BANDS, 0),
             drilldown=lambda p: _drill(p), key_labels=lambda: {band: band for band in AGE_BANDS},
             key_drilldown=lambda p, key: _drill(p, age_band=key))
def children_by_age_band(params: Params) -> dict[str, Q]:
    return {band: Q(birth_date__range=bounds) if (bounds := age_band_bounds(band, params.as_of)) else Q(pk__isnull=True)
            for band in AGE_BANDS}


def _by_code(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: kv[0] if kv[0] != UNKNOWN else "~"))


def _ethnicity_labels() -> dict[str, str]:
    return {**dict(Ethnicity.objects.values_list("code", "name")), UNKNOWN: str(_("Chưa rõ"))}


@indicator("children_by_ethnicity", "Trẻ em theo dân tộc", order=12, by_commune=True, zero=dict, finish=_by_code,
           drilldown=lambda p: _drill(p), key_labels=_ethnicity_labels,
           key_drilldown=lambda p, key: None if key == UNKNOWN else _drill(p, ethnicity=key))
def children_by_ethnicity(params: Params, communes) -> dict[int, dict[str, int]]:
    wanted = None if communes is None else set(communes)
    rows = (children_with_commune(params.as_of, wanted).values_list("residences__unit_id", "ethnicity__code")
            .annotate(n=Count("pk", distinct=True)))
    return {unit: {code or UNKNOWN: n for code, n in counts.items()}
            for unit, counts in grouped_by_commune(rows, wanted).items()}
