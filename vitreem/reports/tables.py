"""The standard statistical tables as .xlsx (Vietnamese headers, number formats), one sheet each:
children by unit, sex and age band; by ethnicity; special circumstances by group and unit; poverty;
allowances; cases. Every cell comes from the engine's indicators through the rollups."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from vitreem.core.cells import text_cell
from vitreem.places.models import AdminUnit
from vitreem.stats.engine import indicators, params_for, units_below
from vitreem.stats.indicators import key_labels
from vitreem.stats.rollups import figures

NUMBER = "#,##0"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SEX = {"M": "Nam", "F": "Nữ"}


def _rows_units(unit: AdminUnit, day, user) -> list[AdminUnit]:
    below = units_below(unit, day=day)
    if user is not None:
        from vitreem.core.scope import scope_for

        scope = scope_for(user)
        below = [u for u in below if scope.sees_unit(u.pk)]
    return below


def _sheet(wb: Workbook, title: str, heading: str, headers: list[str], rows: list[list[Any]], total: list[Any] | None):
    ws = wb.create_sheet(title=title[:31])
    ws.append([heading])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    ws.append(headers)
    text_cell(ws["A1"])
    for col in range(1, len(headers) + 1):
        cell = text_cell(ws.cell(row=3, column=col))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        cell.border = BOX
    for row in rows + ([total] if total else []):
        ws.append(row)
    for r in range(4, ws.max_row + 1):
        for col in range(1, len(headers) + 1):
            cell = text_cell(ws.cell(row=r, column=col))
            cell.border = BOX
            if isinstance(cell.value, (int, float)):
                cell.number_format = NUMBER
            if total and r == ws.max_row:
                cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 34
    for col in range(2, len(headers) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 16
    ws.freeze_panes = "B4"
    return ws


def tables_xlsx(*, year: int, unit: AdminUnit, user: Any = None) -> bytes:
    registry = indicators()
    day = params_for(year=year).as_of
    units = _rows_units(unit, day, user)
    want = [c for c in ["children", "children_by_sex", "children_by_age_band", "children_by_ethnicity", "by_group",
                        "poor_household_children", "near_poor_household_children", "special_circumstances",
                        "allowance_recipients", "allowance_monthly_cost", "cases_received", "cases_open",
                        "cases_closed"] if c in registry]
    values = figures(units=[*units, unit], days=[day], codes=want, user=user)
    rows_of = [(u.name, values[(u.pk, day)]) for u in units]
    total_v = values[(unit.pk, day)]
    total_name = f"Tổng cộng {unit.name}"
    suffix = f" — {unit.name}, đến ngày {day:%d/%m/%Y}"
    wb = Workbook()
    wb.remove(wb.active)

    bands = list(total_v["children_by_age_band"])  # in the order the indicator registers them

    def age(band: str) -> str:
        low, high = band.split("-")
        return f"{low}–{high} tuổi"

    head = ["Đơn vị", "Tổng số trẻ em dưới 16 tuổi", *SEX.values(), *(age(b) for b in bands)]

    def child_row(name: str, v: dict) -> list[Any]:
        return [name, v["children"], *(v["children_by_sex"].get(s, 0) for s in SEX),
                *(v["children_by_age_band"].get(b, 0) for b in bands)]

    _sheet(wb, "Trẻ em", "Biểu 1. Số trẻ em theo đơn vị, giới tính và nhóm tuổi" + suffix, head,
           [child_row(n, v) for n, v in rows_of], child_row(total_name, total_v))

    eth_codes = sorted(total_v["children_by_ethnicity"], key=lambda c: -total_v["children_by_ethnicity"][c])
    eth_names = key_labels("children_by_ethnicity", "vi")
    _sheet(wb, "Dân tộc", "Biểu 2. Số trẻ em theo dân tộc" + suffix,
           ["Đơn vị", *(eth_names.get(c, "Chưa rõ") for c in eth_codes)],
           [[n, *(v["children_by_ethnicity"].get(c, 0) for c in eth_codes)] for n, v in rows_of],
           [total_name, *(total_v["children_by_ethnicity"].get(c, 0) for c in eth_codes)])

    groups = list(key_labels("by_group", "vi").items())
    _sheet(wb, "Hoàn cảnh đặc biệt", "Biểu 3. Trẻ em có hoàn cảnh đặc biệt theo nhóm và đơn vị" + suffix,
           ["Đơn vị", "Tổng số (mỗi em tính một lần)", *(f"Nhóm {c}. {name}" for c, name in groups)],
           [[n, v["special_circumstances"], *(v["by_group"].get(c, 0) for c, _n in groups)] for n, v in rows_of],
           [total_name, total_v["special_circumstances"], *(total_v["by_group"].get(c, 0) for c, _n in groups)])

    _sheet(wb, "Hộ nghèo", f"Biểu 4. Trẻ em thuộc hộ nghèo, cận nghèo năm {year}" + suffix,
           ["Đơn vị", "Trẻ em thuộc hộ nghèo", "Trẻ em thuộc hộ cận nghèo"],
           [[n, v["poor_household_children"], v["near_poor_household_children"]] for n, v in rows_of],
           [total_name, total_v["poor_household_children"], total_v["near_poor_household_children"]])

    if "allowance_recipients" in want:
        cost = "allowance_monthly_cost" in want
        _sheet(wb, "Trợ cấp", "Biểu 5. Trẻ em hưởng trợ cấp xã hội hằng tháng" + suffix,
               ["Đơn vị", "Số trẻ em hưởng trợ cấp", *(["Kinh phí tháng (đồng)"] if cost else [])],
               [[n, v["allowance_recipients"], *([v["allowance_monthly_cost"]] if cost else [])] for n, v in rows_of],
               [total_name, total_v["allowance_recipients"], *([total_v["allowance_monthly_cost"]] if cost else [])])
    if "cases_received" in want:
        _sheet(wb, "Vụ việc", f"Biểu 6. Vụ việc bảo vệ trẻ em năm {year}" + suffix,
               ["Đơn vị", "Tiếp nhận trong năm", "Đang mở (cuối kỳ)", "Đã đóng trong năm"],
               [[n, v["cases_received"], v["cases_open"], v["cases_closed"]] for n, v in rows_of],
               [total_name, total_v["cases_received"], total_v["cases_open"], total_v["cases_closed"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
