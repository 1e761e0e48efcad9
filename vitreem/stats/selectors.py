"""Reads for the dashboards: which unit and year a user may look at, and the figures of a dashboard.

Every figure comes from the engine's indicators through the rollup layer (rollups.figures), limited
to the user's scope; every figure carries the drill-down URL of its indicator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.errors import PermissionDenied, ValidationFailed
from vitreem.core.scope import scope_for
from vitreem.places.models import AdminUnit, Level, version_on
from vitreem.places.selectors import unit_resolve

from .engine import _commune_ids, indicators, params_for, units_below
from .indicators import drilldown_key, key_labels
from .rollups import FIRST_YEAR, figures, figures_installation, installation_provinces

# The headline figures of the year, in the order the committee states them; those whose app is not
# installed are left out.
HEADLINE = ["children", "children_share", "poor_household_children", "near_poor_household_children",
            "special_circumstances", "at_risk", "allowance_recipients", "allowance_monthly_cost",
            "cases_received", "cases_open", "cases_overdue"]
TABLE = ["children", "poor_household_children", "near_poor_household_children", "special_circumstances", "at_risk",
         "allowance_recipients"]
TREND = ["children", "special_circumstances", "at_risk", "poor_household_children", "near_poor_household_children"]
CASE_CODES = {"cases_received", "cases_open", "cases_overdue"}

if TYPE_CHECKING:
    from vitreem.accounts.models import User


def available(codes: list[str]) -> list[str]:
    registry = indicators()
    return [c for c in codes if c in registry]


def year_clean(raw: Any) -> int:
    today = timezone.localdate()
    if raw in (None, ""):
        return today.year
    try:
        year = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed({"year": _("Năm không hợp lệ: %(v)s.") % {"v": raw}}) from None
    if not 2000 <= year <= today.year:
        raise ValidationFailed({"year": _("Năm %(y)s nằm ngoài khoảng 2000–%(t)s.") % {"y": year, "t": today.year}})
    return year


def require_figures(user: User) -> None:
    # Decree 13/2023: children's data is sensitive; member-unit reporters see their unit's reports,
    # not child figures (scope.read_children is False for them).
    if not scope_for(user).read_children:
        raise PermissionDenied(_("Tài khoản của bạn không được xem số liệu trẻ em."), code="no_child_figures")


def default_unit(user: User, day: dt.date) -> AdminUnit | None:
    """The user's widest assigned unit in the version in force on `day` (else any of theirs)."""
    units = sorted(user.units.all(), key=lambda u: (u.version != version_on(day), ["province", "district", "commune"]
                                                    .index(u.level) if u.level in ("province", "district", "commune")
                                                    else 9, u.code))
    return units[0] if units else None


def unit_for_user(user: User, ref: str | None, *, day: dt.date) -> AdminUnit:
    """The unit a dashboard or report is asked for, refused when outside the user's scope."""
    require_figures(user)
    if not ref:
        unit = default_unit(user, day)
        if unit is None:
            raise PermissionDenied(_("Tài khoản của bạn chưa được gán đơn vị nào."), code="no_unit")
        return unit
    unit = unit_resolve(ref)
    if not scope_for(user).sees_unit(unit.pk):
        raise PermissionDenied(_("Đơn vị %(unit)s nằm ngoài phạm vi của bạn.") % {"unit": unit.name},
                               field="unit", code="out_of_scope")
    return unit


# The dashboard's address of the whole installation (`/stats/?unit=country`).
COUNTRY = "country"


@dataclass(frozen=True)
class Country:
    """The whole installation as the subject of a dashboard: on a national installation, the country
    (the Ministry sums 34 provinces). Not an administrative unit: its figures are its provinces' stored
    figures added up (`rollups.figures_installation`), and the units below it are its provinces."""

    provinces: tuple[AdminUnit, ...]
    pk = None
    ref = COUNTRY
    level = "country"
    version = ""

    @property
    def name(self) -> str:
        return _("Toàn quốc")


def country_for_user(user: User, *, day: dt.date) -> Country:
    """The country, for a user who sees every province of the installation; refused otherwise, and on
    an installation of one province (its dashboard is that province's: a message, not a second page
    of the same figures under another name)."""
    require_figures(user)
    provinces = installation_provinces(day)
    if len(provinces) < 2:
        raise ValidationFailed({"unit": _("Hệ thống chỉ có số liệu của một tỉnh: hãy chọn tỉnh đó.")})
    if not all(scope_for(user).sees_unit(p.pk) for p in provinces):
        raise PermissionDenied(_("Số liệu toàn quốc chỉ dành cho tài khoản được giao tất cả các tỉnh."),
                               field="unit", code="out_of_scope")
    return Country(tuple(provinces))


def subject_for_user(user: User, ref: str | None, *, day: dt.date) -> AdminUnit | Country:
    """What a dashboard is asked for: the country (`COUNTRY`) or a unit (`unit_for_user`)."""
    return country_for_user(user, day=day) if ref == COUNTRY else unit_for_user(user, ref, day=day)


def unit_choices(user: User, day: dt.date, current: AdminUnit | Country | None = None) -> list[AdminUnit | Country]:
    """Units for the selector: the user's units and those below them, of the version in force on `day`
    first (a 2022 dashboard lists districts; a 2026 one the new communes). A user who sees the whole of
    a national installation gets the country and the provinces (and the unit open now): thirteen
    thousand communes are not a list to scroll; the table of the units below leads down to them."""
    ids = scope_for(user).unit_ids
    try:
        country = country_for_user(user, day=day)
    except (ValidationFailed, PermissionDenied):
        country = None
    if country is not None:
        provinces = AdminUnit.objects.filter(pk__in_ids=ids, level=Level.PROVINCE).only(
            "pk", "name", "version", "code", "level", "parent_id")
        extra = [current] if isinstance(current, AdminUnit) and current.level != Level.PROVINCE else []
        return [country, *sorted([*provinces, *extra], key=lambda u: (u.version != version_on(day), u.name))]
    qs = AdminUnit.objects.filter(pk__in_ids=ids, level__in=[Level.PROVINCE, Level.DISTRICT, Level.COMMUNE])
    units = list(qs.only("pk", "name", "version", "code", "level", "parent_id"))
    order: dict[str, int] = {Level.PROVINCE: 0, Level.DISTRICT: 1, Level.COMMUNE: 2}
    return sorted(units, key=lambda u: (u.version != version_on(day), order.get(u.level, 9), u.name))


def can_open_cases(user: User) -> bool:
    return scope_for(user).read_case_details


def drill(code: str, params) -> str | None:
    """The list behind an indicator's figure (its `drilldown`), or None when it has none."""
    fn = indicators()[code].drilldown
    return fn(params) if fn is not None else None


def _figure(code: str, value: Any, prev: Any, params, user: User) -> dict[str, Any]:
    ind = indicators()[code]
    url = drill(code, params)
    if code in CASE_CODES and not can_open_cases(user):
        url = None  # leaders see case counts, never the case list (Decree 56/2017: case details are confidential)
    change = value - prev if isinstance(value, (int, float)) and isinstance(prev, (int, float)) else None
    return {"code": code, "label": ind.label, "measure": ind.measure, "value": value, "prev": prev,
            "change": change, "url": url}


def dashboard(*, user: User, year: Any = None, unit: str | None = None, sort: str = "", with_map: bool = True
              ) -> dict[str, Any]:
    """Everything the dashboard page shows, for `user` (scope-limited), of a unit or of the country
    (`unit=COUNTRY`: the sums of the provinces, and the provinces below it)."""
    year = year_clean(year)
    params = params_for(year=year)
    day, prev_day = params.as_of, params_for(year=year - 1).as_of
    subject = subject_for_user(user, unit, day=day)
    unit_obj = subject if isinstance(subject, AdminUnit) else None
    params = params_for(year=year, unit=unit_obj, user=user)
    prev_params = params_for(year=year - 1, unit=unit_obj, user=user)
    updating: set = set()  # figures served their last values while the worker brings them up to date

    def values_of(days: list[dt.date], codes: list[str]) -> dict[dt.date, dict[str, Any]]:
        if unit_obj is None:  # the country: every province is in the user's scope (country_for_user)
            return {d: figures_installation(day=d, codes=codes, updating=updating) for d in days}
        rows = figures(units=[unit_obj], days=days, codes=codes, user=user, updating=updating)
        return {d: rows[(unit_obj.pk, d)] for d in days}

    head_codes = available(HEADLINE)
    extra = available(["by_group", "population"])
    rows = values_of([day, prev_day], head_codes + extra)
    now, before = rows[day], rows[prev_day]
    headline = [_figure(c, now[c], before[c], params, user) for c in head_codes]

    groups = []
    if "by_group" in extra:
        names = key_labels("by_group")
        for code, n in sorted((now["by_group"] or {}).items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 99):
            groups.append({"code": code, "label": names.get(code, code), "value": n,
                           "prev": (before["by_group"] or {}).get(code),
                           "url": drilldown_key("by_group", params, code)})

    # by unit below
    below = list(subject.provinces) if isinstance(subject, Country) else units_below(subject, day=day)
    scope = scope_for(user)
    below = [u for u in below if scope.sees_unit(u.pk)]
    table_codes = available(TABLE)
    table = []
    if below:
        values = figures(units=below, days=[day], codes=table_codes, user=user, updating=updating)
        for u in below:
            p = params_for(year=year, unit=u, user=user)
            v = values[(u.pk, day)]
            table.append({"unit": u, "values": [
                {"code": c, "value": v[c], "url": drill(c, p)}
                for c in table_codes]})
        table = _sorted(table, sort, table_codes)

    # trend over the years (across the 2025 reform: the unit's communes of each year, via the crosswalk)
    years = list(range(max(FIRST_YEAR, year - 5), year + 1))
    trend_days = {y: params_for(year=y).as_of for y in years}
    trend_codes = available(TREND)
    trend_rows = values_of(list(trend_days.values()), trend_codes)
    trend = {indicators()[c].label: [(y, trend_rows[d][c]) for y, d in trend_days.items()] for c in trend_codes}

    # the map: a unit's communes; the country's provinces
    points: list[dict[str, Any]] = []
    if with_map and (unit_obj is None or unit_obj.level != Level.COMMUNE):
        if unit_obj is None:
            places = below
        else:
            ids = (_commune_ids(unit_obj, day, None) or frozenset()) & scope.unit_ids
            places = list(AdminUnit.objects.filter(pk__in=ids).only("pk", "name", "latitude", "longitude", "version",
                                                                    "code", "level"))
        if places:
            values = figures(units=places, days=[day], codes=["children"], user=user, updating=updating)
            points = [{"name": c.name, "lat": c.latitude, "lon": c.longitude, "value": values[(c.pk, day)]["children"],
                       "url": drill("children", params_for(year=year, unit=c, user=user))}
                      for c in places]

    return {"year": year, "day": day, "prev_year": year - 1, "unit": subject, "params": params,
            "prev_params": prev_params, "headline": headline, "groups": groups, "table": table,
            "table_codes": [{"code": c, "label": indicators()[c].label} for c in table_codes], "trend": trend,
            "points": points, "no_data": not now.get("children"),
            "targets": targets_summary(year=year, unit=unit_obj, user=user) if unit_obj is not None else None,
            "sort": sort, "updating": bool(updating)}


def _sorted(table: list[dict[str, Any]], sort: str, codes: list[str]) -> list[dict[str, Any]]:
    key, desc = sort.lstrip("-"), sort.startswith("-")
    if key in codes:
        i = codes.index(key)
        return sorted(table, key=lambda r: (r["values"][i]["value"] or 0), reverse=desc)
    if key == "name":
        return sorted(table, key=lambda r: r["unit"].name, reverse=desc)
    return table


def targets_summary(*, year: int, unit: AdminUnit, user: User) -> dict[str, Any] | None:
    """Targets achieved / not achieved (programme app), or None when there is no programme data.
    Stored like a rollup for province-wide readers (the programme's evaluation takes ~0.2 s)."""
    # a function-level import: the programme app imports the engine (stats) at module level
    from vitreem.programme.selectors import evaluation_for_year

    def compute() -> dict[str, Any] | None:
        data = evaluation_for_year(year=year, unit=unit, user=user, with_trend=False)
        if not data.get("targets"):
            return None
        counts = data.get("counts", {})
        return {"achieved": counts.get("achieved", 0), "not_achieved": counts.get("not_achieved", 0),
                "no_data": counts.get("no_data", 0), "total": len(data["targets"]),
                "not_achieved_rows": [{"name": r["name"]} for r in data["targets"]
                                      if r.get("status") == "not_achieved"][:10]}

    if not scope_for(user).province_wide:  # a reporter's view of the targets differs: not shared
        return compute()
    from .rollups import stored_value

    return stored_value(key=f"_targets:{year}", unit=unit, day=params_for(year=year).as_of, compute_fn=compute)


def home_figures(*, user: User) -> dict[str, Any] | None:
    """The home panel: this year's headline figures of the user's main unit (None: not shown)."""
    scope = scope_for(user)
    if not scope.read_children:
        return None
    year = timezone.localdate().year
    day = params_for(year=year).as_of
    unit = default_unit(user, day)
    if unit is None:
        return None
    params = params_for(year=year, unit=unit, user=user)
    codes = available(HEADLINE)
    updating: set = set()
    values = figures(units=[unit], days=[day], codes=codes, user=user, updating=updating)[(unit.pk, day)]
    headline = [_figure(c, values[c], None, params, user) for c in codes]
    work = None
    if scope_for(user).commune_worker:
        work = [f for f in headline if f["code"] in {"special_circumstances", "at_risk", "allowance_recipients",
                                                      "cases_open", "cases_overdue"}]
    return {"unit": unit, "year": year, "day": day, "headline": headline, "work": work, "updating": bool(updating)}
