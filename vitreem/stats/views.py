"""The dashboard page (/stats/) and the home panel. Thin: the figures come from selectors.dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vitreem.core.errors import DomainError, NotFound, PermissionDenied

from . import charts
from .selectors import dashboard, home_figures, unit_choices


@login_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    try:
        data = dashboard(user=request.user, year=request.GET.get("year"), unit=request.GET.get("unit") or None,
                         sort=request.GET.get("sort", ""))
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
    return render(request, "stats/dashboard.html", data)


def _years() -> list[int]:
    from django.utils import timezone

    from .selectors import FIRST_YEAR

    return list(range(timezone.localdate().year, FIRST_YEAR - 1, -1))


def home_panel_context(request: HttpRequest) -> dict | None:
    if not request.user.is_authenticated:
        return None
    return home_figures(user=request.user)
