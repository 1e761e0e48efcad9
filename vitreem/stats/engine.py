"""The one statistics engine. Every figure — dashboard, report, .xlsx table, API, `vitreem stats` —
is an *indicator* registered here and computed for a unit and an as-of date (or a period).

Apps contribute indicators in `vitreem/<app>/indicators.py` with the `@indicator` decorator; the
engine discovers them. An indicator is one of three shapes (issue 13: one pass for every unit):

- *additive* (`by_commune=True`): the function takes `Params` and a set of communes (None: all) and
  returns `{commune id: value}` from one grouped query. A unit's value — a district, a province, the
  country, in either version of the units — is the sum of its communes' values (`total`); dict values
  (breakdowns) are summed key by key. A child lives in one commune on a day, so the sum counts every
  child once. `compute_units` computes any number of units on a day with one grouped query per
  indicator.
- *derived* (`parts=(...)`): a rate or share computed from other indicators' values of the same unit
  and day — from its additive parts at each level, never an average of rates.
- *per unit* (the rest): the function takes `Params` and returns the unit's value. These are the
  figures that cannot be summed up the tree (cases counted across both versions of the units, budget
  lines of any level, the communes with a play point over the unit's communes) or that are cheap per
  unit; the engine computes them for the unit itself.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext

from vitreem.places.models import AdminUnit, Level, version_on
from vitreem.places.selectors import default_links, stamp_read_once, unit_tree


@dataclass(frozen=True)
class Indicator:
    code: str
    label_vi: str  # as registered; official documents print it (reports), screens print `label`
    fn: Callable[[Params], Any]
    measure: str = "number"  # number, percent (a fraction 0–1), vnd, per_1000
    kind: str = "stock"  # stock: as of a date; flow: over the period
    drilldown: Callable[[Params], str | None] | None = None
    description: str = ""
    order: int = 50
    # How dashboards keep it pre-computed (vitreem/stats/rollups.py): "cache" — stored per unit and
    # as-of date, recomputed after a change; "live" — never stored (depends on the clock).
    # "" = the default (rollups.DEFAULT_MODES, else "cache").
    rollup: str = ""
    # additive: `fn` is the grouped function (Params, communes) -> {commune id: value}; `zero` is the
    # value of a commune with nothing to count (its key set is the breakdown's), `finish` orders a
    # summed breakdown.
    by_commune: Callable[..., dict[int, Any]] | None = None
    # several additive indicators computed by one grouped query: batch(params, communes, codes) ->
    # {code: {commune id: value}} (e.g. every count of children in registry.indicators.child_counts)
    batch: Callable[..., dict[str, dict[int, Any]]] | None = None
    zero: Callable[[], Any] = int
    finish: Callable[[Any], Any] | None = None
    # breakdowns (dict values): the keys' labels in the reader's language, and the list behind a key —
    # what a dashboard or a report table needs to know of the app, given with the registration.
    key_labels: Callable[[], dict[str, str]] | None = None
    key_drilldown: Callable[[Params, str], str | None] | None = None
    # derived: `combine(*values of parts)`.
    parts: tuple[str, ...] = ()
    combine: Callable[..., Any] | None = None
    # The apps whose records the figure reads, of those whose changes are stamped by app
    # (rollups.APP_STAMPED: a change there leaves the other figures fresh); None: it may read any.
    # Declared only where the function's every read is known: a figure that says it reads only
    # "cases" is not recomputed after an activity is recorded. A derived figure reads what its parts read.
    reads: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """The label in the language of the request (the catalogue has every indicator's English:
        tests/test_translations.py)."""
        return gettext(self.label_vi)


@dataclass
class Sources:
    """What the engine and its rollups ask of the app that keeps the register of children, given by
    that app when its indicators register (registry.indicators): the engine imports no domain app."""

    # the communes where these children ever lived (a change to a child record stamps them)
    units_of_children: Callable[[list[int]], set[int]] = lambda ids: set()
    # the 2025 province codes of the provinces with children on the register (what rollups fill)
    province_codes: Callable[[], set[str]] = set


SOURCES = Sources()
_REGISTRY: dict[str, Indicator] = {}
_discovered = False
# The registry in display order, sorted once after the last registration: `indicators()` is asked for
# each code a page reads (`rollups.mode_of`), and sorting ~100 indicators every time was a share of
# the dashboard's rendering (sampled under the load benchmark).
_ordered: dict[str, Indicator] | None = None


def indicator(code: str, label: str, *, by_commune: bool = False, parts: tuple[str, ...] = (),
              batch: Callable[..., dict[str, dict[int, Any]]] | None = None,
              **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an indicator (see the module docstring for the three shapes). The decorated function
    is returned unchanged; callers outside the engine ask the engine (`compute`, `compute_units`)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        global _ordered
        _ordered = None
        if by_commune or batch is not None:
            grouped = fn if batch is None else (lambda p, communes: batch(p, communes, [code])[code])
            _REGISTRY[code] = Indicator(code=code, label_vi=label, fn=lambda p: _unit_total(code, p),
                                        by_commune=grouped, batch=batch, **options)
        elif parts:
            _REGISTRY[code] = Indicator(code=code, label_vi=label, parts=parts, combine=fn,
                                        fn=lambda p: fn(*(_REGISTRY[c].fn(p) for c in parts)), **options)
        else:
            _REGISTRY[code] = Indicator(code=code, label_vi=label, fn=fn, **options)
        return fn

    return register


def add_up(ind: Indicator, values: Iterable[Any], zero: Any = None) -> Any:
    """The sum of communes' values of an additive indicator (numbers, or breakdowns key by key), from
    `zero` (default: the indicator's; pass it when adding up many units: it may read a code table)."""
    total = ind.zero() if zero is None else zero
    for value in values:
        if isinstance(total, dict):
            total = dict(total)
            for key, n in value.items():
                total[key] = total.get(key, 0) + n
        else:
            total += value
    return ind.finish(total) if ind.finish is not None else total


def _unit_total(code: str, params: Params) -> Any:
    """An additive indicator for one unit (or the user's scope, or everything): one grouped query over
    its communes, summed."""
    ind = _REGISTRY[code]
    assert ind.by_commune is not None
    ids = params.commune_ids(params.as_of)
    per_commune = ind.by_commune(replace(params, unit=None, user=None), ids)
    return add_up(ind, per_commune.values() if ids is None else (per_commune[c] for c in ids if c in per_commune))


Grouped = Callable[[frozenset[int] | None], Iterable[tuple]]


def sum_by_record_unit(params: Params, key: str, grouped: Grouped, ids: frozenset[int] | None, zero: Any = 0) -> Any:
    """A per-unit figure that is a count or a sum of records each filed on one unit (a case's commune, an
    activity's or a budget line's unit): the unit's value is the sum of the values of the record units
    `ids` makes it of (None: every unit). `grouped(units)` gives `(record unit, value)` rows, or
    `(record unit, breakdown key, value)` rows, for the records of `units` (None: all) — the counting
    rule stays with the app that registers the indicator.

    For one unit that is one query over its own records. When the engine computes many units at once
    (`compute_units`: the refresh of every unit of a province or a country), the rows of every record
    unit are read once, in one grouped query kept in `extra["batch"]` under `key`, and each unit sums its
    own: a full refresh ran one query per indicator and unit (31 × 210 on the demo, 6,500 a date).

    Several figures of an app may share one `key` (and one grouped query giving all their rows: the
    cases' counts, the activities' sums): within one computation of a unit (`with_unit_memo`) the rows
    are read once for all of them. One commune of the demo, every stored indicator: 61 queries → 44
    (the cases' eight counts, the activities' eight sums and the budget's five: 21 → 4)."""
    memo = params.extra.get("batch") if params.user is None else None
    period = (params.as_of, params.period_start, params.period_end)
    if memo is None:
        own = params.extra.get(UNIT_MEMO)
        own_key = ("by_record_unit", key, *period, ids)
        if own is None:
            rows: dict[Any, Any] = _by_unit(grouped(ids))
        else:
            if own_key not in own:
                own[own_key] = _by_unit(grouped(ids))
            rows = own[own_key]
    else:
        memo_key = ("by_record_unit", key, *period)
        if memo_key not in memo:
            memo[memo_key] = _by_unit(grouped(None))
        rows = memo[memo_key]
    total = zero() if callable(zero) else zero
    for unit_id in (rows if ids is None else ids):
        value = rows.get(unit_id)
        if value is None:
            continue
        if isinstance(total, dict):
            total = {k: total.get(k, 0) + value.get(k, 0) for k in total.keys() | value.keys()}
        else:
            total += value
    return total


# The key, in `Params.extra`, of a memo that lives for one computation of one unit's figures (see
# `with_unit_memo`).
UNIT_MEMO = "unit_memo"


def with_unit_memo(params: Params) -> Params:
    """`params` with a memo of its own for the lookups its unit's figures share (`sum_by_record_unit`),
    for one computation of several figures of that unit: the memo is new, so nothing written before it
    is missed, and it goes when the computation ends."""
    return replace(params, extra={**params.extra, UNIT_MEMO: {}})


def _by_unit(rows: Iterable[tuple]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for row in rows:
        if len(row) == 2:
            out[row[0]] = out.get(row[0], 0) + (row[1] or 0)
        else:
            unit_id, k, n = row
            counts = out.setdefault(unit_id, {})
            counts[k] = counts.get(k, 0) + (n or 0)
    return out


def indicators() -> dict[str, Indicator]:
    global _discovered
    if not _discovered:
        for config in apps.get_app_configs():
            if config.name.startswith("vitreem."):
                try:
                    importlib.import_module(f"{config.name}.indicators")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.indicators":
                        raise
        _discovered = True
    global _ordered
    if _ordered is None:
        _ordered = dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].order, kv[0])))
    return dict(_ordered)  # a copy: callers may not reorder the registry


def year_end(year: int) -> dt.date:
    """As of 31 December of a past year; today for the current year."""
    today = timezone.localdate()
    return today if year >= today.year else dt.date(year, 12, 31)


@dataclass(frozen=True)
class Params:
    """What to compute over: a unit (None = the whole installation, or the user's scope), an as-of
    date for stocks and a period for flows, and the user whose scope limits the records."""

    as_of: dt.date
    period_start: dt.date
    period_end: dt.date
    unit: AdminUnit | None = None
    user: Any = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def year(self) -> int:
        return self.period_end.year

    def commune_ids(self, day: dt.date | None = None) -> frozenset[int] | None:
        """Communes (of the version in force on `day`) that make up the unit, within the user's scope.
        None means no restriction (the whole installation, system user)."""
        return _commune_ids(self.unit, day or self.as_of, self.scope_ids)

    @cached_property
    def scope_ids(self) -> frozenset[int] | None:
        if self.user is None:
            return None
        from vitreem.core.scope import scope_for

        scope = scope_for(self.user)
        return scope.unit_ids if scope.read_children else frozenset()


def params_for(*, year: int | None = None, unit: AdminUnit | None = None, user: Any = None,
               as_of: dt.date | None = None) -> Params:
    if as_of is None:
        year = year or timezone.localdate().year
        as_of = year_end(year)
    year = year or as_of.year
    return Params(as_of=as_of, period_start=dt.date(year, 1, 1), period_end=min(as_of, dt.date(year, 12, 31)),
                  unit=unit, user=user)


def _commune_ids(unit: AdminUnit | None, day: dt.date, scope_ids: frozenset[int] | None) -> frozenset[int] | None:
    if unit is None:
        return scope_ids
    ids = communes_of([unit], day)[unit.pk]
    return ids if scope_ids is None else ids & scope_ids


@stamp_read_once()  # the tree and the crosswalk's links from one reading of the stamp (one query, not two)
def communes_of(units: list[AdminUnit], day: dt.date) -> dict[int, frozenset[int]]:
    """{unit id: the communes that make it up on `day`}, from the unit tree's shape kept per process
    (places.selectors.unit_tree; a unit added, moved or renamed in the admin, or a new crosswalk, is in the
    next computation's figures). Across the 2025 reform a unit is approximated by what its communes
    became (or came from), through the default successions of the crosswalk (`default_links`); a whole
    province maps exactly."""
    tree = unit_tree()
    version = version_on(day)
    links = default_links() if any(u.version != version for u in units) else {}
    out: dict[int, frozenset[int]] = {}
    for unit in units:
        ids = tree.communes(unit.pk)
        if unit.version != version:
            ids = frozenset(c for commune in ids for c in links.get(commune, ()))
        out[unit.pk] = ids
    return out


# A computation reads the unit tree's stamp once (places.selectors.stamp_read_once: in a request, the
# request's own reading) and sees one tree from start to end, in the task worker as in a request.
@stamp_read_once()
def compute(params: Params, codes: Iterable[str] | None = None) -> dict[str, Any]:
    registry = indicators()
    wanted = list(codes) if codes is not None else list(registry)
    params = with_unit_memo(params)
    return {code: registry[code].fn(params) for code in wanted}


PerCommune = dict[str, dict[int, Any]]  # indicator code -> {commune id: value}


@stamp_read_once()  # the stamp read once, as `compute`
def compute_units(units: list[AdminUnit], day: dt.date, codes: Iterable[str], *, known: PerCommune | None = None,
                  batch: dict[Any, Any] | None = None) -> tuple[dict[int, dict[str, Any]], PerCommune]:
    """Values of `codes` for every unit of `units` as of `day` (no user scope: what rollups store), and
    the communes' values computed on the way.

    Additive indicators run one grouped query for the communes of all the units together, except the
    communes whose value is `known` (fresh stored rows), and each unit is the sum of its communes.
    Derived indicators combine the unit's values of their parts; the others are computed per unit.

    `batch`: a memo of installation-wide lookups the per-unit figures share (`sum_by_record_unit`),
    for a caller that computes every unit of the installation in several calls (a full refresh: its
    districts, then its provinces, of one date). By default one is used when more than 50 units are
    computed at once; a few units (a refresh after a change) read their own records instead."""
    registry = indicators()
    if batch is None and len(units) > 50:
        batch = {}
    codes = list(codes)
    wanted = list(dict.fromkeys([p for c in codes for p in registry[c].parts] + codes))
    communes = communes_of(units, day)
    needed = frozenset().union(*communes.values())
    params = params_for(as_of=day)
    per_commune: PerCommune = {}
    computed: PerCommune = {}
    todo: dict[Any, dict[str, frozenset[int]]] = {}  # batch (or the indicator itself) -> code -> communes
    for code in wanted:
        ind = registry[code]
        if ind.by_commune is None:
            continue
        per_commune[code] = dict((known or {}).get(code, {}))
        missing = needed - per_commune[code].keys()
        if missing:
            todo.setdefault(ind.batch or code, {})[code] = missing
    zeros = {code: registry[code].zero() for code in per_commune}  # once: a breakdown's reads its keys
    for key, missing_of in todo.items():
        communes_todo = frozenset().union(*missing_of.values())
        if isinstance(key, str):  # one indicator, its own grouped query
            grouped = registry[key].by_commune
            assert grouped is not None
            rows_of = {key: grouped(params, communes_todo)}
        else:  # every wanted indicator of a batch in one grouped query
            rows_of = key(params, communes_todo, list(missing_of))
        for code, missing in missing_of.items():
            computed[code] = {c: rows_of[code].get(c, zeros[code]) for c in missing}
            per_commune[code].update(computed[code])
    out: dict[int, dict[str, Any]] = {}
    for unit in units:
        values: dict[str, Any] = {}
        # one per unit, so its indicators share `extra`'s memo; extra["batch"] is shared by every unit
        # of this computation, or of the caller's (for lookups that do not depend on the unit, such as
        # the whole unit tree, read once instead of per unit)
        extra = {"batch": batch} if batch is not None else {}
        unit_params = with_unit_memo(replace(params_for(as_of=day, unit=unit), extra=extra))
        for code in wanted:
            ind = registry[code]
            if ind.by_commune is not None:
                values[code] = add_up(ind, (per_commune[code][c] for c in communes[unit.pk]), zeros[code])
            elif not ind.parts:
                values[code] = ind.fn(unit_params)
        for code in wanted:
            ind = registry[code]
            if ind.parts:
                assert ind.combine is not None
                values[code] = ind.combine(*(values[p] for p in ind.parts))
        out[unit.pk] = {c: values[c] for c in codes}
    return out, computed


def units_below(unit: AdminUnit | None, *, day: dt.date) -> list[AdminUnit]:
    """The units one level down, for "by district/commune" tables (of the version in force on `day`)."""
    if unit is None:
        return []
    if unit.level == Level.COMMUNE:
        return []
    if unit.version != version_on(day) and unit.level == Level.PROVINCE:
        ids = _commune_ids(unit, day, None) or frozenset()
        return list(AdminUnit.objects.filter(pk__in=ids).order_by("code"))
    return list(AdminUnit.objects.filter(parent=unit).order_by("code"))
