"""REST API of the programme (mounted at /api/programme/). Same rules as the pages: reporters see and
enter only their unit's reports; the standing agency reviews; leaders read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Schema

from vitreem.accounts.models import MemberUnit
from vitreem.core.errors import NotFound, ValidationFailed
from vitreem.core.params import Year
from vitreem.places.selectors import unit_resolve

from . import selectors as sel
from . import services as sv
from .permissions import require_reader

router = Router(tags=["programme"])


def _num(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _num(v) for k, v in value.items()}
    return value


@router.get("/indicators")
def indicators(request, q: str = "") -> list[dict[str, Any]]:
    require_reader(request.auth)
    return [{"code": i.code, "name": i.name, "name_en": i.name_en, "definition": i.definition,
             "measure": i.measure, "direction": i.direction, "disaggregations": i.disaggregations,
             "source": i.source, "owner": i.owner.code if i.owner else None,
             "national_2025": _num(i.national_2025), "national_2030": _num(i.national_2030)}
            for i in sel.indicators_for_user(user=request.auth, q=q)]


class TargetIn(Schema):
    value: str
    note: str = ""


@router.put("/indicators/{code}/targets/{year}")
def target_put(request, code: str, year: Year, payload: TargetIn) -> dict[str, Any]:
    indicator = sel.indicator_get(code=code)
    target = sv.target_set(actor=request.auth, indicator=indicator, year=year, value=payload.value,
                           note=payload.note)
    return {"code": code, "year": target.year, "value": _num(target.value)}


@router.get("/evaluation/{year}")
def evaluation(request, year: Year, trend: bool = False) -> dict[str, Any]:
    require_reader(request.auth)
    data = sel.evaluation_for_year(year=year, user=request.auth, with_trend=trend)
    targets = [{k: _num(v) for k, v in row.items() if k not in ("status_label", "indicator_id")}
               for row in data["targets"]]
    units = [{k: _num(v) for k, v in row.items() if k not in ("member_unit", "suggested_label", "rating_label")}
             for row in data["member_units"]]
    return {"year": year, "finalised": data["finalised"], "counts": data["counts"], "targets": targets,
            "member_units": units}


@router.get("/completeness/{year}")
def completeness(request, year: Year) -> list[dict[str, Any]]:
    require_reader(request.auth)
    return [{"form": block["form"].code, "expected": block["expected"], "received": block["received"],
             "on_time": block["on_time"],
             "rows": [{"unit": r["name"], "key": r["key"],
                       "cells": [{"period": c["period"], "state": c["state"], "due_on": c["due_on"],
                                  "status": c["status"]} for c in r["cells"]]} for r in block["rows"]]}
            for block in sel.completeness(year=year, user=request.auth)]


def _submission_out(submission) -> dict[str, Any]:
    return {"id": submission.pk, "form": submission.form.code, "period": submission.period,
            "member_unit": submission.member_unit.code if submission.member_unit else None,
            "unit": submission.unit.ref if submission.unit else None, "status": submission.status,
            "due_on": submission.due_on, "submitted_at": submission.submitted_at,
            "first_submitted_at": submission.first_submitted_at, "on_time": submission.on_time,
            "review_comment": submission.review_comment, "version": submission.version,
            "values": {k: _num(v) for k, v in sel.submission_values(submission).items()}}


@router.get("/submissions")
def submissions(request, status: str = "", form: str = "", period: str = "") -> list[dict[str, Any]]:
    qs = sel.submissions_for_user(user=request.auth, status=status, form=form, period=period)[:500]
    return [{"id": s.pk, "form": s.form.code, "period": s.period, "unit": s.assignee_name, "status": s.status,
             "submitted_at": s.submitted_at, "due_on": s.due_on} for s in qs]


@router.get("/submissions/{submission_id}")
def submission(request, submission_id: int) -> dict[str, Any]:
    return _submission_out(sel.submission_get_for_user(user=request.auth, submission_id=submission_id))


class SubmissionIn(Schema):
    form: str
    period: str
    member_unit: str = ""  # member unit code
    unit: str = ""  # commune: legacy:CODE / 2025:CODE
    values: dict[str, Any] = {}
    confirmations: dict[str, str] = {}
    submit: bool = False
    expected_version: int | None = None


@router.post("/submissions")
def submission_save(request, payload: SubmissionIn) -> dict[str, Any]:
    """Save (and with `submit`, submit) a report. Values are keyed "element" (total) or "element.sex:F"."""
    form = sel.forms_for_user(user=request.auth).filter(code=payload.form).first()
    if form is None:
        raise NotFound(_("Không tìm thấy biểu mẫu %(f)s.") % {"f": payload.form})
    member_unit = unit = None
    if payload.member_unit:
        member_unit = MemberUnit.objects.filter(code=payload.member_unit).first()
        if member_unit is None:
            raise ValidationFailed({"member_unit": _("Không có đơn vị thành viên %(c)s.") % {"c": payload.member_unit}})
    elif payload.unit:
        unit = unit_resolve(payload.unit)
    else:
        member_unit = request.auth.member_unit
    opened = sv.submission_open(actor=request.auth, form=form, period=payload.period, member_unit=member_unit,
                                unit=unit)
    checked = sv.submission_save(actor=request.auth, submission=opened, values=payload.values,
                                 confirmations=payload.confirmations, submit=payload.submit,
                                 expected_version=payload.expected_version)
    opened.refresh_from_db()
    return {**_submission_out(opened), "warnings": checked.warnings}


class ReviewIn(Schema):
    comment: str = ""


@router.post("/submissions/{submission_id}/{action}")
def submission_review(request, submission_id: int, action: str, payload: ReviewIn) -> dict[str, Any]:
    target = sel.submission_get_for_user(user=request.auth, submission_id=submission_id)
    if action == "accept":
        sv.submission_accept(actor=request.auth, submission=target, comment=payload.comment)
    elif action == "return":
        sv.submission_return(actor=request.auth, submission=target, comment=payload.comment)
    elif action == "reopen":
        sv.submission_reopen(actor=request.auth, submission=target, reason=payload.comment)
    else:
        raise NotFound(_("Thao tác không hợp lệ: %(a)s.") % {"a": action})
    target.refresh_from_db()
    return _submission_out(target)
