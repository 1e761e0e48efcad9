"""Every write of the benefit programme: validated, scoped, one transaction, audited.

Bad input writes nothing: each service checks everything before its first write and runs in one
transaction with its audit row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change, diff, snapshot
from vitreem.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from vitreem.core.scope import require_unit, scope_for
from vitreem.core.text import nfc
from vitreem.places.models import AdminUnit, Level

from .models import (
    Adjustment,
    Allowance,
    AllowancePeriod,
    AllowanceStatus,
    BaseLevel,
    BeneficiaryGroup,
    Coefficient,
    Decision,
    DecisionKind,
    LineKind,
    PaidLine,
    Payroll,
    SingleReason,
    StopReason,
)
from .rules import (
    DISABILITY_GROUPS,
    PROGRAMME_START,
    RuleBook,
    age_on,
    check_group,
    facts_load,
    last_month_before_age,
    month_add,
    month_label,
    month_of,
)


def _today() -> dt.date:
    return timezone.localdate()


def _require_rule_editor(actor: User) -> None:
    if not scope_for(actor).edits_rules:
        raise PermissionDenied(_("Chỉ quản trị hệ thống được sửa mức chuẩn và hệ số trợ cấp."))


# ---------------------------------------------------------------- the rule tables (with history)

@transaction.atomic
def base_level_set(*, actor: User, amount: int, valid_from: dt.date, unit: AdminUnit | None = None,
                   legal_basis: str = "") -> BaseLevel:
    """A new base level from `valid_from` (a month). The level in force before it is closed the day
    before; nothing is overwritten, so the history stays. A province's own level may not be lower
    than the national one (Decree 20/2021, Art. 4: a province may set a *higher* level)."""
    _require_rule_editor(actor)
    errors: dict[str, str] = {}
    try:
        amount = int(amount)
    except (TypeError, ValueError):
        errors["amount"] = _("Mức chuẩn phải là số tiền nguyên (đồng).")
        amount = 0
    if not errors and amount <= 0:
        errors["amount"] = _("Mức chuẩn phải lớn hơn 0.")
    if valid_from is None or valid_from.day != 1:
        errors["valid_from"] = _("Mức chuẩn áp dụng từ ngày đầu một tháng.")
    elif valid_from < PROGRAMME_START:
        errors["valid_from"] = _("Không áp dụng trước 01/7/2021 (Nghị định 20/2021).")
    if unit is not None and unit.level != Level.PROVINCE:
        errors["unit"] = _("Mức chuẩn riêng chỉ do tỉnh quy định.")
    if errors:
        raise ValidationFailed(errors)
    if unit is not None:
        require_unit(actor, unit)
        national = RuleBook.load().base_for(valid_from, strict=False)
        if national is not None and amount < national:
            raise ValidationFailed({"amount": _("Mức chuẩn của tỉnh (%(a)s) thấp hơn mức chuẩn quốc gia (%(n)s).")
                                    % {"a": amount, "n": national}})
    if Payroll.objects.filter(month__gte=valid_from).exists():
        raise DomainError(_("Đã có bảng chi trả khóa từ tháng %(m)s: không thể đổi mức chuẩn cho các tháng đã chi.")
                          % {"m": month_label(valid_from)}, field="valid_from", code="paid_month")
    same = BaseLevel.objects.select_for_update().filter(unit=unit)
    if same.filter(valid_from__gte=valid_from).exists():
        raise ValidationFailed({"valid_from": _("Đã có mức chuẩn bắt đầu từ tháng này hoặc sau đó.")})
    for row in same.filter(valid_from__lt=valid_from).filter(valid_to__isnull=True) | same.filter(
            valid_from__lt=valid_from, valid_to__gte=valid_from):
        before = row.valid_to
        row.valid_to = valid_from - dt.timedelta(days=1)
        row.save(update_fields=["valid_to"])
        audit_change(actor=actor, action="benefits.base_level_close", obj=row, changes={"valid_to": [before, row.valid_to]})
    level = BaseLevel.objects.create(amount=amount, valid_from=valid_from, unit=unit, legal_basis=nfc(legal_basis),
                                     created_by=actor if getattr(actor, "pk", None) else None)
    audit_change(actor=actor, action="benefits.base_level_set", obj=level, unit=unit, changes=snapshot(level))
    return level


@transaction.atomic
def coefficient_set(*, actor: User, group: BeneficiaryGroup, age_from: int, age_to: int | None, value: Any,
                    valid_from: dt.date, legal_basis: str = "") -> Coefficient:
    """A new coefficient for a group and age band from `valid_from`; the one it replaces is closed."""
    _require_rule_editor(actor)
    errors: dict[str, str] = {}
    try:
        dec = Decimal(str(value).replace(",", "."))
        if dec <= 0 or dec > 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["value"] = _("Hệ số không hợp lệ: %(v)s.") % {"v": value}
        dec = Decimal(0)
    if age_to is not None and age_to <= age_from:
        errors["age_to"] = _("Tuổi đến phải lớn hơn tuổi từ.")
    if valid_from is None or valid_from.day != 1 or valid_from < PROGRAMME_START:
        errors["valid_from"] = _("Hệ số áp dụng từ ngày đầu một tháng, không trước 01/7/2021.")
    if errors:
        raise ValidationFailed(errors)
    if Payroll.objects.filter(month__gte=valid_from).exists():
        raise DomainError(_("Đã có bảng chi trả khóa từ tháng %(m)s: không thể đổi hệ số cho các tháng đã chi.")
                          % {"m": month_label(valid_from)}, field="valid_from", code="paid_month")
    for row in Coefficient.objects.select_for_update().filter(group=group, age_from=age_from, valid_to__isnull=True,
                                                              valid_from__lt=valid_from):
        row.valid_to = valid_from - dt.timedelta(days=1)
        row.save(update_fields=["valid_to"])
        audit_change(actor=actor, action="benefits.coefficient_close", obj=row, changes={"valid_to": row.valid_to})
    row = Coefficient.objects.create(group=group, age_from=age_from, age_to=age_to, value=dec, valid_from=valid_from,
                                     legal_basis=nfc(legal_basis), created_by=actor if getattr(actor, "pk", None) else None)
    audit_change(actor=actor, action="benefits.coefficient_set", obj=row, changes=snapshot(row))
    return row


# ---------------------------------------------------------------- decisions

def _decision_clean(number: str, decided_on: dt.date | None) -> dict[str, str]:
    errors = {}
    if not nfc(number):
        errors["number"] = _("Số quyết định không được để trống.")
    if decided_on is None:
        errors["decided_on"] = _("Ngày quyết định không được để trống.")
    elif decided_on > _today():
        errors["decided_on"] = _("Ngày quyết định không được ở tương lai.")
    elif decided_on < PROGRAMME_START:
        errors["decided_on"] = _("Ngày quyết định trước 01/7/2021 (Nghị định 20/2021 chưa có hiệu lực).")
    return errors


def _group(group: BeneficiaryGroup | str) -> BeneficiaryGroup:
    if isinstance(group, BeneficiaryGroup):
        return group
    found = BeneficiaryGroup.objects.filter(code=str(group), active=True).first()
    if found is None:
        raise ValidationFailed({"group": _("Nhóm đối tượng không hợp lệ: %(g)s.") % {"g": group}})
    return found


def _check_conditions(*, actor: User, child, group: BeneficiaryGroup, on: dt.date, exception_reason: str) -> str:
    """Refuse a group the person does not qualify for, naming the condition that fails — unless a
    provincial officer records an explicit exception with its reason (returned, to be stored)."""
    verdict = check_group(group.code, facts_load([child], day=on)[child.pk])
    if verdict.ok:
        return ""
    reason = nfc(exception_reason)
    if not reason:
        raise ValidationFailed({"group": _("%(name)s không đủ điều kiện nhóm “%(g)s” vào ngày %(d)s: %(why)s.")
                                % {"name": child.full_name, "g": group.name, "d": on.strftime("%d/%m/%Y"),
                                   "why": "; ".join(verdict.failing)}})
    if not scope_for(actor).standing_agency:
        raise PermissionDenied(_("Chỉ cán bộ cấp tỉnh được ghi ngoại lệ về điều kiện hưởng."), field="exception_reason")
    return reason


def _require_rule_period(rules: RuleBook, group: BeneficiaryGroup, month: dt.date) -> None:
    rules.base_for(month)  # raises when no base level is in force
    if not rules.group_has_period(group.pk, month):
        raise DomainError(_("Chưa có hệ số có hiệu lực cho nhóm “%(g)s” tháng %(m)s.")
                          % {"g": group.name, "m": month_label(month)}, field="group", code="no_coefficient")


@transaction.atomic
def allowance_enrol(*, actor: User, child, group: BeneficiaryGroup | str, number: str, decided_on: dt.date,
                    signed_by: str = "", start_month: dt.date | None = None, arrears_from: dt.date | None = None,
                    arrears_reason: str = "", exception_reason: str = "", source: str = "form",
                    certified_on: dt.date | None = None) -> Allowance:
    """Enrol a child by the chairman's decision (the district's until 30/6/2025, the commune's from
    1/7/2025: rules.deciding_authority). Payment starts from the decision's month
    (Decree 20/2021: entitlement from the month the decision is signed). `arrears_from` — an
    earlier month, with its reason — back-dates it where the law allows (e.g. a dossier complete
    but decided late); the months already paid then appear as arrears in the next open payroll.
    A child with a disability is paid from the month the disability certificate was issued
    (`certified_on`, Art. 8(1): "Thời gian hưởng trợ cấp xã hội hàng tháng đối với người khuyết tật từ
    tháng được cấp giấy xác nhận mức độ khuyết tật"): the months before the decision are arrears."""
    from vitreem.registry.models import Child

    child = Child.objects.select_related("unit").get(pk=child.pk)
    require_unit(actor, child.unit)
    errors = _decision_clean(number, decided_on)
    if errors:
        raise ValidationFailed(errors)
    group = _group(group)
    if group.code == SINGLE_PARENT:
        raise ValidationFailed({"group": _("Trợ cấp người đơn thân nuôi con là của cha hoặc mẹ, không phải của trẻ: "
                                           "ghi nhận trong “Người đơn thân nuôi con” (Nghị định 20/2021, Điều 5 khoản 4).")})
    decision_month = month_of(decided_on)
    if group.code in DISABILITY_GROUPS:
        arrears_from, arrears_reason = _certificate_start(child, certified_on, decided_on, arrears_from, arrears_reason)
    else:
        certified_on = None
    if start_month is not None and month_of(start_month) != decision_month:
        if month_of(start_month) < decision_month:
            raise ValidationFailed({"start_month": _("Tháng bắt đầu hưởng (%(s)s) trước tháng của quyết định (%(d)s). "
                                                     "Nếu được truy lĩnh, hãy ghi “truy lĩnh từ tháng” và lý do.")
                                    % {"s": month_label(start_month), "d": month_label(decision_month)}})
        raise ValidationFailed({"start_month": _("Trợ cấp bắt đầu từ tháng ký quyết định (%(d)s).")
                                % {"d": month_label(decision_month)}})
    first = decision_month
    if arrears_from is not None:
        arrears_from = month_of(arrears_from)
        if arrears_from > decision_month:
            raise ValidationFailed({"arrears_from": _("Tháng truy lĩnh phải trước tháng của quyết định.")})
        if arrears_from < PROGRAMME_START:
            raise ValidationFailed({"arrears_from": _("Không truy lĩnh trước 01/7/2021.")})
        if not nfc(arrears_reason):
            raise ValidationFailed({"arrears_reason": _("Hãy ghi lý do truy lĩnh.")})
        if arrears_from < month_of(child.birth_date):
            raise ValidationFailed({"arrears_from": _("Tháng truy lĩnh trước tháng sinh của trẻ.")})
        first = arrears_from
    if child.ended_on and child.ended_on <= decided_on:
        raise ValidationFailed({"child": _("Hồ sơ của %(n)s đã kết thúc ngày %(d)s.")
                                % {"n": child.full_name, "d": child.ended_on.strftime("%d/%m/%Y")}})
    exception = _check_conditions(actor=actor, child=child, group=group, on=decided_on,
                                  exception_reason=exception_reason)
    rules = RuleBook.load()
    _require_rule_period(rules, group, first)
    _require_rule_period(rules, group, decision_month)
    if Allowance.objects.select_for_update().filter(child=child).exclude(status=AllowanceStatus.STOPPED).exists():
        raise Conflict(_("%(n)s đang có một quyết định hưởng trợ cấp chưa thôi: không thể có hai.") % {"n": child.full_name},
                       field="child", code="already_enrolled")
    allowance = Allowance.objects.create(child=child, unit=child.unit, exception_reason=exception, source=source)
    decision = Decision.objects.create(
        allowance=allowance, kind=DecisionKind.ENROL, number=nfc(number), decided_on=decided_on, signed_by=nfc(signed_by),
        group=group, effective_month=decision_month, arrears_from=arrears_from,
        reason=nfc(arrears_reason), unit=child.unit, created_by=_user(actor), disability_certified_on=certified_on)
    AllowancePeriod.objects.create(allowance=allowance, group=group, start=first, decision=decision)
    audit_change(actor=actor, action="benefits.enrol", obj=allowance, unit=child.unit,
                 changes={"child": child.pk, "group": group.code, "number": decision.number,
                          "decided_on": decided_on, "start": first, "arrears_from": arrears_from,
                          "certified_on": certified_on, "exception": exception})
    return allowance


SINGLE_PARENT = "single_parent_poor"


@transaction.atomic
def single_parent_enrol(*, actor: User, guardian, children: list, single_reason: str, number: str, decided_on: dt.date,
                        signed_by: str = "") -> Allowance:
    """Enrol a single parent of a poor or near-poor household who raises children (Decree 20/2021,
    Art. 5(4)): the parent's own allowance, 1.0 × the base level for each child raised (Art. 6(1)(d)),
    in addition to any allowance a child receives (Art. 6(2)). `guardian` is the parent's entry (father
    or mother) on one child's record; `children` the children raised, of the same household — each under
    16, or 16 to under 22 and in school. Paid from the decision's month (Art. 8(1))."""
    from vitreem.registry.models import Child, Guardian, PovertyStatus, Schooling
    from vitreem.registry.rules import poverty_status_of

    guardian = Guardian.objects.select_related("child__unit").get(pk=getattr(guardian, "pk", guardian))
    kids = list(Child.objects.select_related("unit").filter(pk__in=[getattr(c, "pk", c) for c in children])
                .order_by("birth_date", "pk"))
    for kid in [guardian.child, *kids]:
        require_unit(actor, kid.unit)
    errors = _decision_clean(number, decided_on)
    if single_reason not in SingleReason.values:
        errors["single_reason"] = _("Hãy chọn vì sao là người đơn thân (chưa có vợ/chồng; vợ/chồng đã chết hoặc "
                                    "mất tích theo quy định của pháp luật — Nghị định 20/2021, Điều 5 khoản 4).")
    if guardian.relationship not in (Guardian.Relationship.FATHER, Guardian.Relationship.MOTHER):
        errors["guardian"] = _("Người hưởng phải là cha hoặc mẹ của trẻ.")
    if guardian.child_id not in {k.pk for k in kids}:
        errors["children"] = _("Danh sách con phải có %(n)s, trẻ mà %(p)s là cha/mẹ trong hồ sơ.") % {
            "n": guardian.child.full_name, "p": guardian.full_name}
    if errors:
        raise ValidationFailed(errors)
    household_ids = {k.household_id for k in kids}
    if len(household_ids) != 1 or None in household_ids:
        raise ValidationFailed({"children": _("Các con phải cùng một hộ gia đình trong sổ theo dõi.")})
    status = poverty_status_of(household_ids, decided_on).get(kids[0].household_id)  # type: ignore[arg-type]
    if status not in (PovertyStatus.POOR, PovertyStatus.NEAR_POOR):
        raise ValidationFailed({"children": _("Hộ gia đình không thuộc hộ nghèo, hộ cận nghèo năm %(y)s theo danh sách "
                                              "có hiệu lực ngày %(d)s.") % {"y": decided_on.year,
                                                                            "d": decided_on.strftime("%d/%m/%Y")}})
    for kid in kids:
        age = age_on(kid.birth_date, decided_on)
        if (kid.ended_on and kid.ended_on <= decided_on) or not (
                age < 16 or (age < 22 and kid.schooling == Schooling.IN_SCHOOL)):
            raise ValidationFailed({"children": _("%(n)s (%(a)s tuổi) không còn là con dưới 16 tuổi hoặc từ 16 đến "
                                                  "dưới 22 tuổi đang đi học.") % {"n": kid.full_name, "a": age}})
    group = _group(SINGLE_PARENT)
    rules = RuleBook.load()
    month = month_of(decided_on)
    _require_rule_period(rules, group, month)
    eldest = kids[0]
    if Allowance.objects.select_for_update().filter(child=eldest).exclude(parent_name="").exclude(
            status=AllowanceStatus.STOPPED).exists():
        raise Conflict(_("Gia đình của %(n)s đã có quyết định trợ cấp người đơn thân nuôi con chưa thôi.")
                       % {"n": eldest.full_name}, field="children", code="already_enrolled")
    allowance = Allowance.objects.create(child=eldest, unit=eldest.unit, parent_name=guardian.full_name,
                                         guardian=guardian, single_reason=single_reason, source="form")
    allowance.children.set(kids)
    decision = Decision.objects.create(
        allowance=allowance, kind=DecisionKind.ENROL, number=nfc(number), decided_on=decided_on,
        signed_by=nfc(signed_by), group=group, effective_month=month, unit=eldest.unit, created_by=_user(actor))
    AllowancePeriod.objects.create(allowance=allowance, group=group, start=month, decision=decision)
    audit_change(actor=actor, action="benefits.enrol", obj=allowance, unit=eldest.unit,
                 changes={"parent": guardian.full_name, "children": [k.pk for k in kids], "group": group.code,
                          "single_reason": single_reason, "number": decision.number, "decided_on": decided_on})
    return allowance


def _certificate_start(child, certified_on: dt.date | None, decided_on: dt.date, arrears_from: dt.date | None,
                       arrears_reason: str) -> tuple[dt.date | None, str]:
    """Decree 20/2021, Art. 8(1): a person with a disability is paid from the month the certificate of
    the disability's degree was issued — back to that month as arrears when it precedes the decision."""
    if certified_on is None:
        raise ValidationFailed({"certified_on": _("Hãy ghi ngày cấp giấy xác nhận mức độ khuyết tật: trẻ khuyết tật "
                                                  "được hưởng từ tháng được cấp giấy (Nghị định 20/2021, Điều 8 khoản 1).")})
    if certified_on > decided_on:
        raise ValidationFailed({"certified_on": _("Ngày cấp giấy xác nhận mức độ khuyết tật (%(c)s) sau ngày quyết định.")
                                % {"c": certified_on.strftime("%d/%m/%Y")}})
    start = max(month_of(certified_on), PROGRAMME_START, month_of(child.birth_date))
    if start < month_of(decided_on) and (arrears_from is None or month_of(arrears_from) > start):
        return start, arrears_reason or _("Hưởng từ tháng được cấp giấy xác nhận mức độ khuyết tật (%(c)s), "
                                          "Nghị định 20/2021, Điều 8 khoản 1.") % {"c": certified_on.strftime("%d/%m/%Y")}
    return arrears_from, arrears_reason


def _user(actor: User) -> User | None:
    return actor if getattr(actor, "pk", None) else None


def _audit_allowance(*, actor: User, action: str, allowance: Allowance, changes: dict[str, Any]) -> None:
    """The audit row of a change to an allowance, filed under the commune that decided it. The figures the
    change alters are those of the child's commune of record — its recipients in active status
    (`selectors.recipients_active_count`), its payroll — which after a move is another commune, one the
    deciding commune's stamp does not reach (that stamp reaches its counterparts across the 2025 reform
    and its ancestors): it is stamped too when the change commits, or its stored figures would stay as
    they were, with no "being updated" mark."""
    audit_change(actor=actor, action=action, obj=allowance, unit=allowance.unit, changes=changes)
    lives_in = allowance.child.unit_id
    if lives_in != allowance.unit_id:
        from vitreem.stats.rollups import stamp_units

        transaction.on_commit(lambda: stamp_units([lives_in]))


def _lock_allowance(actor: User, allowance: Allowance) -> Allowance:
    allowance = Allowance.objects.select_for_update().select_related("child", "unit").get(pk=allowance.pk)
    require_unit(actor, allowance.unit)
    return allowance


def _open_period(allowance: Allowance) -> AllowancePeriod | None:
    return allowance.periods.filter(end__isnull=True).order_by("-start").first()


def _record(*, actor: User, allowance: Allowance, kind: str, number: str, decided_on: dt.date, signed_by: str,
            effective: dt.date, group: BeneficiaryGroup | None = None, reason: str = "") -> Decision:
    return Decision.objects.create(allowance=allowance, kind=kind, number=nfc(number), decided_on=decided_on,
                                   signed_by=nfc(signed_by), group=group, effective_month=effective,
                                   reason=nfc(reason), unit=allowance.unit, created_by=_user(actor))


@transaction.atomic
def allowance_suspend(*, actor: User, allowance: Allowance, number: str, decided_on: dt.date, from_month: dt.date,
                      reason: str, signed_by: str = "") -> Allowance:
    """Suspend payment from `from_month` (the first month not paid)."""
    allowance = _lock_allowance(actor, allowance)
    errors = _decision_clean(number, decided_on)
    if not nfc(reason):
        errors["reason"] = _("Hãy ghi lý do tạm dừng.")
    if errors:
        raise ValidationFailed(errors)
    if allowance.status != AllowanceStatus.ACTIVE:
        raise Conflict(_("Chỉ tạm dừng được trợ cấp đang hưởng."), code="bad_status")
    from_month = month_of(from_month)
    period = _open_period(allowance)
    if period is None or from_month <= period.start:
        raise ValidationFailed({"from_month": _("Tháng tạm dừng phải sau tháng bắt đầu của đợt hưởng hiện tại.")})
    decision = _record(actor=actor, allowance=allowance, kind=DecisionKind.SUSPEND, number=number,
                       decided_on=decided_on, signed_by=signed_by, effective=from_month, reason=reason)
    period.end = month_add(from_month, -1)
    period.save(update_fields=["end"])
    allowance.status = AllowanceStatus.SUSPENDED
    allowance.version += 1
    allowance.save(update_fields=["status", "version"])
    _audit_allowance(actor=actor, action="benefits.suspend", allowance=allowance,
                     changes={"decision": decision.pk, "from_month": from_month, "reason": reason})
    return allowance


@transaction.atomic
def allowance_resume(*, actor: User, allowance: Allowance, number: str, decided_on: dt.date, from_month: dt.date,
                     signed_by: str = "", reason: str = "") -> Allowance:
    allowance = _lock_allowance(actor, allowance)
    errors = _decision_clean(number, decided_on)
    if errors:
        raise ValidationFailed(errors)
    if allowance.status != AllowanceStatus.SUSPENDED:
        raise Conflict(_("Chỉ tiếp tục được trợ cấp đang tạm dừng."), code="bad_status")
    last = allowance.periods.order_by("-start").first()
    from_month = month_of(from_month)
    if last is None or last.end is None or from_month <= last.end:
        raise ValidationFailed({"from_month": _("Tháng tiếp tục phải sau tháng cuối cùng đã hưởng.")})
    rules = RuleBook.load()
    _require_rule_period(rules, last.group, from_month)
    decision = _record(actor=actor, allowance=allowance, kind=DecisionKind.RESUME, number=number,
                       decided_on=decided_on, signed_by=signed_by, effective=from_month, group=last.group, reason=reason)
    AllowancePeriod.objects.create(allowance=allowance, group=last.group, start=from_month, decision=decision)
    allowance.status = AllowanceStatus.ACTIVE
    allowance.version += 1
    allowance.save(update_fields=["status", "version"])
    _audit_allowance(actor=actor, action="benefits.resume", allowance=allowance,
                     changes={"decision": decision.pk, "from_month": from_month})
    return allowance


@transaction.atomic
def allowance_change_group(*, actor: User, allowance: Allowance, group: BeneficiaryGroup | str, number: str,
                           decided_on: dt.date, from_month: dt.date | None = None, signed_by: str = "",
                           exception_reason: str = "") -> Allowance:
    """Move a recipient to another group (another coefficient) from `from_month` (default: the
    decision's month). The person must meet the new group's conditions on the decision date."""
    allowance = _lock_allowance(actor, allowance)
    errors = _decision_clean(number, decided_on)
    if errors:
        raise ValidationFailed(errors)
    group = _group(group)
    if allowance.status != AllowanceStatus.ACTIVE:
        raise Conflict(_("Chỉ đổi nhóm được trợ cấp đang hưởng."), code="bad_status")
    period = _open_period(allowance)
    from_month = month_of(from_month or decided_on)
    if period is None or from_month < period.start:
        raise ValidationFailed({"from_month": _("Tháng áp dụng phải từ tháng bắt đầu của đợt hưởng hiện tại.")})
    if period.group_id == group.pk:
        raise ValidationFailed({"group": _("Người này đang hưởng theo nhóm “%(g)s”.") % {"g": group.name}})
    if bool(allowance.parent_name) != (group.code == SINGLE_PARENT):  # a parent's allowance is not a child's
        raise ValidationFailed({"group": _("Trợ cấp người đơn thân nuôi con là của cha hoặc mẹ, không phải của trẻ: "
                                           "ghi nhận trong “Người đơn thân nuôi con” (Nghị định 20/2021, Điều 5 khoản 4).")})
    exception = _check_conditions(actor=actor, child=allowance.child, group=group, on=decided_on,
                                  exception_reason=exception_reason)
    _require_rule_period(RuleBook.load(), group, from_month)
    decision = _record(actor=actor, allowance=allowance, kind=DecisionKind.CHANGE_GROUP, number=number,
                       decided_on=decided_on, signed_by=signed_by, effective=from_month, group=group, reason=exception)
    before = period.group.code
    if from_month == period.start:
        period.group = group
        period.decision = decision
        period.save(update_fields=["group", "decision"])
    else:
        period.end = month_add(from_month, -1)
        period.save(update_fields=["end"])
        AllowancePeriod.objects.create(allowance=allowance, group=group, start=from_month, decision=decision)
    allowance.version += 1
    allowance.save(update_fields=["version"])
    _audit_allowance(actor=actor, action="benefits.change_group", allowance=allowance,
                     changes={"decision": decision.pk, "group": [before, group.code], "from_month": from_month,
                              "exception": exception})
    return allowance


def default_last_month(allowance: Allowance, reason: str, decided_on: dt.date) -> dt.date:
    """The last month paid for a stop, by the month rule (see rules.py): the month of the 16th or
    22nd birthday, of death or of leaving; otherwise the month of the decision."""
    child = allowance.child
    if reason == StopReason.AGED_16:
        return last_month_before_age(child.birth_date, 16)
    if reason == StopReason.AGED_22:
        return last_month_before_age(child.birth_date, 22)
    if reason in (StopReason.DIED, StopReason.MOVED_OUT) and child.ended_on:
        return month_of(child.ended_on)
    return month_of(decided_on)


@transaction.atomic
def allowance_stop(*, actor: User, allowance: Allowance, reason: str, number: str, decided_on: dt.date,
                   last_month: dt.date | None = None, signed_by: str = "", note: str = "",
                   transfer_to: str = "") -> Allowance:
    """Stop the allowance after `last_month` (the last month paid; by default from the reason, see
    default_last_month). A stop back-dated into a paid month is allowed: the overpayment appears as
    a negative adjustment in the next open payroll. Moving out of the province names the new place,
    whose payroll takes the person over (the transfer)."""
    allowance = _lock_allowance(actor, allowance)
    errors = _decision_clean(number, decided_on)
    if reason not in StopReason.values:
        errors["reason"] = _("Lý do thôi hưởng không hợp lệ: %(r)s.") % {"r": reason}
    if reason == StopReason.MOVED_OUT and not nfc(transfer_to):
        errors["transfer_to"] = _("Hãy ghi nơi chuyển đến để chuyển hồ sơ sang nơi mới.")
    if reason == StopReason.OTHER and not nfc(note):
        errors["note"] = _("Hãy ghi lý do thôi hưởng.")
    if errors:
        raise ValidationFailed(errors)
    if allowance.status == AllowanceStatus.STOPPED:
        raise Conflict(_("Trợ cấp này đã thôi hưởng."), code="bad_status")
    last = month_of(last_month) if last_month else default_last_month(allowance, reason, decided_on)
    periods = list(allowance.periods.order_by("start"))
    if periods and last < month_add(periods[0].start, -1):
        raise ValidationFailed({"last_month": _("Tháng cuối được hưởng (%(m)s) trước khi bắt đầu hưởng.")
                                % {"m": month_label(last)}})
    decision = _record(actor=actor, allowance=allowance, kind=DecisionKind.STOP, number=number,
                       decided_on=decided_on, signed_by=signed_by, effective=month_add(last, 1), reason=note or reason)
    for p in periods:
        if p.start > last:
            p.delete()
        elif p.end is None or p.end > last:
            p.end = last
            p.save(update_fields=["end"])
    allowance.status = AllowanceStatus.STOPPED
    allowance.stop_reason = reason
    allowance.transfer_to = nfc(transfer_to)
    allowance.version += 1
    allowance.save(update_fields=["status", "stop_reason", "transfer_to", "version"])
    _audit_allowance(actor=actor, action="benefits.stop", allowance=allowance,
                     changes={"decision": decision.pk, "reason": reason, "last_month": last, "transfer_to": transfer_to})
    return allowance


# ---------------------------------------------------------------- payroll: lock and adjust

def _communes_for_lock(actor: User, unit: AdminUnit, month: dt.date) -> list[AdminUnit]:
    from vitreem.stats.engine import params_for

    ids = params_for(as_of=month, unit=unit, user=actor).commune_ids(month) or frozenset()
    return list(AdminUnit.objects.filter(pk__in=ids, level=Level.COMMUNE).order_by("code"))


@transaction.atomic
def payroll_lock(*, actor: User, month: dt.date, unit: AdminUnit) -> list[Payroll]:
    """Lock (mark as paid) the payroll of `month` for a commune, or for every commune of a
    district/province in the actor's scope. The lines are kept as they were paid; the month can
    never be changed afterwards. Communes already locked are refused."""
    from .payroll import payroll_compute

    month = month_of(month)
    if month > month_of(_today()):
        raise ValidationFailed({"month": _("Không khóa được tháng chưa đến (%(m)s).") % {"m": month_label(month)}})
    require_unit(actor, unit)
    communes = _communes_for_lock(actor, unit, month)
    if not communes:
        raise ValidationFailed({"unit": _("Không có xã/phường nào trong phạm vi để khóa tháng %(m)s.")
                                % {"m": month_label(month)}})
    for c in communes:
        require_unit(actor, c)
    already = set(Payroll.objects.filter(month=month, unit__in=communes).values_list("unit__name", flat=True))
    if already:
        raise Conflict(_("Bảng chi trả tháng %(m)s đã khóa (đã chi) cho: %(u)s. Tháng đã chi không được sửa; "
                         "điều chỉnh sẽ vào tháng sau.") % {"m": month_label(month), "u": ", ".join(sorted(already))},
                       field="month", code="paid_month")
    result = payroll_compute(month=month, commune_ids={c.pk for c in communes}, use_snapshots=False)
    by_unit = {t.unit.pk: t for t in result.by_unit}
    payrolls = {c.pk: Payroll(unit=c, month=month, base_level=result.base_level, locked_by=_user(actor),
                              recipients=by_unit[c.pk].recipients if c.pk in by_unit else 0,
                              total=by_unit[c.pk].total if c.pk in by_unit else 0,
                              arrears=by_unit[c.pk].arrears if c.pk in by_unit else 0,
                              adjustments=by_unit[c.pk].adjustment if c.pk in by_unit else 0) for c in communes}
    Payroll.objects.bulk_create(list(payrolls.values()))
    rows: list[PaidLine] = []
    settled: list[int] = []
    for line in result.lines:
        payroll = payrolls[line.unit_id]
        if line.amount:
            rows.append(PaidLine(payroll=payroll, allowance_id=line.allowance_id, child_id=line.child_id,
                                 for_month=month, kind=LineKind.REGULAR, group_code=line.group_code,
                                 coefficient=line.coefficient, base_level=line.base, amount=line.amount))
        for d in line.details:
            rows.append(PaidLine(payroll=payroll, allowance_id=line.allowance_id, child_id=line.child_id,
                                 for_month=d["for_month"], kind=d["kind"], group_code=d.get("group_code", ""),
                                 coefficient=d.get("coefficient"), base_level=d.get("base"), amount=d["amount"],
                                 note=(d.get("note") or "")[:255]))
            if d.get("adjustment_id"):
                settled.append(d["adjustment_id"])
    PaidLine.objects.bulk_create(rows, batch_size=2000)
    payroll_of = {line.allowance_id: payrolls[line.unit_id] for line in result.lines}
    for adj in Adjustment.objects.filter(pk__in=settled):
        adj.settled_in = payroll_of[adj.allowance_id]
        adj.save(update_fields=["settled_in"])
    for p in payrolls.values():
        audit_change(actor=actor, action="benefits.payroll_lock", obj=p, unit=p.unit_id,
                     changes={"month": month, "recipients": p.recipients, "total": p.total, "arrears": p.arrears,
                              "adjustments": p.adjustments})
    return list(payrolls.values())


@transaction.atomic
def payroll_adjust(*, actor: User, allowance: Allowance, for_month: dt.date, amount: int, reason: str) -> Adjustment:
    """Record a correction of a *paid* month (e.g. money not handed over, or paid twice). It is paid
    or recovered in the next open payroll; the paid month itself is never changed."""
    allowance = _lock_allowance(actor, allowance)
    for_month = month_of(for_month)
    errors: dict[str, str] = {}
    try:
        amount = int(amount)
    except (TypeError, ValueError):
        errors["amount"] = _("Số tiền điều chỉnh phải là số nguyên (đồng).")
        amount = 0
    if not errors and amount == 0:
        errors["amount"] = _("Số tiền điều chỉnh phải khác 0.")
    if not nfc(reason):
        errors["reason"] = _("Hãy ghi lý do điều chỉnh.")
    if errors:
        raise ValidationFailed(errors)
    if not PaidLine.objects.filter(allowance=allowance, for_month=for_month).exists():
        raise ValidationFailed({"for_month": _("Tháng %(m)s chưa chi trả cho người này: hãy sửa quyết định, "
                                               "bảng chi trả tháng chưa khóa sẽ tự tính lại.") % {"m": month_label(for_month)}})
    adj = Adjustment.objects.create(allowance=allowance, for_month=for_month, amount=amount, reason=nfc(reason),
                                    created_by=_user(actor))
    _audit_allowance(actor=actor, action="benefits.adjust", allowance=allowance,
                     changes={"adjustment": adj.pk, "for_month": for_month, "amount": amount, "reason": adj.reason})
    return adj


def can_record_exception(user: User) -> bool:
    return scope_for(user).standing_agency


@transaction.atomic
def allowance_health_card_set(*, actor: User, allowance: Allowance, issued_on: dt.date | None, number: str = "") -> Allowance:
    """Record the health insurance card issued to a recipient (Decree 20/2021, Art. 9(1): "Đối tượng bảo trợ xã
    hội đang hưởng trợ cấp xã hội hàng tháng được cấp thẻ bảo hiểm y tế"). Audited."""
    allowance = _lock_allowance(actor, allowance)  # checks the unit's scope
    errors: dict[str, str] = {}
    number = nfc(number).replace(" ", "").upper()
    if issued_on is None:
        errors["health_card_issued_on"] = _("Hãy ghi ngày cấp thẻ bảo hiểm y tế.")
    elif issued_on > _today():
        errors["health_card_issued_on"] = _("Ngày cấp thẻ không được sau hôm nay.")
    if number and (len(number) > 15 or not number.isalnum()):
        errors["health_card_number"] = _("Mã số thẻ bảo hiểm y tế gồm tối đa 15 chữ cái và chữ số.")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(allowance, ["health_card_issued_on", "health_card_number"])
    allowance.health_card_issued_on, allowance.health_card_number = issued_on, number
    allowance.version += 1
    allowance.save(update_fields=["health_card_issued_on", "health_card_number", "version"])
    audit_change(actor=actor, action="benefits.health_card", obj=allowance, unit=allowance.unit,
                 changes=diff(before, snapshot(allowance, ["health_card_issued_on", "health_card_number"])))
    return allowance



# ---------------------------------------------------------------- the list of extremely difficult areas

DIFFICULT_AREA_COLUMNS = {  # folded header -> field (Vietnamese or English headers)
    "ma xa": "unit", "xa": "unit", "unit": "unit", "thon": "village", "village": "village",
    "tu ngay": "valid_from", "valid_from": "valid_from", "den ngay": "valid_to", "valid_to": "valid_to",
    "can cu": "legal_basis", "legal_basis": "legal_basis",
}


@transaction.atomic
def difficult_areas_load(*, actor: User, rows: list[list[Any]]) -> int:
    """Load the province's list of extremely difficult communes and villages (Decree 20/2021, Art. 5(7)):
    `rows` is a sheet, its first row the headers (Mã xã | Thôn | Từ ngày | Đến ngày | Căn cứ). Every row is
    checked first; one bad row refuses the whole file, naming the row and the column, and nothing is
    written. Rows already on the list (same commune, village and start) are left as they are."""
    from vitreem.core.text import fold_words
    from vitreem.imports.values import CellError, cell_text, parse_date
    from vitreem.places.selectors import unit_resolve

    from .models import DifficultArea

    if not scope_for(actor).standing_agency:
        raise PermissionDenied(_("Chỉ cơ quan thường trực cấp tỉnh được nạp danh sách xã, thôn đặc biệt khó khăn."))
    if not rows:
        raise ValidationFailed({"file": _("Tệp không có dòng nào.")})
    columns = {i: DIFFICULT_AREA_COLUMNS.get(fold_words(cell_text(h)).replace("-", " ")) for i, h in enumerate(rows[0])}
    missing = {"unit", "valid_from", "legal_basis"} - set(columns.values())
    if missing:
        raise ValidationFailed({"file": _("Thiếu cột: %(c)s (cần Mã xã, Thôn, Từ ngày, Đến ngày, Căn cứ).")
                                % {"c": ", ".join(sorted(missing))}})
    errors: dict[str, str] = {}
    found: list[DifficultArea] = []
    today = _today()
    for number, cells in enumerate(rows[1:], start=2):
        values = {columns[i]: c for i, c in enumerate(cells) if columns.get(i) and c not in ("", None)}
        if not values:
            continue
        where = _("Dòng %(n)s") % {"n": number}
        try:
            start = parse_date(values.get("valid_from", ""), today=today)[0]
            end = parse_date(values["valid_to"], today=today)[0] if values.get("valid_to") else None
        except CellError:  # (its message speaks of a birth date: say which dates are meant here)
            errors[f"row_{number}"] = f"{where}: " + _("không đọc được “Từ ngày” hoặc “Đến ngày” (viết dd/mm/yyyy).")
            continue
        try:
            text = cell_text(values.get("unit", ""))
            unit = unit_resolve(text, on=start) if ":" not in text else unit_resolve(text)
        except DomainError:
            errors[f"row_{number}"] = f"{where}: " + _("không tìm thấy xã “%(v)s”.") % {"v": cell_text(values.get("unit", ""))}
            continue
        basis = nfc(cell_text(values.get("legal_basis", "")))
        if unit.level != Level.COMMUNE:
            errors[f"row_{number}"] = f"{where}: " + _("“%(v)s” không phải đơn vị cấp xã.") % {"v": unit.name}
        elif end is not None and end < start:
            errors[f"row_{number}"] = f"{where}: " + _("“Đến ngày” trước “Từ ngày”.")
        elif not basis:
            errors[f"row_{number}"] = f"{where}: " + _("thiếu căn cứ (số, ngày quyết định phê duyệt danh sách).")
        else:
            found.append(DifficultArea(unit=unit, village=nfc(cell_text(values.get("village", ""))), valid_from=start,
                                       valid_to=end, legal_basis=basis[:200], created_by=_user(actor)))
    if errors:
        raise ValidationFailed(errors)
    have = set(DifficultArea.objects.values_list("unit_id", "village", "valid_from"))
    new = [a for a in found if (a.unit_id, a.village, a.valid_from) not in have]
    DifficultArea.objects.bulk_create(new)
    audit_change(actor=actor, action="benefits.difficult_areas_load", object_type="benefits.difficultarea",
                 changes={"rows": len(found), "added": len(new)})
    return len(new)
