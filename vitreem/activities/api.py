"""REST API for activities, participants, play points and budgets (mounted at /api/activities/).
Scoped like the pages; errors are {"code", "message", "field"} (participant sheets add "rows")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from vitreem.core.errors import DomainError
from vitreem.core.params import Amount, Date, Id, Offset, Year
from vitreem.places.models import AdminUnit
from vitreem.places.selectors import unit_resolve
from vitreem.stats.engine import params_for

from . import selectors as sel
from . import services
from .models import Activity, BudgetAllocation, PlayPoint

router = Router(tags=["activities"])


class ActivityIn(Schema):
    kind: str
    title: str
    start_date: dt.date
    end_date: dt.date | None = None
    unit: str  # "legacy:23500" or "2025:23500"
    status: str = "done"
    topic: str = ""
    organiser: str | None = None  # member unit code
    partners: list[int] = []
    project: int | None = None
    plan_task: str = ""
    budget_line: int | None = None
    cost: int = 0
    note: str = ""
    comm_form: str = ""
    reached_total: int = 0
    reached_children: int = 0
    reached_adults: int = 0
    reached_male: int = 0
    reached_female: int = 0
    materials: int = 0
    audience: str = ""
    days: float = 1
    topics: str = ""
    targets: str = ""
    units_taking_part: list[str] = []
    occasion: str = ""
    children_total: int = 0
    children_male: int = 0
    children_female: int = 0
    age_0_5: int = 0
    age_6_10: int = 0
    age_11_15: int = 0
    special_children: int = 0


class ActivityPatch(Schema):
    status: str | None = None
    title: str | None = None
    note: str | None = None
    version: int | None = None


class ActivityOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    start_date: dt.date
    end_date: dt.date
    unit: str
    unit_name: str
    topic: str
    reached_total: int
    children_total: int
    cost: int
    version: int


class ParticipantIn(Schema):
    full_name: str
    sex: str
    unit_name: str = ""
    role: str = ""
    ethnicity: str = ""
    pre_score: str = ""
    post_score: str = ""


class ParticipantOut(Schema):
    id: int
    full_name: str
    sex: str
    unit_name: str
    role: str
    ethnicity: str
    pre_score: float | None
    post_score: float | None


class PlayPointIn(Schema):
    unit: str
    name: str
    opened_on: dt.date
    closed_on: dt.date | None = None
    point_type: str = "playground"
    condition: str = "good"
    note: str = ""


class PlayPointOut(Schema):
    id: int
    unit: str
    unit_name: str
    name: str
    point_type: str
    opened_on: dt.date
    closed_on: dt.date | None
    condition: str


class AllocationIn(Schema):
    year: Year
    unit: str
    source: str
    purpose: str
    amount: Amount
    note: str = ""


class AllocationOut(Schema):
    id: int
    year: int
    unit: str
    source: str
    purpose: str
    amount: int


class SpendingIn(Schema):
    amount: int
    spent_on: dt.date
    allocation: int | None = None
    unit: str | None = None
    source: str = ""
    purpose: str = ""
    description: str = ""


def _activity_out(a: Activity) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind, "title": a.title, "status": a.status, "start_date": a.start_date,
            "end_date": a.end_date, "unit": a.unit.ref, "unit_name": a.unit.name, "topic": a.topic,
            "reached_total": a.reached_total, "children_total": a.children_total, "cost": a.cost, "version": a.version}


def _point_out(p: PlayPoint) -> dict[str, Any]:
    return {"id": p.pk, "unit": p.unit.ref, "unit_name": p.unit.name, "name": p.name, "point_type": p.point_type,
            "opened_on": p.opened_on, "closed_on": p.closed_on, "condition": p.condition}


def _alloc_out(line: BudgetAllocation) -> dict[str, Any]:
    return {"id": line.pk, "year": line.year, "unit": line.unit.ref, "source": line.source, "purpose": line.purpose,
            "amount": line.amount}


def _unit_or_none(ref: str, year: int) -> AdminUnit | None:
    if not ref:
        return None
    return unit_resolve(ref) if ":" in ref else unit_resolve(ref, on=params_for(year=year).as_of)


@router.get("/figures")
def figures(request, year: Year, unit: str = "") -> dict[str, Any]:
    """The year's activity and budget figures (the same indicators as `vitreem activities` and the page)."""
    unit_obj = _unit_or_none(unit, year)
    return {"year": year, "unit": unit_obj.ref if unit_obj else None,
            **sel.activity_figures(year=year, unit=unit_obj, user=request.user)}


@router.get("/activities", response=list[ActivityOut])
def list_activities(request, year: Year | None = None, kind: str = "", topic: str = "", status: str = "",
                    unit: str = "", partner: Id | None = None, limit: int = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    start = end = None
    unit_ids = None
    if year:
        params = params_for(year=year, unit=_unit_or_none(unit, year), user=request.user)
        start, end = params.period_start, params.period_end
        unit_ids = sel.unit_ids_for_period(params) if unit else None
    qs = sel.activities_filter(sel.activities_for_user(user=request.user), kind=kind, topic=topic, status=status,
                               unit_ids=unit_ids, start=start, end=end, partner=partner)
    limit = max(1, min(limit, 1000))
    return [_activity_out(a) for a in qs[offset:offset + limit]]


@router.post("/activities", response={201: ActivityOut})
def create_activity(request, payload: ActivityIn) -> Status[dict[str, Any]]:
    data = payload.dict()
    kind = data.pop("kind")
    activity = services.activity_create(actor=request.user, kind=kind, data=data)
    return Status(201, _activity_out(activity))


@router.get("/activities/{activity_id}", response=ActivityOut)
def get_activity(request, activity_id: int) -> dict[str, Any]:
    return _activity_out(sel.activity_get_for_user(user=request.user, activity_id=activity_id))


@router.patch("/activities/{activity_id}", response=ActivityOut)
def patch_activity(request, activity_id: int, payload: ActivityPatch) -> dict[str, Any]:
    activity = sel.activity_get_for_user(user=request.user, activity_id=activity_id)
    data = {k: v for k, v in payload.dict().items() if v is not None and k != "version"}
    activity = services.activity_update(actor=request.user, activity=activity, data=data,
                                        expected_version=payload.version)
    return _activity_out(activity)


@router.get("/activities/{activity_id}/participants", response=list[ParticipantOut])
def list_participants(request, activity_id: int) -> list[dict[str, Any]]:
    activity = sel.activity_get_for_user(user=request.user, activity_id=activity_id)
    return [{"id": p.pk, "full_name": p.full_name, "sex": p.sex, "unit_name": p.unit_name, "role": p.role,
             "ethnicity": p.ethnicity, "pre_score": p.pre_score, "post_score": p.post_score}
            for p in sel.participants_of(activity)]


@router.post("/activities/{activity_id}/participants", response={201: dict})
def add_participant(request, activity_id: int, payload: ParticipantIn) -> Status[dict[str, Any]]:
    activity = sel.activity_get_for_user(user=request.user, activity_id=activity_id)
    participant = services.participant_add(actor=request.user, activity=activity, data=payload.dict())
    return Status(201, {"id": participant.pk})


@router.post("/activities/{activity_id}/participants/upload", response={201: dict})
def upload_participants(request, activity_id: int, file: UploadedFile = File(...), replace: bool = False) -> Status[dict[str, Any]]:  # noqa: B008
    """A participants sheet (.xlsx). Any bad row: 400 with `rows` listing every error; nothing saved."""
    activity = sel.activity_get_for_user(user=request.user, activity_id=activity_id)
    if file.size and file.size > 5 * 1024 * 1024:
        raise DomainError("Tệp lớn hơn 5 MB.", field="file")
    count = services.participants_import(actor=request.user, activity=activity, content=file.read(), replace=replace)
    return Status(201, {"added": count})


@router.get("/play-points", response=list[PlayPointOut])
def list_play_points(request, on: Date | None = None, unit: str = "") -> list[dict[str, Any]]:
    unit_obj = unit_resolve(unit) if unit else None
    return [_point_out(p) for p in sel.play_points_for_user(user=request.user, unit=unit_obj, on=on)[:2000]]


@router.post("/play-points", response={201: PlayPointOut})
def create_play_point(request, payload: PlayPointIn) -> Status[dict[str, Any]]:
    point = services.play_point_create(actor=request.user, **payload.dict())
    return Status(201, _point_out(point))


@router.get("/budget")
def budget(request, year: Year, unit: str = "") -> dict[str, Any]:
    """Allocations vs spending per unit and source (the budget table), with the totals."""
    unit_obj = _unit_or_none(unit, year)
    table = sel.budget_table(params_for(year=year, unit=unit_obj, user=request.user))
    sources = [code for code, _label in table["sources"]]
    return {
        "year": year, "allocated": table["allocated"], "spent": table["spent"],
        "rows": [{"unit": r["unit"].ref, "unit_name": r["unit"].name,
                  "member_unit": r["member_unit"].code if r["member_unit"] else None,
                  "by_source": dict(zip(sources, r["by_source"], strict=True)), "allocated": r["allocated"],
                  "spent": r["spent"]} for r in table["rows"]],
        "by_purpose": {code: {"allocated": a, "spent": s} for code, _label, a, s in table["purposes"]},
        "allowance": table["allowance"],
    }


@router.get("/budget/allocations", response=list[AllocationOut])
def list_allocations(request, year: Year | None = None) -> list[dict[str, Any]]:
    return [_alloc_out(line) for line in sel.allocations_for_user(user=request.user, year=year)[:5000]]


@router.post("/budget/allocations", response={201: AllocationOut})
def create_allocation(request, payload: AllocationIn) -> Status[dict[str, Any]]:
    line = services.allocation_create(actor=request.user, **payload.dict())
    return Status(201, _alloc_out(line))


@router.post("/budget/spendings", response={201: dict})
def create_spending(request, payload: SpendingIn) -> Status[dict[str, Any]]:
    spending = services.spending_record(actor=request.user, **payload.dict())
    return Status(201, {"id": spending.pk, "allocation": spending.allocation_id, "amount": spending.amount})
