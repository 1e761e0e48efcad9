"""The dashboard page (/stats/) and the home panel. Thin: the figures come from selectors.dashboard."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vitreem.accounts.http import AuthenticatedHttpRequest
from vitreem.core.errors import DomainError, NotFound, PermissionDenied

from . import charts
from .engine import params_for
from .rollups import refreshed_stamp, unit_stamp
from .selectors import Country, dashboard, home_figures, subject_for_user, unit_choices, year_clean

CACHE_SECONDS = 3600
# The kept page holds these instead of the CSRF token (a token is per browser and masked per response)
# and of the name in the header (the page is shared by the users of one audience, `_audience`); the
# viewer's own replace them when the page is served. Letters only: escaping keeps them.
CSRF_PLACEHOLDER = "vitreemCsrfTokenPlaceholder"
NAME_PLACEHOLDER = "vitreemUserNamePlaceholder"


def _audience(user) -> str:
    """Who a kept page is for: the users of one role, the same assigned units and the same member unit.
    Their scope is the same (core.scope derives it from these alone), so is everything the page shows
    but the name in the header and the CSRF token. A user whose scope changed is in another audience:
    a kept page is never served to her. One query. Kept per user, the province's officers and leaders
    each had the dashboard rendered again after every refresh of the figures (the load benchmark)."""
    units = ",".join(map(str, sorted(user.units.values_list("pk", flat=True))))
    return hashlib.sha1(f"{user.role}|{user.member_unit_id}|{units}".encode(), usedforsecurity=False).hexdigest()


def _cache_key(request: HttpRequest, day: Any) -> str:
    lang = getattr(request, "LANGUAGE_CODE", "vi")
    # the full path: the year, unit and sort, and the "next" of the language form in the page
    path = hashlib.sha1(request.get_full_path().encode(), usedforsecurity=False).hexdigest()
    return f"stats:page:{_audience(request.user)}:{lang}:{day}:{path}"


def _serve(request: AuthenticatedHttpRequest, html: str) -> HttpResponse:
    return HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request))
                        .replace(NAME_PLACEHOLDER, escape(request.user.display_name)))


@login_required
@require_GET
def dashboard_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The whole page (per audience — the users of one role and scope, `_audience` —, address and
    language) is kept while what it shows is still what a new rendering would show:
    - a page of current figures, while no change has stamped the unit since: a change anywhere below
      a unit stamps it (stats.rollups);
    - a page of last values marked "Đang cập nhật", until the task worker next commits recomputed
      figures (`refreshed_stamp`): changes in between only make more values stale, and a page shows
      stale values as they were stored. Under steady data entry the unit is stamped every few seconds,
      and the dashboards rendered again on every visit were a quarter of the web workers' time
      (the load benchmark, sampled).
    Two small queries tell whether the kept page is current. Serving it then costs no scope computation
    and no template rendering (the profile of a served page was two thirds template rendering — the
    unit selector has ~200 options — and scope queries)."""
    try:
        year = year_clean(request.GET.get("year"))
        day = params_for(year=year).as_of  # in the key: this year's figures are as of today
        key = _cache_key(request, day)
        kept = cache.get(key)
        if kept is not None and (
                kept["refreshed"] == refreshed_stamp() if kept["updating"]
                else kept["stamp"] == unit_stamp(kept["unit_pks"])):
            return _serve(request, kept["html"])
        subject = subject_for_user(request.user, request.GET.get("unit") or None, day=day)
        # the country's page is current while none of its provinces is stamped
        unit_pks = [p.pk for p in subject.provinces] if isinstance(subject, Country) else [subject.pk]
        stamp, refreshed = unit_stamp(unit_pks), refreshed_stamp()  # before the figures are read
        data = dashboard(user=request.user, year=year, unit=subject.ref, sort=request.GET.get("sort", ""))
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
    data["units"] = unit_choices(request.user, data["day"], current=subject)
    data["years"] = _years()
    data["body"] = render_to_string("stats/_dashboard_body.html", data, request)
    # Messages waiting for the user are shown (and consumed) by this rendering only: a page that
    # holds them is not kept, or it would show them again.
    keep = len(messages.get_messages(request)) == 0
    html = render_to_string("stats/dashboard.html", {**data, "csrf_token": CSRF_PLACEHOLDER,
                                                     "header_name": NAME_PLACEHOLDER}, request)
    if keep:
        cache.set(key, {"stamp": stamp, "refreshed": refreshed, "updating": data["updating"], "unit_pks": unit_pks,
                        "html": html}, CACHE_SECONDS)
    return _serve(request, html)


def _years() -> list[int]:
    from django.utils import timezone

    from .selectors import FIRST_YEAR

    return list(range(timezone.localdate().year, FIRST_YEAR - 1, -1))


def home_panel_context(request: HttpRequest) -> dict | None:
    if not request.user.is_authenticated:
        return None
    return home_figures(user=request.user)
