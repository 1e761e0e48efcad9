"""The dashboard page (/stats/) and the home panel. Thin: the figures come from selectors.dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vitreem.core.errors import DomainError, NotFound, PermissionDenied

from . import charts
from .engine import params_for
from .rollups import unit_stamp
from .selectors import dashboard, home_figures, unit_choices, unit_for_user, year_clean

CACHE_SECONDS = 3600


def _cache_key(request: HttpRequest, unit_pk: int, year: int) -> str:
    lang = getattr(request, "LANGUAGE_CODE", "vi")
    return f"stats:dashboard:{request.user.pk}:{unit_pk}:{year}:{request.GET.get('sort', '')}:{lang}"


@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """The rendered figures are kept (per user, unit, year, sort, language) while no change has stamped
    the unit since: a change anywhere below a unit stamps it (stats.rollups), so one query tells
    whether the kept page is still current."""
    try:
        year = year_clean(request.GET.get("year"))
        unit = unit_for_user(request.user, request.GET.get("unit") or None, day=params_for(year=year).as_of)
        key = _cache_key(request, unit.pk, year)
        stamp = unit_stamp(unit.pk)
        cached = cache.get(key)
        if cached is not None and cached[0] == stamp:
            return render(request, "stats/dashboard.html", cached[1])
        data = dashboard(user=request.user, year=year, unit=unit.ref, sort=request.GET.get("sort", ""))
    except NotFound as exc:
        return render(request, "404.html", {"message": exc.message}, status=404)
    except PermissionDenied as exc:
        return render(request, "403.html", {"message": exc.message}, status=403)
    except DomainError as exc:
        return render(request, "stats/dashboard.html", {"error": exc.message, "years": _years()}, status=400)
    groups = data["groups"]
    data["group_chart"] = charts.bar_chart([(g["label"], g["value"], g["url"]) for g in groups],
                                           title=_("Trẻ em có hoàn cảnh đặc biệt theo nhóm"))
    data["trend_chart"] = charts.line_chart(data["trend"], title=_("Xu hướng qua các năm"))
    data["map"] = charts.point_map(data["points"], title=_("Số trẻ em theo xã, phường"))
    data["units"] = unit_choices(request.user, data["day"])
    data["years"] = _years()
    data["body"] = render_to_string("stats/_dashboard_body.html", data, request)
    kept = {k: v for k, v in data.items() if k not in {"params", "prev_params", "trend_chart", "group_chart", "map"}}
    cache.set(key, (stamp, kept), CACHE_SECONDS)
    return render(request, "stats/dashboard.html", data)


def _years() -> list[int]:
    from django.utils import timezone

    from .selectors import FIRST_YEAR

    return list(range(timezone.localdate().year, FIRST_YEAR - 1, -1))


def home_panel_context(request: HttpRequest) -> dict | None:
    if not request.user.is_authenticated:
        return None
    return home_figures(user=request.user)
