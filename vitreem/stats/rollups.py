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
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Max, Q
from django.utils import timezone

from vitreem.places.models import AdminUnit, UnitSuccession
from vitreem.places.selectors import forget_read, read_once

from .engine import SOURCES, _commune_ids, communes_of, compute_units, indicators, params_for, with_unit_memo
from .models import Rollup, UnitStamp

log = logging.getLogger(__name__)

# Indicators that depend on the clock, not only on the records, are never stored.
DEFAULT_MODES = {"cases_overdue": "live"}

# Changes in these apps never alter an indicator (generated reports, user accounts, the rollups).
FIGURE_FREE_APPS = {"reports", "stats", "accounts", "core", "auth", "sessions"}

# Apps whose changes stamp their units for the figures that read them only (key "u:<id>[:y<year>]:<app>",
# see `_Stamps`), not for every figure: an indicator that declares `reads` without the app keeps its
# stored rows fresh. Under the load benchmark each case taken in, child registered and activity recorded
# made the worker recompute every figure of its commune, district and province for every year-end
# (2.5–3.3 s of CPU a turn, half of it PostgreSQL's): the children's counts for a case, the cases' and
# activities' figures of the province for a child. A change in any other app (privacy, places…) stamps
# every figure of its units.
APP_STAMPED = ("activities", "benefits", "cases", "programme", "registry")
# Apps whose changes are the register's: an import writes children, households and their poverty,
# special circumstances and risk only (imports.columns.FIELDS), each row audited by the registry's
# services as well; its batch's own audit row stamps the province for the register's figures, not for
# the cases' and activities' (the turn after a 500-row import recomputed them all for every date).
STAMPED_AS = {"imports": "registry"}
# Registry actions that move other apps' rows (a merge moves the merged child's cases, allowances and
# participations to the survivor): they stamp every figure.
MOVES_OTHER_APPS = {"child.merge", "child.merged_into"}

Key = tuple[int, dt.date]  # (unit id, as-of date)


def mode_of(code: str, registry: dict[str, Any] | None = None) -> str:
    """How `code` is kept ("cache" or "live"); `registry`: `indicators()` when the caller has it."""
    ind = (registry if registry is not None else indicators()).get(code)
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
                 "poverty_review.record": "decided_on",
                 # A child registered counts from its first residence's start (its birth, or the day given):
                 # a newborn's registration changes today's figures only, not the six year-ends before. On
                 # the 25,000,000-child country the task worker's turn after a newborn's registration
                 # took 0.14–0.18 s instead of 0.98–1.06 s for all seven dates (stop 49, warm).
                 "child.register": "resident_since",
                 # A case taken in counts from the day it was received (cases.indicators: received in
                 # the period, open as of a day). Not an activity's start date: its spending can fall on a
                 # budget line of an earlier year.
                 "case.intake": "received_at"}


def reads_of(codes: Iterable[str]) -> dict[str, frozenset[str] | None]:
    """{code: the stamped apps (APP_STAMPED) whose changes can alter it, None: any} — a derived
    indicator's are its parts'."""
    registry = indicators()

    def reads(code: str) -> frozenset[str] | None:
        ind = registry.get(code)
        if ind is None:
            return None
        if ind.parts:
            parts = [reads(p) for p in ind.parts]
            return None if any(r is None for r in parts) else frozenset().union(*parts)  # type: ignore[arg-type]
        return None if ind.reads is None else frozenset(ind.reads) & frozenset(APP_STAMPED)

    return {code: reads(code) for code in codes}


STAMPS_READ = "stats.stamps"  # the stamps of a set of units, as read once per request (`_Stamps`)


def stamp_row(unit_id: int | None = None, year: int | None = None, app: str = "") -> UnitStamp:
    """A unit's stamp, unsaved and untimed: its key "u:<id>[:y<year>][:<app>]" and the key's parts (the
    columns a page reads by); "all" for no unit."""
    if unit_id is None:
        return UnitStamp(key="all")
    key = f"u:{unit_id}" + (f":y{year}" if year is not None else "") + (f":{app}" if app else "")
    return UnitStamp(key=key, unit_id=unit_id, year=year, app=app)


class _StampTable:
    """The stamps that reach the figures of `year` (None: of any year), read so far in a request (or for
    one `_Stamps` outside one): the "all" stamp, and each unit's latest time per stamped app ("": every
    figure). `cover(ids)` reads the units not read yet."""

    def __init__(self, year: int | None) -> None:
        self.year = year
        self.all: dt.datetime | None = None
        self.of_unit: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
        self.units: set[int] = set()
        self.read = False  # "all" comes with the first read, whatever its units

    def cover(self, ids: frozenset[int]) -> None:
        missing = ids - self.units
        if self.read and not missing:
            return
        # The units' rows by the unit's index, and "all"; their latest time per unit and app computed
        # by the database. Nationally a province's ~400 units hold ~16,500 stamps (one per year and app
        # changed): read as they are, 94 ms of each of its pages; the whole table, read and parsed
        # before, 3.7 s (`make bench BENCH_ARGS=stamps`).
        reaching = Q(unit__in_ids=missing)
        if self.year is not None:  # a stamp dated in a year reaches that year's figures and later ones
            reaching &= Q(year__isnull=True) | Q(year__lte=self.year)
        for unit_id, app, changed_at in (UnitStamp.objects.filter(reaching | Q(key="all"))
                                         .values_list("unit_id", "app").annotate(at=Max("changed_at"))):
            if unit_id is None:
                self.all = changed_at
            else:
                self.of_unit[unit_id].append((app, changed_at))
        self.units |= missing
        self.read = True


class _Stamps:
    """The stamps of a set of units that reach the figures as of `day` (None: any day), read in one
    query: `latest(unit, reads)` is the time of the last change that can alter the unit's figures — of
    the figures that read only the stamped apps `reads` (None: any figure)."""

    def __init__(self, unit_ids: Iterable[int], day: dt.date | None = None) -> None:
        ids = frozenset(unit_ids)
        # Each unit's read once per request and year (places.selectors.read_once): a province's
        # allowances' home asks for its stored figures' units, then for its counts per unit, a dashboard
        # up to twice. A stamp written by the request itself (`_stamp`) makes the next read go to the table.
        year = None if day is None else day.year
        tables: dict[int | None, _StampTable] = read_once(STAMPS_READ, dict)
        if year not in tables:
            tables[year] = _StampTable(year)
        table = tables[year]
        table.cover(ids)
        self.all = table.all
        self.of_unit = {unit_id: table.of_unit[unit_id] for unit_id in ids & table.of_unit.keys()}
        self.memo: dict[tuple[int, frozenset[str] | None], dt.datetime | None] = {}

    @property
    def rows(self) -> dict[str, dt.datetime]:
        """{"all" or "u:<unit>:<app>": time} (`unit_stamp`)."""
        rows = {"all": self.all} if self.all else {}
        rows.update({f"u:{unit_id}:{app}": at for unit_id, apps in self.of_unit.items() for app, at in apps})
        return rows

    def latest(self, unit_id: int, reads: frozenset[str] | None = None) -> dt.datetime | None:
        key = (unit_id, reads)
        if key not in self.memo:  # once per unit and kind of figure
            times = [self.all] + [at for app, at in self.of_unit.get(unit_id, ())
                                  if not app or reads is None or app in reads]
            self.memo[key] = max(filter(None, times), default=None)
        return self.memo[key]


class _Store:
    """Stored values for (code, unit, as-of), read where fresh; what is missing is computed in one batch
    per as-of date (`engine.compute_units`) and remembered — with the communes' values of the additive
    indicators computed on the way, so a later unit of the same day is a sum of stored rows."""

    def __init__(self, *, recompute: bool = False, whole: bool = False) -> None:
        self.pending: dict[tuple[str, int, dt.date], tuple[Any, dt.datetime]] = {}
        self.updating: set[int] = set()  # units served their last values (see `get`)
        # A full refresh (`rollups_refresh(full=True)`) has just made every row stale: reading them to
        # find the fresh ones found none, and read ~640,000 rows a date nationally (9 of 43 s).
        self.recompute = recompute
        # `whole`: this store computes every unit of the installation (a refresh of them all). Then the
        # per-unit figures of its districts and provinces read each indicator's rows of every record
        # unit once a date (`compute_units`' batch), not one query per unit and indicator: on the demo
        # province a full refresh made 826 queries instead of 1,686, and took 9.8–11.7 s instead of 12.5–14.2
        # (measured, alternated).
        self.batches: dict[dt.date, dict[Any, Any]] | None = defaultdict(dict) if whole else None
        # The communes' values of additive indicators this store computed, by date: the districts and
        # provinces of the same refresh sum them without reading back the rows just written.
        self.communes: dict[dt.date, dict[str, dict[int, Any]]] = defaultdict(lambda: defaultdict(dict))
        # What this store has read already, by date and code: {unit id: value} of the fresh and of the
        # stale rows, and the units whose rows were asked for (found or not). A refresh asks for the
        # communes' rows as units, then again as the parts of their districts and provinces; reading
        # them twice was 2.4 s of each national date (10,035 communes × 15 codes, 150,000 rows).
        self.seen: dict[dt.date, dict[str, tuple[dict[int, Any], dict[int, Any], set[int]]]] = defaultdict(
            lambda: defaultdict(lambda: ({}, {}, set())))

    @staticmethod
    def read(codes: list[str], unit_ids: set[int] | frozenset[int], day: dt.date
             ) -> tuple[dict[tuple[str, int], Any], dict[tuple[str, int], Any]]:
        """({(code, unit id): value} of the rows no change has made stale since they were computed,
        the same of the stale ones)."""
        from django.db import connection

        fresh: dict[tuple[str, int], Any] = {}
        stale: dict[tuple[str, int], Any] = {}
        if not codes or not unit_ids:
            return fresh, stale
        stamps = _Stamps(unit_ids, day)
        reads = reads_of(codes)
        ids = sorted(unit_ids)
        # SQLite bounds the parameters of one query; PostgreSQL takes the ids as one array: one query
        # for the country's 10,035 communes instead of twelve chunks (0.63 s → 0.13 s a national date,
        # measured with no row stored yet).
        chunk = len(ids) if connection.vendor == "postgresql" else 900
        for i in range(0, len(ids), chunk):
            # in_ids: one array parameter (core.db.InIds); `__in` compiled a province scope's ~400 ids
            # for 2.4 ms of each page that reads its stored figures (the allowances' count, measured)
            rows = Rollup.objects.filter(code__in=codes, unit_id__in_ids=ids[i:i + chunk], as_of=day).values_list(
                "code", "unit_id", "value", "computed_at")
            for code, unit_id, value, computed_at in rows:
                stamp = stamps.latest(unit_id, reads[code])
                (fresh if stamp is None or computed_at >= stamp else stale)[(code, unit_id)] = value
        return fresh, stale

    @classmethod
    def fresh(cls, codes: list[str], unit_ids: set[int] | frozenset[int], day: dt.date) -> dict[tuple[str, int], Any]:
        return cls.read(codes, unit_ids, day)[0]

    def _read_once(self, codes: list[str], unit_ids: set[int] | frozenset[int], day: dt.date
                   ) -> tuple[dict[tuple[str, int], Any], dict[tuple[str, int], Any]]:
        """`read`, for the (code, unit) pairs this store has not read yet; the others from memory."""
        seen = self.seen[day]
        todo = {c: frozenset(unit_ids) - seen[c][2] for c in codes}
        asked = [c for c in codes if todo[c]]
        if asked:
            fresh, stale = self.read(asked, frozenset().union(*(todo[c] for c in asked)), day)
            for (code, unit_id), value in fresh.items():
                seen[code][0][unit_id] = value
            for (code, unit_id), value in stale.items():
                seen[code][1][unit_id] = value
            for code in asked:
                seen[code][2].update(todo[code])
        fresh_out: dict[tuple[str, int], Any] = {}
        stale_out: dict[tuple[str, int], Any] = {}
        for code in codes:
            found_fresh, found_stale, _asked = seen[code]
            for unit_id in unit_ids:
                if unit_id in found_fresh:
                    fresh_out[(code, unit_id)] = found_fresh[unit_id]
                elif unit_id in found_stale:
                    stale_out[(code, unit_id)] = found_stale[unit_id]
        return fresh_out, stale_out

    def get(self, codes: list[str], units: list[AdminUnit], day: dt.date, *, stale_ok: bool = False
            ) -> dict[int, dict[str, Any]]:
        """Values of `codes` for `units` as of `day` (no user scope). With `stale_ok` (a page), a value
        that a change made stale is returned as it was last computed and its unit added to
        `self.updating` ("Đang cập nhật"): a page never recomputes a stored figure that the task
        worker's turn recomputes (`rollups_refresh_if_changed`, `worker_refreshes`), seconds later.
        Under the load benchmark, pages that recomputed their commune's trend after each write (0.35 s
        a home page, 2 s a dashboard) took most of the server's time. Values never stored, and stale
        ones no turn recomputes (a commune's case counts: a few indexed rows), are computed here."""
        started = timezone.now()  # before any read: a change committed after it makes the new rows stale
        fresh, stale = ({}, {}) if self.recompute else self._read_once(codes, {u.pk for u in units}, day)
        out = {u.pk: {c: fresh[(c, u.pk)] for c in codes if (c, u.pk) in fresh} for u in units}
        todo = [u for u in units if len(out[u.pk]) < len(codes)]
        if not todo:
            return out
        if stale_ok:
            # Only what the worker's turn recomputes (`worker_refreshes`): a stale figure it leaves alone
            # (a commune's case counts, a commune of the other unit version) would stay stale for good.
            refreshed = worker_codes()
            for unit in todo:
                served = {c: stale[(c, unit.pk)] for c in codes if c not in out[unit.pk] and (c, unit.pk) in stale
                          and worker_refreshes(c, unit, day, refreshed)}
                if served:
                    out[unit.pk].update(served)
                    self.updating.add(unit.pk)
            todo = [u for u in todo if len(out[u.pk]) < len(codes)]
            if not todo:
                return out
        wanted = [c for c in codes if any(c not in out[u.pk] for u in todo)]
        registry = indicators()
        additive = [c for c in dict.fromkeys([p for c in wanted for p in registry[c].parts] + wanted)
                    if registry[c].by_commune is not None]
        communes = frozenset().union(*communes_of(todo, day).values())
        mine = self.communes[day]
        known: dict[str, dict[int, Any]] = defaultdict(dict, {c: dict(mine[c]) for c in additive if c in mine})
        unread = [c for c in additive if not communes <= known.get(c, {}).keys()]
        last_values = False  # a sum of communes' last values: served (marked), never kept as current
        if unread and not self.recompute:
            fresh_parts, stale_parts = self._read_once(unread, communes, day)
            for (code, commune), value in fresh_parts.items():
                known[code].setdefault(commune, value)
            if stale_ok:
                # The communes of `day` (`communes_of`) are of its version, and the turn recomputes their
                # additive figures: a legacy commune on a date after the reform, the sum of the 2025 ones
                # it became, is their last values until then, not their recount from the records.
                for (code, commune), value in stale_parts.items():
                    if commune not in known[code]:
                        known[code][commune] = value
                        last_values = True
        values, computed = compute_units(todo, day, wanted, known=known,
                                         batch=None if self.batches is None else self.batches[day])
        for code, per_commune in computed.items():
            mine[code].update(per_commune)
        for unit in todo:
            if last_values:
                self.updating.add(unit.pk)
            for code in wanted:
                out[unit.pk][code] = values[unit.pk][code]
                if not last_values:
                    self._keep(code, unit.pk, day, values[unit.pk][code], started)
        for code, per_commune in computed.items():
            for commune, value in per_commune.items():
                self._keep(code, commune, day, value, started)
        return out

    def _keep(self, code: str, unit_id: int, day: dt.date, value: Any, started: dt.datetime) -> None:
        self.pending[(code, unit_id, day)] = (value, started)

    def save(self, *, wait: bool) -> int:
        """Write the values computed, replacing older rows of the same keys. Plain rows through
        core.bulk (COPY on PostgreSQL): a national refresh writes ~250,000 per date, where model
        instances and bulk_create spent most of its time (measured).

        `wait=False` (a page keeping what it computed): when another transaction holds one of the
        rows (the worker's refresh writing the same keys), give up at once and keep nothing. The
        page has its values already; the refresh stores them. Under the load benchmark a page that
        waited for the refresh held a gunicorn worker for seconds, and two such writers deadlocked.
        Returns the number of rows written."""
        if not self.pending:
            return 0
        from django.db import DatabaseError, connection, transaction

        from vitreem.core.bulk import upsert_rows

        ops = connection.ops
        rows = [(code, unit_id, ops.adapt_datefield_value(day), json.dumps(value),
                 ops.adapt_datetimefield_value(started))
                for (code, unit_id, day), (value, started) in self.pending.items()]
        self.pending = {}
        if wait or connection.vendor != "postgresql":  # SQLite: one writer at a time, its busy timeout
            upsert_rows(Rollup, ["code", "unit_id", "as_of", "value", "computed_at"], rows,
                        key=["code", "unit_id", "as_of"])
            return len(rows)
        try:
            with transaction.atomic(), connection.cursor() as cur:
                # SET LOCAL lasts until the end of the transaction, which may be the caller's: the
                # previous value is put back after the write (a failed write's savepoint rollback
                # undoes the SET by itself).
                cur.execute("SELECT current_setting('lock_timeout')")
                previous = cur.fetchone()[0]
                cur.execute("SET LOCAL lock_timeout = '50ms'")
                upsert_rows(Rollup, ["code", "unit_id", "as_of", "value", "computed_at"], rows,
                            key=["code", "unit_id", "as_of"])
                cur.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
        except DatabaseError:
            return 0  # a lock held by the refresh (lock_timeout): the values were served, the refresh keeps them
        return len(rows)


def figures(*, units: list[AdminUnit], days: list[dt.date], codes: Iterable[str], user: Any = None,
            updating: set[Key] | None = None) -> dict[Key, dict[str, Any]]:
    """Indicator values for every (unit, as-of day), limited to what `user` may count.

    Equal to `engine.compute(params_for(as_of=day, unit=unit, user=user), codes)` for each key, but
    read from rollups where they are fresh and computed for all the missing units of a day at once.
    A unit only partly inside the user's scope is computed live with the user's scope (never from a
    stored row). Pages pass `updating`: where bringing the values up to date would read many communes'
    records, they get the last values instead and the keys are added to `updating` (`_Store.get`)."""
    codes = list(codes)
    registry = indicators()
    unknown = [c for c in codes if c not in registry]
    if unknown:
        raise KeyError(unknown[0])
    scope = scope_ids_of(user)
    stored = [c for c in codes if mode_of(c, registry) != "live"]
    live = [c for c in codes if mode_of(c, registry) == "live"]
    out: dict[Key, dict[str, Any]] = {}
    store = _Store()
    for day in days:
        whole = [u for u in units if scope is None or (_commune_ids(u, day, None) or frozenset()) <= scope]
        for unit_pk, values in store.get(stored, whole, day, stale_ok=updating is not None).items() if whole else ():
            out[(unit_pk, day)] = values
        if updating is not None:
            updating.update((pk, day) for pk in store.updating)
            store.updating = set()
        for unit in units:
            key = (unit.pk, day)
            need = (stored if key not in out else []) + live
            if need:
                params = with_unit_memo(params_for(as_of=day, unit=unit, user=user))
                out[key] = {**out.get(key, {}), **{c: registry[c].fn(params) for c in need}}
    store.save(wait=False)
    return {key: {c: values[c] for c in codes} for key, values in out.items()}


def stored_value(*, key: str, unit: AdminUnit | list[AdminUnit], day: dt.date, compute_fn) -> Any:
    """A JSON value derived from records that are not an indicator (e.g. the programme's target counts),
    kept like a rollup: recomputed after a change stamps the unit. `key` must not be an indicator code.
    Several units (a value over a user's scope: a change anywhere in it stamps one of the units assigned):
    kept under each, recomputed after a change stamps any of them."""
    units = unit if isinstance(unit, list) else [unit]
    store = _Store()
    fresh = store.fresh([key], {u.pk for u in units}, day)
    values = [fresh.get((key, u.pk), ...) for u in units]
    if not values or any(v is ... or v != values[0] for v in values):
        started = timezone.now()
        value = compute_fn()
        for u in units:
            store._keep(key, u.pk, day, value, started)
        store.save(wait=False)
        return value
    return values[0]


def stored_values(*, key: str, unit_ids: Iterable[int], day: dt.date, compute_fn) -> dict[int, Any]:
    """`stored_value` for many units: {unit id: value}, the fresh ones read in one pass, the others
    computed by one call `compute_fn(frozenset of unit ids)` -> {unit id: value} (one grouped query)."""
    ids = set(unit_ids)
    store = _Store()
    fresh = store.fresh([key], ids, day)
    out = {pk: fresh[(key, pk)] for pk in ids if (key, pk) in fresh}
    missing = frozenset(ids - out.keys())
    if missing:
        started = timezone.now()
        computed = compute_fn(missing)
        for pk in missing:
            out[pk] = computed[pk]
            store._keep(key, pk, day, out[pk], started)
        store.save(wait=False)
    return out


def figures_by_year(*, unit: AdminUnit | None, years: Iterable[int], codes: Iterable[str]) -> dict[int, dict[str, Any]]:
    """{year: {code: value}} as of each year's as-of date, for a unit (from the rollups) or the whole
    installation (None: computed, nothing stores it). No user scope: aggregates only."""
    from .engine import compute

    codes = list(codes)
    this_year = timezone.localdate().year
    # a year after this one has an empty period (its as-of date is today): computed, as the engine does
    stored = {year: params_for(year=year).as_of for year in years if unit is not None and year <= this_year}
    out = {year: compute(params_for(year=year, unit=unit), codes) for year in years if year not in stored}
    rows = figures(units=[unit], days=list(stored.values()), codes=codes) if unit is not None and stored else {}
    out.update({year: rows[(unit.pk, day)] for year, day in stored.items() if unit is not None})
    return {year: out[year] for year in years}


def installation_provinces(day: dt.date) -> list[AdminUnit]:
    """The provinces of the installation as of `day`: those of the day's version whose figures the
    refresh stored (the provinces with children on the register). One indexed query; asking the
    register itself which provinces it holds is a scan of every child (seconds at national scale)."""
    from vitreem.places.models import Level, version_on

    filled = Rollup.objects.filter(code="children", as_of=day).values("unit_id")
    return list(AdminUnit.objects.filter(pk__in=filled, level=Level.PROVINCE, version=version_on(day))
                .order_by("code"))


def figures_installation(*, day: dt.date, codes: Iterable[str], updating: set[Key] | None = None) -> dict[str, Any]:
    """The whole installation's figures as of `day` (no user scope): the additive ones are the sum of its
    provinces' stored values (`installation_provinces`), shares come from those sums, the rest is
    computed for the installation. The country's figures on a national installation, read in
    milliseconds; computed by the engine when nothing is stored yet. `updating` as for `figures`."""
    from .engine import add_up, compute

    codes = list(codes)
    registry = indicators()
    provinces = installation_provinces(day)
    if not provinces:
        return compute(params_for(as_of=day), codes)
    wanted = list(dict.fromkeys([p for c in codes for p in registry[c].parts] + codes))
    summed = [c for c in wanted if registry[c].by_commune is not None]
    rows = figures(units=provinces, days=[day], codes=summed, updating=updating)
    values = {c: add_up(registry[c], (rows[(p.pk, day)][c] for p in provinces)) for c in summed}
    values.update(compute(params_for(as_of=day), [c for c in wanted if c not in values and not registry[c].parts]))
    for code in wanted:
        ind = registry[code]
        if ind.parts and ind.combine is not None:
            values[code] = ind.combine(*(values[p] for p in ind.parts))
    return {c: values[c] for c in codes}


def figures_one(*, unit: AdminUnit, day: dt.date, codes: Iterable[str], user: Any = None,
                updating: set[Key] | None = None) -> dict[str, Any]:
    return figures(units=[unit], days=[day], codes=codes, user=user, updating=updating)[(unit.pk, day)]


# The time the task worker (or `stats_refresh`) last committed recomputed stored figures: a page that
# showed last values marked "Đang cập nhật" shows the same until then (stats/views.dashboard_page). Not a
# change stamp: `rollups_refresh_if_changed` reads only the "u:" and "all" keys.
REFRESHED_KEY = "refreshed"


def refreshed_stamp() -> dt.datetime | None:
    return UnitStamp.objects.filter(key=REFRESHED_KEY).values_list("changed_at", flat=True).first()


def _stamp(rows: list[UnitStamp]) -> None:
    """Set these stamps (`stamp_row`) to now (one upsert)."""
    now = timezone.now()
    for row in rows:
        row.changed_at = now
    UnitStamp.objects.bulk_create(rows, update_conflicts=True, unique_fields=["key"], update_fields=["changed_at"])
    forget_read(STAMPS_READ)


def unit_stamp(unit_pk: int | Iterable[int]) -> tuple:
    """The last change stamps that concern a unit's figures (its own, dated or not, and "all"), or
    several units' (the country's provinces), for caches above rollups: any change to the unit
    changes the tuple."""
    rows = _Stamps([unit_pk] if isinstance(unit_pk, int) else unit_pk).rows
    return tuple(sorted(rows.items()))


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
    """(unit ids, everything?) for a list of AuditEntry rows of apps that alter figures
    (`invalidate_entries` leaves out FIGURE_FREE_APPS)."""
    unit_ids: set[int] = set()
    everything = False
    child_ids: set[str] = set()
    for entry in entries:
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
        # a change to a child can alter any year's figures where the child lived then
        indicators()  # the apps' registrations give SOURCES
        unit_ids.update(SOURCES.units_of_children([int(c) for c in child_ids if c.isdigit()]))
    return unit_ids, everything


def stamp_units(unit_ids: Iterable[int] | None, *, since: dt.date | None = None, app: str = "") -> None:
    """Mark the figures of these units (None: of everything) as changed now — as of every day, or
    only as of days from `since` on (rounded down to its year; see DATED_ACTIONS); with `app` (one of
    APP_STAMPED), only the figures that may read that app's records."""
    year = since.year if since is not None and since.year >= DATED_FROM_YEAR else None
    app = app if app in APP_STAMPED else ""
    _stamp([stamp_row()] if unit_ids is None else [stamp_row(pk, year, app) for pk in _related_units(set(unit_ids))])


def invalidate_entries(entries: list[Any]) -> None:
    """The audit listener (core.audit.on_change): called after a change commits. The entries of each
    app of APP_STAMPED stamp their units for that app's figures; the others, for every figure."""
    by_app: dict[str, list[Any]] = defaultdict(list)
    for entry in entries:
        app = entry.object_type.split(".")[0]
        app = STAMPED_AS.get(app, app)
        if app not in FIGURE_FREE_APPS:
            by_app[app if app in APP_STAMPED and entry.action not in MOVES_OTHER_APPS else ""].append(entry)
    for app, group in sorted(by_app.items()):
        unit_ids, everything = _units_of_entries(group)
        if everything:
            stamp_units(None)
            return
        if unit_ids:
            # the units of the batch get the earliest date of its entries (any undated one: all days)
            sinces = [_since_of(e) for e in group]
            since = None if any(d is None for d in sinces) else min(d for d in sinces if d is not None)
            stamp_units(unit_ids, since=since, app=app)


def rollups_clear() -> int:
    """Forget every stored value (after a bulk load that bypassed the audit log, e.g. the demo)."""
    stamp_units(None)
    deleted, _ = Rollup.objects.all().delete()
    return deleted


FIRST_YEAR = 2021  # the first year-end the dashboards show (National Action Programme 2021–2030)


def installation_units() -> list[AdminUnit]:
    """Every province, district and commune, in both versions, of the provinces that have children on
    the register (their 2025 province code: the distribution key every child-data row carries)."""
    from vitreem.places.models import Level
    from vitreem.places.selectors import province_code_of

    indicators()  # the apps' registrations give SOURCES
    codes = SOURCES.province_codes()
    # province_code_of: a unit added since the process read the map is found (the map is read again)
    return [u for u in AdminUnit.objects.filter(level__in=[Level.PROVINCE, Level.DISTRICT, Level.COMMUNE])
            .order_by("version", "level", "code") if province_code_of(u.pk) in codes]


def refresh_days(years: Iterable[int] | None = None) -> list[dt.date]:
    """The as-of dates the dashboards open on: every year-end from FIRST_YEAR, and today — and the
    year-end before FIRST_YEAR, which the first year's dashboard compares with."""
    today = timezone.localdate()
    years = list(years) if years is not None else list(range(FIRST_YEAR - 1, today.year + 1))
    return sorted({params_for(year=y).as_of for y in years})


def worker_codes() -> dict[str, set[str]]:
    """The codes a refresh (`rollups_refresh`, the worker's turn) recomputes, by level of unit.

    Communes get the figures that are sums (additive, and shares of additive parts): one grouped
    pass gives them all. A commune's other figures (its cases, activities, population) are a few
    indexed rows each, computed when a page asks for them and kept then; filling them for every
    commune would cost most of the refresh (measured: 12 s of 16 s per date on the demo province).
    Districts get the sums and the per-unit figures a dashboard shows (its headline); their other
    per-unit figures (activities, budget, case breakdowns: the activities page and the report) are a
    few indexed rows, computed when asked. Filling all of them for the country's 696 districts was
    80% of a national refresh (measured), for pages that are rarely opened at that level.
    Provinces get every stored figure."""
    from vitreem.places.models import Level

    from .selectors import HEADLINE

    registry = indicators()
    codes = [c for c in registry if mode_of(c, registry) != "live"]
    summed = [c for c in codes if registry[c].by_commune is not None
              or (registry[c].parts and all(registry[p].by_commune is not None for p in registry[c].parts))]
    headline = [c for c in dict.fromkeys([*summed, *HEADLINE, *(p for c in HEADLINE if c in registry
                                                                  for p in registry[c].parts)]) if c in codes]
    return {Level.COMMUNE: set(summed), Level.DISTRICT: set(headline), Level.PROVINCE: set(codes)}


def worker_refreshes(code: str, unit: AdminUnit, day: dt.date, refreshed: dict[str, set[str]]) -> bool:
    """Whether a refresh recomputes `code` for `unit` as of `day` (`refreshed`: `worker_codes()`). A
    commune only in the version of the units in force that day: one of the other version is a sum of
    these through the crosswalk, added up when a page asks for it (storing it would double the rows
    written)."""
    from vitreem.places.models import Level, version_on

    if unit.level == Level.COMMUNE:
        return unit.version == version_on(day) and code in refreshed[Level.COMMUNE]
    return code in refreshed[Level.PROVINCE if unit.level == Level.PROVINCE else Level.DISTRICT]


def rollups_refresh(*, years: Iterable[int] | None = None, units: list[AdminUnit] | None = None,
                    full: bool = False, progress=None) -> int:
    """Fill the stored values of every unit (default: `installation_units`) for every as-of date of
    `years` (default: FIRST_YEAR → today): one batch per date — each additive indicator one grouped
    query over all communes, every other unit a sum. Rows still fresh are kept unless `full`.
    Each date is its own transaction: a refresh killed half-way leaves the rows of the dates it did not
    reach as they were (valid, or stale and recomputed on the next read) and the next refresh completes.
    Returns the number of (unit, date) pairs refreshed (or found fresh)."""
    from vitreem.places.models import Level, version_on

    whole = units is None
    units = installation_units() if units is None else units
    # Today first, then the year-ends from the latest: a page opens on today's figures, and after a
    # change in the worker's turn they were the last of seven dates to be recomputed.
    days = sorted(refresh_days(years), reverse=True)
    if full:
        stamp_units(None)  # every stored row is stale from now; the new ones are computed after it
    for i, day in enumerate(days):
        _refresh_day(units, day, full=full, whole=whole)
        if progress:
            progress(i + 1, len(days))
    return sum(len([u for u in units if u.level != Level.COMMUNE or u.version == version_on(d)]) for d in days)


def _refresh_day(units: list[AdminUnit], day: dt.date, *, full: bool = False, whole: bool = False) -> int:
    """Refresh the stored values of `units` as of `day`, in one transaction; returns how many rows it
    wrote (0: every row was fresh, only read)."""
    from django.db import transaction

    from vitreem.places.models import Level, version_on

    refreshed = worker_codes()  # which codes each level gets, and why
    registry = indicators()
    codes = [c for c in registry if c in refreshed[Level.PROVINCE]]
    summed = [c for c in codes if c in refreshed[Level.COMMUNE]]
    headline = [c for c in codes if c in refreshed[Level.DISTRICT]]
    provinces = [u for u in units if u.level == Level.PROVINCE]
    districts = [u for u in units if u.level not in (Level.PROVINCE, Level.COMMUNE)]
    # The communes of the day's version (`worker_refreshes`), and the units the provinces sum as
    # communes though they are not: five legacy island districts with no commune below them are
    # the predecessors of 2025 communes in the crosswalk. Summed with the others in the grouped
    # pass, not counted apart by a grouped query of their own when the provinces ask for them.
    leaves = frozenset().union(*communes_of(provinces, day).values()) if provinces else frozenset()
    communes = [u for u in units if (u.level == Level.COMMUNE and u.version == version_on(day))
                or (u.pk in leaves and u.level != Level.PROVINCE)]
    with transaction.atomic():
        _batch_memory()
        store = _Store(recompute=full, whole=whole)
        store.get(summed, communes, day)
        written = store.save(wait=True)
        store.get(headline, districts, day)
        written += store.save(wait=True)
        store.get(codes, provinces, day)
        written += store.save(wait=True)
        if written:
            _stamp([UnitStamp(key=REFRESHED_KEY)])  # committed with the rows
    return written


class RefreshTurns:
    """The task worker's turns (`vitreem run_worker`): each refreshes the stale stored figures when a
    change stamped a unit since the last turn, or the day changed (today's figures are as of a new
    date), or at the first turn. So a change or an import reaches every dashboard's stored rows in the
    background, and the first visitor of the day finds today's figures stored.

    Each as-of date keeps the time up to which its rows hold every change (`done`). A turn after changes
    refreshes, date by date, the units stamped since that date's time: today's first, then the dates
    left longest. With `seconds`, it ends after the first date other than today past that time that
    recomputed something (a date whose rows were all fresh never ends it), and the next turn goes on
    with the dates it did not reach. The turn after a 500-row import recomputed ~40 units for all seven
    dates (about 10 s alone), then the worker rested twice that: a change made meanwhile waited up to
    30 s to show. Bounded, each turn starts with today's figures of the new changes; under steady data
    entry no date waits for good: the dates left longest come next, whatever changes keep making today's
    stale. The day's first turn is not bounded: it fills every unit for a new date."""

    def __init__(self, since: dt.datetime | None = None) -> None:
        # {as-of date: every change stamped before this time is in its stored rows}
        self.done: dict[dt.date, dt.datetime] = {}
        # {as-of date: when a turn last went through it, in dates gone through}: the next turn's order
        # after today (`done` cannot give it: it looks 2 s back, and a turn may come sooner)
        self.visited: dict[dt.date, int] = {}
        if since is not None and timezone.localtime(since).date() == timezone.localdate():
            self.done = dict.fromkeys(refresh_days(), since)

    @property
    def since(self) -> dt.datetime | None:
        """Every change stamped before this time is in every date's stored rows."""
        return min(self.done.values()) if self.done else None

    def turn(self, seconds: float | None = None) -> str:
        """One turn: "day" (the day's first: every unit for every date), "all" (a change of everything),
        "changes" (the units changed, date by date), or "" (nothing to do)."""
        import time

        from vitreem.places.models import Level

        now = timezone.now()
        days = refresh_days()
        if set(self.done) != set(days):  # the first turn, or a new day: today is a new date
            rollups_refresh()
            self.done = dict.fromkeys(days, now)
            return "day"
        stamps = list(UnitStamp.objects.filter(changed_at__gt=min(self.done.values()))
                      .exclude(key=REFRESHED_KEY).values_list("key", "unit_id", "year", "app", "changed_at"))
        if not stamps:
            return ""
        if any(key == "all" for key, *_parts in stamps):
            rollups_refresh()
            self.done = dict.fromkeys(days, now)
            return "all"
        # Only the units a change stamped: a stamp names the commune and every unit whose figures include it
        # (its district and province, in both versions: `_related_units`). Reading every unit's stored rows
        # to find the stale ones took most of a turn nationally (a change reached the country's dashboard
        # 15.5 s later, on 2,500,000 children).
        changed = [(unit_id, year, app, at) for _key, unit_id, year, app, at in stamps if unit_id is not None]
        units = {u.pk: u for u in AdminUnit.objects.filter(
            pk__in={unit_id for unit_id, *_rest in changed},
            level__in=[Level.PROVINCE, Level.DISTRICT, Level.COMMUNE]).order_by("version", "level", "code")}
        deadline = None if seconds is None else time.monotonic() + seconds
        today = timezone.localdate()
        order = [today, *sorted((d for d in days if d != today),
                                key=lambda d: (self.visited.get(d, 0), -d.toordinal()))]
        with _one_core():
            for day in order:
                # a stamp dated in a year (`DATED_ACTIONS`) reaches that year's date and later ones only
                ids = {unit_id for unit_id, year, _app, at in changed
                       if at > self.done[day] and (year is None or year <= day.year)}
                stale = [u for pk, u in units.items() if pk in ids]
                written = _refresh_day(stale, day) if stale else 0
                # A stamp takes its time before it commits: one dated just before `now` but committed after
                # the keys were read would be missed for good. The next turn looks again a little further
                # back; the units refreshed here are then found fresh and only read.
                self.done[day] = max(self.done[day], now - dt.timedelta(seconds=2))
                self.visited[day] = 1 + max(self.visited.values(), default=0)
                # Not after today's: changes before every turn would keep the past dates waiting for good.
                if deadline is not None and written and day != today and time.monotonic() >= deadline:
                    break
        return "changes"


def rollups_refresh_if_changed(since: dt.datetime | None) -> dt.datetime | None:
    """One turn of `RefreshTurns` (unbounded) from `since`: returns the time to pass next turn
    (unchanged when nothing was done)."""
    turns = RefreshTurns(since)
    return turns.since if turns.turn() else since


def _batch_memory() -> None:
    """More memory for the sorts and hashes of this transaction's grouped counts (PostgreSQL). With
    the default 4 MB the count of children's risk factors, hashed once at 64 MB, is probed once per
    child instead, and the grouping sorts spill to disk: every commune of the country on one date,
    2,150,000 children, 11.6 s at 4 MB, 9.1 s at 64 MB, 8.1 s at 256 MB (measured). `SET LOCAL`: the
    transaction's only (one date of a refresh); the pages keep the server's setting."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('work_mem', %s, true)", [settings.VITREEM_STATS_WORK_MEM])


@contextmanager
def _one_core() -> Iterator[None]:
    """No parallel workers for the queries of a background turn after a change. Parallel plans finish
    a few communes' counts no sooner but take the second core from the pages: under the load
    benchmark the worker's grouped counts, with their parallel workers, were most of PostgreSQL's work."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 0")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("RESET max_parallel_workers_per_gather")


def group_by_keys(rows: dict[Key, dict[str, Any]]) -> dict[int, dict[dt.date, dict[str, Any]]]:
    out: dict[int, dict[dt.date, dict[str, Any]]] = defaultdict(dict)
    for (unit_pk, day), values in rows.items():
        out[unit_pk][day] = values
    return out
