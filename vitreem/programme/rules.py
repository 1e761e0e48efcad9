"""Counting rules of the programme's computed targets (Decision 23/QĐ-TTg of 7 January 2021), written
once: programme/indicators.py registers them in the statistics engine and calls only these.

Each rule reads the records of the app that owns them through that app's own rules (registry,
benefits, cases, activities): a figure vitreem computes is the figure the target uses; a member
unit's reported value is shown beside it as a cross-check, never instead of it (Indicator.check_*).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.conf import settings
from django.db.models import Q

from vitreem.core.db import has_row
from vitreem.stats.engine import Params


def q_under_five(day: dt.date) -> Q:
    """Children under 5 on `day`: born after the same day five years earlier."""
    try:
        five_years_back = day.replace(year=day.year - 5)
    except ValueError:  # 29 February
        five_years_back = day.replace(year=day.year - 5, day=28)
    return Q(birth_date__gt=five_years_back)


def q_under_five_registered(day: dt.date) -> Q:
    """Decision 23/QĐ-TTg, objective 2: "tỷ lệ trẻ em dưới 5 tuổi được đăng ký khai sinh" — a stock: of
    the children under 5 on the date, those whose birth is registered."""
    return q_under_five(day) & Q(birth_registered=True)


def q_allowance_in(start: dt.date, end: dt.date) -> Q:
    """Children with a monthly allowance (Decree 20/2021) for any month of [start, end]."""
    from vitreem.benefits.models import AllowancePeriod
    from vitreem.benefits.rules import month_of

    periods = AllowancePeriod.objects.filter(start__lte=month_of(end)).filter(
        Q(end__isnull=True) | Q(end__gte=month_of(start)))
    return has_row(periods, "allowance__child")


def q_recreation_in(start: dt.date, end: dt.date) -> Q:
    """Children named on a recreation activity for children carried out in [start, end] (activities:
    RecreationChild — a gift, a summer camp, a festival for children in special circumstances)."""
    from vitreem.activities.models import Kind, RecreationChild, Status

    links = RecreationChild.objects.filter(activity__kind=Kind.RECREATION, activity__status=Status.DONE,
                                           activity__start_date__gte=start, activity__start_date__lte=end)
    return has_row(links, "child")


def q_special_circumstances_assisted(params: Params) -> Q:
    """Decision 23/QĐ-TTg, objective 2: children in special circumstances "được trợ giúp, chăm sóc để phục
    hồi, hòa nhập" — more than the allowance. A child in special circumstances on the as-of date counts
    when, in the period, vitreem recorded any of: a monthly social allowance (Decree 20/2021; Decree
    56/2017, Art. 19); support through a case — a support and intervention plan approved by the commune
    chairman, whose items are the health, psychological, legal, education, care and material support
    (Decree 56/2017, Arts. 18, 20, 21, 28); taking part by name in a recreation activity for children.
    Support given outside vitreem (a school fee exemption recorded only by the school) is not counted."""
    from vitreem.cases.rules import q_case_support
    from vitreem.registry.rules import q_special_on

    start, end = params.period_start, params.period_end
    return q_special_on(params.as_of) & (q_allowance_in(start, end) | q_case_support(start, end)
                                         | q_recreation_in(start, end))


def installation_province():
    """The installation's province (setting VITREEM_PROVINCE_CODE, a legacy code, else a 2025 one)."""
    from vitreem.core.errors import DomainError
    from vitreem.places.selectors import unit_resolve

    code = str(getattr(settings, "VITREEM_PROVINCE_CODE", "") or "")
    for ref in (f"legacy:{code}", f"2025:{code}"):
        try:
            return unit_resolve(ref)
        except DomainError:
            continue
    return None


def play_point_communes_share(params: Params) -> float | None:
    """Decision 23/QĐ-TTg, objective 3: communes with a play point for children, as a share of the
    communes — from the play points activities records (open on the as-of date). Over the whole
    installation the communes are those of its province."""
    from vitreem.activities.indicators import play_points

    if params.unit is None:
        province = installation_province()
        if province is None:
            return None
        params = replace(params, unit=province)
    return play_points(params)["communes_share"]
