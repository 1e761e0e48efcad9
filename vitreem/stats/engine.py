"""The one statistics engine. Every figure — dashboard, report, .xlsx table, API, `vitreem stats` —
is an *indicator* registered here and computed for a unit and an as-of date (or a period).

Apps contribute indicators in `vitreem/<app>/indicators.py` with the `@indicator` decorator; the
engine discovers them. An indicator function takes `Params` and returns a number (or a dict of
numbers for breakdowns such as `by_group`).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext

from vitreem.places.models import AdminUnit, Level, UnitSuccession, Version, version_on


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

    @property
    def label(self) -> str:
        """The label in the language of the request (the catalogue has every indicator's English:
        tests/test_translations.py)."""
        return gettext(self.label_vi)


_REGISTRY: dict[str, Indicator] = {}
_discovered = False


def indicator(code: str, label: str, **options: Any) -> Callable[[Callable[[Params], Any]], Callable[[Params], Any]]:
    def register(fn: Callable[[Params], Any]) -> Callable[[Params], Any]:
        _REGISTRY[code] = Indicator(code=code, label_vi=label, fn=fn, **options)
        return fn

    return register


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
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].order, kv[0])))


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


_UNIT_CACHE: dict[tuple[int, str], frozenset[int]] = {}


def _communes_of(unit: AdminUnit) -> frozenset[int]:
    from vitreem.places.selectors import communes_under

    return frozenset(communes_under(unit).values_list("pk", flat=True))


def _commune_ids(unit: AdminUnit | None, day: dt.date, scope_ids: frozenset[int] | None) -> frozenset[int] | None:
    if unit is None:
        return scope_ids
    version = version_on(day)
    key = (unit.pk, version)
    ids = _UNIT_CACHE.get(key)
    if ids is None:
        ids = _communes_of(unit)
        if unit.version != version:
            # Across the 2025 reform a unit is approximated by what its communes became (or came from),
            # through the default successor of the crosswalk. A whole province maps exactly.
            if unit.version == Version.LEGACY:
                ids = frozenset(UnitSuccession.objects.filter(old_id__in=ids, is_default=True)
                                .values_list("new_id", flat=True))
            else:
                ids = frozenset(UnitSuccession.objects.filter(new_id__in=ids, is_default=True)
                                .values_list("old_id", flat=True))
        _UNIT_CACHE[key] = ids
    return ids if scope_ids is None else ids & scope_ids


def compute(params: Params, codes: Iterable[str] | None = None) -> dict[str, Any]:
    registry = indicators()
    wanted = list(codes) if codes is not None else list(registry)
    return {code: registry[code].fn(params) for code in wanted}


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
