"""The annual report's content: every figure from the statistics engine (through the same rollups as the
dashboards), every paragraph from those figures or from what the other apps recorded. A section whose
module has no data says so instead of inventing text.

`report_data` returns a plain dict: the placeholders of the Word template (strings and lists of rows),
also used by the PDF (HTML) rendering and, for the numbers, by the tests.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.errors import DomainError
from vitreem.core.text import format_number, format_percent
from vitreem.places.models import AdminUnit, Level
from vitreem.stats.engine import indicators, params_for, units_below
from vitreem.stats.indicators import key_labels
from vitreem.stats.rollups import figures
from vitreem.stats.selectors import unit_for_user, year_clean

from .wording import approx_count, date_line, exact, opening_paragraph

SITUATION = ["children", "population", "children_share", "poor_household_children", "near_poor_household_children",
             "special_circumstances", "at_risk", "by_group", "allowance_recipients", "allowance_monthly_cost",
             "cases_received", "cases_open", "cases_closed", "cases_closed_within_deadline",
             "children_harmed_by_violence", "child_marriages_recorded"]
log = logging.getLogger(__name__)

ANNEX_CODES = ["children", "poor_household_children", "near_poor_household_children", "special_circumstances",
               "at_risk", "allowance_recipients"]
ANNEX_HEADERS = {"children": "Trẻ em dưới 16 tuổi", "poor_household_children": "Thuộc hộ nghèo",
                 "near_poor_household_children": "Thuộc hộ cận nghèo", "special_circumstances": "Có hoàn cảnh đặc biệt",
                 "at_risk": "Có nguy cơ", "allowance_recipients": "Hưởng trợ cấp hằng tháng"}

# Section IV: the standing tasks of the committee's work programme (the 2023 directions of the demo
# province's committee). The province edits them in its Word template; targets not achieved are added.
STANDING_DIRECTIONS = [
    "Đẩy mạnh công tác truyền thông, phổ biến, giáo dục pháp luật về bảo vệ trẻ em, phòng, chống bạo lực, "
    "xâm hại trẻ em.",
    "Tăng cường quản lý nhà nước, kiểm tra, giám sát việc thực hiện các chỉ tiêu về trẻ em.",
    "Tập huấn, nâng cao năng lực cho đội ngũ cán bộ, cộng tác viên, tình nguyện viên làm công tác trẻ em ở cơ sở.",
    "Tăng cường phối hợp giữa các sở, ngành và Ủy ban nhân dân các cấp; lồng ghép các chỉ tiêu trẻ em vào các "
    "phong trào, cuộc vận động.",
    "Phối hợp với UNICEF, tổ chức Plan và các tổ chức phi chính phủ triển khai các mô hình bảo vệ trẻ em.",
    "Giảm tình trạng tảo hôn và hôn nhân cận huyết thống; duy trì trẻ em trong độ tuổi đến trường.",
    "Tăng cường các hoạt động vui chơi, giải trí cho trẻ em; bố trí kinh phí cho công tác trẻ em.",
]


def _province_of(unit: AdminUnit) -> AdminUnit:
    while unit.parent_id and unit.level != Level.PROVINCE:
        unit = unit.parent  # type: ignore[assignment]
    return unit


def area_phrase(unit: AdminUnit) -> str:
    """"toàn tỉnh", "toàn huyện Đăk Hà", "thị trấn Đăk Hà" — how the report names its area in prose."""
    if unit.level == Level.PROVINCE:
        return "toàn tỉnh"
    name = unit.name[:1].lower() + unit.name[1:]
    return f"toàn {name}" if unit.level == Level.DISTRICT else name


def report_data(*, year: Any, unit: str | AdminUnit | None = None, user: Any = None,
                today: dt.date | None = None) -> dict[str, Any]:
    """The content of the annual report of `year` for `unit` (default: the user's widest unit).
    `user=None` is the system (the CLI): no scope limit."""
    year = year_clean(year)
    day = params_for(year=year).as_of
    if user is not None:
        unit_obj = unit_for_user(user, unit.ref if isinstance(unit, AdminUnit) else unit, day=day)
    else:
        from vitreem.places.selectors import unit_resolve

        if unit is None:
            raise DomainError(_("Hãy chọn đơn vị của báo cáo."), field="unit")
        unit_obj = unit_resolve(unit)
    registry = indicators()
    codes = [c for c in SITUATION if c in registry]
    prev_day = params_for(year=year - 1).as_of
    rows = figures(units=[unit_obj], days=[day, prev_day], codes=codes, user=user)
    f, prev = rows[(unit_obj.pk, day)], rows[(unit_obj.pk, prev_day)]
    if not f.get("children"):
        raise DomainError(_("Chưa có dữ liệu trẻ em của %(unit)s cho năm %(year)s: không lập được báo cáo.")
                          % {"unit": unit_obj.name, "year": year}, field="year", code="no_data")
    province = _province_of(unit_obj)
    today = today or timezone.localdate()
    params = params_for(year=year, unit=unit_obj, user=user)

    ctx: dict[str, Any] = {
        "year": year, "next_year": year + 1, "as_of": day.strftime("%d/%m/%Y"), "unit_name": unit_obj.name,
        "unit_ref": unit_obj.ref,
        "issuing_parent": f"UBND {province.name.upper()}",
        "issuing_body": "BAN CHỈ ĐẠO CHƯƠNG TRÌNH HÀNH ĐỘNG VÌ TRẺ EM",
        "number": "Số:      /BC-BCĐ",
        "place_date": date_line(province.short_name or province.name, today),
        "title": "BÁO CÁO",
        "subtitle": f"Kết quả thực hiện công tác trẻ em năm {year} và phương hướng, nhiệm vụ năm {year + 1}",
        "figures": f, "prev_figures": prev,
    }
    ctx["opening_paragraph"] = opening_paragraph(f, year=year, area=area_phrase(unit_obj), as_of=day)
    ctx["situation_paragraphs"] = _situation(f, prev, year)
    ctx["headline_rows"] = [
        {"label": registry[c].label_vi, "value": exact(f[c]), "prev": exact(prev[c]),
         "change": _change(f[c], prev[c])} for c in ANNEX_CODES if c in f]
    ctx["assistance_paragraphs"] = _assistance(f)
    ctx["cases_paragraphs"] = _cases(f)
    activities = _activities(year, unit_obj, user)
    ctx["communication_paragraphs"] = activities
    evaluation = _evaluation(year, unit_obj, user)
    ctx.update(_targets(evaluation, year))
    ctx["annex_unit_headers"] = [ANNEX_HEADERS[c] for c in ANNEX_CODES if c in registry]
    ctx["annex_units"], ctx["annex_total"] = _annex_units(unit_obj, day, year, user, f)
    ctx["annex_groups"] = _annex_groups(f, params)
    ctx.update(_committee(year, params.period_end))
    ctx["charts"] = _charts(unit_obj, year, user, ctx)
    ctx["generated_at"] = timezone.localtime().strftime("%d/%m/%Y %H:%M")
    return ctx


def _change(now: Any, before: Any) -> str:
    if not isinstance(now, (int, float)) or not isinstance(before, (int, float)):
        return ""
    d = now - before
    return ("+" if d > 0 else "") + format_number(d)


def _situation(f: dict, prev: dict, year: int) -> list[str]:
    out = []
    if f.get("by_group"):
        names = key_labels("by_group", "vi")
        top = sorted(((n, c) for c, n in f["by_group"].items() if n), reverse=True)[:3]
        if top:
            out.append("Trong số trẻ em có hoàn cảnh đặc biệt, đông nhất là các nhóm: " + "; ".join(
                f"{names.get(c, c).lower()} ({format_number(n)} em)" for n, c in top) + ".")
    if isinstance(prev.get("special_circumstances"), int) and prev.get("special_circumstances"):
        d = f["special_circumstances"] - prev["special_circumstances"]
        trend = "tăng" if d > 0 else "giảm" if d < 0 else "không đổi so với"
        out.append(f"So với năm {year - 1}, số trẻ em có hoàn cảnh đặc biệt {trend}"
                   + (f" {format_number(abs(d))} em." if d else f" năm {year - 1}."))
    return out


def _assistance(f: dict) -> list[str]:
    if "allowance_recipients" not in f:
        return ["Chưa có dữ liệu trợ giúp xã hội trong hệ thống (phân hệ trợ cấp chưa được sử dụng)."]
    text = (f"Có {exact(f['allowance_recipients'])} trẻ em có hoàn cảnh đặc biệt được hưởng trợ cấp xã hội hằng tháng "
            "tại cộng đồng theo Nghị định số 20/2021/NĐ-CP")
    special = f.get("special_circumstances")
    if special:
        text += f", bằng {format_percent(f['allowance_recipients'] / special)} số trẻ em có hoàn cảnh đặc biệt"
    cost = f.get("allowance_monthly_cost")
    if cost:
        text += f"; kinh phí chi trả tháng cuối kỳ là {format_number(cost)} đồng"
    return [text + "."]


def _cases(f: dict) -> list[str]:
    if "cases_received" not in f:
        return ["Chưa có dữ liệu quản lý trường hợp trong hệ thống."]
    if not f["cases_received"] and not f.get("cases_open"):
        return ["Trong năm, hệ thống chưa ghi nhận vụ việc xâm hại, bạo lực trẻ em nào cần quản lý trường hợp."]
    text = (f"Tiếp nhận {exact(f['cases_received'])} vụ việc về trẻ em cần bảo vệ theo quy trình tại Nghị định số "
            f"56/2017/NĐ-CP; đã đóng {exact(f.get('cases_closed', 0))} vụ việc")
    if f.get("cases_closed_within_deadline") is not None:
        text += f" (trong đó {exact(f['cases_closed_within_deadline'])} vụ việc bảo đảm đúng mọi thời hạn)"
    text += f"; {exact(f.get('cases_open', 0))} vụ việc đang tiếp tục can thiệp, hỗ trợ."
    out = [text]
    if f.get("children_harmed_by_violence"):
        out.append(f"Có {exact(f['children_harmed_by_violence'])} trẻ em bị bạo lực, xâm hại được xác minh"
                   + (f"; ghi nhận {exact(f['child_marriages_recorded'])} trường hợp tảo hôn."
                      if f.get("child_marriages_recorded") else "."))
    return out


def _activities(year: int, unit: AdminUnit, user: Any) -> list[str]:
    from vitreem.activities.selectors import report_section

    try:
        section = report_section(year=year, unit=unit, user=user)
    except Exception:  # another app's bug must not stop the whole report; the section says so
        log.exception("activities.report_section failed")
        return ["Không đọc được số liệu hoạt động truyền thông, tập huấn (lỗi của phân hệ hoạt động đã được ghi "
                "lại)."]
    fig = section.get("figures", {})
    if not any(fig.get(k) for k in ("communication_events", "training_courses", "campaigns", "recreation_events")):
        return ["Chưa có hoạt động truyền thông, tập huấn, vui chơi nào được ghi nhận trong hệ thống cho năm này."]
    return [str(p) for p in section.get("paragraphs", {}).values() if p]


def _evaluation(year: int, unit: AdminUnit, user: Any) -> dict | None:
    from vitreem.programme.selectors import evaluation_for_year

    try:
        data = evaluation_for_year(year=year, unit=unit, user=user, with_trend=False)
    except Exception:  # as above: the targets section then says there is no data
        log.exception("programme.evaluation_for_year failed")
        return None
    return data if data.get("targets") else None


def _num(value: Any, measure: str = "") -> str:
    if value is None:
        return "—"
    text = format_number(value, 0 if float(value) == int(value) else 2)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text + ("%" if measure in ("percent", "%") else "")


def _targets(evaluation: dict | None, year: int) -> dict[str, Any]:
    if evaluation is None:
        none = f"Chưa có chỉ tiêu năm {year} được giao trong hệ thống."
        return {"targets_paragraphs": [none], "limitations": [none], "annex_targets": [], "annex_members": [],
                "directions": list(STANDING_DIRECTIONS), "targets_note": none,
                "members_note": "Chưa có đánh giá đơn vị thành viên trong hệ thống."}
    rows = evaluation["targets"]
    counts = evaluation.get("counts", {})
    paragraphs = [f"Trong {len(rows)} chỉ tiêu năm {year}, có {counts.get('achieved', 0)} chỉ tiêu đạt, "
                  f"{counts.get('not_achieved', 0)} chỉ tiêu không đạt và {counts.get('no_data', 0)} chỉ tiêu "
                  "chưa có số liệu."]
    limitations, directions = [], []
    for r in rows:
        if r["status"] != "not_achieved":
            continue
        expl = r.get("explanation") or {}
        text = f"Chỉ tiêu “{r['name']}” không đạt (thực hiện {_num(r['value'], r['measure'])}, kế hoạch " \
               f"{_num(r['target'], r['measure'])})"
        text += f". Nguyên nhân: {expl['causes']}" if expl.get("causes") else ". Chưa có giải trình nguyên nhân"
        limitations.append(text.rstrip(".") + ".")
        if expl.get("solutions"):
            directions.append(f"Đối với chỉ tiêu “{r['name']}”: {expl['solutions'].rstrip('.')}.")
    if not limitations:
        limitations = [f"Các chỉ tiêu năm {year} có số liệu đều đạt kế hoạch."]
    annex = [{"name": r["name"], "target": _num(r["target"], r["measure"]), "value": _num(r["value"], r["measure"]),
              "status": str(r["status_label"]), "owner": r.get("owner_name") or ""} for r in rows]
    members = [{"name": m["name"], "tasks": f"{m['tasks_done']}/{m['tasks_total']}",
                "reports": f"{m['reports_on_time']}/{m['reports_expected']}",
                "indicators": f"{m['indicators_achieved']}/{m['indicators_achieved'] + m['indicators_not_achieved']}",
                "rating": m.get("rating_label") or m.get("suggested_label") or "—"}
               for m in evaluation.get("member_units", [])]
    return {"targets_paragraphs": paragraphs, "limitations": limitations, "annex_targets": annex,
            "annex_members": members, "directions": directions + list(STANDING_DIRECTIONS), "targets_note": "",
            "members_note": "" if members else "Chưa có đánh giá đơn vị thành viên trong hệ thống."}


def _period_text(start: dt.date | None, end: dt.date | None) -> str:
    since = f"từ {start:%d/%m/%Y}" if start else ""
    until = f"đến {end:%d/%m/%Y}" if end else "đến nay"
    return f"{since} {until}".strip()


def _committee(year: int, period_end: dt.date) -> dict[str, Any]:
    """The committee as it stood in the report's year: its standing agency on the last day of the period
    and the units that were members at any time in the year. Both are dated (issue 14 item 17): the 2022
    report names the Department of Labour, Invalids and Social Affairs, a 2026 report the Department of
    Health, each from the StandingAgencyPeriod in force (accounts.selectors)."""
    from vitreem.accounts.selectors import member_units_during, standing_agency_period_on

    period = standing_agency_period_on(period_end)
    name = period.member_unit.name if period is not None else ""
    paragraph = (f"Cơ quan thường trực Ban Chỉ đạo tại ngày {period_end:%d/%m/%Y}: {name}."
                 if name else "Chưa ghi cơ quan thường trực của Ban Chỉ đạo cho kỳ báo cáo này trong hệ thống.")
    members = member_units_during(dt.date(year, 1, 1), period_end).order_by("name")
    rows = [{"no": str(i), "name": m.name, "period": _period_text(m.valid_from, m.valid_to),
             "note": "Cơ quan thường trực" if period is not None and m.pk == period.member_unit_id else ""}
            for i, m in enumerate(members, 1)]
    return {"standing_agency": name, "standing_agency_paragraph": paragraph, "annex_member_units": rows,
            "standing_agency_recipient": f"- {name} (cơ quan thường trực);" if name else ""}


def _annex_units(unit: AdminUnit, day: dt.date, year: int, user: Any, f: dict) -> tuple[list[dict], dict]:
    registry = indicators()
    codes = [c for c in ANNEX_CODES if c in registry]
    below = units_below(unit, day=day)
    if user is not None:
        from vitreem.core.scope import scope_for

        scope = scope_for(user)
        below = [u for u in below if scope.sees_unit(u.pk)]
    rows = []
    if below:
        values = figures(units=below, days=[day], codes=codes, user=user)
        for i, u in enumerate(below, 1):
            v = values[(u.pk, day)]
            rows.append({"no": str(i), "name": u.name, "cells": [exact(v[c]) for c in codes], "values": v})
    total = {"no": "", "name": "Tổng cộng", "cells": [exact(f[c]) for c in codes], "values": {c: f[c] for c in codes}}
    return rows, total


def _annex_groups(f: dict, params) -> list[dict]:
    if "by_group" not in f:
        return []
    names = key_labels("by_group", "vi")
    return [{"code": c, "name": names.get(c, c), "value": exact(n)}
            for c, n in sorted(f["by_group"].items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 99)]


# A bar per unit, up to this many: 40 bars fill the A4 text height at the report's chart width (160 mm).
# A province of 2025 has up to ~300 communes: one bar each drew an image 1.5 m tall, cut at the page's
# end in the PDF and in Word, and took 2 of the report's seconds. The annex table has every unit.
BAR_LIMIT = 40
TREND_CODES = ["poor_household_children", "near_poor_household_children", "at_risk"]  # of like size: one scale


def children_bars(annex_units: list[dict], as_of: str) -> tuple[list[tuple[str, Any]], str, str]:
    """The bars of the children-by-unit chart, its title and what its caption adds: every unit in the
    annex's order, or the BAR_LIMIT units with the most children."""
    bars = [(r["name"], r["values"].get("children")) for r in annex_units]
    if len(bars) <= BAR_LIMIT:
        return bars, f"Số trẻ em dưới 16 tuổi theo đơn vị đến ngày {as_of}", ""
    bars = sorted(bars, key=lambda b: -(b[1] or 0))[:BAR_LIMIT]
    return (bars, f"Số trẻ em dưới 16 tuổi đến ngày {as_of}, {BAR_LIMIT} đơn vị đông nhất trong {len(annex_units)}",
            f" ({BAR_LIMIT} đơn vị đông trẻ em nhất; số liệu của từng đơn vị ở Phụ lục 1)")


def _charts(unit: AdminUnit, year: int, user: Any, ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """The annex's charts (PNG): children by unit, special circumstances by group, and a trend of the
    poverty and at-risk counts over the years since the programme began — the same figures as the
    annex tables and the dashboard, through the same rollups."""
    from vitreem.stats.selectors import FIRST_YEAR

    from . import charts

    out = []
    bars, title, caption = children_bars(ctx["annex_units"], ctx["as_of"])
    by_unit = charts.bar_chart(bars, title=title)
    if by_unit:
        out.append({"title": "Biểu đồ 1. Trẻ em dưới 16 tuổi theo đơn vị" + caption, "png": by_unit})
    groups = charts.bar_chart([(f"{r['code']}. {r['name']}", ctx["figures"]["by_group"].get(r["code"]))
                               for r in ctx["annex_groups"]],
                              title="Trẻ em có hoàn cảnh đặc biệt theo nhóm") if ctx["annex_groups"] else None
    if groups:
        out.append({"title": "Biểu đồ 2. Trẻ em có hoàn cảnh đặc biệt theo nhóm", "png": groups})
    registry = indicators()
    codes = [c for c in TREND_CODES if c in registry]
    days = {y: params_for(year=y).as_of for y in range(max(FIRST_YEAR, year - 4), year + 1)}
    if codes and len(days) > 1:
        rows = figures(units=[unit], days=list(days.values()), codes=codes, user=user)
        trend = charts.line_chart({registry[c].label_vi: [(y, rows[(unit.pk, d)][c]) for y, d in days.items()]
                                   for c in codes}, title="Trẻ em thuộc hộ nghèo, cận nghèo và có nguy cơ qua các năm")
        if trend:
            out.append({"title": f"Biểu đồ {len(out) + 1}. Xu hướng từ năm {min(days)} đến năm {year}", "png": trend})
    return out


__all__ = ["report_data", "approx_count"]
