"""Every write to the registry: validated, scoped, one transaction, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import Conflict, DomainError, ValidationFailed
from vitreem.core.scope import require_unit
from vitreem.core.text import fold, nfc, text_problem
from vitreem.places.models import REFORM_DATE, AdminUnit, Level, UnitSuccession, Version
from vitreem.places.selectors import province_code_of, unit_resolve

from .codes import nurture_case_label, nurture_points
from .models import (
    Child,
    ChildRisk,
    EndReason,
    Ethnicity,
    Guardian,
    Household,
    HouseholdPoverty,
    PovertyReview,
    PovertyStatus,
    Residence,
    RiskAssessment,
    RiskFactor,
    SpecialEpisode,
    SpecialGroup,
)
from .validation import child_clean, period_clean

CHILD_FIELDS = ["family_name", "middle_name", "given_name", "full_name", "name_key", "given_key", "birth_date",
                "birth_precision", "sex", "ethnicity_id", "personal_id", "personal_id_mismatch", "birth_registered",
                "household_id", "unit_id", "village", "schooling", "school_level", "dropout_date", "disability",
                "note", "ended_on", "end_reason"]


class PossibleDuplicate(DomainError):
    """Registration found records that may be the same child; the user must confirm to go on."""

    code = "possible_duplicate"
    status = 409

    def __init__(self, candidates: list[dict[str, Any]]):
        super().__init__(_("Có thể trẻ này đã có trong danh sách (%(n)s hồ sơ giống). Hãy kiểm tra trước khi lưu.")
                         % {"n": len(candidates)})
        self.candidates = candidates

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "candidates": self.candidates}


def _today() -> dt.date:
    return timezone.localdate()


def _commune(unit: AdminUnit | str, on: dt.date) -> AdminUnit:
    unit = unit_resolve(unit, on=on) if not isinstance(unit, AdminUnit) else unit
    if unit.level != Level.COMMUNE:
        raise DomainError(_("Nơi cư trú phải là một xã/phường (nhận được: %(n)s).") % {"n": unit.name}, field="unit")
    if not unit.valid_on(on):
        raise DomainError(_("Đơn vị %(n)s (%(r)s) không có hiệu lực vào ngày %(d)s.")
                          % {"n": unit.name, "r": unit.ref, "d": on.strftime("%d/%m/%Y")},
                          field="unit", code="unit_wrong_version")
    return unit


def _ethnicity(value: Any) -> Ethnicity | None:
    if value in (None, ""):
        return None
    if isinstance(value, Ethnicity):
        return value
    found = Ethnicity.objects.filter(code=str(value)).first()
    if found is None:
        raise ValidationFailed({"ethnicity": _("Dân tộc không hợp lệ: %(v)s.") % {"v": value}})
    return found


# ---------------------------------------------------------------- households

@transaction.atomic
def household_create(*, actor: User, unit: AdminUnit | str, head_name: str, village: str = "", address: str = "",
                     on: dt.date | None = None) -> Household:
    on = on or _today()
    unit = _commune(unit, on)
    require_unit(actor, unit)
    head, village, address = nfc(head_name), nfc(village), nfc(address)
    errors = {}
    if not head:
        errors["head_name"] = _("Tên chủ hộ không được để trống.")
    elif problem := text_problem(head, label=_("Tên chủ hộ"), max_length=120, name=True):
        errors["head_name"] = problem
    for field_name, value, label, limit in (("village", village, _("Thôn, tổ dân phố"), 120),
                                             ("address", address, _("Địa chỉ"), 255)):
        if problem := text_problem(value, label=label, max_length=limit):
            errors[field_name] = problem
    if errors:
        raise ValidationFailed(errors)
    household = Household.objects.create(unit=unit, head_name=head, head_key=fold(head), village=village,
                                         address=address)
    audit_change(actor=actor, action="household.create", obj=household, unit=unit, changes=snapshot(household))
    return household


@transaction.atomic
def household_poverty_set(*, actor: User, household: Household, year: int, status: str, decision_number: str = "",
                          decision_date: dt.date | None = None) -> HouseholdPoverty:
    """Record the commune's poverty classification of a household for a year (replaces that year's)."""
    require_unit(actor, household.unit)
    errors = {}
    if status not in PovertyStatus.values:
        errors["status"] = _("Phân loại hộ phải là hộ nghèo, hộ cận nghèo hoặc không.")
    if not 2000 <= int(year) <= _today().year + 1:
        errors["year"] = _("Năm không hợp lệ: %(y)s.") % {"y": year}
    if decision_date and decision_date.year not in (int(year) - 1, int(year)):
        errors["decision_date"] = _("Ngày quyết định phải thuộc năm %(y)s hoặc cuối năm trước.") % {"y": year}
    if errors:
        raise ValidationFailed(errors)
    row = HouseholdPoverty.objects.filter(household=household, year=year).first()
    before = snapshot(row) if row else {}
    row, _created = HouseholdPoverty.objects.update_or_create(
        household=household, year=year,
        defaults={"status": status, "decision_number": nfc(decision_number), "decision_date": decision_date})
    audit_change(actor=actor, action="household.poverty_set", obj=household, unit=household.unit,
                 changes=diff(before, snapshot(row)))
    return row


@transaction.atomic
def poverty_review_record(*, actor: User, unit: AdminUnit | str, year: int, decided_on: dt.date | None,
                          decision_number: str = "") -> PovertyReview:
    """Record that a commune's annual poverty review for `year` was decided (the chairman's decision
    recognising the list, Decision 24/2021/QĐ-TTg Art. 4): from `decided_on` the commune's
    classifications for that year are the ones in force (registry.rules). Records it again with a
    corrected date or number; audited, and the commune's figures are recomputed from that date."""
    errors: dict[str, str] = {}
    if decided_on is None:
        errors["decided_on"] = _("Cần ngày quyết định công nhận danh sách hộ nghèo, hộ cận nghèo.")
    # Resolved without a date, so a wrong date and a unit not in force that day are both named.
    unit = unit_resolve(unit) if not isinstance(unit, AdminUnit) else unit
    require_unit(actor, unit)
    if unit.level != Level.COMMUNE:
        errors["unit"] = _("Kết quả rà soát hộ nghèo do xã/phường quyết định (nhận được: %(n)s).") % {"n": unit.name}
    elif decided_on is not None and not unit.valid_on(decided_on):
        errors["unit"] = (_("Đơn vị %(n)s (%(r)s) không có hiệu lực vào ngày %(d)s.")
                          % {"n": unit.name, "r": unit.ref, "d": decided_on.strftime("%d/%m/%Y")})
    if not 2000 <= int(year) <= _today().year + 1:
        errors["year"] = _("Năm không hợp lệ: %(y)s.") % {"y": year}
    elif decided_on is not None and decided_on.year not in (int(year) - 1, int(year)):
        # The annual review runs from 1 September to 14 December of the year before the list's year.
        errors["decided_on"] = _("Ngày quyết định phải thuộc năm %(y)s hoặc cuối năm trước.") % {"y": year}
    elif decided_on is not None and decided_on > _today():
        errors["decided_on"] = _("Ngày quyết định không được sau hôm nay.")
    if problem := text_problem(nfc(decision_number), label=_("Số quyết định"), max_length=60):
        errors["decision_number"] = problem
    if errors or decided_on is None:
        raise ValidationFailed(errors)
    row = PovertyReview.objects.filter(unit=unit, year=year).first()
    before = snapshot(row) if row else {}
    row, _created = PovertyReview.objects.update_or_create(
        unit=unit, year=year, defaults={"decided_on": decided_on, "decision_number": nfc(decision_number),
                                        "recorded_by": actor})
    audit_change(actor=actor, action="poverty_review.record", obj=row, unit=unit, changes=diff(before, snapshot(row)))
    return row


# ---------------------------------------------------------------- children

@transaction.atomic
def child_register(*, actor: User, data: dict[str, Any], unit: AdminUnit | str, household: Household | None = None,
                   ethnicity: Any = None, guardians: Iterable[dict[str, Any]] = (), on: dt.date | None = None,
                   resident_since: dt.date | None = None, confirm_not_duplicate: bool = False,
                   source: str = "form") -> Child:
    """Register a child. Refuses invalid data (every field named), units outside the actor's scope,
    and — unless `confirm_not_duplicate` — records that look like a child already registered."""
    on = on or _today()
    cleaned = child_clean(data, on=on)
    if cleaned.errors:
        raise ValidationFailed(cleaned.errors)
    unit = _commune(unit, on)
    require_unit(actor, unit)
    if household is not None and household.unit_id != unit.pk:
        raise ValidationFailed({"household": _("Hộ gia đình thuộc đơn vị khác với nơi cư trú của trẻ.")})
    if not confirm_not_duplicate:
        from .selectors import candidates_for_new

        candidates = candidates_for_new(cleaned.data, unit=unit, user=actor)
        if candidates:
            raise PossibleDuplicate(candidates)
    child = Child(**cleaned.data, unit=unit, household=household, ethnicity=_ethnicity(ethnicity),
                  source=source, created_by=actor if getattr(actor, "pk", None) else None)
    if household is not None and not child.village:
        child.village = household.village
    child.save()
    residence = Residence.objects.create(child=child, unit=unit, start=resident_since or child.birth_date)
    for g in guardians:
        guardian_add(actor=actor, child=child, **g, _audit=False)
    # `resident_since`: the first day the child counts anywhere (stats.rollups.DATED_ACTIONS)
    audit_change(actor=actor, action="child.register", obj=child, unit=unit,
                 changes={**snapshot(child, CHILD_FIELDS), "guardians": list(guardians),
                          "resident_since": residence.start.isoformat()})
    return child


@transaction.atomic
def child_update(*, actor: User, child: Child, data: dict[str, Any], expected_version: int | None = None,
                 ethnicity: Any = ..., household: Household | None | Any = ..., on: dt.date | None = None,
                 strict_id: bool = True) -> Child:
    """Change a child's facts. `expected_version` (the version the user saw) guards against
    overwriting someone else's change; the address is changed with child_move.

    `strict_id=False` is the import's rule (as at registration from a list): a personal ID whose
    structure contradicts the birth year or sex is kept and flagged (`personal_id_mismatch`) rather
    than refused, so a child flagged once can still be updated from the next list."""
    on = on or _today()
    child = Child.objects.select_for_update().get(pk=child.pk)
    require_unit(actor, child.unit)
    if expected_version is not None and int(expected_version) != child.version:
        raise Conflict(_("Hồ sơ đã được người khác sửa trong lúc bạn đang sửa. Hãy tải lại trang và nhập lại thay đổi."))
    if child.ended_on is not None:
        raise DomainError(_("Hồ sơ đã kết thúc (%(r)s), không sửa được.") % {"r": child.get_end_reason_display()})
    current = {k: getattr(child, k) for k in ("full_name", "birth_date", "birth_precision", "sex", "personal_id",
                                               "schooling", "school_level", "dropout_date", "disability",
                                               "birth_registered", "village", "note")}
    # Validate against the registration date: a child registered at 15 stays in the register.
    cleaned = child_clean({**current, **data}, on=min(on, child.created_at.date()) if "birth_date" not in data else on,
                          strict_id=strict_id)
    if cleaned.errors:
        raise ValidationFailed(cleaned.errors)
    before = snapshot(child, CHILD_FIELDS)
    for key, value in cleaned.data.items():
        setattr(child, key, value)
    if ethnicity is not ...:
        child.ethnicity = _ethnicity(ethnicity)
    if household is not ...:
        if household is not None and household.unit_id != child.unit_id:
            raise ValidationFailed({"household": _("Hộ gia đình thuộc đơn vị khác với nơi cư trú của trẻ.")})
        child.household = household
    changes = diff(before, snapshot(child, CHILD_FIELDS))
    if changes:
        child.version += 1
        child.save()
        audit_change(actor=actor, action="child.update", obj=child, unit=child.unit, changes=changes)
    return child


def _require_version(child: Child, expected_version: int | None) -> None:
    """Optimistic lock: the version the user saw must still be the record's (see child_update)."""
    if expected_version is not None and int(expected_version) != child.version:
        raise Conflict(_("Hồ sơ đã được người khác sửa trong lúc bạn đang sửa. Hãy tải lại trang và nhập lại thay đổi."))


def _require_open(child: Child) -> None:
    if child.ended_on is not None:
        raise DomainError(_("Hồ sơ đã kết thúc (%(r)s), không sửa được.") % {"r": child.get_end_reason_display()})


@transaction.atomic
def child_move(*, actor: User, child: Child, unit: AdminUnit | str, on: dt.date, household: Household | None = None,
               village: str | None = None, expected_version: int | None = None) -> Child:
    """The child moved to another commune on `on`: the old residence ends the day before.

    The receiving commune must be in the actor's scope as well as the current one. A commune worker
    therefore moves a child only between communes they are assigned; a move to another commune of the
    province is recorded by a provincial officer, and a move out of the province ends the record
    (child_end, reason "left"). Letting a worker place a child in a commune they cannot see would make
    the record vanish from their lists with nobody on the receiving side told about it.
    """
    child = Child.objects.select_for_update().get(pk=child.pk)
    require_unit(actor, child.unit)
    _require_version(child, expected_version)
    _require_open(child)
    today = _today()
    if on > today:
        raise ValidationFailed({"on": _("Ngày chuyển đến ở tương lai.")})
    if on < child.birth_date:
        raise ValidationFailed({"on": _("Ngày chuyển đến trước ngày sinh của trẻ.")})
    new_unit = _commune(unit, on)
    if not new_unit.valid_on(today):
        # The child's current address is always a unit in force today (the reform moved everyone).
        raise DomainError(_("Đơn vị %(n)s (%(r)s) không còn hiệu lực; hãy chọn xã/phường hiện hành.")
                          % {"n": new_unit.name, "r": new_unit.ref}, field="unit", code="unit_wrong_version")
    require_unit(actor, new_unit)
    if province_code_of(new_unit.pk) != child.province_code:
        # A child never changes province in vitreem (places/fields.py: the province code is the rows'
        # distribution key, and the scope's province filter relies on it); leaving the province ends
        # the record and the other province registers the child. An actor who sees two provinces (an
        # administrator) is told so instead of moving the record across.
        raise DomainError(_("Xã/phường %(n)s thuộc tỉnh khác. Trẻ chuyển khỏi tỉnh thì kết thúc hồ sơ "
                            "(lý do \"Chuyển khỏi tỉnh\"); tỉnh nơi đến đăng ký trẻ.") % {"n": new_unit.name},
                          field="unit", code="unit_other_province")
    if new_unit.pk == child.unit_id:
        raise ValidationFailed({"unit": _("Trẻ đang cư trú tại %(n)s; hãy chọn xã/phường khác.") % {"n": new_unit.name}})
    if household is not None and household.unit_id != new_unit.pk:
        raise ValidationFailed({"household": _("Hộ gia đình thuộc đơn vị khác với nơi cư trú của trẻ.")})
    current = child.residences.filter(end__isnull=True).order_by("-start").first()
    if current and on <= current.start:
        raise ValidationFailed({"on": _("Ngày chuyển đến phải sau ngày bắt đầu cư trú hiện tại (%(d)s).")
                                % {"d": current.start.strftime("%d/%m/%Y")}})
    if current:
        current.end = on - dt.timedelta(days=1)
        current.save(update_fields=["end"])
    Residence.objects.create(child=child, unit=new_unit, start=on)
    before = snapshot(child, ["unit_id", "household_id", "village"])
    child.unit, child.household = new_unit, household
    # The old village belongs to the old commune: keep it only if the user typed none and no household says.
    child.village = nfc(village) if village else (household.village if household is not None else "")
    child.version += 1
    child.save(update_fields=["unit", "household", "village", "version", "updated_at"])
    audit_change(actor=actor, action="child.move", obj=child, unit=new_unit,
                 changes={**diff(before, snapshot(child, ["unit_id", "household_id", "village"])), "on": on})
    return child


@transaction.atomic
def child_end(*, actor: User, child: Child, on: dt.date, reason: str, note: str = "",
              expected_version: int | None = None) -> Child:
    """A record ends (death, leaving the province, another reason); it is never deleted.

    The child stops counting from `on` (rules.q_child_on: ended_on > day); the current residence
    ends on that day. `note` (the evidence or the circumstances) is kept in the audit row.
    """
    child = Child.objects.select_for_update().get(pk=child.pk)
    require_unit(actor, child.unit)
    _require_version(child, expected_version)
    _require_open(child)
    # "merged" is set only by the duplicate merge, never by hand.
    if reason not in set(EndReason.values) - {EndReason.MERGED}:
        raise ValidationFailed({"reason": _("Lý do kết thúc không hợp lệ.")})
    if on > _today():
        raise ValidationFailed({"on": _("Ngày kết thúc ở tương lai.")})
    if on < child.birth_date:
        raise ValidationFailed({"on": _("Ngày kết thúc trước ngày sinh của trẻ.")})
    current = child.residences.filter(end__isnull=True).order_by("-start").first()
    if current and on < current.start:
        raise ValidationFailed({"on": _("Ngày kết thúc trước ngày trẻ đến nơi ở hiện tại (%(d)s).")
                                % {"d": current.start.strftime("%d/%m/%Y")}})
    note = nfc(note).strip()
    if len(note) > 255:
        raise ValidationFailed({"note": _("Ghi chú dài quá 255 ký tự.")})
    if reason == EndReason.OTHER and not note:
        raise ValidationFailed({"note": _("Lý do khác: ghi rõ lý do trong phần ghi chú.")})
    child.ended_on, child.end_reason = on, reason
    child.version += 1
    child.save(update_fields=["ended_on", "end_reason", "version", "updated_at"])
    child.residences.filter(end__isnull=True).update(end=on)
    changes: dict[str, Any] = {"ended_on": on, "reason": reason}
    if note:
        changes["note"] = note
    audit_change(actor=actor, action="child.end", obj=child, unit=child.unit, changes=changes)
    return child


_PHONE_SEPARATORS = str.maketrans("", "", " .-()")


def _guardian_clean(full_name: str, relationship: str, phone: str) -> tuple[str, str]:
    """The name and phone of a parent or caregiver as stored; refuses what a form or a file got wrong."""
    errors = {}
    if relationship not in Guardian.Relationship.values:
        errors["relationship"] = _("Quan hệ với trẻ không hợp lệ.")
    name = nfc(full_name or "").strip()
    if not name:
        errors["guardian"] = _("Tên người nuôi dưỡng không được để trống.")
    elif problem := text_problem(name, label=_("Tên người nuôi dưỡng"), max_length=150, name=True):
        errors["guardian"] = problem
    phone = nfc(phone or "").translate(_PHONE_SEPARATORS)
    # Vietnamese numbers: 10 digits from 0 (mobile), or +84 followed by 9; landlines 10–11 digits.
    if phone and not (phone.isdigit() and 9 <= len(phone) <= 11
                      or phone.startswith("+") and phone[1:].isdigit() and 10 <= len(phone) - 1 <= 13):
        errors["phone"] = _("Số điện thoại không hợp lệ: %(v)s.") % {"v": phone}
    if errors:
        raise ValidationFailed(errors)
    return name, phone


@transaction.atomic
def guardian_add(*, actor: User, child: Child, full_name: str, relationship: str, phone: str = "",
                 is_primary: bool = True, _audit: bool = True) -> Guardian:
    """Add a parent or caregiver. With `_audit=False` the caller (child_register) has already checked
    the scope and records the guardians in its own audit row."""
    if _audit:
        require_unit(actor, child.unit)
        _require_open(child)
    name, phone = _guardian_clean(full_name, relationship, phone)
    guardian = Guardian.objects.create(child=child, full_name=name, name_key=fold(name), relationship=relationship,
                                       phone=phone, is_primary=is_primary)
    if _audit:
        audit_change(actor=actor, action="child.guardian_add", obj=child, unit=child.unit,
                     changes={"guardian": name, "relationship": relationship, "phone": phone})
    return guardian


_GUARDIAN_FIELDS = ("full_name", "relationship", "phone")


@transaction.atomic
def guardian_update(*, actor: User, guardian: Guardian, full_name: str, relationship: str, phone: str = "") -> Guardian:
    """Correct a parent's or caregiver's name, relationship or phone (in the child's history)."""
    guardian = Guardian.objects.select_for_update().select_related("child__unit").get(pk=guardian.pk)
    child = guardian.child
    require_unit(actor, child.unit)
    _require_open(child)
    name, phone = _guardian_clean(full_name, relationship, phone)
    before = snapshot(guardian, _GUARDIAN_FIELDS)
    guardian.full_name, guardian.name_key, guardian.relationship, guardian.phone = name, fold(name), relationship, phone
    guardian.save(update_fields=["full_name", "name_key", "relationship", "phone"])
    changes = diff(before, snapshot(guardian, _GUARDIAN_FIELDS))
    if changes:
        audit_change(actor=actor, action="child.guardian_update", obj=child, unit=child.unit,
                     changes={"guardian_id": guardian.pk, **changes})
    return guardian


@transaction.atomic
def guardian_remove(*, actor: User, guardian: Guardian, reason: str = "") -> None:
    """Take a parent or caregiver off the child's record (entered by mistake, no longer caring for the
    child); what was removed stays in the child's history with the reason."""
    guardian = Guardian.objects.select_for_update().select_related("child__unit").get(pk=guardian.pk)
    child = guardian.child
    require_unit(actor, child.unit)
    _require_open(child)
    reason = nfc(reason or "").strip()
    if len(reason) > 255:
        raise ValidationFailed({"reason": _("Lý do dài quá 255 ký tự.")})
    removed = snapshot(guardian, _GUARDIAN_FIELDS)
    guardian.delete()
    audit_change(actor=actor, action="child.guardian_remove", obj=child, unit=child.unit,
                 changes={"guardian": removed, "reason": reason})


# ---------------------------------------------------------------- special circumstances and risk

@transaction.atomic
def special_episode_open(*, actor: User, child: Child, group: SpecialGroup | str, start: dt.date,
                         end: dt.date | None = None, evidence: str = "",
                         nurture_case: str | None = None) -> SpecialEpisode:
    """Open a special-circumstance episode. `nurture_case` is the Decree 20/2021 Art. 5(1) point the
    circumstance is, needed only where the Decree 56 sub-group does not tell (codes.nurture_points)."""
    require_unit(actor, child.unit)
    if not isinstance(group, SpecialGroup):
        group_obj = SpecialGroup.objects.filter(code=str(group)).first()
        if group_obj is None:
            raise ValidationFailed({"group": _("Nhóm hoàn cảnh đặc biệt không hợp lệ: %(v)s.") % {"v": group}})
        group = group_obj
    top = group.parent or group
    errors = period_clean(start, end, on=_today())
    case = nurture_case_clean(group.code, nurture_case, errors)
    if start and start < child.birth_date:
        errors["start"] = _("Ngày bắt đầu trước ngày sinh của trẻ.")
    if errors:
        raise ValidationFailed(errors)
    if child.special_episodes.filter(group=top, end__isnull=True).exists() and end is None:
        raise ValidationFailed({"group": _("Trẻ đang thuộc nhóm %(g)s; hãy kết thúc đợt cũ trước.") % {"g": top.name}})
    episode = SpecialEpisode.objects.create(child=child, group=top, subgroup=group if group.parent_id else None,
                                            start=start, end=end, evidence=nfc(evidence), nurture_case=case,
                                            recorded_by=actor if getattr(actor, "pk", None) else None)
    audit_change(actor=actor, action="child.special_open", obj=child, unit=child.unit,
                 changes={"episode": episode.pk, "group": group.code, "start": start, "end": end,
                          **({"nurture_case": case} if case else {})})
    return episode


def nurture_case_clean(code: str, given: str | None, errors: dict[str, str]) -> str:
    """The episode's Decree 20/2021 Art. 5(1) point: the one the sub-group `code` allows, or the worker's
    choice among those it allows (codes.NURTURE_BY_SUBGROUP); an impossible choice is named in `errors`."""
    allowed = nurture_points(code)
    given = (given or "").strip()
    if not given:
        return allowed[0] if len(allowed) == 1 else ""
    if given not in allowed:
        points = [p for p in allowed if p]
        errors["nurture_case"] = (
            _("Nhóm %(g)s không thuộc trường hợp nào của khoản 1 Điều 5 Nghị định 20/2021.") % {"g": code}
            if not points else
            _("Nhóm %(g)s chỉ có thể là %(p)s (khoản 1 Điều 5 Nghị định 20/2021).")
            % {"g": code, "p": ", ".join(nurture_case_label(p) for p in points)})
        return ""
    return given


@transaction.atomic
def special_episode_close(*, actor: User, episode: SpecialEpisode, end: dt.date) -> SpecialEpisode:
    require_unit(actor, episode.child.unit)
    errors = period_clean(episode.start, end, on=_today())
    if end > _today():
        errors["end"] = _("Ngày kết thúc ở tương lai.")
    if errors:
        raise ValidationFailed(errors)
    before = episode.end
    episode.end = end
    episode.save(update_fields=["end"])
    audit_change(actor=actor, action="child.special_close", obj=episode.child, unit=episode.child.unit,
                 changes={"episode": episode.pk, "end": [before, end]})
    return episode


@transaction.atomic
def risk_assess(*, actor: User, child: Child, assessed_on: dt.date, factors: Iterable[RiskFactor | str],
                note: str = "") -> RiskAssessment:
    """Record an assessment: factors found open (or stay open); open factors not found end the day before."""
    require_unit(actor, child.unit)
    if assessed_on > _today() or assessed_on < child.birth_date:
        raise ValidationFailed({"assessed_on": _("Ngày đánh giá không hợp lệ.")})
    wanted = []
    for f in factors:
        obj = f if isinstance(f, RiskFactor) else RiskFactor.objects.filter(code=str(f)).first()
        if obj is None:
            raise ValidationFailed({"factors": _("Yếu tố nguy cơ không hợp lệ: %(v)s.") % {"v": f}})
        wanted.append(obj)
    assessment = RiskAssessment.objects.create(child=child, assessed_on=assessed_on, note=nfc(note),
                                               assessed_by=actor if getattr(actor, "pk", None) else None)
    open_rows = {r.factor_id: r for r in child.risks.filter(end__isnull=True)}
    wanted_ids = {f.pk for f in wanted}
    for factor_id, row in open_rows.items():
        if factor_id not in wanted_ids:
            row.end = max(row.start, assessed_on - dt.timedelta(days=1))
            row.save(update_fields=["end"])
    ChildRisk.objects.bulk_create([ChildRisk(child=child, factor=f, start=assessed_on, assessment=assessment)
                                   for f in wanted if f.pk not in open_rows])
    audit_change(actor=actor, action="child.risk_assess", obj=child, unit=child.unit,
                 changes={"assessed_on": assessed_on, "factors": sorted(f.code for f in wanted)})
    return assessment


# ---------------------------------------------------------------- the 2025 reform

@transaction.atomic
def residences_apply_reform(*, actor: User | None = None, batch: int = 5000) -> int:
    """Move open legacy residences to the default 2025 successor from 2025-07-01 (idempotent).

    Residences that ended before the reform keep their legacy unit, so past figures are unchanged.
    """
    default_new = dict(UnitSuccession.objects.filter(is_default=True).values_list("old_id", "new_id"))
    end = REFORM_DATE - dt.timedelta(days=1)
    moved = 0
    qs = Residence.objects.filter(end__isnull=True, unit__version=Version.LEGACY).select_related("child")
    new_rows, child_units = [], {}
    for residence in qs.iterator(chunk_size=batch):
        new_unit_id = default_new.get(residence.unit_id)
        if new_unit_id is None:
            continue
        residence.end = end
        # The child's province is the new unit's (given here: derived, it would cost a query per row).
        new_rows.append(Residence(child_id=residence.child_id, unit_id=new_unit_id, start=REFORM_DATE,
                                  province_code=province_code_of(new_unit_id)))
        child_units[residence.child_id] = new_unit_id
        moved += 1
    Residence.objects.filter(end__isnull=True, unit__version=Version.LEGACY,
                             child_id__in=list(child_units)).update(end=end)
    Residence.objects.bulk_create(new_rows, batch_size=batch)
    by_unit: dict[int, list[int]] = {}
    for child_id, unit_id in child_units.items():
        by_unit.setdefault(unit_id, []).append(child_id)
    for unit_id, ids in by_unit.items():
        Child.objects.filter(pk__in=ids).update(unit_id=unit_id)
    hh: dict[int, list[int]] = {}
    for household in Household.objects.filter(unit__version=Version.LEGACY):
        if household.unit_id in default_new:
            hh.setdefault(default_new[household.unit_id], []).append(household.pk)
    for unit_id, ids in hh.items():
        Household.objects.filter(pk__in=ids).update(unit_id=unit_id)
    if moved:
        audit_change(actor=actor, action="registry.apply_reform", object_type="registry.residence",
                     changes={"moved": moved})
    return moved
