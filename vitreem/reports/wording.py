"""How the committee writes figures in prose: the one place for the rounding rules.

The committee's report for 2022 reads: "trên 200.000 trẻ em dưới 16 tuổi, chiếm gần 35% dân số;
27.678 trẻ em thuộc hộ nghèo và 46.177 trẻ em thuộc hộ cận nghèo; trên 2.500 trẻ em có hoàn cảnh đặc
biệt và trên 44.000 trẻ em có nguy cơ…; 1.865 trẻ em … được hưởng trợ cấp xã hội hằng tháng".
Totals are rounded ("trên", "gần"); the counts the committee manages case by case (poverty lists,
allowance recipients) are exact. Exact figures of everything are in the annex tables.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from vitreem.core.text import format_number

# Below this a count is written exactly (rounding 58 children to "trên 50" hides too much).
EXACT_BELOW = 1000


def approx_count(value: int | None) -> str:
    """A count rounded the officials' way, to two significant digits:
    200.431 → "trên 200.000", 2.541 → "trên 2.500", 44.870 → "trên 44.000", 199.800 → "gần 200.000"
    (within a tenth of a step below the round figure), 200.000 → "200.000", 865 → "865"."""
    if value is None:
        return ""
    value = int(value)
    if abs(value) < EXACT_BELOW:
        return format_number(value)
    step = 10 ** (len(str(abs(value))) - 2)
    floor = value // step * step
    ceil = floor + step
    if value == floor:
        return format_number(value)
    if ceil - value <= step // 10:
        return "gần " + format_number(ceil)
    return "trên " + format_number(floor)


def approx_percent(fraction: float | Decimal | None) -> str:
    """A share as a whole percent with "gần"/"trên": 0.3466 → "gần 35%", 0.3412 → "trên 34%", 0.35 → "35%"."""
    if fraction is None:
        return ""
    pct = Decimal(str(fraction)) * 100
    whole = pct.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if whole == pct.quantize(Decimal("0.01")):
        return f"{format_number(whole)}%"
    return f"{'gần' if whole > pct else 'trên'} {format_number(whole)}%"


def exact(value: int | None) -> str:
    return format_number(value) if value is not None else ""


def date_line(place: str, day: dt.date) -> str:
    """Decree 30/2020, Annex I: "Kon Tum, ngày 16 tháng 02 năm 2023" (day and month below 10 with a 0
    for days 1–9 and months 1–2, as the Decree prescribes; we pad all single digits the same way)."""
    return f"{place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def opening_paragraph(figures: dict, *, year: int, area: str, as_of: dt.date) -> str:
    """Section I's opening sentence in the officials' style, from the engine's figures. Clauses whose
    indicator is missing (its app not installed) or has no value are left out, never invented."""
    parts = []
    children = figures.get("children")
    share = figures.get("children_share")
    if children is not None:
        clause = f"{approx_count(children)} trẻ em dưới 16 tuổi"
        if share:
            clause += f", chiếm {approx_percent(share)} dân số"
        parts.append(clause)
    poor, near = figures.get("poor_household_children"), figures.get("near_poor_household_children")
    if poor is not None and near is not None:
        parts.append(f"{exact(poor)} trẻ em thuộc hộ nghèo và {exact(near)} trẻ em thuộc hộ cận nghèo")
    special, risk = figures.get("special_circumstances"), figures.get("at_risk")
    if special is not None and risk is not None:
        parts.append(f"{approx_count(special)} trẻ em có hoàn cảnh đặc biệt và {approx_count(risk)} trẻ em có nguy cơ "
                     "rơi vào hoàn cảnh đặc biệt")
    allowance = figures.get("allowance_recipients")
    if allowance is not None:
        parts.append(f"{exact(allowance)} trẻ em có hoàn cảnh đặc biệt được hưởng trợ cấp xã hội hằng tháng tại "
                     "cộng đồng")
    if not parts:
        return ""
    return f"Tính đến ngày {as_of:%d/%m/%Y}, {area} có " + "; ".join(parts) + "."
