"""REST API of cases (/api/cases/): the same services and the same gate (`cases_for_user`) as the
screens; opening a case writes an access row; every step is a POST that carries the version read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from vitreem.accounts.models import User
from vitreem.core.audit import audit_access, audit_read_list
from vitreem.core.params import DateTime, Page
from vitreem.core.scope import scope_for

from . import attachments as attachment_services
from . import services
from .documents import FORMS, document_render
from .models import Case, Outcome
from .models import Status as CaseStatus
from .selectors import case_get_for_user, case_list, cases_due_soon, cases_overdue, mask_name, names_visible
from .workflow import case_actions_for

router = Router(tags=["cases"])


# ---------------------------------------------------------------- output

def case_summary(case: Case, *, full_names: bool) -> dict[str, Any]:
    name = case.child.full_name
    return {
        "id": case.pk, "code": case.code, "status": case.status, "status_label": str(CaseStatus(case.status).label),
        "child": name if full_names else mask_name(name), "child_id": case.child_id,
        "unit": case.unit.name, "unit_ref": case.unit.ref, "concern": case.concern, "channel": case.channel,
        "received_at": case.received_at, "in_danger": case.in_danger, "owner": case.owner.display_name,
        "next_due_at": case.next_due_at, "next_due_kind": case.next_due_kind,
        "overdue": bool(case.next_due_at and case.next_due_at <= timezone.now()), "version": case.version,
    }


def case_detail(case: Case, user: User | None = None) -> dict[str, Any]:
    """The case as the API gives it; with `user`, `actions` lists what that user may do now (the
    workflow table, as on the case page)."""
    out = case_summary(case, full_names=True)
    if user is not None:
        out["actions"] = case_actions_for(user, case)
    fields = ["reporter_anonymous", "reporter_name", "reporter_phone", "reporter_relation", "place", "perpetrator",
              "summary", "verified_on", "verification", "emergency_due_at", "emergency_done_at", "emergency_action",
              "isolation_place", "isolation_start", "isolation_until", "isolation_decision", "isolation_ended_on",
              "isolation_request_number", "isolation_request_date", "isolation_request_body", "approval_due_on",
              "assessed_on", "assessment", "meeting_minutes", "plan_due_on", "plan_drafted_on", "next_review_on",
              "closed_at", "outcome", "deadlines_missed"]
    out.update({name: getattr(case, name) for name in fields})
    out["child_birth_date"] = case.child.birth_date
    out["child_sex"] = case.child.sex
    out["plans"] = [{
        "id": p.pk, "number": p.number, "status": p.status, "drafted_on": p.drafted_on, "goal": p.goal,
        "review_on": p.review_on, "decision_number": p.decision_number, "approved_on": p.approved_on,
        "items": [{"id": i.pk, "kind": i.kind, "description": i.description, "responsible": i.responsible,
                   "due_on": i.due_on, "status": i.status, "outcome": i.outcome} for i in p.items.all()],
    } for p in case.plans.prefetch_related("items").order_by("number")]
    out["reviews"] = [{"id": r.pk, "reviewed_on": r.reviewed_on, "harm": r.harm,
                       "perpetrator_access": r.perpetrator_access, "care_obstacles": r.care_obstacles,
                       "recommend_close": r.recommend_close, "note": r.note} for r in case.reviews.all()]
    out["referrals"] = [{"id": r.pk, "member_unit": r.member_unit.name, "member_unit_id": r.member_unit_id,
                         "reason": r.reason, "opened_at": r.opened_at, "closed_at": r.closed_at,
                         "child_consent": r.child_consent, "guardian_consent": r.guardian_consent,
                         "result": r.result} for r in case.referrals.select_related("member_unit")]
    out["events"] = [{"kind": e.kind, "at": e.at, "actor": e.actor.display_name if e.actor else "",
                      "from_status": e.from_status, "to_status": e.to_status, "text": e.text, "data": e.data}
                     for e in case.events.select_related("actor").order_by("at", "pk")]
    out["attachments"] = [{"id": a.pk, "name": a.name, "size": a.size, "content_type": a.content_type}
                          for a in case.attachments.all()]
    return out


def _page(request, qs, page: int, size: int, filters: dict[str, Any]) -> dict[str, Any]:
    size = max(1, min(size, 200))
    page = max(1, page)
    total = qs.count()
    rows = list(qs[(page - 1) * size: page * size])
    full = names_visible(request.auth)
    audit_read_list(user=request.auth, what="cases.case", filters={**filters, "page": page, "size": size},
                    count=len(rows), total=total)
    return {"count": total, "page": page, "items": [case_summary(c, full_names=full) for c in rows]}


# ---------------------------------------------------------------- input

class NewChildIn(Schema):
    full_name: str
    birth_date: dt.date
    sex: str
    unit: str | None = None
    village: str = ""


class IntakeIn(Schema):
    received_at: DateTime
    channel: str
    place: str
    concern: str
    summary: str
    child_id: int | None = None
    new_child: NewChildIn | None = None
    confirm_not_duplicate: bool = False
    reporter_anonymous: bool = False
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_relation: str = ""
    perpetrator: str = "unknown"
    in_danger: bool = False


class Versioned(Schema):
    version: int | None = None


class UpdateIn(Versioned):
    channel: str | None = None
    reporter_anonymous: bool | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    reporter_relation: str | None = None
    place: str | None = None
    concern: str | None = None
    perpetrator: str | None = None
    in_danger: bool | None = None
    summary: str | None = None


class VerifyIn(Versioned):
    verified_on: dt.date
    findings: str
    founded: bool = True
    in_danger: bool | None = None


class EmergencyIn(Versioned):
    done_at: DateTime
    action: str


class IsolateIn(Versioned):
    start: dt.date
    until: dt.date
    place: str
    decision_number: str = ""
    # Decree 56/2017, Art. 32(3): past 15 days only at a competent authority's written request.
    request_number: str = ""
    request_date: dt.date | None = None
    request_body: str = ""


class ExtendIn(Versioned):
    until: dt.date
    decision_number: str = ""
    reason: str = ""
    request_number: str = ""
    request_date: dt.date | None = None
    request_body: str = ""


class IsolationEndIn(Versioned):
    ended_on: dt.date
    note: str = ""


class AssessIn(Versioned):
    assessed_on: dt.date
    assessment: str
    meeting_minutes: str


class ItemIn(Schema):
    kind: str
    description: str
    responsible: str
    due_on: dt.date


class PlanIn(Versioned):
    drafted_on: dt.date
    goal: str
    review_on: dt.date
    items: list[ItemIn]


class ApproveIn(Versioned):
    decision_number: str = ""
    approved_on: dt.date


class ItemUpdateIn(Versioned):
    status: str
    outcome: str = ""


class NoteIn(Versioned):
    text: str
    on: dt.date | None = None


class ReferralIn(Versioned):
    member_unit_id: int
    reason: str
    guardian_consent: bool = False
    child_consent: bool | None = None


class ReferralCloseIn(Versioned):
    result: str = ""


class CaseReviewIn(Versioned):
    reviewed_on: dt.date
    harm: str
    perpetrator_access: str
    care_obstacles: str
    recommend_close: bool
    note: str = ""


class CloseIn(Versioned):
    outcome: str = Outcome.RESOLVED
    note: str = ""


class ReopenIn(Versioned):
    reason: str


# ---------------------------------------------------------------- endpoints

@router.get("/", summary="Danh sách vụ việc (lọc theo phạm vi)")
def list_cases(request, status: str = "", concern: str = "", unit: str = "", age_band: str = "", sex: str = "",
               ethnicity: str = "", overdue: str = "", mine: bool = False, q: str = "", page: Page = 1,
               size: int = 50) -> dict[str, Any]:
    qs = case_list(user=request.auth, status=status, concern=concern, unit=unit, age_band=age_band, sex=sex,
                   ethnicity=ethnicity, overdue=overdue, mine=mine, q=q)
    return _page(request, qs, page, size, {"status": status, "concern": concern, "unit": unit, "age_band": age_band,
                                           "sex": sex, "ethnicity": ethnicity, "overdue": overdue, "mine": mine,
                                           "q": q})


@router.get("/overdue", summary="Vụ việc quá hạn và sắp đến hạn")
def overdue_cases(request, mine: bool = False) -> dict[str, Any]:
    full = names_visible(request.auth)
    overdue = [case_summary(c, full_names=full) for c in cases_overdue(user=request.auth, mine=mine)[:500]]
    due_soon = [case_summary(c, full_names=full) for c in cases_due_soon(user=request.auth, mine=mine)[:500]]
    audit_read_list(user=request.auth, what="cases.case", filters={"overdue": "list", "mine": mine},
                    count=len(overdue) + len(due_soon))
    return {"overdue": overdue, "due_soon": due_soon}


@router.post("/", response={201: dict}, summary="Tiếp nhận thông tin (mẫu 01)")
def intake(request, payload: IntakeIn) -> Status[dict[str, Any]]:
    new_child = payload.new_child.dict() if payload.new_child else None
    if new_child and not new_child.get("unit"):
        new_child.pop("unit")
    case = services.case_intake(
        actor=request.auth, child=payload.child_id, new_child=new_child,
        confirm_not_duplicate=payload.confirm_not_duplicate, received_at=payload.received_at,
        channel=payload.channel, place=payload.place, concern=payload.concern, summary=payload.summary,
        reporter_anonymous=payload.reporter_anonymous, reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone, reporter_relation=payload.reporter_relation,
        perpetrator=payload.perpetrator, in_danger=payload.in_danger)
    return Status(201, case_detail(case, request.auth))


@router.get("/{case_id}", summary="Chi tiết vụ việc (ghi nhật ký truy cập)")
def get_case(request, case_id: int) -> dict[str, Any]:
    return case_detail(case_get_for_user(user=request.auth, case_id=case_id), request.auth)


def _fresh(request, case_id: int) -> dict[str, Any]:
    return case_detail(case_get_for_user(user=request.auth, case_id=case_id, audit=False), request.auth)


@router.patch("/{case_id}", summary="Sửa thông tin tiếp nhận (khoá lạc quan theo version)")
def update_case(request, case_id: int, payload: UpdateIn) -> dict[str, Any]:
    fields = payload.dict(exclude_unset=True)
    version = fields.pop("version", None)
    if version is None:
        from vitreem.core.errors import ValidationFailed

        raise ValidationFailed({"version": "Cần gửi version của vụ việc đã đọc (khoá lạc quan)."})
    services.case_update(actor=request.auth, case=case_id, expected_version=version, **fields)
    return _fresh(request, case_id)


def _step(name: str, fn, schema, summary: str) -> None:
    def endpoint(request, case_id: int, payload: schema) -> dict[str, Any]:  # type: ignore[valid-type]
        data = payload.dict()
        version = data.pop("version", None)
        fn(actor=request.auth, case=case_id, expected_version=version, **data)
        return _fresh(request, case_id)

    # The module uses postponed annotations: give ninja the real types of this generated endpoint.
    endpoint.__annotations__ = {"case_id": int, "payload": schema}
    endpoint.__name__ = f"case_{name.replace('-', '_')}"
    router.post(f"/{{case_id}}/{name}", summary=summary)(endpoint)


_step("verify", services.case_verify, VerifyIn, "Xác minh, đánh giá ban đầu (mẫu 02)")
_step("emergency", services.case_emergency, EmergencyIn, "Can thiệp khẩn cấp")
_step("isolate", services.case_isolate, IsolateIn, "Quyết định cách ly tạm thời (chủ tịch UBND xã)")
_step("isolation-extend", services.case_isolation_extend, ExtendIn, "Gia hạn cách ly (quyết định của chủ tịch UBND xã; tối đa 15 ngày kể cả gia hạn)")
_step("isolation-end", services.case_isolation_end, IsolationEndIn, "Kết thúc cách ly (chỉ chủ tịch UBND xã)")
_step("assess", services.case_assess, AssessIn, "Đánh giá chi tiết và họp (mẫu 03)")
_step("approve", services.plan_approve, ApproveIn, "Phê duyệt kế hoạch (mẫu 05)")
_step("notes", services.case_note, NoteIn, "Ghi chú, thăm gia đình")
_step("review", services.case_review, CaseReviewIn, "Rà soát, đánh giá (mẫu 06)")
_step("close", services.case_close, CloseIn, "Đóng vụ việc (chủ tịch UBND xã)")
_step("reopen", services.case_reopen, ReopenIn, "Mở lại vụ việc")


@router.post("/{case_id}/plan", summary="Lập kế hoạch hỗ trợ, can thiệp (mẫu 04)")
def draft_plan(request, case_id: int, payload: PlanIn) -> dict[str, Any]:
    data = payload.dict()
    version = data.pop("version", None)
    services.plan_draft(actor=request.auth, case=case_id, expected_version=version, **data)
    return _fresh(request, case_id)


@router.post("/{case_id}/items/{item_id}", summary="Cập nhật một hoạt động của kế hoạch")
def update_item(request, case_id: int, item_id: int, payload: ItemUpdateIn) -> dict[str, Any]:
    services.plan_item_update(actor=request.auth, case=case_id, expected_version=payload.version, item_id=item_id,
                              status=payload.status, outcome=payload.outcome)
    return _fresh(request, case_id)


@router.post("/{case_id}/referrals", summary="Chuyển gửi (cần sự đồng ý của trẻ từ 7 tuổi và người giám hộ)")
def open_referral(request, case_id: int, payload: ReferralIn) -> dict[str, Any]:
    services.referral_open(actor=request.auth, case=case_id, expected_version=payload.version,
                           member_unit=payload.member_unit_id, reason=payload.reason,
                           guardian_consent=payload.guardian_consent, child_consent=payload.child_consent)
    return _fresh(request, case_id)


@router.post("/{case_id}/referrals/{referral_id}/close", summary="Kết thúc chuyển gửi")
def close_referral(request, case_id: int, referral_id: int, payload: ReferralCloseIn) -> dict[str, Any]:
    services.referral_close(actor=request.auth, case=case_id, expected_version=payload.version,
                            referral_id=referral_id, result=payload.result)
    return {"closed": True}


@router.post("/{case_id}/attachments", response={201: dict}, summary="Đính kèm tệp (giới hạn dung lượng, loại tệp)")
def add_attachment(request, case_id: int, file: UploadedFile = File(...), description: str = Form("")) -> Status[dict[str, Any]]:  # noqa: B008
    attachment = attachment_services.attachment_add(actor=request.auth, case=case_id, upload=file,
                                                    description=description)
    return Status(201, {"id": attachment.pk, "name": attachment.name, "size": attachment.size})


@router.get("/{case_id}/documents/{form}", summary="In biểu mẫu 01–06 (docx hoặc pdf)")
def document(request, case_id: int, form: str, format: str = "docx") -> HttpResponse:  # noqa: A002
    case = case_get_for_user(user=request.auth, case_id=case_id, audit=False)
    audit_access(actor=request.auth, obj=case, unit=case.unit_id, action=f"print:{form}")
    content, filename, content_type = document_render(case=case, form=form, fmt=format)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


__all__ = ["router", "FORMS"]


class ReassignIn(Versioned):
    owner_id: int | None = None
    reason: str = ""


@router.get("/{case_id}/owner-candidates", summary="Người có thể nhận vụ việc (người làm công tác BVTE của xã)")
def owner_candidates(request, case_id: int) -> list[dict[str, Any]]:
    case = case_get_for_user(user=request.auth, case_id=case_id, audit=False)
    if not scope_for(request.auth).manages_caseload:
        from django.utils.translation import gettext as _

        from vitreem.core.errors import PermissionDenied

        raise PermissionDenied(_("Vai trò của bạn không được giao lại vụ việc."), code="forbidden_role")
    return [{"id": u.pk, "name": u.display_name, "username": u.username} for u in services.owner_candidates(case)]


@router.post("/{case_id}/reassign", summary="Giao lại vụ việc cho người khác của xã (giám sát, cán bộ tỉnh)")
def reassign(request, case_id: int, payload: ReassignIn) -> dict[str, Any]:
    services.case_reassign(actor=request.auth, case=case_id, expected_version=payload.version,
                           owner=payload.owner_id, reason=payload.reason)
    return _fresh(request, case_id)
