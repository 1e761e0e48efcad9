"""Statistics API (mounted at /api/stats/): the same figures as the dashboards and `vitreem stats`,
through the same engine and rollups, limited to the caller's scope."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from .engine import indicators, params_for
from .rollups import figures, figures_installation
from .selectors import Country, drill, subject_for_user, year_clean

router = Router(tags=["stats"])


class IndicatorOut(Schema):
    code: str
    label: str
    measure: str
    kind: str


class FiguresOut(Schema):
    year: int
    as_of: str
    unit: str
    figures: dict[str, Any]
    drilldown: dict[str, str | None]


@router.get("/indicators", response=list[IndicatorOut])
def indicator_list(request) -> list[dict[str, Any]]:
    return [{"code": i.code, "label": i.label, "measure": i.measure, "kind": i.kind} for i in indicators().values()]


@router.get("/figures", response=FiguresOut)
def figures_get(request, year: int | None = None, unit: str = "", codes: str = "") -> dict[str, Any]:
    """Indicator values for a unit (default: the caller's widest unit), or `unit=country` for the whole
    of an installation of several provinces (an account assigned every province), as of 31 December of
    `year` (today for the current year). `codes`: comma-separated indicator codes (default: all)."""
    year = year_clean(year)
    day = params_for(year=year).as_of
    subject = subject_for_user(request.user, unit or None, day=day)
    registry = indicators()
    wanted = [c.strip() for c in codes.split(",") if c.strip()] or list(registry)
    unknown = [c for c in wanted if c not in registry]
    if unknown:
        from django.utils.translation import gettext as _

        from vitreem.core.errors import ValidationFailed

        raise ValidationFailed({"codes": _("Không có chỉ tiêu thống kê mã %(c)s.") % {"c": unknown[0]}})
    if isinstance(subject, Country):  # every province is in the caller's scope (country_for_user)
        values = figures_installation(day=day, codes=wanted)
        params = params_for(year=year, user=request.user)
    else:
        values = figures(units=[subject], days=[day], codes=wanted, user=request.user)[(subject.pk, day)]
        params = params_for(year=year, unit=subject, user=request.user)
    return {"year": year, "as_of": day.isoformat(), "unit": subject.ref, "figures": values,
            "drilldown": {c: drill(c, params) for c in wanted}}
