"""Activity and budget indicators for the one statistics engine (`vitreem stats`, dashboards, report,
`vitreem activities`). Flows count activities carried out (status "done") that started in the period;
play points are a stock on the as-of date; budgets are the lines of the period's year."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Sum

from vitreem.stats.engine import Params, indicator

from . import selectors as s
from .models import Kind, Purpose, Source


def _drill(params: Params, path: str = "/activities/list/", **filters: Any) -> str:
    query = {"year": params.year, **filters}
    if params.unit is not None:
        query["unit"] = params.unit.ref
    return f"{path}?{urlencode(query)}"


def _sum(qs, field: str) -> int:
    return int(qs.aggregate(n=Sum(field))["n"] or 0)


@indicator("communication_events", "Số hoạt động truyền thông", kind="flow", order=200,
           drilldown=lambda p: _drill(p, kind=Kind.COMMUNICATION))
def communication_events(params: Params) -> int:
    return s.done_activities(params, Kind.COMMUNICATION).count()


@indicator("people_reached", "Số lượt người được truyền thông", kind="flow", order=201,
           drilldown=lambda p: _drill(p, kind=Kind.COMMUNICATION))
def people_reached(params: Params) -> int:
    """Sum of the people reached by each communication activity (a person at two events counts twice)."""
    return _sum(s.done_activities(params, Kind.COMMUNICATION), "reached_total")


@indicator("people_reached_by_group", "Lượt người được truyền thông theo nhóm", kind="flow", order=202)
def people_reached_by_group(params: Params) -> dict[str, int]:
    qs = s.done_activities(params, Kind.COMMUNICATION)
    sums = qs.aggregate(children=Sum("reached_children"), adults=Sum("reached_adults"), male=Sum("reached_male"),
                        female=Sum("reached_female"))
    return {k: int(v or 0) for k, v in sums.items()}


@indicator("training_courses", "Số lớp tập huấn", kind="flow", order=203,
           drilldown=lambda p: _drill(p, kind=Kind.TRAINING))
def training_courses(params: Params) -> int:
    return s.done_activities(params, Kind.TRAINING).count()


@indicator("trainees", "Số lượt học viên được tập huấn", kind="flow", order=204,
           drilldown=lambda p: _drill(p, kind=Kind.TRAINING))
def trainees(params: Params) -> int:
    return s.trainees_count(s.done_activities(params, Kind.TRAINING))


@indicator("campaigns", "Số phong trào, chiến dịch lồng ghép chỉ tiêu trẻ em", kind="flow", order=205,
           drilldown=lambda p: _drill(p, kind=Kind.CAMPAIGN))
def campaigns(params: Params) -> int:
    return s.done_activities(params, Kind.CAMPAIGN).count()


@indicator("recreation_events", "Số hoạt động vui chơi, giải trí cho trẻ em", kind="flow", order=206,
           drilldown=lambda p: _drill(p, kind=Kind.RECREATION))
def recreation_events(params: Params) -> int:
    return s.done_activities(params, Kind.RECREATION).count()


@indicator("children_in_recreation", "Số lượt trẻ em tham gia vui chơi, giải trí", kind="flow", order=207,
           drilldown=lambda p: _drill(p, kind=Kind.RECREATION))
def children_in_recreation(params: Params) -> int:
    return _sum(s.done_activities(params, Kind.RECREATION), "children_total")


@indicator("special_children_in_recreation", "Lượt trẻ em có hoàn cảnh đặc biệt tham gia vui chơi, giải trí",
           kind="flow", order=208)
def special_children_in_recreation(params: Params) -> int:
    return _sum(s.done_activities(params, Kind.RECREATION), "special_children")


@indicator("play_points", "Điểm vui chơi cho trẻ em đang hoạt động", kind="stock", order=209,
           drilldown=lambda p: _drill(p, path="/activities/play-points/", on=p.as_of.isoformat()))
def play_points(params: Params) -> dict[str, Any]:
    """Open play points on the as-of date, the communes that have one, and the unit's communes
    (the denominator of the Programme indicator "communes with play points", Decision 23/QĐ-TTg)."""
    communes, points = s.communes_with_play_points(params)
    total = None
    if params.unit is not None:
        ids = params.commune_ids(params.as_of)
        total = len(ids) if ids is not None else None
    return {"points": points, "communes": communes, "communes_total": total,
            "communes_share": round(communes / total, 4) if total else None}


@indicator("communes_with_play_points", "Tỷ lệ xã, phường có điểm vui chơi cho trẻ em", measure="percent",
           kind="stock", order=210)
def communes_with_play_points_share(params: Params) -> float | None:
    return play_points(params)["communes_share"]


@indicator("partners_active", "Số đối tác có dự án, mô hình trong năm", kind="flow", order=211,
           drilldown=lambda p: "/activities/partners/")
def partners_active(params: Params) -> int:
    return s.projects_active(params).values("partner_id").distinct().count()


@indicator("projects_active", "Số dự án, mô hình của đối tác trong năm", kind="flow", order=212,
           drilldown=lambda p: "/activities/partners/")
def projects_active(params: Params) -> int:
    return s.projects_active(params).count()


@indicator("budget_allocated", "Kinh phí bố trí cho công tác trẻ em", measure="vnd", kind="flow", order=213,
           drilldown=lambda p: _drill(p, path="/activities/budget/"))
def budget_allocated(params: Params) -> int:
    return _sum(s.budget_lines(params), "amount")


@indicator("budget_spent", "Kinh phí đã chi cho công tác trẻ em", measure="vnd", kind="flow", order=214,
           drilldown=lambda p: _drill(p, path="/activities/budget/"))
def budget_spent(params: Params) -> int:
    return _sum(s.budget_spendings(params), "amount")


def _by(qs, field: str, keys: list[str]) -> dict[str, int]:
    out = dict.fromkeys(keys, 0)
    for row in qs.values(field).annotate(n=Sum("amount")):
        out[row[field]] = int(row["n"] or 0)
    return out


@indicator("budget_by_source", "Kinh phí bố trí theo nguồn", measure="vnd", kind="flow", order=215)
def budget_by_source(params: Params) -> dict[str, int]:
    return _by(s.budget_lines(params), "source", list(Source.values))


@indicator("budget_spent_by_source", "Kinh phí đã chi theo nguồn", measure="vnd", kind="flow", order=216)
def budget_spent_by_source(params: Params) -> dict[str, int]:
    return _by(s.budget_spendings(params), "allocation__source", list(Source.values))


@indicator("budget_by_purpose", "Kinh phí bố trí theo mục đích", measure="vnd", kind="flow", order=217)
def budget_by_purpose(params: Params) -> dict[str, int]:
    return _by(s.budget_lines(params), "purpose", list(Purpose.values))
