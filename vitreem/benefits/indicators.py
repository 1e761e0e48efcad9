"""Benefit indicators for the one statistics engine (vitreem/stats)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q

from vitreem.registry.rules import q_child_on, q_lives_in, q_special_on
from vitreem.stats.engine import Params, indicator

from .models import AllowancePeriod
from .rules import month_of


def q_allowance_on(day: dt.date) -> Q:
    """Children with a monthly allowance for the month of `day` (a period covering that month)."""
    month = month_of(day)
    periods = AllowancePeriod.objects.filter(allowance__child=OuterRef("pk"), start__lte=month).filter(
        Q(end__isnull=True) | Q(end__gte=month))
    return Q(Exists(periods))


def _drill(params: Params) -> str:
    query = {"as_of": params.as_of.isoformat()}
    if params.unit is not None:
        query["unit"] = params.unit.ref
    return "/benefits/recipients/?" + urlencode(query)


@indicator("allowance_recipients", "Trẻ em có hoàn cảnh đặc biệt được hưởng trợ cấp xã hội hàng tháng tại cộng đồng",
           order=20, drilldown=_drill)
def allowance_recipients(params: Params) -> int:
    """Children under 16 in special circumstances with an active monthly allowance in the community
    on the date (Decree 20/2021), in the unit on that date."""
    from vitreem.registry.models import Child

    day = params.as_of
    return Child.objects.filter(q_child_on(day) & q_lives_in(day, params.commune_ids(day)) & q_special_on(day)
                                & q_allowance_on(day)).count()


@indicator("allowance_monthly_cost", "Kinh phí trợ cấp xã hội hàng tháng cho trẻ em (tháng của ngày tính)",
           measure="vnd", order=21,
           drilldown=lambda p: "/benefits/payroll/" + f"{p.as_of:%Y-%m}/" + (f"?unit={p.unit.ref}" if p.unit else ""))
def allowance_monthly_cost(params: Params) -> int:
    """The payroll total (amounts, arrears and adjustments, VND) for the month of as_of."""
    from .payroll import payroll_compute
    from .rules import PROGRAMME_START

    month = month_of(params.as_of)
    if month < PROGRAMME_START:
        return 0
    return payroll_compute(month=month, commune_ids=params.commune_ids(month)).total


@indicator("allowance_assisted_share", "Tỷ lệ trẻ em có hoàn cảnh đặc biệt được hưởng trợ cấp hàng tháng",
           measure="percent", order=22)
def allowance_assisted_share(params: Params) -> float | None:
    from vitreem.registry.models import Child

    day = params.as_of
    special = Child.objects.filter(q_child_on(day) & q_lives_in(day, params.commune_ids(day)) & q_special_on(day)).count()
    return round(allowance_recipients(params) / special, 4) if special else None
