"""Benefit API (mounted at /api/benefits/): the same selectors and services as the screens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from vitreem.core.audit import audit_read_list
from vitreem.core.params import Date, Offset, Year, unit_param
from vitreem.core.scope import require_ability
from vitreem.places.models import AdminUnit
from vitreem.places.selectors import unit_resolve

from . import selectors, services
from .rules import month_parse

router = Router(tags=["benefits"])


def _reader(request) -> None:
    require_ability(request.user, "read_children", _("Tài khoản của bạn không được xem dữ liệu trợ cấp."))


def _unit(request, ref: str, on: dt.date | None = None) -> AdminUnit | None:
    return unit_param(ref, user=request.user, on=on)


@router.get("/payroll")
def payroll(request, month: str, unit: str = "") -> dict[str, Any]:
    """The payroll of a month (YYYY-MM) within the caller's scope; same shape as `vitreem payroll --json`."""
    _reader(request)
    first = month_parse(month)
    result = selectors.payroll_for_user(user=request.user, month=first, unit=_unit(request, unit, first))
    body = result.as_json()
    body["lines"] = [{"allowance": ln.allowance_id, "child": ln.child_id, "name": ln.name, "unit_id": ln.unit_id,
                      "group": ln.group_code, "coefficient": str(ln.coefficient) if ln.coefficient is not None else None,
                      "base_level": ln.base, "amount": ln.amount, "arrears": ln.arrears, "adjustment": ln.adjustment,
                      "total": ln.total} for ln in result.lines]
    audit_read_list(user=request.user, what="benefits.payroll", filters={"month": month, "unit": unit},
                    count=len(result.lines))
    return body


class LockIn(Schema):
    month: str
    unit: str


@router.post("/payroll/lock")
def payroll_lock(request, payload: LockIn) -> dict[str, Any]:
    _reader(request)
    first = month_parse(payload.month)
    unit = unit_resolve(payload.unit, on=first) if ":" not in payload.unit else unit_resolve(payload.unit)
    locked = services.payroll_lock(actor=request.user, month=first, unit=unit)
    return {"month": f"{first:%Y-%m}", "locked": [p.unit.ref for p in locked],
            "total": sum(p.total for p in locked)}


@router.get("/eligibility")
def eligibility(request, on: Date | None = None, unit: str = "") -> dict[str, Any]:
    """Eligible but not enrolled, enrolled, and enrolled but no longer eligible, with the facts."""
    _reader(request)
    result = selectors.eligibility_for_user(user=request.user, on=on or timezone.localdate(), unit=_unit(request, unit))

    def rows(lines) -> list[dict[str, Any]]:
        return [{"child": ln.child.pk, "name": ln.child.full_name, "unit": ln.child.unit.ref, "group": ln.group,
                 "reasons": ln.reasons, "failing": ln.failing,
                 "allowance": ln.allowance.pk if ln.allowance else None} for ln in lines]

    audit_read_list(user=request.user, what="benefits.eligibility", filters={"on": result.on, "unit": unit},
                    count=len(result.eligible) + len(result.enrolled) + len(result.to_stop))
    return {"on": result.on.isoformat(), "eligible": rows(result.eligible), "enrolled": rows(result.enrolled),
            "to_stop": rows(result.to_stop)}


@router.get("/recipients")
def recipients(request, status: str = "", q: str = "", health_card: str = "", limit: int = 100, offset: Offset = 0) -> dict[str, Any]:
    """`health_card=missing`: recipients still paid without a health insurance card (Decree 20/2021, Art. 9)."""
    _reader(request)
    qs = selectors.recipients_for_user(user=request.user, status=status, q=q, health_card=health_card)
    page = list(qs[max(0, offset): max(0, offset) + max(1, min(limit, 1000))])
    total = qs.count()
    audit_read_list(user=request.user, what="benefits.allowance",
                    filters={"status": status, "q": q, "health_card": health_card, "limit": limit, "offset": offset},
                    count=len(page), total=total)
    return {"count": total, "results": [
        {"id": a.pk, "child": a.child_id, "name": a.recipient_name, "unit": a.child.unit.ref, "status": a.status,
         "health_card_issued_on": a.health_card_issued_on, "health_card_number": a.health_card_number,
         "single_parent": bool(a.parent_name)}
        for a in page]}


class HealthCardIn(Schema):
    issued_on: dt.date
    number: str = ""


@router.put("/recipients/{allowance_id}/health-card")
def set_health_card(request, allowance_id: int, payload: HealthCardIn) -> dict[str, Any]:
    """Record the recipient's health insurance card (Decree 20/2021, Art. 9(1))."""
    _reader(request)
    allowance = selectors.allowance_get_for_user(user=request.user, allowance_id=allowance_id, audit=False)
    allowance = services.allowance_health_card_set(actor=request.user, allowance=allowance, issued_on=payload.issued_on,
                                                   number=payload.number)
    return {"id": allowance.pk, "health_card_issued_on": allowance.health_card_issued_on,
            "health_card_number": allowance.health_card_number}


class EnrolIn(Schema):
    child: int
    group: str
    number: str
    decided_on: dt.date
    signed_by: str = ""
    arrears_from: str = ""
    arrears_reason: str = ""
    exception_reason: str = ""
    certified_on: dt.date | None = None  # a disabled child: the certificate's date (Decree 20/2021, Art. 8(1))


@router.post("/enrol", response={201: dict})
def enrol(request, payload: EnrolIn) -> Status[dict[str, Any]]:
    from vitreem.registry.selectors import child_get_for_user

    _reader(request)
    child = child_get_for_user(user=request.user, child_id=payload.child, audit=False)
    allowance = services.allowance_enrol(
        actor=request.user, child=child, group=payload.group, number=payload.number, decided_on=payload.decided_on,
        signed_by=payload.signed_by, arrears_from=month_parse(payload.arrears_from, field_name="arrears_from")
        if payload.arrears_from else None, arrears_reason=payload.arrears_reason,
        exception_reason=payload.exception_reason, source="api", certified_on=payload.certified_on)
    return Status(201, {"id": allowance.pk, "status": allowance.status})


class SingleParentIn(Schema):
    guardian: int
    children: list[int]
    single_reason: str
    number: str
    decided_on: dt.date
    signed_by: str = ""


@router.post("/single-parents", response={201: dict})
def single_parent_enrol(request, payload: SingleParentIn) -> Status[dict[str, Any]]:
    """A single parent of a poor or near-poor household raising children (Decree 20/2021, Art. 5(4)): the
    parent's own allowance, 1.0 × the base level per child raised. `guardian`: the parent's entry on a
    child's record; `single_reason`: unmarried | spouse_died | spouse_missing."""
    from vitreem.registry.selectors import child_get_for_user, guardian_get_for_user

    _reader(request)
    guardian = guardian_get_for_user(user=request.user, guardian_id=payload.guardian)
    children = [child_get_for_user(user=request.user, child_id=pk, audit=False) for pk in payload.children]
    allowance = services.single_parent_enrol(
        actor=request.user, guardian=guardian, children=children, single_reason=payload.single_reason,
        number=payload.number, decided_on=payload.decided_on, signed_by=payload.signed_by)
    return Status(201, {"id": allowance.pk, "status": allowance.status, "name": allowance.recipient_name,
                        "children": sorted(c.pk for c in children)})


@router.get("/budget")
def budget(request, year: Year, unit: str = "") -> dict[str, Any]:
    _reader(request)
    f = selectors.budget_forecast(user=request.user, year=year, unit=_unit(request, unit))
    return {"year": f["year"], "base_level": f["base_level"], "total": f["total"], "districts": f["districts"],
            "communes": [{"unit": r.unit.ref, "name": r.unit.name, "recipients": r.recipients,
                          "ageing_out": r.ageing_out, "current_cost": r.current_cost, "new_expected": r.new_expected,
                          "new_cost": r.new_cost, "total": r.total} for r in f["rows"]]}


@router.get("/rules")
def rules(request) -> dict[str, Any]:
    data = selectors.rules_current()
    return {
        "base_levels": [{"amount": b.amount, "valid_from": b.valid_from, "valid_to": b.valid_to,
                         "unit": b.unit.ref if b.unit else None, "legal_basis": b.legal_basis}
                        for b in data["base_levels"]],
        "coefficients": [{"group": c.group.code, "age_from": c.age_from, "age_to": c.age_to, "value": str(c.value),
                          "valid_from": c.valid_from, "valid_to": c.valid_to, "confirmed": c.confirmed}
                         for c in data["coefficients"]],
        "groups": [{"code": g.code, "name": g.name, "article": g.article} for g in data["groups"]],
    }
