"""Every write of activities, play points, partners and budgets: validate, check scope, write, audit.

Each service is one transaction: bad input raises a DomainError before anything is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from vitreem.core.scope import require_unit, scope_for
from vitreem.core.text import fold_words, nfc
from vitreem.places.models import AdminUnit, Level

from .models import (
    Activity,
    Attachment,
    Audience,
    BudgetAllocation,
    CommunicationForm,
    Condition,
    Kind,
    ModelType,
    Occasion,
    Participant,
    Partner,
    PartnerKind,
    PlayPoint,
    PlayPointType,
    Project,
    Purpose,
    RecreationChild,
    Source,
    Spending,
    Status,
    Topic,
)
from .sheets import RowError, SheetInvalid, parse_score, parse_sex, sheet_read

COMMON_FIELDS = ["title", "status", "start_date", "end_date", "unit", "organiser", "partners", "project",
                 "plan_task", "budget_line", "cost", "topic", "note"]
KIND_FIELDS = {
    Kind.COMMUNICATION: ["comm_form", "reached_total", "reached_children", "reached_adults", "reached_male",
                         "reached_female", "materials"],
    Kind.TRAINING: ["audience", "days", "topics"],
    Kind.CAMPAIGN: ["targets", "units_taking_part"],
    Kind.RECREATION: ["occasion", "children_total", "children_male", "children_female", "age_0_5", "age_6_10",
                      "age_11_15", "special_children"],
}
COUNT_FIELDS = {"reached_total", "reached_children", "reached_adults", "reached_male", "reached_female",
                "materials", "children_total", "children_male", "children_female", "age_0_5", "age_6_10",
                "age_11_15", "special_children", "cost"}
MAX_COUNT = 10_000_000  # nobody reaches more people than a province has


def _unit(value: Any, on: dt.date | None = None) -> AdminUnit | None:
    """A unit from an object, an id, "legacy:23500"/"2025:23500", or a bare code read in the version
    in force on `on` (the activity's date), so "23500" for a 2022 talk is the legacy commune."""
    if value in (None, ""):
        return None
    if isinstance(value, AdminUnit):
        return value
    from vitreem.places.selectors import unit_resolve

    if isinstance(value, int):
        unit = AdminUnit.objects.filter(pk=value).first()
        if unit is None:
            raise NotFound(_("Không có đơn vị hành chính này."), field="unit")
        return unit
    text = str(value).strip()
    return unit_resolve(text) if ":" in text or on is None else unit_resolve(text, on=on)


def _required_unit(value: Any, errors: dict[str, str], missing: str) -> AdminUnit | None:
    """The unit an edit form names, or None with the field's message in `errors` (for an edit that
    collects every field's error before refusing)."""
    try:
        unit = _unit(value)
    except DomainError as exc:
        errors["unit"] = str(exc.message)
        return None
    if unit is None:
        errors["unit"] = missing
    return unit


def _date(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 — a calendar date, no time
        except ValueError:
            continue
    errors[field] = _("Ngày không hợp lệ: %(v)s (dùng dd/mm/yyyy).") % {"v": text}
    return None


def _int(value: Any, field: str, errors: dict[str, str], *, maximum: int = MAX_COUNT) -> int:
    if value in (None, ""):
        return 0
    try:
        number = int(Decimal(str(value).replace(".", "").replace(",", ""))) if isinstance(value, str) else int(value)
    except (ValueError, ArithmeticError):
        errors[field] = _("Phải là số nguyên không âm.")
        return 0
    if number < 0 or number > maximum:
        errors[field] = _("Phải là số nguyên không âm.") if number < 0 else _("Số quá lớn.")
        return 0
    return number


def _choice(value: Any, choices, field: str, errors: dict[str, str], *, required: bool) -> str:
    value = (value or "").strip() if isinstance(value, str) else (value or "")
    if not value:
        if required:
            errors[field] = _("Bắt buộc chọn.")
        return ""
    if value not in choices.values:
        errors[field] = _("Giá trị không hợp lệ: %(v)s.") % {"v": value}
        return ""
    return value


def _sum_check(errors: dict[str, str], total: int, parts: dict[str, int], total_field: str, label: str) -> None:
    """Participants split by sex or by age band must add up to the total (when the split is given)."""
    given = sum(parts.values())
    if given and given != total:
        first = next(iter(parts))
        errors[first] = _("Tổng %(label)s (%(sum)d) không khớp với tổng số (%(total)d).") % {
            "label": label, "sum": given, "total": total}
    if not total and given:
        errors[total_field] = _("Nhập tổng số người tham gia.")


def activity_clean(*, actor, kind: str, data: dict[str, Any], instance: Activity | None = None) -> dict[str, Any]:
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
    organiser = raw.get("organiser")
    if organiser not in (None, "") and not isinstance(organiser, MemberUnit):
        organiser = MemberUnit.objects.filter(pk=organiser).first() if str(organiser).isdigit() else \
            MemberUnit.objects.filter(code=organiser).first()
        if organiser is None:
            errors["organiser"] = _("Không có đơn vị thành viên này.")
    out["organiser"] = organiser or None
    out["plan_task"] = (raw.get("plan_task") or "").strip()[:120]
    out["note"] = nfc(raw.get("note") or "").strip()
    out["topic"] = _choice(raw.get("topic"), Topic, "topic", errors, required=kind in {Kind.COMMUNICATION})
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

    if kind == Kind.COMMUNICATION:
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
    elif kind == Kind.TRAINING:
        out["audience"] = _choice(raw.get("audience"), Audience, "audience", errors, required=True)
        try:
            days = Decimal(str(raw.get("days") or "1").replace(",", "."))
        except ArithmeticError:
            days = Decimal(0)
        if days <= 0 or days > 60:
            errors["days"] = _("Số ngày tập huấn phải từ 0,5 đến 60.")
        out["days"] = days
        out["topics"] = nfc(raw.get("topics") or "").strip()[:255]
    elif kind == Kind.CAMPAIGN:
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
    elif kind == Kind.RECREATION:
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
    if errors:
        raise ValidationFailed(errors)
    return out


def _sync_spending(activity: Activity, actor) -> None:
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
def activity_create(*, actor, kind: str, data: dict[str, Any]) -> Activity:
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
def activity_update(*, actor, activity: Activity, data: dict[str, Any], expected_version: int | None = None) -> Activity:
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
def activity_set_status(*, actor, activity: Activity, status: str) -> Activity:
    return activity_update(actor=actor, activity=activity, data={"status": status})


# ---------------------------------------------------------------- training participants

def _participant_values(raw: dict[str, Any], errors: list[RowError], row: int) -> dict[str, Any] | None:
    name = nfc(raw.get("full_name") or "").strip()
    before = len(errors)
    if not name:
        errors.append(RowError(row, "full_name", _("Thiếu họ và tên.")))
    elif len(name) > 150 or not any(ch.isalpha() for ch in name):
        errors.append(RowError(row, "full_name", _("Họ và tên không hợp lệ: %(v)s.") % {"v": name[:40]}))
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


def _training_for_write(actor, activity: Activity) -> Activity:
    require_unit(actor, activity.unit)
    if activity.kind != Kind.TRAINING:
        raise DomainError(_("Chỉ lớp tập huấn mới có danh sách học viên."), field="activity", code="not_training")
    return activity


@transaction.atomic
def participant_add(*, actor, activity: Activity, data: dict[str, Any]) -> Participant:
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
def participant_remove(*, actor, participant: Participant) -> None:
    activity = _training_for_write(actor, participant.activity)
    audit_change(actor=actor, action="activity.participant_remove", obj=activity, unit=activity.unit,
                 changes={"participant": participant.pk, "full_name": participant.full_name})
    participant.delete()


@transaction.atomic
def participants_import(*, actor, activity: Activity, content: bytes, replace: bool = False) -> int:
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
def recreation_child_link(*, actor, activity: Activity, child_id: int, gift: str = "",
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
def attachment_add(*, actor, activity: Activity, upload, title: str = "") -> Attachment:
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


# ---------------------------------------------------------------- play points

@transaction.atomic
def play_point_create(*, actor, unit: AdminUnit | str, name: str, opened_on: dt.date,
                      point_type: str = PlayPointType.PLAYGROUND, condition: str = Condition.GOOD,
                      closed_on: dt.date | None = None, project: Project | None = None, note: str = "") -> PlayPoint:
    errors: dict[str, str] = {}
    commune = _unit(unit)
    if commune is None or commune.level != Level.COMMUNE:
        errors["unit"] = _("Điểm vui chơi phải thuộc một xã, phường.")
    name = nfc(name).strip()
    if not name:
        errors["name"] = _("Nhập tên điểm vui chơi.")
    _choice(point_type, PlayPointType, "point_type", errors, required=True)
    _choice(condition, Condition, "condition", errors, required=True)
    if opened_on is None:
        errors["opened_on"] = _("Nhập ngày đưa vào sử dụng.")
    elif closed_on is not None and closed_on < opened_on:
        errors["closed_on"] = _("Ngày ngừng sử dụng trước ngày đưa vào sử dụng.")
    if errors:
        raise ValidationFailed(errors)
    assert commune is not None  # noqa: S101 — checked above, for the type checker
    require_unit(actor, commune)
    point = PlayPoint.objects.create(unit=commune, name=name, opened_on=opened_on, closed_on=closed_on,
                                     point_type=point_type, condition=condition, project=project, note=note[:255])
    audit_change(actor=actor, action="play_point.create", obj=point, unit=commune, changes=snapshot(point))
    return point


@transaction.atomic
def play_point_update(*, actor, point: PlayPoint, condition: str | None = None,
                      closed_on: dt.date | None = None, note: str | None = None) -> PlayPoint:
    require_unit(actor, point.unit)
    before = snapshot(point)
    errors: dict[str, str] = {}
    if condition is not None:
        point.condition = _choice(condition, Condition, "condition", errors, required=True)
    if closed_on is not None:
        if closed_on < point.opened_on:
            errors["closed_on"] = _("Ngày ngừng sử dụng trước ngày đưa vào sử dụng.")
        point.closed_on = closed_on
    if note is not None:
        point.note = note[:255]
    if errors:
        raise ValidationFailed(errors)
    point.save()
    audit_change(actor=actor, action="play_point.update", obj=point, unit=point.unit_id,
                 changes=diff(before, snapshot(point)))
    return point


# ---------------------------------------------------------------- partners and projects

def _require_province(actor) -> None:
    scope = scope_for(actor)
    if not (scope.province_wide and scope.write_children):
        raise PermissionDenied(_("Chỉ cán bộ cấp tỉnh được quản lý danh mục đối tác."))


@transaction.atomic
def partner_create(*, actor, name: str, kind: str = PartnerKind.INTL_NGO, country: str = "",
                   contact: str = "") -> Partner:
    _require_province(actor)
    errors: dict[str, str] = {}
    name = nfc(name).strip()
    if not name:
        errors["name"] = _("Nhập tên đối tác.")
    elif Partner.objects.filter(name__iexact=name).exists():
        errors["name"] = _("Đã có đối tác tên %(n)s.") % {"n": name}
    _choice(kind, PartnerKind, "kind", errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    partner = Partner.objects.create(name=name, kind=kind, country=nfc(country)[:80], contact=nfc(contact)[:200])
    audit_change(actor=actor, action="partner.create", obj=partner, changes=snapshot(partner))
    return partner


@transaction.atomic
def project_create(*, actor, partner: Partner, name: str, unit: AdminUnit | str, start_date: dt.date,
                   end_date: dt.date | None = None, model_type: str = ModelType.OTHER, funding: int = 0,
                   communes: Iterable[AdminUnit | str] = (), results: str = "") -> Project:
    errors: dict[str, str] = {}
    owner = _unit(unit)
    if owner is None:
        errors["unit"] = _("Chọn đơn vị quản lý dự án.")
    name = nfc(name).strip()
    if not name:
        errors["name"] = _("Nhập tên dự án, mô hình.")
    if start_date is None:
        errors["start_date"] = _("Nhập ngày bắt đầu.")
    elif end_date is not None and end_date < start_date:
        errors["end_date"] = _("Ngày kết thúc trước ngày bắt đầu.")
    _choice(model_type, ModelType, "model_type", errors, required=True)
    if funding < 0:
        errors["funding"] = _("Phải là số không âm.")
    covered = [c for c in (_unit(c) for c in communes) if c is not None]
    if any(c.level != Level.COMMUNE for c in covered):
        errors["communes"] = _("Chỉ chọn xã, phường.")
    if errors:
        raise ValidationFailed(errors)
    assert owner is not None  # noqa: S101 — required by the checks above
    require_unit(actor, owner)
    for commune in covered:
        require_unit(actor, commune)
    project = Project.objects.create(partner=partner, name=name, unit=owner, start_date=start_date, end_date=end_date,
                                     model_type=model_type, funding=funding, results=nfc(results))
    project.communes.set(covered)
    audit_change(actor=actor, action="project.create", obj=project, unit=owner,
                 changes={**snapshot(project), "communes": [c.pk for c in covered]})
    return project


@transaction.atomic
def project_results_set(*, actor, project: Project, results: str) -> Project:
    require_unit(actor, project.unit)
    before = project.results
    project.results = nfc(results)
    project.save(update_fields=["results"])
    audit_change(actor=actor, action="project.results", obj=project, unit=project.unit_id,
                 changes={"results": [before, project.results]})
    return project


# ---------------------------------------------------------------- budget

@transaction.atomic
def allocation_create(*, actor, year: int, unit: AdminUnit | str, source: str, purpose: str, amount: int,
                      member_unit: MemberUnit | None = None, project: Project | None = None,
                      note: str = "") -> BudgetAllocation:
    errors: dict[str, str] = {}
    owner = _unit(unit)
    if owner is None:
        errors["unit"] = _("Chọn đơn vị.")
    if not 2000 <= int(year or 0) <= 2100:
        errors["year"] = _("Năm không hợp lệ.")
    _choice(source, Source, "source", errors, required=True)
    _choice(purpose, Purpose, "purpose", errors, required=True)
    if amount is None or amount <= 0:
        errors["amount"] = _("Số tiền phải lớn hơn 0.")
    if project is not None and "year" not in errors and not _year_in_project(project, int(year)):
        errors["year"] = _("Năm %(y)d nằm ngoài thời gian của dự án %(n)s (%(p)s).") % {
            "y": int(year), "n": project.name, "p": _period_text(project)}
    if errors:
        raise ValidationFailed(errors)
    assert owner is not None  # noqa: S101 — required by the checks above
    require_unit(actor, owner)
    line = BudgetAllocation.objects.create(year=year, unit=owner, source=source, purpose=purpose, amount=amount,
                                           member_unit=member_unit, project=project, note=nfc(note)[:255])
    audit_change(actor=actor, action="budget.allocate", obj=line, unit=owner, changes=snapshot(line))
    return line


def allocation_find(*, year: int, unit: AdminUnit, source: str, purpose: str,
                    member_unit: MemberUnit | None = None) -> BudgetAllocation | None:
    return BudgetAllocation.objects.filter(year=year, unit=unit, source=source, purpose=purpose,
                                           member_unit=member_unit).order_by("pk").first()


@transaction.atomic
def spending_record(*, actor, amount: int, spent_on: dt.date, allocation: BudgetAllocation | int | None = None,
                    unit: AdminUnit | str | None = None, source: str = "", purpose: str = "",
                    member_unit: MemberUnit | None = None, description: str = "") -> Spending:
    """Spend from a budget line, named directly or by (year of spent_on, unit, source, purpose).
    Spending with no allocation line is refused: every đồng spent must trace to a budget line."""
    errors: dict[str, str] = {}
    if amount is None or amount <= 0:
        errors["amount"] = _("Số tiền phải lớn hơn 0.")
    if spent_on is None:
        errors["spent_on"] = _("Nhập ngày chi.")
    if errors:
        raise ValidationFailed(errors)
    line: BudgetAllocation | None
    if isinstance(allocation, BudgetAllocation):
        line = allocation
    elif allocation:
        line = BudgetAllocation.objects.filter(pk=allocation).first()
    else:
        owner = _unit(unit)
        line = allocation_find(year=spent_on.year, unit=owner, source=source, purpose=purpose,
                               member_unit=member_unit) if owner else None
    if line is None:
        raise DomainError(_("Không có dòng dự toán kinh phí cho khoản chi này (năm %(y)d, nguồn, mục đích): "
                            "lập dự toán trước khi ghi chi.") % {"y": spent_on.year},
                          field="allocation", code="no_allocation")
    require_unit(actor, line.unit)
    if line.year != spent_on.year:
        raise ValidationFailed({"spent_on": _("Ngày chi thuộc năm %(a)d, dòng dự toán thuộc năm %(y)d.") % {
            "a": spent_on.year, "y": line.year}})
    # the project as stored now (a line object passed in may carry an older copy of it)
    project = Project.objects.filter(pk=line.project_id).first() if line.project_id else None
    if project is not None and not _in_project_period(project, spent_on):
        raise ValidationFailed({"spent_on": _("Ngày chi %(d)s nằm ngoài thời gian của dự án %(n)s (%(p)s).") % {
            "d": spent_on.strftime("%d/%m/%Y"), "n": project.name, "p": _period_text(project)}})
    spending = Spending.objects.create(allocation=line, amount=amount, spent_on=spent_on,
                                       description=nfc(description)[:255],
                                       created_by=actor if getattr(actor, "pk", None) else None)
    audit_change(actor=actor, action="budget.spend", obj=spending, unit=line.unit_id, changes=snapshot(spending))
    return spending


# ---------------------------------------------------------------- settings screens: edit partners, projects,
# budget lines and spending. Only the standing agency (province officers, admins) edits them: they are
# the province's money and agreements, kept the same for every commune that reads them.

def require_officer(actor) -> None:
    from vitreem.accounts.models import Role

    if not (getattr(actor, "is_authenticated", False) and actor.role in {Role.ADMIN, Role.PROVINCE_OFFICER}):
        raise PermissionDenied(_("Chỉ cán bộ cấp tỉnh (cơ quan thường trực) được sửa đối tác, dự án và kinh phí."),
                               code="forbidden")


def _period_text(project: Project) -> str:
    end = project.end_date.strftime("%d/%m/%Y") if project.end_date else "…"
    return f"{project.start_date.strftime('%d/%m/%Y')} – {end}"


def _in_project_period(project: Project | None, day: dt.date) -> bool:
    return project is None or (project.start_date <= day and (project.end_date is None or day <= project.end_date))


def _year_in_project(project: Project | None, year: int) -> bool:
    return project is None or (project.start_date.year <= year
                               and (project.end_date is None or year <= project.end_date.year))


@transaction.atomic
def partner_update(*, actor, partner: Partner, data: dict[str, Any]) -> Partner:
    require_officer(actor)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    errors: dict[str, str] = {}
    before = snapshot(partner)
    if "name" in data:
        name = nfc(data["name"] or "").strip()
        if not name:
            errors["name"] = _("Nhập tên đối tác.")
        elif Partner.objects.filter(name__iexact=name).exclude(pk=partner.pk).exists():
            errors["name"] = _("Đã có đối tác tên %(n)s.") % {"n": name}
        partner.name = name
    if "kind" in data:
        partner.kind = _choice(data["kind"], PartnerKind, "kind", errors, required=True)
    if "country" in data:
        partner.country = nfc(data["country"] or "").strip()[:80]
    if "contact" in data:
        partner.contact = nfc(data["contact"] or "").strip()[:200]
    if "active" in data:
        partner.active = bool(data["active"])
    if errors:
        raise ValidationFailed(errors)
    partner.save()
    audit_change(actor=actor, action="partner.update", obj=partner, changes=diff(before, snapshot(partner)))
    return partner


@transaction.atomic
def project_update(*, actor, project: Project, data: dict[str, Any]) -> Project:
    """Edit a project. Its period must still hold the budget lines and spending already tied to it."""
    require_officer(actor)
    project = Project.objects.select_for_update().get(pk=project.pk)
    require_unit(actor, project.unit)
    errors: dict[str, str] = {}
    before = {**snapshot(project), "communes": sorted(project.communes.values_list("pk", flat=True))}
    if "partner" in data:
        partner = data["partner"]
        if partner is not None and not isinstance(partner, Partner):
            partner = Partner.objects.filter(pk=partner).first() if str(partner).isdigit() else None
        if partner is None:
            errors["partner"] = _("Chọn đối tác.")
        else:
            project.partner = partner
    if "name" in data:
        project.name = nfc(data["name"] or "").strip()[:200]
        if not project.name:
            errors["name"] = _("Nhập tên dự án, mô hình.")
    if "unit" in data:
        owner = _required_unit(data["unit"], errors, _("Chọn đơn vị quản lý dự án."))
        if owner is not None:
            project.unit = owner
    if "model_type" in data:
        project.model_type = _choice(data["model_type"], ModelType, "model_type", errors, required=True)
    if "start_date" in data:
        project.start_date = _date(data["start_date"], "start_date", errors)  # type: ignore[assignment]
        if project.start_date is None and "start_date" not in errors:
            errors["start_date"] = _("Nhập ngày bắt đầu.")
    if "end_date" in data:
        project.end_date = _date(data["end_date"], "end_date", errors)
    if project.start_date and project.end_date and project.end_date < project.start_date:
        errors["end_date"] = _("Ngày kết thúc trước ngày bắt đầu.")
    if "funding" in data:
        project.funding = _int(data["funding"], "funding", errors, maximum=10**13)
        if "funding" in errors:
            errors["funding"] = _("Kinh phí tài trợ phải là số đồng không âm.")
    covered = None
    if "communes" in data:
        covered = [c for c in (_unit(c) for c in data["communes"] or []) if c is not None]
        if any(c.level != Level.COMMUNE for c in covered):
            errors["communes"] = _("Chỉ chọn xã, phường.")
    if "results" in data:
        project.results = nfc(data["results"] or "")
    if not errors and project.start_date:
        # the lines and payments already booked to the project must stay inside its period
        for line in project.allocations.all():
            if not _year_in_project(project, line.year):
                errors["start_date" if line.year < project.start_date.year else "end_date"] = _(
                    "Dự án có dòng dự toán năm %(y)d, ngoài thời gian %(p)s.") % {"y": line.year,
                                                                              "p": _period_text(project)}
        spent = Spending.objects.filter(allocation__project=project).order_by("spent_on")
        for spending in (spent.first(), spent.last()):
            if spending is not None and not _in_project_period(project, spending.spent_on):
                errors.setdefault("start_date" if spending.spent_on < project.start_date else "end_date", _(
                    "Dự án có khoản chi ngày %(d)s, ngoài thời gian %(p)s.") % {
                    "d": spending.spent_on.strftime("%d/%m/%Y"), "p": _period_text(project)})
    if errors:
        raise ValidationFailed(errors)
    require_unit(actor, project.unit)
    for commune in covered or []:
        require_unit(actor, commune)
    project.save()
    if covered is not None:
        project.communes.set(covered)
    after = {**snapshot(project), "communes": sorted(project.communes.values_list("pk", flat=True))}
    audit_change(actor=actor, action="project.update", obj=project, unit=project.unit, changes=diff(before, after))
    return project


def _line_checks(line: BudgetAllocation, errors: dict[str, str]) -> None:
    """A budget line tied to a project falls in the project's years; its spending stays in its year."""
    if line.project is not None and not _year_in_project(line.project, line.year):
        errors["year"] = _("Năm %(y)d nằm ngoài thời gian của dự án %(n)s (%(p)s).") % {
            "y": line.year, "n": line.project.name, "p": _period_text(line.project)}
    if line.pk:
        other = line.spendings.exclude(spent_on__year=line.year).order_by("spent_on").first()
        if other is not None:
            errors["year"] = _("Dòng dự toán đã có khoản chi ngày %(d)s: không đổi sang năm %(y)d được.") % {
                "d": other.spent_on.strftime("%d/%m/%Y"), "y": line.year}
        if line.project is not None:
            outside = [s for s in line.spendings.all() if not _in_project_period(line.project, s.spent_on)]
            if outside:
                errors["project"] = _("Khoản chi ngày %(d)s nằm ngoài thời gian của dự án (%(p)s).") % {
                    "d": outside[0].spent_on.strftime("%d/%m/%Y"), "p": _period_text(line.project)}


@transaction.atomic
def allocation_update(*, actor, line: BudgetAllocation, data: dict[str, Any]) -> BudgetAllocation:
    """Edit a budget line. Spending above the line is not refused (it is shown as "vượt dự toán" in
    the budget table, as in the finance office's own reports); the amount must be a positive number."""
    require_officer(actor)
    line = BudgetAllocation.objects.select_for_update().get(pk=line.pk)
    require_unit(actor, line.unit)
    errors: dict[str, str] = {}
    before = snapshot(line)
    if "year" in data:
        try:
            line.year = int(data["year"])
        except (TypeError, ValueError):
            line.year = 0
        if not 2000 <= line.year <= 2100:
            errors["year"] = _("Năm không hợp lệ.")
    if "unit" in data:
        owner = _required_unit(data["unit"], errors, _("Chọn đơn vị."))
        if owner is not None:
            line.unit = owner
    if "member_unit" in data:
        line.member_unit = data["member_unit"] or None
    if "source" in data:
        line.source = _choice(data["source"], Source, "source", errors, required=True)
    if "purpose" in data:
        line.purpose = _choice(data["purpose"], Purpose, "purpose", errors, required=True)
    if "amount" in data:
        line.amount = _int(data["amount"], "amount", errors, maximum=10**13)
        if "amount" in errors or line.amount <= 0:
            errors["amount"] = _("Số tiền phải lớn hơn 0.")
    if "project" in data:
        project = data["project"]
        if project not in (None, "") and not isinstance(project, Project):
            project = Project.objects.filter(pk=project).first() if str(project).isdigit() else None
            if project is None:
                errors["project"] = _("Không có dự án này.")
        line.project = project or None
    if "note" in data:
        line.note = nfc(data["note"] or "").strip()[:255]
    if "year" not in errors:
        _line_checks(line, errors)
    if errors:
        raise ValidationFailed(errors)
    require_unit(actor, line.unit)
    line.save()
    audit_change(actor=actor, action="budget.allocation.update", obj=line, unit=line.unit,
                 changes=diff(before, snapshot(line)))
    return line


@transaction.atomic
def spending_update(*, actor, spending: Spending, data: dict[str, Any]) -> Spending:
    """Edit a payment. The spending of an activity follows the activity's cost and date: edit the activity."""
    require_officer(actor)
    spending = Spending.objects.select_for_update().select_related("allocation").get(pk=spending.pk)
    require_unit(actor, spending.allocation.unit)
    if spending.activity_id:
        raise ValidationFailed({"amount": _("Khoản chi này là chi phí của hoạt động %(t)s: sửa chi phí trong "
                                            "hoạt động.") % {"t": spending.description}})
    errors: dict[str, str] = {}
    before = snapshot(spending)
    if "allocation" in data:
        line = data["allocation"]
        if line not in (None, "") and not isinstance(line, BudgetAllocation):
            line = BudgetAllocation.objects.filter(pk=line).first() if str(line).isdigit() else None
        if not line:
            errors["allocation"] = _("Chọn dòng dự toán.")
        elif not scope_for(actor).sees_unit(line.unit_id):
            errors["allocation"] = _("Dòng dự toán thuộc đơn vị ngoài phạm vi của bạn.")
        else:
            spending.allocation = line
    if "amount" in data:
        spending.amount = _int(data["amount"], "amount", errors, maximum=10**13)
        if "amount" in errors or spending.amount <= 0:
            errors["amount"] = _("Số tiền phải lớn hơn 0.")
    if "spent_on" in data:
        day = _date(data["spent_on"], "spent_on", errors)
        if day is None:
            errors.setdefault("spent_on", _("Nhập ngày chi."))
        else:
            spending.spent_on = day
    if "description" in data:
        spending.description = nfc(data["description"] or "").strip()[:255]
    if "allocation" not in errors and "spent_on" not in errors:
        line = spending.allocation
        if line.year != spending.spent_on.year:
            errors["spent_on"] = _("Ngày chi thuộc năm %(a)d, dòng dự toán thuộc năm %(y)d.") % {
                "a": spending.spent_on.year, "y": line.year}
        elif line.project is not None and not _in_project_period(line.project, spending.spent_on):
            errors["spent_on"] = _("Ngày chi %(d)s nằm ngoài thời gian của dự án %(n)s (%(p)s).") % {
                "d": spending.spent_on.strftime("%d/%m/%Y"), "n": line.project.name,
                "p": _period_text(line.project)}
    if errors:
        raise ValidationFailed(errors)
    spending.save()
    audit_change(actor=actor, action="budget.spend.update", obj=spending, unit=spending.allocation.unit_id,
                 changes=diff(before, snapshot(spending)))
    return spending
