"""Registry API (mounted at /api/registry/): the same selectors and services as the screens, so it
is scoped and audited exactly like them. Errors are JSON {"code", "message", "field"}."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from vitreem.accounts.models import User
from vitreem.core.audit import audit_read_list
from vitreem.core.errors import ValidationFailed
from vitreem.core.params import Date, Offset
from vitreem.core.scope import require_ability
from vitreem.places.models import AdminUnit
from vitreem.places.selectors import unit_resolve

from . import services
from .models import Child, Guardian, Household, RiskAssessment, SpecialEpisode
from .selectors import (
    child_get_for_user,
    children_filter,
    children_flags,
    children_for_user,
    episode_get_for_user,
    guardian_get_for_user,
    household_get_for_user,
    households_for_user,
    is_name_search,
    list_day,
    listed_poverty,
    page_rows,
    poverty_reviews_for_user,
    word_search_keys,
)

router = Router(tags=["registry"])

MAX_LIMIT = 500


# ---------------------------------------------------------------- schemas

class ChildOut(Schema):
    id: int
    full_name: str
    family_name: str
    middle_name: str
    given_name: str
    birth_date: dt.date
    birth_precision: str
    sex: str
    ethnicity: str | None = Field(None, description="Ethnic group code (01–54)")
    personal_id: str
    personal_id_mismatch: bool
    birth_registered: bool
    unit: str = Field(description="Current commune, as a ref like '2025:23500'")
    unit_name: str
    village: str
    household_id: int | None
    schooling: str
    school_level: str
    dropout_date: dt.date | None
    disability: str
    ended_on: dt.date | None
    end_reason: str
    version: int
    special: bool | None = Field(None, description="In special circumstances on the list's date")
    at_risk: bool | None = None
    poverty: str | None = Field(None, description="Household status for the list's year: poor, near_poor, none")


class GuardianOut(Schema):
    id: int
    full_name: str
    relationship: str
    phone: str
    is_primary: bool


class ResidenceOut(Schema):
    unit: str
    unit_name: str
    start: dt.date
    end: dt.date | None


class EpisodeOut(Schema):
    id: int
    child_id: int
    group: str
    subgroup: str | None
    group_name: str
    start: dt.date
    end: dt.date | None
    evidence: str
    nurture_case: str = Field(description="Decree 20/2021 Art. 5(1) point ('' = none)")


class RiskOut(Schema):
    id: int
    child_id: int
    assessed_on: dt.date
    factors: list[str] = Field(description="Factors that opened with this assessment")
    note: str


class ChildDetailOut(ChildOut):
    guardians: list[GuardianOut]
    residences: list[ResidenceOut]
    episodes: list[EpisodeOut]
    active_risk_factors: list[str]


class ChildPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[ChildOut]


class GuardianIn(Schema):
    full_name: str
    relationship: Literal["father", "mother", "grandparent", "sibling", "relative", "foster", "other"]
    phone: str = ""


class ChildIn(Schema):
    full_name: str
    birth_date: dt.date
    birth_precision: Literal["day", "month", "year"] = "day"
    sex: str
    unit: str = Field(description="Commune ref, e.g. '2025:23500' (must be in force today and in your scope)")
    ethnicity: str | None = None
    personal_id: str = ""
    birth_registered: bool = True
    household_id: int | None = None
    village: str = ""
    schooling: str = "unknown"
    school_level: str = ""
    dropout_date: dt.date | None = None
    disability: str = "none"
    note: str = ""
    guardians: list[GuardianIn] = []
    confirm_not_duplicate: bool = Field(False, description="Register even though similar records exist")


class ChildPatch(Schema):
    version: int = Field(description="The version you read; 409 if someone changed the record since")
    full_name: str | None = None
    birth_date: dt.date | None = None
    birth_precision: Literal["day", "month", "year"] | None = None
    sex: str | None = None
    ethnicity: str | None = None
    personal_id: str | None = None
    birth_registered: bool | None = None
    household_id: int | None = None
    village: str | None = None
    schooling: str | None = None
    school_level: str | None = None
    dropout_date: dt.date | None = None
    disability: str | None = None
    note: str | None = None


class MoveIn(Schema):
    version: int = Field(description="The version you read; 409 if someone changed the record since")
    unit: str = Field(description="Receiving commune ref, in force today and in your scope, e.g. '2025:23512'")
    on: dt.date = Field(description="Day the child started living there (the old residence ends the day before)")
    household_id: int | None = Field(None, description="A household of the receiving commune")
    village: str = Field("", description="Village at the new address; empty: the household's")


class EndIn(Schema):
    version: int = Field(description="The version you read; 409 if someone changed the record since")
    reason: str = Field(description="'died', 'left' (left the province) or another reason of EndReason except 'merged'")
    on: dt.date = Field(description="The child stops counting from this day")
    note: str = Field("", description="Evidence or circumstances (kept in the audit log)")


class EpisodeIn(Schema):
    group: str = Field(description="Group or sub-group code (Decree 56/2017): '1'…'14', '3.1'…'3.12', '4.1'…")
    start: dt.date
    end: dt.date | None = None
    evidence: str = ""
    nurture_case: str | None = Field(None, description=(
        "Decree 20/2021 Art. 5(1) point (a, b, c, d, dd = đ, e, g, h, i, k, l) where the sub-group does not "
        "tell (2, 2.2, 3, 3.2); '' = none. Omitted: the sub-group's own point."))


class EpisodeCloseIn(Schema):
    end: dt.date


class RiskIn(Schema):
    assessed_on: dt.date
    factors: list[str] = Field(description="Risk factor codes present on that day; [] ends all open factors")
    note: str = ""


class PovertyOut(Schema):
    year: int
    status: str
    decision_number: str
    decision_date: dt.date | None


class HouseholdOut(Schema):
    id: int
    unit: str
    unit_name: str
    village: str
    head_name: str
    address: str
    poverty: list[PovertyOut]


class HouseholdPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[HouseholdOut]


class HouseholdIn(Schema):
    unit: str
    head_name: str
    village: str = ""
    address: str = ""


class PovertyIn(Schema):
    year: int
    status: Literal["poor", "near_poor", "none"]
    decision_number: str = ""
    decision_date: dt.date | None = None


class PovertyReviewOut(Schema):
    unit: str
    unit_name: str
    year: int
    decided_on: dt.date
    decision_number: str


class PovertyReviewIn(Schema):
    unit: str = Field(description="The commune that decided, e.g. '2025:23500' (the legacy one before July 2025)")
    year: int = Field(description="The year the list is for")
    decided_on: dt.date = Field(description="Date of the chairman's decision recognising the list")
    decision_number: str = ""


class CommuneReviewOut(Schema):
    unit: str
    unit_name: str
    in_force: PovertyReviewOut | None = Field(description="The list in force on the day, None: no status counts")
    latest: PovertyReviewOut | None


class ChildFilters(Schema):
    q: str = Field("", description="Name with or without diacritics, or personal ID (12 digits: exact)")
    guardian: str = Field("", description="Name of a parent or caregiver")
    unit: str = Field("", description="Unit ref at any level, e.g. 'legacy:615'")
    as_of: dt.date | None = Field(None, description="Children as of this date (the dashboards' drill-down)")
    age_band: Literal["", "0-2", "3-5", "6-10", "11-15"] = ""
    sex: Literal["", "M", "F"] = ""
    ethnicity: str = ""
    poverty: Literal["", "poor", "near_poor", "none"] = ""
    poverty_year: int | None = None
    special: str = Field("", description="'any' or a group code")
    at_risk: bool = False
    schooling: str = ""
    disability: str = ""
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    offset: Offset = 0


# ---------------------------------------------------------------- helpers

def _child_out(child: Child, flags: dict[str, Any] | None = None) -> dict[str, Any]:
    flags = flags or {}
    return {
        "id": child.pk, "full_name": child.full_name, "family_name": child.family_name,
        "middle_name": child.middle_name, "given_name": child.given_name, "birth_date": child.birth_date,
        "birth_precision": child.birth_precision, "sex": child.sex,
        "ethnicity": child.ethnicity.code if child.ethnicity_id and child.ethnicity else None,
        "personal_id": child.personal_id, "personal_id_mismatch": child.personal_id_mismatch,
        "birth_registered": child.birth_registered, "unit": child.unit.ref, "unit_name": child.unit.name,
        "village": child.village, "household_id": child.household_id, "schooling": child.schooling,
        "school_level": child.school_level, "dropout_date": child.dropout_date, "disability": child.disability,
        "ended_on": child.ended_on, "end_reason": child.end_reason, "version": child.version,
        "special": flags.get("special"), "at_risk": flags.get("at_risk"), "poverty": flags.get("poverty"),
    }


def _episode_out(e: SpecialEpisode) -> dict[str, Any]:
    return {"id": e.pk, "child_id": e.child_id, "group": e.group.code, "subgroup": e.subgroup.code if e.subgroup else None,
            "group_name": (e.subgroup or e.group).name, "start": e.start, "end": e.end, "evidence": e.evidence,
            "nurture_case": e.nurture_case}


def _risk_out(a: RiskAssessment) -> dict[str, Any]:
    return {"id": a.pk, "child_id": a.child_id, "assessed_on": a.assessed_on,
            "factors": sorted(r.factor.code for r in a.risks.all()), "note": a.note}


def _household_out(h: Household) -> dict[str, Any]:
    return {"id": h.pk, "unit": h.unit.ref, "unit_name": h.unit.name, "village": h.village, "head_name": h.head_name,
            "address": h.address,
            "poverty": [{"year": p.year, "status": p.status, "decision_number": p.decision_number,
                         "decision_date": p.decision_date} for p in sorted(h.poverty.all(), key=lambda p: -p.year)]}


def _require_read(user: User) -> None:
    require_ability(user, "read_children", _("Tài khoản của bạn không được xem danh sách trẻ em."))


def _household(user: User, household_id: int | None) -> Household | None:
    if household_id is None:
        return None
    try:
        return household_get_for_user(user=user, household_id=household_id)
    except Exception as exc:  # NotFound: say which field
        raise ValidationFailed({"household_id": _("Không tìm thấy hộ gia đình %(i)s trong phạm vi của bạn.")
                                % {"i": household_id}}) from exc


def _list_unit(ref: str) -> AdminUnit | None:
    if not ref:
        return None
    return unit_resolve(ref)


# ---------------------------------------------------------------- children

@router.get("/children", response=ChildPage)
def list_children(request, filters: Query[ChildFilters]) -> dict[str, Any]:
    """Children in your scope, with the same filters as the list page (ordered by given name)."""
    user = request.user
    _require_read(user)
    f = filters.dict()
    limit, offset = f.pop("limit"), f.pop("offset")
    f["unit"] = _list_unit(f["unit"])
    base = children_for_user(user=user, include_ended=f["as_of"] is not None)
    keys = word_search_keys(user=user, **f)
    qs = children_filter(base, user=user, **f) if keys is None else keys.children(base)
    qs = qs.select_related("unit", "ethnicity")
    rows, found = page_rows(qs, offset=offset, limit=limit, keys_first=is_name_search(**f),
                            by_key=base.select_related("unit", "ethnicity"), keys=keys)
    total = qs.count() if found is None else found
    flags = children_flags(rows, day=list_day(f["as_of"]), poverty=listed_poverty(**f))
    audit_read_list(user=user, what="registry.child", filters=filters.dict(), count=len(rows), total=total)
    return {"total": total, "limit": limit, "offset": offset, "items": [_child_out(c, flags[c.pk]) for c in rows]}


def _child_detail(user: User, child: Child) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        **_child_out(child, children_flags([child], day=today)[child.pk]),
        "guardians": [_guardian_out(g) for g in child.guardians.all()],
        "residences": [{"unit": r.unit.ref, "unit_name": r.unit.name, "start": r.start, "end": r.end}
                       for r in child.residences.select_related("unit").order_by("start")],
        "episodes": [_episode_out(e) for e in child.special_episodes.select_related("group", "subgroup")
                     .order_by("start")],
        "active_risk_factors": sorted(child.risks.filter(end__isnull=True).values_list("factor__code", flat=True)),
    }


@router.get("/children/{child_id}", response=ChildDetailOut)
def get_child(request, child_id: int) -> dict[str, Any]:
    """One child (404 outside your scope). Opening it is recorded in the audit log."""
    child = child_get_for_user(user=request.user, child_id=child_id)
    return _child_detail(request.user, child)


@router.post("/children", response={201: ChildDetailOut})
def create_child(request, payload: ChildIn) -> Status[dict[str, Any]]:
    """Register a child. 409 `possible_duplicate` with `candidates` when similar records exist,
    unless `confirm_not_duplicate` is true."""
    data = payload.dict()
    household = _household(request.user, data.pop("household_id"))
    unit, ethnicity = data.pop("unit"), data.pop("ethnicity")
    guardians, confirm = data.pop("guardians"), data.pop("confirm_not_duplicate")
    child = services.child_register(actor=request.user, data=data, unit=unit, household=household,
                                    ethnicity=ethnicity, guardians=guardians, confirm_not_duplicate=confirm,
                                    source="api")
    child = child_get_for_user(user=request.user, child_id=child.pk, audit=False)
    return Status(201, _child_detail(request.user, child))


@router.patch("/children/{child_id}", response=ChildDetailOut)
def update_child(request, child_id: int, payload: ChildPatch) -> dict[str, Any]:
    """Change some of a child's facts; `version` guards against overwriting another user's change (409)."""
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    kwargs: dict[str, Any] = {}
    if "ethnicity" in data:
        kwargs["ethnicity"] = data.pop("ethnicity")
    if "household_id" in data:
        kwargs["household"] = _household(request.user, data.pop("household_id"))
    services.child_update(actor=request.user, child=child, data=data, expected_version=version, **kwargs)
    child = child_get_for_user(user=request.user, child_id=child.pk, audit=False)
    return _child_detail(request.user, child)


@router.post("/children/{child_id}/move", response=ChildDetailOut)
def move_child(request, child_id: int, payload: MoveIn) -> dict[str, Any]:
    """The child moved to another commune. The receiving commune must be in your scope too: a commune
    worker moves between their own communes, a provincial officer anywhere in the province; a move out
    of the province is `/end` with reason `left`."""
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    household = _household(request.user, payload.household_id)
    try:
        services.child_move(actor=request.user, child=child, unit=payload.unit, on=payload.on, household=household,
                            village=payload.village or None, expected_version=payload.version)
    except ValidationFailed as exc:
        raise ValidationFailed({("household_id" if k == "household" else k): v for k, v in exc.errors.items()}) from None
    child = child_get_for_user(user=request.user, child_id=child.pk, audit=False)
    return _child_detail(request.user, child)


@router.post("/children/{child_id}/end", response=ChildDetailOut)
def end_child(request, child_id: int, payload: EndIn) -> dict[str, Any]:
    """End the record (death, leaving the province…): it stays, is shown as ended and stops counting
    from `on`."""
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    services.child_end(actor=request.user, child=child, on=payload.on, reason=payload.reason, note=payload.note,
                       expected_version=payload.version)
    child = child_get_for_user(user=request.user, child_id=child.pk, audit=False)
    return _child_detail(request.user, child)


def _guardian_out(g: Guardian) -> dict[str, Any]:
    return {"id": g.pk, "full_name": g.full_name, "relationship": g.relationship, "phone": g.phone,
            "is_primary": g.is_primary}


@router.get("/children/{child_id}/guardians", response=list[GuardianOut])
def list_guardians(request, child_id: int) -> list[dict[str, Any]]:
    child = child_get_for_user(user=request.user, child_id=child_id)
    return [_guardian_out(g) for g in child.guardians.order_by("pk")]


@router.post("/children/{child_id}/guardians", response={201: GuardianOut})
def add_guardian(request, child_id: int, payload: GuardianIn) -> Status[dict[str, Any]]:
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    try:
        guardian = services.guardian_add(actor=request.user, child=child, full_name=payload.full_name,
                                         relationship=payload.relationship, phone=payload.phone)
    except ValidationFailed as exc:
        raise _guardian_errors(exc) from None
    return Status(201, _guardian_out(guardian))


def _guardian_errors(exc: ValidationFailed) -> ValidationFailed:
    # The service names the guardian's name "guardian" (the registration form's field); here it is full_name.
    return ValidationFailed({("full_name" if k == "guardian" else k): v for k, v in exc.errors.items()})


@router.put("/guardians/{guardian_id}", response=GuardianOut)
def update_guardian(request, guardian_id: int, payload: GuardianIn) -> dict[str, Any]:
    guardian = guardian_get_for_user(user=request.user, guardian_id=guardian_id)
    try:
        guardian = services.guardian_update(actor=request.user, guardian=guardian, full_name=payload.full_name,
                                            relationship=payload.relationship, phone=payload.phone)
    except ValidationFailed as exc:
        raise _guardian_errors(exc) from None
    return _guardian_out(guardian)


@router.delete("/guardians/{guardian_id}", response={204: None})
def remove_guardian(request, guardian_id: int, reason: str = "") -> Status[None]:
    guardian = guardian_get_for_user(user=request.user, guardian_id=guardian_id)
    services.guardian_remove(actor=request.user, guardian=guardian, reason=reason)
    return Status(204, None)


# ---------------------------------------------------------------- episodes and risk

@router.get("/children/{child_id}/episodes", response=list[EpisodeOut])
def list_episodes(request, child_id: int) -> list[dict[str, Any]]:
    child = child_get_for_user(user=request.user, child_id=child_id)
    return [_episode_out(e) for e in child.special_episodes.select_related("group", "subgroup").order_by("start")]


@router.post("/children/{child_id}/episodes", response={201: EpisodeOut})
def open_episode(request, child_id: int, payload: EpisodeIn) -> Status[dict[str, Any]]:
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    episode = services.special_episode_open(actor=request.user, child=child, group=payload.group, start=payload.start,
                                            end=payload.end, evidence=payload.evidence,
                                            nurture_case=payload.nurture_case)
    return Status(201, _episode_out(episode))


@router.post("/episodes/{episode_id}/close", response=EpisodeOut)
def close_episode(request, episode_id: int, payload: EpisodeCloseIn) -> dict[str, Any]:
    episode = episode_get_for_user(user=request.user, episode_id=episode_id)
    episode = services.special_episode_close(actor=request.user, episode=episode, end=payload.end)
    return _episode_out(episode)


@router.get("/children/{child_id}/risk-assessments", response=list[RiskOut])
def list_risk_assessments(request, child_id: int) -> list[dict[str, Any]]:
    child = child_get_for_user(user=request.user, child_id=child_id)
    return [_risk_out(a) for a in child.risk_assessments.prefetch_related("risks__factor").order_by("assessed_on", "pk")]


@router.post("/children/{child_id}/risk-assessments", response={201: RiskOut})
def create_risk_assessment(request, child_id: int, payload: RiskIn) -> Status[dict[str, Any]]:
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    assessment = services.risk_assess(actor=request.user, child=child, assessed_on=payload.assessed_on,
                                      factors=payload.factors, note=payload.note)
    return Status(201, _risk_out(assessment))


# ---------------------------------------------------------------- households

@router.get("/households", response=HouseholdPage)
def list_households(request, q: str = "", unit: str = "", limit: int = Query(50, ge=1, le=MAX_LIMIT),
                    offset: Offset = 0) -> dict[str, Any]:
    """Households in your scope; `q` searches the head of household's name (diacritics optional)."""
    from vitreem.core.text import fold

    _require_read(request.user)
    qs = households_for_user(user=request.user)
    if q.strip():
        qs = qs.filter(head_key__contains=fold(q))
    if unit:
        from vitreem.places.selectors import descendant_ids

        qs = qs.filter(unit_id__in=descendant_ids([unit_resolve(unit)]))
    qs = qs.order_by("head_key", "pk")
    total = qs.count()
    rows = list(qs.select_related("unit").prefetch_related("poverty")[offset:offset + limit])
    audit_read_list(user=request.user, what="registry.household",
                    filters={"q": q, "unit": unit, "limit": limit, "offset": offset}, count=len(rows), total=total)
    return {"total": total, "limit": limit, "offset": offset, "items": [_household_out(h) for h in rows]}


@router.post("/households", response={201: HouseholdOut})
def create_household(request, payload: HouseholdIn) -> Status[dict[str, Any]]:
    household = services.household_create(actor=request.user, unit=payload.unit, head_name=payload.head_name,
                                          village=payload.village, address=payload.address)
    return Status(201, _household_out(household))


@router.post("/households/{household_id}/poverty", response=PovertyOut)
def set_household_poverty(request, household_id: int, payload: PovertyIn) -> dict[str, Any]:
    household = household_get_for_user(user=request.user, household_id=household_id)
    row = services.household_poverty_set(actor=request.user, household=household, year=payload.year,
                                         status=payload.status, decision_number=payload.decision_number,
                                         decision_date=payload.decision_date)
    return {"year": row.year, "status": row.status, "decision_number": row.decision_number,
            "decision_date": row.decision_date}


# ---------------------------------------------------------------- poverty reviews

def _review_out(r) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"unit": r.unit.ref, "unit_name": r.unit.name, "year": r.year, "decided_on": r.decided_on,
            "decision_number": r.decision_number}


@router.get("/poverty-reviews", response=list[CommuneReviewOut])
def list_poverty_reviews(request, on: Date | None = None) -> list[dict[str, Any]]:
    """Each commune in your scope with the poverty list in force on `on` (default today): a year's
    classifications count only once the commune's list of that year is decided."""
    _require_read(request.user)
    rows = poverty_reviews_for_user(user=request.user, day=on or timezone.localdate())
    return [{"unit": r.unit.ref, "unit_name": r.unit.name, "in_force": _review_out(r.in_force),
             "latest": _review_out(r.latest)} for r in rows]


@router.post("/poverty-reviews", response={201: PovertyReviewOut})
def record_poverty_review(request, payload: PovertyReviewIn) -> Status[dict[str, Any] | None]:
    review = services.poverty_review_record(actor=request.user, unit=payload.unit, year=payload.year,
                                            decided_on=payload.decided_on, decision_number=payload.decision_number)
    return Status(201, _review_out(review))

