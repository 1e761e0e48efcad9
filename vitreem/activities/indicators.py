"""Activity and budget indicators for the one statistics engine (`vitreem stats`, dashboards, report,
`vitreem activities`). Flows count activities carried out (status "done") that started in the period;
play points are a stock on the as-of date; budgets are the lines of the period's year."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Sum, Value
from django.db.models.functions import Concat

from vitreem.stats import engine
from vitreem.stats.engine import Params, sum_by_record_unit

from . import selectors as s
from .models import Kind, Participant, Purpose, Source

# Every figure here reads the activities, play points, projects and budget lines alone (and the units):
# a change elsewhere leaves their stored values fresh (engine.Indicator.reads, rollups.APP_STAMPED).
indicator = partial(engine.indicator, reads=("activities",))


def _drill(params: Params, path: str = "/activities/list/", **filters: Any) -> str:
    query = {"year": params.year, **filters}
    if params.unit is not None:
        query["unit"] = params.unit.ref
    return f"{path}?{urlencode(query)}"


def _per_unit(params: Params, key: str, records, unit_field: str, aggregate: Any) -> int:
    """The sum over the unit's record units (`selectors.unit_ids_for_period`: an activity or a budget
    line is filed on one unit) of `aggregate` over `records` (a queryset over every unit), grouped by
    `unit_field`. One grouped query for all the units when the engine computes many
    (engine.sum_by_record_unit)."""
    def grouped(units: frozenset[int] | None):
        qs = records if units is None else records.filter(**{f"{unit_field}__in": units})
        return qs.order_by().values_list(unit_field).annotate(n=aggregate).values_list(unit_field, "n")

    return int(sum_by_record_unit(params, key, grouped, s.unit_ids_for_period(params)))


# What the figures below read of the activities carried out, summed per unit and kind in one grouped
# query over every kind (`_done`).
DONE_SUMS = {"n": Count("pk"), "reached": Sum("reached_total"), "reached_children": Sum("reached_children"),
             "reached_adults": Sum("reached_adults"), "reached_male": Sum("reached_male"),
             "reached_female": Sum("reached_female"), "children": Sum("children_total"),
             "special_children": Sum("special_children")}


def _done(params: Params, kind: str, name: str) -> int:
    """One of DONE_SUMS over the unit's activities of `kind` carried out in the period. The eight figures
    of the kinds read one grouped query (by unit and kind) in one computation of the unit's figures
    (engine.with_unit_memo), where each ran its own before (about 1 ms each)."""
    def grouped(units: frozenset[int] | None):
        qs = s.done_activities_all(params, None)
        if units is not None:
            qs = qs.filter(unit_id__in=units)
        rows = qs.order_by().values_list("unit_id", "kind").annotate(**DONE_SUMS)
        for unit_id, kind_of, *sums in rows.values_list("unit_id", "kind", *DONE_SUMS):
            for key, value in zip(DONE_SUMS, sums, strict=True):
                yield unit_id, (kind_of, key), value

    total = sum_by_record_unit(params, "activities:done", grouped, s.unit_ids_for_period(params), zero=dict)
    return int(total.get((kind, name), 0))


@indicator("communication_events", "Số hoạt động truyền thông", kind="flow", order=200,
           drilldown=lambda p: _drill(p, kind=Kind.COMMUNICATION))
def communication_events(params: Params) -> int:
    return _done(params, Kind.COMMUNICATION, "n")


@indicator("people_reached", "Số lượt người được truyền thông", kind="flow", order=201,
           drilldown=lambda p: _drill(p, kind=Kind.COMMUNICATION))
def people_reached(params: Params) -> int:
    """Sum of the people reached by each communication activity (a person at two events counts twice)."""
    return _done(params, Kind.COMMUNICATION, "reached")


@indicator("people_reached_by_group", "Lượt người được truyền thông theo nhóm", kind="flow", order=202)
def people_reached_by_group(params: Params) -> dict[str, int]:
    return {group: _done(params, Kind.COMMUNICATION, f"reached_{group}")
            for group in ("children", "adults", "male", "female")}


@indicator("training_courses", "Số lớp tập huấn", kind="flow", order=203,
           drilldown=lambda p: _drill(p, kind=Kind.TRAINING))
def training_courses(params: Params) -> int:
    return _done(params, Kind.TRAINING, "n")


@indicator("trainees", "Số lượt học viên được tập huấn", kind="flow", order=204,
           drilldown=lambda p: _drill(p, kind=Kind.TRAINING))
def trainees(params: Params) -> int:
    # a course's distinct people, summed over the courses (selectors.trainees_count's rule)
    courses = s.done_activities_all(params, Kind.TRAINING)
    return _per_unit(params, "training:trainees", Participant.objects.filter(activity__in=courses), "activity__unit_id",
                     Count(Concat("activity_id", Value(":"), "person_key"), distinct=True))


@indicator("campaigns", "Số phong trào, chiến dịch lồng ghép chỉ tiêu trẻ em", kind="flow", order=205,
           drilldown=lambda p: _drill(p, kind=Kind.CAMPAIGN))
def campaigns(params: Params) -> int:
    return _done(params, Kind.CAMPAIGN, "n")


@indicator("recreation_events", "Số hoạt động vui chơi, giải trí cho trẻ em", kind="flow", order=206,
           drilldown=lambda p: _drill(p, kind=Kind.RECREATION))
def recreation_events(params: Params) -> int:
    return _done(params, Kind.RECREATION, "n")


@indicator("children_in_recreation", "Số lượt trẻ em tham gia vui chơi, giải trí", kind="flow", order=207,
           drilldown=lambda p: _drill(p, kind=Kind.RECREATION))
def children_in_recreation(params: Params) -> int:
    return _done(params, Kind.RECREATION, "children")


@indicator("special_children_in_recreation", "Lượt trẻ em có hoàn cảnh đặc biệt tham gia vui chơi, giải trí",
           kind="flow", order=208)
def special_children_in_recreation(params: Params) -> int:
    return _done(params, Kind.RECREATION, "special_children")


@indicator("play_points", "Điểm vui chơi cho trẻ em đang hoạt động", kind="stock", order=209,
           drilldown=lambda p: _drill(p, path="/activities/play-points/", on=p.as_of.isoformat()))
def play_points(params: Params) -> dict[str, Any]:
    """Open play points on the as-of date, the communes that have one, and the unit's communes
    (the denominator of the Programme indicator "communes with play points", Decision 23/QĐ-TTg)."""
    # three indicators read it for the same unit and date (this one, the share, the programme's)
    memo = params.extra.setdefault("activities_cache", {})
    key = ("play_points", params.unit.pk if params.unit is not None else None, params.as_of)
    if key in memo:
        return memo[key]
    communes, points = s.communes_with_play_points(params)
    total = None
    if params.unit is not None:
        ids = params.commune_ids(params.as_of)
        total = len(ids) if ids is not None else None
    value = {"points": points, "communes": communes, "communes_total": total,
             "communes_share": round(communes / total, 4) if total else None}
    memo[key] = value
    return value


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


def _budget(params: Params, spent: bool) -> dict[Any, int]:
    """The unit's budget lines of the period's year (`spent`: their spendings in the period), summed in
    all, by source and (lines only) by purpose, from one grouped query that the figures below share in
    one computation of the unit's figures (engine.with_unit_memo): two queries for the five, one each
    before."""
    records = s.budget_spendings_all(params) if spent else s.budget_lines_all(params)
    prefix = "allocation__" if spent else ""
    columns = [f"{prefix}unit_id", f"{prefix}source", *([] if spent else ["purpose"])]

    def grouped(units: frozenset[int] | None):
        qs = records if units is None else records.filter(**{f"{prefix}unit_id__in": units})
        for unit_id, source, *purpose, amount in (qs.order_by().values_list(*columns).annotate(n=Sum("amount"))
                                                  .values_list(*columns, "n")):
            yield unit_id, "total", amount
            yield unit_id, ("source", source), amount
            for value in purpose:
                yield unit_id, ("purpose", value), amount

    total = sum_by_record_unit(params, "budget:spent" if spent else "budget:lines", grouped,
                               s.unit_ids_for_period(params), zero=dict)
    return {key: int(value) for key, value in total.items()}


def _by(params: Params, spent: bool, field: str, keys: list[str]) -> dict[str, int]:
    """Amounts by `field` (a source, a purpose), summed over the unit's record units."""
    amounts = _budget(params, spent)
    return {k: amounts.get((field, k), 0) for k in keys}


@indicator("budget_allocated", "Kinh phí bố trí cho công tác trẻ em", measure="vnd", kind="flow", order=213,
           drilldown=lambda p: _drill(p, path="/activities/budget/"))
def budget_allocated(params: Params) -> int:
    return _budget(params, spent=False).get("total", 0)


@indicator("budget_spent", "Kinh phí đã chi cho công tác trẻ em", measure="vnd", kind="flow", order=214,
           drilldown=lambda p: _drill(p, path="/activities/budget/"))
def budget_spent(params: Params) -> int:
    return _budget(params, spent=True).get("total", 0)


@indicator("budget_by_source", "Kinh phí bố trí theo nguồn", measure="vnd", kind="flow", order=215)
def budget_by_source(params: Params) -> dict[str, int]:
    return _by(params, False, "source", list(Source.values))


@indicator("budget_spent_by_source", "Kinh phí đã chi theo nguồn", measure="vnd", kind="flow", order=216)
def budget_spent_by_source(params: Params) -> dict[str, int]:
    return _by(params, True, "source", list(Source.values))


@indicator("budget_by_purpose", "Kinh phí bố trí theo mục đích", measure="vnd", kind="flow", order=217)
def budget_by_purpose(params: Params) -> dict[str, int]:
    return _by(params, False, "purpose", list(Purpose.values))
