"""Registry indicators: the committee's headline figures about children, and the grouped counts that
other apps' indicators of children use (`child_count`, `children_with_commune`).

Every count of children is additive (a child lives in one commune on a day), so the engine computes
it for every commune at once and sums it up the tree (stats.engine). The counts registered with
`child_count` are moreover computed together: one grouped query per as-of date gives every such
indicator a request wants (`child_counts`), which is what makes a full fill of the rollups cost about
one pass over the day's residences."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connection
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from vitreem.core.db import rows_as_sets
from vitreem.places.models import Population
from vitreem.stats.engine import SOURCES, Params, indicator, sum_by_record_unit

from .models import Child, Ethnicity, PovertyStatus, Residence, Sex, SpecialGroup
from .rules import covers, q_at_risk_on, q_child_on, q_poverty_in_force, q_special_on
from .selectors import AGE_BANDS, age_band_bounds

# Above this many communes the grouped queries read every residence of the day and drop the others in
# Python: a long IN list costs more than it saves (and SQLite bounds the number of parameters).
IN_LIST_LIMIT = 1000
# Above this many communes `child_counts` tests its conditions against sets computed once
# (core.db.HasRow) rather than probing for each child (PostgreSQL, when the plan hashes every set).
SETS_ABOVE = 50


def children_with_commune(day: dt.date, communes: set[int] | None) -> QuerySet[Child]:
    """The children counted on `day`, joined to their residence that day (in `communes`, None: all).
    Grouping by `residences__unit_id` gives one value per commune in one query: a child lives in one
    commune on a day (a move ends the old residence the day before the new one; the database refuses
    two residences of a child that overlap, migration registry/0010). The join starts from
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
# code -> a breakdown of the children counted by a column of the child: (the column, a function giving
# {column value: key}). Counted in the same pass as CHILD_COUNTS, as a second grouping key (`child_counts`).
CHILD_SPLITS: dict[str, tuple[str, Callable[[], dict[Any, str]]]] = {}


def child_counts(params: Params, communes: Iterable[int] | None, codes: list[str]) -> dict[str, dict[int, Any]]:
    """{code: {commune id: value}} for counts registered with `child_count`, in one grouped query: the
    children counted on the as-of date, by the commune of their residence that day, each count with
    its condition as a flag of the child's row.

    Shape (measured on the 200,000-child demo, PostgreSQL, every commune on one date: 1.0 s → 0.5 s):
    the conditions are computed per row in a subquery and counted outside it. As aggregate FILTERs,
    PostgreSQL costs each correlated EXISTS (poverty in force, risk factors, episodes) per output group
    (a few hundred communes) and runs it as an index probe for each of the 225,000 rows; as columns of
    a subquery it costs them per row and hashes each subquery once. `OFFSET 0` keeps PostgreSQL from
    flattening the subquery back into the grouping (SQLite has no such costing: no fence).

    For many communes on PostgreSQL the conditions are moreover tested against sets (`child IN
    (SELECT …)`, core.db.HasRow) instead of correlated EXISTS: each set is built once, and the
    per-child work can go to parallel workers. 100 communes of the demo on one date: 1.34 s → 0.60 s
    on one core; same counts. A plan that would not hash a set (too big for work_mem) keeps the probes
    (`_sets_hashed`). SQLite keeps the probes: its fill was within target with them.

    A breakdown by a column of the child (CHILD_SPLITS: the ethnicity) is a second grouping key of
    the same query, the other counts summed over it: one pass over the day's children instead of two
    (every commune of the country on one date: the ethnicity's own pass was 2–3 s, measured)."""
    split = next((c for c in codes if c in CHILD_SPLITS), None)  # one at most (`child_split`)
    codes = [c for c in codes if c != split]
    day = params.as_of
    wanted = None if communes is None else set(communes)
    atoms = _Atoms()
    counted: dict[str, tuple[str, str | None, str | None]] = {}  # name -> (code, breakdown key, condition)
    for code in codes:
        rule = CHILD_COUNTS[code](params)
        for key, q in (rule.items() if isinstance(rule, dict) else [(None, rule)]):
            # Q(): every child counted
            counted[f"n{len(counted)}"] = (code, key, atoms.formula(q) if q else None)
    split_of = {"c_key": F(CHILD_SPLITS[split][0])} if split else {}
    rows = (children_with_commune(day, wanted)
            .annotate(c_unit=F("residences__unit_id"), **split_of,
                      **{name: _flag(q) for name, q in atoms.columns.items()})
            .values("c_unit", *split_of, *atoms.columns))
    out: dict[str, dict[int, Any]] = {code: {} for code in [*codes, *([split] if split else [])]}
    qn = connection.ops.quote_name
    # A child is one row: the database refuses two residences of a child that overlap (migration
    # registry/0010), so a plain count is a count of children. Without DISTINCT, PostgreSQL counts in
    # its parallel workers and sorts nothing (11 counts, every commune of the country on one date: 6.5 s → 4.9 s).
    counts = ", ".join([*(f"COUNT(CASE WHEN {cond} THEN 1 END)" if cond else "COUNT(*)"
                          for _code, _key, cond in counted.values()),
                        *(["COUNT(*)"] if split else [])])
    group = ", ".join(qn(c) for c in ["c_unit", *split_of])
    many = wanted is None or len(wanted) > SETS_ABOVE
    postgres = connection.vendor == "postgresql"

    def text(as_sets: bool) -> tuple[str, Any]:
        with rows_as_sets() if as_sets else nullcontext():
            sql, sql_params = rows.query.sql_with_params()
        # The fence (`OFFSET 0`) keeps PostgreSQL from flattening the per-child subquery into the
        # counts: flattened, each condition's columns are put back into every count that names them, and
        # a condition several counts share (the child's special circumstances: four of them) is tested
        # again for each. Fenced, each is tested once per child, and the per-child probes stay per row
        # rather than costed per group (see above). One commune of the demo, its 9,156 children on one
        # date: see `_Atoms`. Conditions tested against sets need no fence: each set is hashed once per
        # count naming it, and unfenced PostgreSQL counts in its parallel workers, each its share of the
        # children (every commune of the country on one date, with the ethnicity split: 6.6 s → 4.9 s,
        # measured). SQLite has no such costing: no fence.
        fence = " OFFSET 0" if postgres and not as_sets else ""
        return (f"SELECT {group}, {counts} FROM ({sql}{fence}) AS per_child "  # noqa: S608 — names are ours
                f"GROUP BY {group}"), sql_params

    try:
        sql, sql_params = text(as_sets=many and postgres)
        if many and postgres and not _sets_hashed(sql, sql_params):
            sql, sql_params = text(as_sets=False)
    except EmptyResultSet:  # no commune to count (e.g. a scope with none)
        return out
    with connection.cursor() as cursor:
        cursor.execute(sql, sql_params)
        grouped = cursor.fetchall()
    key_of = CHILD_SPLITS[split][1]() if split else {}
    for unit_id, *values in grouped:
        if wanted is not None and unit_id not in wanted:
            continue
        if split:  # (commune, column value) rows: each count adds up over the column's values
            column, *values, n_all = values
            per_key = out[split].setdefault(unit_id, {})
            key = key_of.get(column, UNKNOWN)
            per_key[key] = per_key.get(key, 0) + n_all
        for (code, key, _cond), n in zip(counted.values(), values, strict=True):
            if key is None:
                out[code][unit_id] = out[code].get(unit_id, 0) + n
            else:
                per_key = out[code].setdefault(unit_id, {})
                per_key[key] = per_key.get(key, 0) + n
    return out


def _sets_hashed(sql: str, params: Any) -> bool:
    """Whether PostgreSQL plans every set of the counts' conditions (core.db.HasRow) as a hash table.

    A set that does not fit in `work_mem` (times `hash_mem_multiplier`) is not hashed: it is
    materialised and scanned again for every child, which at millions of children never ends. The
    plan is asked for first (a few milliseconds); such a query keeps the per-child probes instead.
    The plan names a hashed set "(hashed SubPlan N)" where an expression uses it."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (VERBOSE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def expressions(node: Any) -> Iterable[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key != "Subplan Name":  # the subplan's own label, hashed or not
                    yield from expressions(value)
        elif isinstance(node, list):
            for value in node:
                yield from expressions(value)
        elif isinstance(node, str):
            yield node

    return not any(re.search(r"(?<!hashed )SubPlan \d", text) for text in expressions(plan))


def _flag(q: Q) -> Case:
    # CASE rather than the bare condition: a condition that matches nothing (no poverty review in
    # force yet) compiles to FALSE here, where a bare one would compile to the integer 0.
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def _plain(value: Any) -> bool:
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, dt.date))


class _Atoms:
    """The conditions of the one pass's counts, each tested once per child (`child_counts`).

    Every leaf of a count's condition (a lookup such as `sex="M"`, or a row test such as the child's
    special circumstances) is a boolean column of the per-child subquery, and the count's condition a
    formula over those columns (AND, OR, NOT, as the `Q` says). A leaf several counts share is one
    column: the same lookup and value, or the same expression object (the rules keep one object per
    condition and date: `rules.q_special_on`). Written out per count, the special circumstances were
    tested four times per child (special, at risk and not special, special with an allowance, special
    and assisted), the household's commune twice (poor, near-poor).

    A column is false, never NULL (`_flag`), so NOT of a leaf keeps the rows Django's exclude keeps (a
    NULL column, a missing row). One commune of the 200,000-child demo (9,156 children, one date, the 12
    counts, PostgreSQL, medians of 9): 111 → 90 ms. Every leaf is tested for every child, where a count's
    own AND stopped at its first false leaf: measured, the shared tests weigh more."""

    def __init__(self) -> None:
        self.columns: dict[str, Q] = {}  # column name -> the leaf, as a Q
        self._names: dict[Any, str] = {}

    def _column(self, leaf: Any) -> str:
        # A lookup is known by its text when its value is plain data; anything else (an expression, a
        # queryset, whose repr would run it) by the object itself.
        key = ("lookup", leaf[0], repr(leaf[1])) if isinstance(leaf, tuple) and _plain(leaf[1]) \
            else ("object", id(leaf))
        if key not in self._names:
            name = f"a{len(self._names)}"
            self._names[key] = name
            # the expression itself is kept with its column, so its id cannot be reused by another
            self.columns[name] = Q(leaf)
        return connection.ops.quote_name(self._names[key])

    def formula(self, q: Q) -> str:
        if q.connector not in (Q.AND, Q.OR):
            raise ImproperlyConfigured(f"a count's condition joins with {q.connector}: only AND and OR")
        parts = [self.formula(c) if isinstance(c, Q) else self._column(c) for c in q.children]
        text = "(" + f" {q.connector} ".join(parts) + ")" if parts else "(1 = 1)"
        return f"(NOT {text})" if q.negated else text


def child_count(code: str, label: str, **options: Any) -> Callable[[CountRule], CountRule]:
    """Register an indicator that counts the children counted on the as-of date who satisfy a
    condition: the decorated function gives it (`Q`, or `{key: Q}` for a breakdown). A condition on
    the register alone by default; one that reads the rows of another app of rollups.APP_STAMPED
    (cases, allowances, activities) names it in `reads`, or a change there would leave the count stale."""

    options.setdefault("reads", ("registry",))

    def register(rule: CountRule) -> CountRule:
        CHILD_COUNTS[code] = rule
        indicator(code, label, batch=child_counts, **options)(rule)
        return rule

    return register


def child_split(code: str, label: str, column: str, keys: Callable[[], dict[Any, str]],
                **options: Any) -> None:
    """Register a breakdown of the children counted on the as-of date by a column of the child:
    `keys()` gives {column value: key}; a value it does not name (none recorded) counts as UNKNOWN.
    One such breakdown at most: each is a grouping key of the one pass, and two would multiply its groups."""
    if CHILD_SPLITS.keys() - {code}:
        raise ImproperlyConfigured(f"{code}: the grouped count has a split already ({', '.join(CHILD_SPLITS)})")
    CHILD_SPLITS[code] = (column, keys)
    indicator(code, label, batch=child_counts, reads=("registry",), **options)(lambda params: None)


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


@indicator("population", "Dân số", order=2, reads=())  # places.Population only
def population(params: Params) -> int:
    # Per unit: a unit without its communes' figures falls back to its own row (not a sum).
    ids = params.commune_ids(params.as_of)
    qs = Population.objects.filter(year=params.as_of.year)

    def grouped(units: frozenset[int] | None):
        rows = qs if units is None else qs.filter(unit_id__in=units)
        return rows.order_by().values_list("unit_id").annotate(n=Sum("total")).values_list("unit_id", "n")

    total = sum_by_record_unit(params, "population", grouped, ids) if ids is not None else None
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


@indicator("by_group", "Trẻ em có hoàn cảnh đặc biệt theo nhóm", order=8, by_commune=True, zero=_top_groups, reads=("registry",),
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


child_split("children_by_ethnicity", "Trẻ em theo dân tộc", "ethnicity_id",
            lambda: dict(Ethnicity.objects.values_list("pk", "code")), order=12, zero=dict, finish=_by_code,
            drilldown=lambda p: _drill(p), key_labels=_ethnicity_labels,
            key_drilldown=lambda p, key: None if key == UNKNOWN else _drill(p, ethnicity=key))
