"""Activities (communication, training, campaign, recreation), their participants, named children and
attachments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from vitreem.core.scope import require_unit, scope_for
from vitreem.core.text import fold_words, nfc, text_problem

from ..models import (
    Activity,
    Attachment,
    Audience,
    BudgetAllocation,
    CommunicationForm,
    Kind,
    Occasion,
    Participant,
    Partner,
    Project,
    RecreationChild,
    Spending,
    Status,
    Topic,
)
from ..sheets import RowError, SheetInvalid, parse_score, parse_sex, sheet_read
from ._common import COMMON_FIELDS, KIND_FIELDS, _choice, _date, _int, _sum_check, _unit


def _clean_communication(raw: dict[str, Any], data: dict[str, Any], instance: Activity | None, out: dict[str, Any],
                         errors: dict[str, str]) -> None:
    """Communication: the form, and the people reached adding up both ways."""
    out["comm_form"] = _choice(raw.get("comm_form"), CommunicationForm, "comm_form", errors, required=True)
    for f in KIND_FIELDS[Kind.COMMUNICATION]:
        if f != "comm_form":
            out[f] = _int(raw.get(f), f, errors)
    # Decree-free rule of the committee's report: people reached = children + adults = men + women.
    _sum_check(errors, out["reached_total"], {"reached_male": out["reached_male"],
                                              "reached_female": out["reached_female"]},
               "reached_total", _("nam và nữ"))
    _sum_check(errors, out["reached_total"], {"reached_children": out["reached_children"],
                                              "reached_adults": out["reached_adults"]},
               "reached_total", _("trẻ em và người lớn"))


def _clean_training(raw: dict[str, Any], data: dict[str, Any], instance: Activity | None, out: dict[str, Any],
                    errors: dict[str, str]) -> None:
    """Training: the audience, its length in days, the topics."""
    out["audience"] = _choice(raw.get("audience"), Audience, "audience", errors, required=True)
    try:
        days = Decimal(str(raw.get("days") or "1").replace(",", "."))
    except ArithmeticError:
        days = Decimal(0)
    if days <= 0 or days > 60:
        errors["days"] = _("Số ngày tập huấn phải từ 0,5 đến 60.")
    out["days"] = days
    out["topics"] = nfc(raw.get("topics") or "").strip()[:255]


def _clean_campaign(raw: dict[str, Any], data: dict[str, Any], instance: Activity | None, out: dict[str, Any],
                    errors: dict[str, str]) -> None:
    """Campaign: the targets integrated, the units taking part."""
    out["targets"] = nfc(raw.get("targets") or "").strip()
    if not out["targets"]:
        errors["targets"] = _("Nhập các chỉ tiêu về trẻ em được lồng ghép.")
    taking = data.get("units_taking_part", None if instance else [])
    if taking is not None:
        resolved = []
        for value in taking:
            try:
                resolved.append(_unit(value))
            except DomainError as exc:
                errors["units_taking_part"] = str(exc.message)
        out["units_taking_part"] = [u for u in resolved if u is not None]


def _clean_recreation(raw: dict[str, Any], data: dict[str, Any], instance: Activity | None, out: dict[str, Any],
                      errors: dict[str, str]) -> None:
    """Recreation: the occasion, and the children taking part adding up by sex and by age."""
    out["occasion"] = _choice(raw.get("occasion"), Occasion, "occasion", errors, required=True)
    for f in KIND_FIELDS[Kind.RECREATION]:
        if f != "occasion":
            out[f] = _int(raw.get(f), f, errors)
    _sum_check(errors, out["children_total"], {"children_male": out["children_male"],
                                               "children_female": out["children_female"]},
               "children_total", _("trẻ em trai và gái"))
    _sum_check(errors, out["children_total"], {"age_0_5": out["age_0_5"], "age_6_10": out["age_6_10"],
                                               "age_11_15": out["age_11_15"]},
               "children_total", _("theo nhóm tuổi"))
    if out["special_children"] > out["children_total"]:
        errors["special_children"] = _("Số trẻ em có hoàn cảnh đặc biệt (%(n)d) lớn hơn tổng số trẻ em (%(t)d).") % {
            "n": out["special_children"], "t": out["children_total"]}


def _clean_links(actor: User, raw: dict[str, Any], data: dict[str, Any], instance: Activity | None, out: dict[str, Any],
                 errors: dict[str, str], start: dt.date | None) -> None:
    """What the activity hangs on: the organiser, the project and partners, the budget line it spends from
    (in the actor's scope, of the activity's year), and the plain fields beside them."""
    organiser = raw.get("organiser")
    if organiser not in (None, "") and not isinstance(organiser, MemberUnit):
        organiser = MemberUnit.objects.filter(pk=organiser).first() if str(organiser).isdigit() else \
            MemberUnit.objects.filter(code=organiser).first()
        if organiser is None:
            errors["organiser"] = _("Không có đơn vị thành viên này.")
    out["organiser"] = organiser or None
    out["plan_task"] = (raw.get("plan_task") or "").strip()[:120]
    out["note"] = nfc(raw.get("note") or "").strip()
    out["topic"] = _choice(raw.get("topic"), Topic, "topic", errors, required=out["kind"] == Kind.COMMUNICATION)
    out["cost"] = _int(raw.get("cost"), "cost", errors, maximum=10**13)

    project = raw.get("project")
    if project not in (None, "") and not isinstance(project, Project):
        project = Project.objects.filter(pk=project).first() if str(project).isdigit() else None
        if project is None:
            errors["project"] = _("Không có dự án này.")
    out["project"] = project or None
    partners = data.get("partners", None if instance else [])
    if partners is not None:
        ids = [getattr(p, "pk", p) for p in partners if p not in (None, "")]
        found = list(Partner.objects.filter(pk__in=ids))
        if len(found) != len(set(map(int, ids))):
            errors["partners"] = _("Có đối tác không tồn tại.")
        out["partners"] = found

    line = raw.get("budget_line")
    if line not in (None, "") and not isinstance(line, BudgetAllocation):
        line = BudgetAllocation.objects.select_related("unit").filter(pk=line).first() if str(line).isdigit() else None
        if line is None:
            errors["budget_line"] = _("Không có dòng dự toán này.")
    line = line or None
    if out["cost"] and line is None and "budget_line" not in errors:
        errors["budget_line"] = _("Khoản chi %(cost)s đồng chưa có dòng dự toán: chọn dòng dự toán kinh phí "
                                  "(nguồn, mục đích) trước khi ghi chi.") % {"cost": f"{out['cost']:,}".replace(",", ".")}
    if line is not None and start is not None and line.year != start.year:
        errors["budget_line"] = _("Dòng dự toán thuộc năm %(y)d, hoạt động diễn ra năm %(a)d.") % {
            "y": line.year, "a": start.year}
    if line is not None and not scope_for(actor).sees_unit(line.unit_id):
        errors["budget_line"] = _("Dòng dự toán thuộc đơn vị ngoài phạm vi của bạn.")
    out["budget_line"] = line


# The fields of each kind, checked by its own function (the common fields are checked for every kind).
KIND_CLEANERS = {
    Kind.COMMUNICATION: _clean_communication,
    Kind.TRAINING: _clean_training,
    Kind.CAMPAIGN: _clean_campaign,
    Kind.RECREATION: _clean_recreation,
}


def activity_clean(*, actor: User, kind: str, data: dict[str, Any], instance: Activity | None = None) -> dict[str, Any]:
    """Validated values of an activity of `kind` (raises ValidationFailed naming every bad field)."""
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        raise ValidationFailed({"kind": _("Loại hoạt động không hợp lệ: %(v)s.") % {"v": kind}})
    current = {} if instance is None else {f: getattr(instance, f) for f in COMMON_FIELDS + KIND_FIELDS[Kind(kind)]
                                           if f not in {"partners", "units_taking_part"}}
    raw = {**current, **data}
    out: dict[str, Any] = {"kind": kind}
    out["title"] = nfc(raw.get("title") or "").strip()
    if not out["title"]:
        errors["title"] = _("Nhập tên hoạt động.")
    out["status"] = _choice(raw.get("status") or Status.DONE, Status, "status", errors, required=True)
    start = _date(raw.get("start_date"), "start_date", errors)
    end = _date(raw.get("end_date"), "end_date", errors) or start
    if start is None and "start_date" not in errors:
        errors["start_date"] = _("Nhập ngày bắt đầu.")
    if start and end and end < start:
        errors["end_date"] = _("Ngày kết thúc (%(end)s) trước ngày bắt đầu (%(start)s).") % {
            "end": end.strftime("%d/%m/%Y"), "start": start.strftime("%d/%m/%Y")}
    out["start_date"], out["end_date"] = start, end
    try:
        unit = _unit(raw.get("unit"), on=start)
    except DomainError as exc:
        errors["unit"] = str(exc.message)
        unit = None
    if unit is None and "unit" not in errors:
        errors["unit"] = _("Chọn đơn vị (nơi tổ chức).")
    if unit is not None and start is not None and not unit.valid_on(start):
        errors["unit"] = _("Đơn vị %(name)s (%(ref)s) không có hiệu lực vào ngày %(day)s; chọn đơn vị theo "
                           "địa giới lúc đó.") % {"name": unit.name, "ref": unit.ref, "day": start.strftime("%d/%m/%Y")}
    out["unit"] = unit
    _clean_links(actor, raw, data, instance, out, errors, start)

    KIND_CLEANERS[Kind(kind)](raw, data, instance, out, errors)
    if errors:
        raise ValidationFailed(errors)
    return out


def _sync_spending(activity: Activity, actor: User) -> None:
    """A done activity with a cost spends from its budget line; a planned or cancelled one does not."""
    spend = activity.status == Status.DONE and activity.cost > 0 and activity.budget_line_id is not None
    existing = Spending.objects.filter(activity=activity).first()
    if not spend:
        if existing:
            existing.delete()
        return
    line_id: int = activity.budget_line_id  # type: ignore[assignment]  # checked by `spend`
    if existing is None:
        Spending.objects.create(allocation_id=line_id, spent_on=activity.end_date, amount=activity.cost,
                                activity=activity, description=activity.title[:255], created_by=actor)
    else:
        existing.allocation_id, existing.amount = line_id, activity.cost
        existing.spent_on, existing.description = activity.end_date, activity.title[:255]
        existing.save()


@transaction.atomic
def activity_create(*, actor: User, kind: str, data: dict[str, Any]) -> Activity:
    """Record an activity in a unit of the actor's scope (refused outside it)."""
    values = activity_clean(actor=actor, kind=kind, data=data)
    require_unit(actor, values["unit"])
    partners = values.pop("partners", [])
    taking = values.pop("units_taking_part", [])
    activity = Activity.objects.create(**values, created_by=actor if getattr(actor, "pk", None) else None)
    activity.partners.set(partners)
    if taking:
        activity.units_taking_part.set(taking)
    _sync_spending(activity, actor)
    audit_change(actor=actor, action="activity.create", obj=activity, unit=activity.unit,
                 changes={**snapshot(activity), "partners": [p.pk for p in partners]})
    return activity


@transaction.atomic
def activity_update(*, actor: User, activity: Activity, data: dict[str, Any], expected_version: int | None = None) -> Activity:
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    require_unit(actor, activity.unit)
    if expected_version is not None and expected_version != activity.version:
        raise Conflict(_("Hoạt động vừa được người khác sửa; tải lại trang rồi sửa lại."))
    before = snapshot(activity)
    values = activity_clean(actor=actor, kind=activity.kind, data=data, instance=activity)
    require_unit(actor, values["unit"])
    partners = values.pop("partners", None)
    taking = values.pop("units_taking_part", None)
    for name, value in values.items():
        setattr(activity, name, value)
    activity.version += 1
    activity.save()
    if partners is not None:
        activity.partners.set(partners)
    if taking is not None:
        activity.units_taking_part.set(taking)
    _sync_spending(activity, actor)
    audit_change(actor=actor, action="activity.update", obj=activity, unit=activity.unit,
                 changes=diff(before, snapshot(activity)))
    return activity


@transaction.atomic
def activity_set_status(*, actor: User, activity: Activity, status: str) -> Activity:
    return activity_update(actor=actor, activity=activity, data={"status": status})


# ---------------------------------------------------------------- training participants

def _participant_values(raw: dict[str, Any], errors: list[RowError], row: int) -> dict[str, Any] | None:
    name = nfc(raw.get("full_name") or "").strip()
    before = len(errors)
    if not name:
        errors.append(RowError(row, "full_name", _("Thiếu họ và tên.")))
    elif problem := text_problem(name, label=_("Họ và tên"), max_length=150, name=True):
        errors.append(RowError(row, "full_name", problem))
    sex_text = str(raw.get("sex") or "").strip()
    sex = parse_sex(sex_text)
    if sex is None:
        errors.append(RowError(row, "sex", _("Giới tính phải là Nam hoặc Nữ (đang là \"%(v)s\").") % {"v": sex_text}))
    scores = {}
    for f in ("pre_score", "post_score"):
        value = raw.get(f)
        if isinstance(value, (Decimal, int, float)):
            value = str(value)
        try:
            scores[f] = parse_score(value or "")
        except ValueError:
            errors.append(RowError(row, f, _("Điểm phải là số từ 0 đến 100 (đang là \"%(v)s\").") % {"v": value}))
    if len(errors) > before:
        return None
    unit_name = nfc(raw.get("unit_name") or "").strip()[:200]
    key = fold_words(name)
    return {"full_name": name, "name_key": key, "unit_name": unit_name,
            "role": nfc(raw.get("role") or "").strip()[:120], "sex": sex,
            "ethnicity": nfc(raw.get("ethnicity") or "").strip()[:60], **scores,
            "person_key": f"{key}|{sex}|{fold_words(unit_name)}"[:400]}


def _training_for_write(actor: User, activity: Activity) -> Activity:
    require_unit(actor, activity.unit)
    if activity.kind != Kind.TRAINING:
        raise DomainError(_("Chỉ lớp tập huấn mới có danh sách học viên."), field="activity", code="not_training")
    return activity


@transaction.atomic
def participant_add(*, actor: User, activity: Activity, data: dict[str, Any]) -> Participant:
    _training_for_write(actor, activity)
    errors: list[RowError] = []
    values = _participant_values(data, errors, 1)
    if values is None:
        raise ValidationFailed({e.field: e.message for e in errors})
    participant = Participant.objects.create(activity=activity, **values)
    audit_change(actor=actor, action="activity.participant_add", obj=activity, unit=activity.unit,
                 changes={"participant": participant.pk, "full_name": participant.full_name})
    return participant


@transaction.atomic
def participant_remove(*, actor: User, participant: Participant) -> None:
    activity = _training_for_write(actor, participant.activity)
    audit_change(actor=actor, action="activity.participant_remove", obj=activity, unit=activity.unit,
                 changes={"participant": participant.pk, "full_name": participant.full_name})
    participant.delete()


@transaction.atomic
def participants_import(*, actor: User, activity: Activity, content: bytes, replace: bool = False) -> int:
    """Add every row of a participants sheet, or none: any unreadable row raises SheetInvalid listing all."""
    _training_for_write(actor, activity)
    sheet = sheet_read(content)
    errors: list[RowError] = []
    rows = [v for row, raw in sheet.rows if (v := _participant_values(raw, errors, row)) is not None]
    if errors:
        raise SheetInvalid(errors)
    if replace:
        activity.participants.all().delete()
    Participant.objects.bulk_create([Participant(activity=activity, **values) for values in rows])
    audit_change(actor=actor, action="activity.participants_import", obj=activity, unit=activity.unit,
                 changes={"rows": len(rows), "replace": replace})
    return len(rows)


# ---------------------------------------------------------------- recreation: named children

@transaction.atomic
def recreation_child_link(*, actor: User, activity: Activity, child_id: int, gift: str = "",
                          gift_value: int = 0) -> RecreationChild:
    from vitreem.registry.selectors import children_for_user

    require_unit(actor, activity.unit)
    if activity.kind != Kind.RECREATION:
        raise DomainError(_("Chỉ hoạt động vui chơi, giải trí mới gắn được trẻ em."), field="activity")
    child = children_for_user(user=actor).filter(pk=child_id).first()
    if child is None:
        raise NotFound(_("Không tìm thấy trẻ em này trong phạm vi của bạn."), field="child")
    if gift_value < 0:
        raise ValidationFailed({"gift_value": _("Phải là số không âm.")})
    link, created = RecreationChild.objects.get_or_create(activity=activity, child=child,
                                                          defaults={"gift": gift, "gift_value": gift_value})
    if not created:
        raise Conflict(_("Trẻ em này đã có trong danh sách của hoạt động."), field="child")
    audit_change(actor=actor, action="activity.child_link", obj=activity, unit=activity.unit,
                 changes={"child": child.pk, "gift": gift, "gift_value": gift_value})
    return link


@transaction.atomic
def attachment_add(*, actor: User, activity: Activity, upload, title: str = "") -> Attachment:
    require_unit(actor, activity.unit)
    allowed = (".jpg", ".jpeg", ".png", ".pdf", ".xlsx", ".docx")
    name = (getattr(upload, "name", "") or "").lower()
    if not name.endswith(allowed):
        raise ValidationFailed({"file": _("Chỉ nhận ảnh (.jpg, .png), .pdf, .xlsx, .docx.")})
    if getattr(upload, "size", 0) > 10 * 1024 * 1024:
        raise ValidationFailed({"file": _("Tệp lớn hơn 10 MB.")})
    att = Attachment.objects.create(activity=activity, file=upload, title=nfc(title)[:200],
                                    uploaded_by=actor if getattr(actor, "pk", None) else None)
    audit_change(actor=actor, action="activity.attachment_add", obj=activity, unit=activity.unit,
                 changes={"attachment": att.pk, "file": att.file.name})
    return att
