"""Benefit indicators for the one statistics engine (vitreem/stats)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.db.models import Q

from vitreem.core.db import has_row
from vitreem.registry.indicators import child_count, share
from vitreem.registry.rules import q_special_on
from vitreem.stats.engine import Params, indicator

from .models import AllowancePeriod
from .rules import month_of


def q_allowance_on(day: dt.date) -> Q:
    """Children with a monthly allowance for the month of `day` (a period covering that month)."""
    month = month_of(day)
    periods = AllowancePeriod.objects.filter(start__lte=month).filter(Q(end__isnull=True) | Q(end__gte=month))
    return has_row(periods, "allowance__child")


def _drill(params: Params) -> str:
    query = {"as_of": params.as_of.isoformat()}
    if params.unit is not None:
        query["unit"] = params.unit.ref
    return "/benefits/recipients/?" + urlencode(query)


@child_count("allowance_recipients", "Trẻ em có hoàn cảnh đặc biệt được hưởng trợ cấp xã hội hàng tháng tại cộng đồng",
             order=20, drilldown=_drill, reads=("benefits", "registry"))
def allowance_recipients(params: Params) -> Q:
    """Children under 16 in special circumstances with an active monthly allowance in the community
    on the date (Decree 20/2021), in the commune they lived in on that date."""
    return q_special_on(params.as_of) & q_allowance_on(params.as_of)


def payroll_by_commune(params: Params, communes, codes: list[str]) -> dict[str, dict[int, int]]:
    """The payroll of the month of as_of, per commune of the payroll — its total (amounts, arrears and
    adjustments, VND) and its number of lines — from one payroll computation for all the communes. The
    month starts in the version of the units of the as-of date (the 2025 reform took effect on the first
    of a month)."""
    from .payroll import payroll_totals
    from .rules import PROGRAMME_START

    out: dict[str, dict[int, int]] = {"allowance_monthly_cost": {}, "allowance_payroll_lines": {}}
    month = month_of(params.as_of)
    if month >= PROGRAMME_START:
        totals = payroll_totals(month=month, commune_ids=None if communes is None else frozenset(communes))
        for unit_id, (total, lines) in totals.items():
            out["allowance_monthly_cost"][unit_id] = total
            out["allowance_payroll_lines"][unit_id] = lines
    return {code: out[code] for code in codes}


def _payroll_drill(p: Params) -> str:
    return "/benefits/payroll/" + f"{p.as_of:%Y-%m}/" + (f"?unit={p.unit.ref}" if p.unit else "")


@indicator("allowance_monthly_cost", "Kinh phí trợ cấp xã hội hàng tháng cho trẻ em (tháng của ngày tính)",
           measure="vnd", order=21, batch=payroll_by_commune, drilldown=_payroll_drill, reads=("benefits", "registry"))
def allowance_monthly_cost(params: Params, communes) -> dict[int, int]:
    return payroll_by_commune(params, communes, ["allowance_monthly_cost"])["allowance_monthly_cost"]


@indicator("allowance_payroll_lines", "Người trong bảng chi trả trợ cấp (tháng của ngày tính)", order=21,
           batch=payroll_by_commune, drilldown=_payroll_drill, reads=("benefits", "registry"))
def allowance_payroll_lines(params: Params, communes) -> dict[int, int]:
    return payroll_by_commune(params, communes, ["allowance_payroll_lines"])["allowance_payroll_lines"]


@indicator("allowance_assisted_share", "Tỷ lệ trẻ em có hoàn cảnh đặc biệt được hưởng trợ cấp hàng tháng",
           measure="percent", order=22, parts=("allowance_recipients", "special_circumstances"))
def allowance_assisted_share(recipients: int, special: int) -> float | None:
    return share(recipients, special)
