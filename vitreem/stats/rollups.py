"""The rollup layer: indicator values read from pre-computed rows, recomputed only where stale.

Every value still comes from the indicator's own function in the engine; this module only decides
*when* to call it and remembers the answer:

- "cache" indicators (the default) are computed per (unit, as-of date) by the engine and stored.
  (Summing communes was tried: one commune's count costs nearly a province's — the query walks all
  children of the birth range — so a province as a sum of ~100 communes was ~100× slower to fill.)
- "live" indicators (those that depend on the clock, such as overdue cases) are always computed.

A row is valid while no committed change touched its unit after the row's computation started
(models.UnitStamp, written by `invalidate_entries`, the audit listener). A change in commune C stamps
C, the units it was part of in the other version (the crosswalk) and their ancestors; the other
districts and communes keep their rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from vitreem.places.models import AdminUnit, UnitSuccession

from .engine import _commune_ids, indicators, params_for
from .models import Rollup, UnitStamp

log = logging.getLogger(__name__)

# Indicators that depend on the clock, not only on the records, are never stored.
DEFAULT_MODES = {"cases_overdue": "live"}

# Changes in these apps never alter an indicator (generated reports, user accounts, the rollups).
FIGURE_FREE_APPS = {"reports", "stats", "accounts", "core", "auth", "sessions"}

Key = tuple[int, dt.date]  # (unit id, as-of date)


def mode_of(code: str) -> str:
    ind = indicators().get(code)
    return (getattr(ind, "rollup", "") or DEFAULT_MODES.get(code) or "cache") if ind else "live"



def scope_ids_of(user: Any) -> frozenset[int] | None:
    """The unit ids whose children the user may count (None: no restriction, the system)."""
    if user is None:
        return None
    return params_for(year=2000, user=user).scope_ids


# Dated stamps. A change that can only alter figures from a known date on (an episode opened with its
# start date, an episode's end, a risk assessment) stamps "u:<id>:y<year>" instead of "u:<id>": a
# stored value as of day D is then stale only if such a stamp of a year <= D.year is newer than it
# (conservative: the whole year of the date). So opening an episode today recomputes this year's
# figures, not those of every past year. Years before DATED_FROM_YEAR (the first year of the
# dashboards) stamp "u:<id>" (all dates), which bounds the keys to read.
DATED_FROM_YEAR = 2021
# action → the field of its `changes` holding the first date the change can affect (a date, or a
# [before, after] pair: the earlier counts). Registry services (registry/services.py):
# special_episode_open changes days >= start; special_episode_close days >= min(old end, new end);
# risk_assess opens factors from assessed_on and ends others the day before (so days >= assessed_on).
DATED_ACTIONS = {"child.special_open": "start", "child.special_close": "end", "child.risk_assess": "assessed_on",
                 "poverty_review.record": "decided_on"}


def _dated_years(until: int) -> range:
    return range(DATED_FROM_YEAR, max(until, DATED_FROM_YEAR - 1) + 1)


class _Stamps:
    """The stamps of a set of units, read in one query: `latest(unit, day)` is the time of the last
    change that can alter the unit's figures as of `day`."""

    def __init__(self, unit_ids: Iterable[int], until_year: int) -> None:
        unit_ids = list(unit_ids)
        years = _dated_years(until_year)
        keys = ["all"] + [f"u:{pk}" for pk in unit_ids] + [f"u:{pk}:y{y}" for pk in unit_ids for y in years]
        self.rows = dict(UnitStamp.objects.filter(key__in=keys).values_list("key", "changed_at"))

    def latest(self, unit_id: int, day: dt.date) -> dt.datetime | None:
        times = [self.rows.get("all"), self.rows.get(f"u:{unit_id}")]
        times += [self.rows.get(f"u:{unit_id}:y{y}") for y in _dated_years(day.year)]
        return max(filter(None, times), default=None)


class _Store:
    """Valid rows for a set of (code, unit, as-of), loaded in two queries; computes what is missing."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, int, dt.date], Any] = {}
        self.pending: list[Rollup] = []

    def load(self, codes: list[str], unit_ids: set[int], days: set[dt.date]) -> None:
        if not codes or not unit_ids or not days:
            return
        stamps = _Stamps(unit_ids, max(d.year for d in days))
        rows = Rollup.objects.filter(code__in=codes, unit_id__in=unit_ids, as_of__in=days).values_list(
            "code", "unit_id", "as_of", "value", "computed_at")
        for code, unit_id, as_of, value, computed_at in rows:
            stamp = stamps.latest(unit_id, as_of)
            if stamp is None or computed_at >= stamp:
                self.values[(code, unit_id, as_of)] = value

    def compute(self, code: str, unit: AdminUnit, day: dt.date) -> Any:
        started = timezone.now()
        value = indicators()[code].fn(params_for(as_of=day, unit=unit))
        self.values[(code, unit.pk, day)] = value
        self.pending.append(Rollup(code=code, unit_id=unit.pk, as_of=day, value=value, computed_at=started))
        return value

    def save(self) -> None:
        if self.pending:
            Rollup.objects.bulk_create(self.pending, update_conflicts=True, unique_fields=["code", "unit", "as_of"],
                                       update_fields=["value", "computed_at"], batch_size=500)
            self.pending = []


def figures(*, units: list[AdminUnit], days: list[dt.date], codes: Iterable[str], user: Any = None
            ) -> dict[Key, dict[str, Any]]:
    """Indicator values for every (unit, as-of day), limited to what `user` may count.

    Equal to `engine.compute(params_for(as_of=day, unit=unit, user=user), codes)` for each key — the
    engine computes every stored value — but read from rollups where they are fresh. A unit only
    partly inside the user's scope is computed live with the user's scope (never from a stored row)."""
    codes = list(codes)
    registry = indicators()
    unknown = [c for c in codes if c not in registry]
    if unknown:
        raise KeyError(unknown[0])
    scope = scope_ids_of(user)
    stored = [c for c in codes if mode_of(c) != "live"]
    live = [c for c in codes if mode_of(c) == "live"]
    out: dict[Key, dict[str, Any]] = {}
    whole: dict[Key, AdminUnit] = {}
    for unit in units:
        for day in days:
            out[(unit.pk, day)] = {}
            ids = _commune_ids(unit, day, None) or frozenset()
            if scope is None or ids <= scope:
                whole[(unit.pk, day)] = unit
    store = _Store()
    store.load(stored, {k[0] for k in whole}, {k[1] for k in whole})
    for unit in units:
        for day in days:
            key = (unit.pk, day)
            values = out[key]
            params = None
            for code in stored:
                if key in whole:
                    value = store.values.get((code, unit.pk, day), ...)
                    values[code] = store.compute(code, unit, day) if value is ... else value
                else:
                    params = params or params_for(as_of=day, unit=unit, user=user)
                    values[code] = registry[code].fn(params)
            for code in live:
                params = params or params_for(as_of=day, unit=unit, user=user)
                values[code] = registry[code].fn(params)
    store.save()
    return {key: {c: values[c] for c in codes} for key, values in out.items()}


def unit_stamp(unit_pk: int) -> tuple:
    """The last change stamps that concern a unit's figures (its own, dated or not, and "all"), for
    caches above rollups: any change to the unit changes the tuple."""
    rows = _Stamps([unit_pk], timezone.localdate().year + 1).rows
    return tuple(sorted(rows.items()))


def stored_value(*, key: str, unit: AdminUnit, day: dt.date, compute_fn) -> Any:
    """A JSON value derived from records that are not an indicator (e.g. the programme's target counts),
    kept like a rollup: recomputed after a change stamps the unit. `key` must not be an indicator code."""
    store = _Store()
    store.load([key], {unit.pk}, {day})
    value = store.values.get((key, unit.pk, day), ...)
    if value is ...:
        started = timezone.now()
        value = compute_fn()
        store.pending.append(Rollup(code=key, unit_id=unit.pk, as_of=day, value=value, computed_at=started))
        store.save()
    return value


def figures_one(*, unit: AdminUnit, day: dt.date, codes: Iterable[str], user: Any = None) -> dict[str, Any]:
    return figures(units=[unit], days=[day], codes=codes, user=user)[(unit.pk, day)]


# ---------------------------------------------------------------- invalidation


def _related_units(unit_ids: set[int]) -> set[int]:
    """The units whose figures a change in `unit_ids` touches: themselves, their counterparts across
    the 2025 reform (any crosswalk row), and all their ancestors."""
    ids = set(unit_ids)
    for old_id, new_id in UnitSuccession.objects.filter(Q(old_id__in=ids) | Q(new_id__in=ids)).values_list(
            "old_id", "new_id"):
        ids.update((old_id, new_id))
    frontier = ids
    for _level in range(3):  # commune → district → province
        parents = set(AdminUnit.objects.filter(pk__in=frontier, parent__isnull=False).values_list("parent_id", flat=True))
        frontier = parents - ids
        if not frontier:
            break
        ids |= frontier
    return ids


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _since_of(entry: Any) -> dt.date | None:
    """The first day whose figures the audited change can alter, or None (any day)."""
    field = DATED_ACTIONS.get(getattr(entry, "action", ""))
    if field is None:
        return None
    value = (entry.changes or {}).get(field)
    values = value if isinstance(value, list) else [value]
    days = [d for d in map(_as_date, values) if d is not None]
    if not days or (isinstance(value, list) and len(days) < len([v for v in values if v is not None])):
        return None  # not a date we can read: every day
    return min(days)


def _units_of_entries(entries: list[Any]) -> tuple[set[int], bool]:
    """(unit ids, everything?) for a list of AuditEntry rows."""
    unit_ids: set[int] = set()
    everything = False
    child_ids: set[str] = set()
    for entry in entries:
        if entry.object_type.split(".")[0] in FIGURE_FREE_APPS:
            continue
        if entry.unit_id:
            unit_ids.add(entry.unit_id)
        elif entry.object_type != "registry.child":
            everything = True
        if entry.object_type == "registry.child" and entry.object_id:
            child_ids.add(entry.object_id)
        for key, change in (entry.changes or {}).items():
            # a move: both the old and the new commune lose/gain the child
            if key == "unit_id" and isinstance(change, list):
                unit_ids.update(v for v in change if isinstance(v, int))
    if child_ids:
        from vitreem.registry.models import Residence

        # a change to a child can alter any year's figures where the child lived then
        ids = [int(c) for c in child_ids if c.isdigit()]
        unit_ids.update(Residence.objects.filter(child_id__in=ids).values_list("unit_id", flat=True).distinct())
    return unit_ids, everything


def stamp_units(unit_ids: Iterable[int] | None, *, since: dt.date | None = None) -> None:
    """Mark the figures of these units (None: of everything) as changed now — as of every day, or
    only as of days from `since` on (rounded down to its year; see DATED_ACTIONS)."""
    now = timezone.now()
    suffix = f":y{since.year}" if since is not None and since.year >= DATED_FROM_YEAR else ""
    keys = ["all"] if unit_ids is None else [f"u:{pk}{suffix}" for pk in _related_units(set(unit_ids))]
    UnitStamp.objects.bulk_create([UnitStamp(key=k, changed_at=now) for k in keys], update_conflicts=True,
                                  unique_fields=["key"], update_fields=["changed_at"])


def invalidate_entries(entries: list[Any]) -> None:
    """The audit listener (core.audit.on_change): called after a change commits."""
    unit_ids, everything = _units_of_entries(entries)
    if everything:
        stamp_units(None)
    elif unit_ids:
        # the units of the whole batch get the earliest date of its entries (any undated one: all days)
        relevant = [e for e in entries if e.object_type.split(".")[0] not in FIGURE_FREE_APPS]
        sinces = [_since_of(e) for e in relevant]
        since = None if not sinces or any(d is None for d in sinces) else min(d for d in sinces if d is not None)
        stamp_units(unit_ids, since=since)


def rollups_clear() -> int:
    """Forget every stored value (after a bulk load that bypassed the audit log, e.g. the demo)."""
    stamp_units(None)
    deleted, _ = Rollup.objects.all().delete()
    return deleted


def rollups_warm(*, unit: AdminUnit, years: Iterable[int], codes: Iterable[str] | None = None,
                 progress=None) -> int:
    """Compute the stored values of a unit and everything below it for the given years' as-of dates."""
    codes = [c for c in (codes or indicators()) if mode_of(c) != "live"]
    n = 0
    years = list(years)
    for i, year in enumerate(years):
        day = params_for(year=year).as_of
        below = _units_below_all(unit, day)
        figures(units=[unit, *below], days=[day], codes=codes)
        n += len(below) + 1
        if progress:
            progress(i + 1, len(years))
    return n


def _units_below_all(unit: AdminUnit, day: dt.date) -> list[AdminUnit]:
    from .engine import units_below

    out: list[AdminUnit] = []
    level = units_below(unit, day=day)
    while level:
        out.extend(level)
        nxt: list[AdminUnit] = []
        for u in level:
            nxt.extend(units_below(u, day=day))
        level = nxt
    return out


def group_by_keys(rows: dict[Key, dict[str, Any]]) -> dict[int, dict[dt.date, dict[str, Any]]]:
    out: dict[int, dict[dt.date, dict[str, Any]]] = defaultdict(dict)
    for (unit_pk, day), values in rows.items():
        out[unit_pk][day] = values
    return out
