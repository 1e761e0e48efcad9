"""Programme ratios registered in the statistics engine, so dashboards and `vitreem stats` show them too."""

from __future__ import annotations

from vitreem.stats.engine import Params, indicator


@indicator("special_circumstances_share", "Tỷ lệ trẻ em có hoàn cảnh đặc biệt trên tổng số trẻ em",
           measure="percent", order=9)
def special_circumstances_share(params: Params) -> float | None:
    # Decision 23/QĐ-TTg, objective 1: below 6.5% in 2025 and 6% in 2030.
    from vitreem.registry.indicators import children, special_circumstances

    total = children(params)
    return round(special_circumstances(params) / total, 4) if total else None
