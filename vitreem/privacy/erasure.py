"""Deletion by pseudonymisation, and the retention rules that make a record due for it.

Law 91/2025/QH15, Art. 14(1): personal data is deleted when the data subject asks (point a), when the
purpose is complete (point b) or when the retention period ends (point c); Art. 14(2): not while the
processing rests on Art. 19 (here 19(1)(c), the state's child-protection and social-assistance duties).
Art. 2(11) and 14(6): de-identification changes or deletes information so that no one can be identified.

What is erased: everything that names or reaches the child and the people around them — names, the
personal identification number, village, notes, guardians' names and phones, the household head's name
and address (once no child of the household keeps a name), and every free text of the child's cases
(report, place, reporter, assessments, minutes, plan items, events) with the case's attachments.
What is kept: birth date, sex, ethnicity, the dated residences, special-circumstance episodes, risk
periods, poverty years, the cases' dates, status, concern and outcome — the facts every past year's
figures are computed from (stats/engine.py counts records as of a date), so `vitreem stats --year Y`
gives the same figures before and after (privacy/tests/test_retention.py). The audit log keeps its rows
as written: it is append-only and hash-chained (core/audit_chain.py) and is the accountability record
Art. 19(2) asks for; docs/en/legal-basis.md says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.audit import audit_change
from vitreem.core.text import fold
from vitreem.registry.models import CHILD_AGE_LIMIT, Child, Guardian, Household

from .models import RecordKind, RetentionApplied, RetentionRule, SubjectRequest

PSEUDONYM_PREFIX = "Ẩn danh"


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def turns_16(child: Child) -> dt.date:
    return _years_after(child.birth_date, CHILD_AGE_LIMIT)


def is_pseudonymised(child: Child) -> bool:
    return child.full_name.startswith(PSEUDONYM_PREFIX) and not child.personal_id


def _open_cases(child_ids) -> Any:
    from vitreem.cases.models import OPEN_STATUSES, Case

    return Case.objects.filter(child_id__in=child_ids, status__in=OPEN_STATUSES)


def _active_allowances(child_ids) -> Any:
    from vitreem.benefits.models import Allowance, AllowanceStatus

    return Allowance.objects.filter(child_id__in=child_ids).exclude(status=AllowanceStatus.STOPPED)


def child_erasable(child: Child, *, on: dt.date) -> str:
    """Why the child's record may not be erased on `on` ("" when it may): the duties of Art. 19(1)(c)
    still run while a case is open, an allowance is paid, or the person is a child whose record has
    not ended (Art. 14(2))."""
    if is_pseudonymised(child):
        return _("Hồ sơ đã được khử nhận dạng.")
    if _open_cases([child.pk]).exists():
        return _("Trẻ còn vụ việc đang xử lý (Nghị định 56/2017): không xóa được khi đang thực hiện nhiệm vụ "
                 "theo Điều 19 khoản 1 điểm c (Điều 14 khoản 2).")
    if _active_allowances([child.pk]).exists():
        return _("Trẻ đang hưởng trợ cấp xã hội (Nghị định 20/2021): không xóa được khi đang thực hiện nhiệm vụ "
                 "theo Điều 19 khoản 1 điểm c (Điều 14 khoản 2).")
    if child.ended_on is None and child.age_on(on) < CHILD_AGE_LIMIT:
        return _("Trẻ chưa đủ 16 tuổi và hồ sơ còn theo dõi: mục đích xử lý chưa hoàn thành (Điều 14 khoản 1 "
                 "điểm b); có thể yêu cầu hạn chế xử lý thay cho xóa.")
    return ""


def _case_text_fields() -> dict[str, list[str]]:
    return {
        "case": ["reporter_name", "reporter_phone", "reporter_relation", "place", "summary", "verification",
                 "emergency_action", "isolation_place", "assessment", "meeting_minutes"],
        "event": ["text"], "plan": ["goal"], "item": ["description", "responsible", "outcome"],
        "review": ["note"], "referral": ["reason", "result"],
    }


def cases_erase(case_ids: list[int]) -> int:
    """Blank every free text of these cases and delete their attachments (files too). Returns the count
    of cases."""
    from vitreem.cases.models import Attachment, Case, CaseEvent, Plan, PlanItem, Referral, Review

    fields = _case_text_fields()
    # `place` and `summary` are required on the form; a dash keeps the page readable.
    Case.objects.filter(pk__in=case_ids).update(**{**dict.fromkeys(fields["case"], ""), "place": "—", "summary": "—"})
    CaseEvent.objects.filter(case_id__in=case_ids).update(**dict.fromkeys(fields["event"], ""))
    Plan.objects.filter(case_id__in=case_ids).update(goal="—")
    PlanItem.objects.filter(plan__case_id__in=case_ids).update(description="—", responsible="—", outcome="")
    Review.objects.filter(case_id__in=case_ids).update(note="")
    Referral.objects.filter(case_id__in=case_ids).update(reason="—", result="")
    for attachment in Attachment.objects.filter(case_id__in=case_ids):
        # Art. 14(3): deleted so that it cannot be recovered by the application; the file goes with the row.
        attachment.file.delete(save=False)
        attachment.delete()
    return len(case_ids)


def child_pseudonymise(*, actor, child: Child, request: SubjectRequest | None = None,
                       rule: RetentionRule | None = None) -> dict[str, Any]:
    """Erase what identifies the child (see the module docstring) in the caller's transaction, with an
    audit row that names the fields cleared, never their values."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("child_pseudonymise must run inside a transaction")
    from vitreem.cases.models import Case

    child = Child.objects.select_for_update().get(pk=child.pk)
    alias = f"{PSEUDONYM_PREFIX} #{child.pk}"
    Child.objects.filter(pk=child.pk).update(
        family_name="", middle_name="", given_name=alias, full_name=alias, name_key=fold(alias),
        given_key=fold(alias), personal_id="", personal_id_mismatch=False, village="", note="",
        version=child.version + 1)
    Guardian.objects.filter(child=child).update(full_name="—", name_key="", phone="")
    if child.household_id and not Child.objects.filter(household_id=child.household_id).exclude(
            Q(full_name__startswith=PSEUDONYM_PREFIX) | Q(pk=child.pk)).exists():
        Household.objects.filter(pk=child.household_id).update(head_name="—", head_key="", address="", village="")
    case_ids = list(Case.objects.filter(child=child).values_list("pk", flat=True))
    cases_erase(case_ids)
    kept = ["birth_date", "sex", "ethnicity", "residences", "special_episodes", "risks", "household.poverty",
            "cases.status/dates/concern/outcome"]
    audit_change(actor=actor, action="privacy.pseudonymise", object_type="registry.child", object_id=child.pk,
                 unit=child.unit_id, changes={"cleared": ["name", "personal_id", "village", "note", "guardians",
                                                          "household", "case_texts", "attachments"],
                                              "kept": kept, "cases": case_ids,
                                              "request": request.pk if request else None,
                                              "rule": rule.pk if rule else None})
    RetentionApplied.objects.create(rule=rule or rule_in_force(RecordKind.CHILD, timezone.localdate()),
                                    kind=RecordKind.CHILD, object_id=child.pk, unit_id=child.unit_id,
                                    due_on=timezone.localdate(), applied_by=actor, request=request)
    return {"child": child.pk, "cases": case_ids}


# ---------------------------------------------------------------- retention

def rule_in_force(kind: str, on: dt.date) -> RetentionRule:
    rule = RetentionRule.objects.filter(kind=kind, effective_from__lte=on).order_by("-effective_from").first()
    if rule is None:
        raise RetentionRule.DoesNotExist(f"no retention rule for {kind} on {on}")
    return rule


@dataclass
class Due:
    kind: str
    object_id: int
    unit_id: int
    due_on: dt.date
    rule_id: int
    label: str


def retention_due(*, on: dt.date, unit_ids: frozenset[int] | None = None) -> list[Due]:
    """Records whose retention period ended by `on` under the rule in force that day, not yet applied.

    Children: 16th birthday + N years passed, no open case, no allowance being paid. Closed cases
    (of children not yet due themselves): the rule's anchor (16th birthday or closure) + N years."""
    from vitreem.cases.models import Case, Status

    due: list[Due] = []
    done_children = set(RetentionApplied.objects.filter(kind=RecordKind.CHILD).values_list("object_id", flat=True))
    done_cases = set(RetentionApplied.objects.filter(kind=RecordKind.CASE).values_list("object_id", flat=True))
    try:
        child_rule = rule_in_force(RecordKind.CHILD, on)
    except RetentionRule.DoesNotExist:
        child_rule = None
    due_children: set[int] = set()
    if child_rule is not None:
        # born on or before this day: the 16th birthday + N years is on or before `on`
        born_by = _years_after(on, -(CHILD_AGE_LIMIT + child_rule.years))
        qs = Child.objects.filter(birth_date__lte=born_by).exclude(full_name__startswith=PSEUDONYM_PREFIX)
        if unit_ids is not None:
            qs = qs.filter(unit_id__in=unit_ids)
        rows = list(qs.values_list("pk", "unit_id", "birth_date"))
        ids = [r[0] for r in rows]
        busy = set(_open_cases(ids).values_list("child_id", flat=True)) | set(
            _active_allowances(ids).values_list("child_id", flat=True))
        for pk, unit_id, born in rows:
            if pk in busy or pk in done_children:
                continue
            due_children.add(pk)
            due.append(Due(RecordKind.CHILD, pk, unit_id, _years_after(_years_after(born, CHILD_AGE_LIMIT),
                                                                       child_rule.years), child_rule.pk,
                           f"#{pk}"))
    try:
        case_rule = rule_in_force(RecordKind.CASE, on)
    except RetentionRule.DoesNotExist:
        case_rule = None
    if case_rule is not None:
        # A child's cases go with the child (child_pseudonymise erases them): never listed twice.
        cases = Case.objects.filter(status=Status.CLOSED).exclude(child_id__in=due_children | done_children)
        if unit_ids is not None:
            cases = cases.filter(unit_id__in=unit_ids)
        if case_rule.anchor == "closed":
            cases = cases.filter(closed_at__date__lte=_years_after(on, -case_rule.years))
        else:
            cases = cases.filter(child__birth_date__lte=_years_after(on, -(CHILD_AGE_LIMIT + case_rule.years)))
        for pk, unit_id, code, closed_at, born in cases.values_list("pk", "unit_id", "code", "closed_at",
                                                                    "child__birth_date"):
            if pk in done_cases:
                continue
            anchor = closed_at.date() if case_rule.anchor == "closed" and closed_at else _years_after(born, CHILD_AGE_LIMIT)
            due.append(Due(RecordKind.CASE, pk, unit_id, _years_after(anchor, case_rule.years), case_rule.pk, code))
    return sorted(due, key=lambda d: (d.due_on, d.kind, d.object_id))


@transaction.atomic
def retention_apply(*, actor, on: dt.date, unit_ids: frozenset[int] | None = None) -> dict[str, int]:
    """Apply every due rule: pseudonymise due children, erase due closed cases; one audit row each."""
    from vitreem.cases.models import Case

    counts = {RecordKind.CHILD.value: 0, RecordKind.CASE.value: 0}
    for item in retention_due(on=on, unit_ids=unit_ids):
        rule = RetentionRule.objects.get(pk=item.rule_id)
        if item.kind == RecordKind.CHILD:
            child_pseudonymise(actor=actor, child=Child.objects.get(pk=item.object_id), rule=rule)
        else:
            case = Case.objects.get(pk=item.object_id)
            cases_erase([case.pk])
            audit_change(actor=actor, action="privacy.retention_case", obj=case, unit=case.unit_id,
                         changes={"rule": rule.pk, "due_on": item.due_on, "cleared": ["case_texts", "attachments"]})
            RetentionApplied.objects.create(rule=rule, kind=RecordKind.CASE, object_id=case.pk, unit_id=case.unit_id,
                                            due_on=item.due_on, applied_by=actor)
        counts[item.kind] += 1
    return counts
