"""Report submissions: open, check, save, submit, and the standing agency's review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, User
from vitreem.core.audit import audit_change, diff
from vitreem.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from vitreem.core.scope import scope_for
from vitreem.core.text import format_number
from vitreem.places.models import AdminUnit

from ..models import (
    DISAGGREGATION_OPTIONS,
    DataValue,
    Measure,
    ReportForm,
    Severity,
    Submission,
    SubmissionStatus,
    ValidationRule,
)
from ..periods import period_parse, period_previous
from ..permissions import is_manager, require_manager, require_member_unit_write
from ._common import _decimal, _text

# ---------------------------------------------------------------- submissions


def assignee_key(*, member_unit: MemberUnit | None = None, unit: AdminUnit | None = None) -> str:
    return f"mu:{member_unit.pk}" if member_unit is not None else f"unit:{unit.pk}" if unit is not None else ""


def assignee_require_write(actor: User, *, form: ReportForm, member_unit: MemberUnit | None, unit: AdminUnit | None) -> None:
    """The form must be assigned to that member unit / commune, and the actor must belong to it."""
    if member_unit is not None:
        require_member_unit_write(actor, member_unit.pk)
        if not form.member_units.filter(pk=member_unit.pk).exists():
            raise DomainError(_("Biểu mẫu %(f)s không giao cho %(u)s.") % {"f": form.name, "u": member_unit.name},
                              field="member_unit", code="not_assigned")
        return
    if unit is None:
        raise DomainError(_("Hãy chọn đơn vị báo cáo."), field="member_unit")
    if not is_manager(actor):
        scope = scope_for(actor)
        if not scope.commune_worker or not scope.sees_unit(unit.pk):
            raise PermissionDenied(_("Đơn vị %(u)s nằm ngoài phạm vi của bạn.") % {"u": unit.name},
                                   code="out_of_scope")
    from ..selectors import form_communes

    if not form.for_communes or unit.pk not in form_communes(form):
        raise DomainError(_("Biểu mẫu %(f)s không giao cho %(u)s.") % {"f": form.name, "u": unit.name},
                          field="unit", code="not_assigned")


@transaction.atomic
def submission_open(*, actor: User, form: ReportForm, period: str, member_unit: MemberUnit | None = None,
                    unit: AdminUnit | None = None) -> Submission:
    """The report of a unit for a period: the existing one, or a new draft."""
    parsed = period_parse(period)
    if parsed.type != form.period_type:
        raise DomainError(_("Kỳ %(p)s không đúng loại kỳ của biểu mẫu (%(t)s).") % {
            "p": parsed.code, "t": form.get_period_type_display()}, field="period")
    if not form.active:
        raise DomainError(_("Biểu mẫu đã ngừng sử dụng."), field="form")
    assignee_require_write(actor, form=form, member_unit=member_unit, unit=unit)
    key = assignee_key(member_unit=member_unit, unit=unit)
    existing = Submission.objects.filter(form=form, period=parsed.code, assignee_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                form=form, period=parsed.code, period_start=parsed.start, period_end=parsed.end,
                due_on=parsed.due_on(form.deadline_days), member_unit=member_unit, unit=unit, assignee_key=key)
    except IntegrityError:  # opened at the same moment by someone else
        return Submission.objects.get(form=form, period=parsed.code, assignee_key=key)
    audit_change(actor=actor, action="programme.submission.open", obj=submission, unit=unit,
                 changes={"form": form.code, "period": parsed.code, "assignee": key})
    return submission


@dataclass
class Checked:
    values: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)  # key -> message; a key needs a confirmation


def _previous_totals(submission: Submission) -> dict[int, Decimal]:
    prev = period_previous(period_parse(submission.period))
    rows = DataValue.objects.filter(
        submission__form=submission.form, submission__period=prev.code,
        submission__assignee_key=submission.assignee_key, category="",
        submission__status__in=[SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED])
    return {r.element_id: r.value for r in rows}


def submission_check(*, submission: Submission, raw: Mapping[str, Any], final: bool) -> Checked:
    """Validate entered values against the form's rules. `raw` maps DataElement.field_name(...) -> text or number.

    Built-in rules (errors): a number, not negative; a rate between 0 and 100; a part not above its whole;
    the parts of a disaggregation sum to the total (a missing total is their sum). Rules of the form add
    comparisons, ranges and "far from last period" checks with their own severity. `final` (submitting)
    also requires every required total."""
    out = Checked()
    # switched-off elements are no longer asked for (their values in old reports stay)
    all_elements = list(submission.form.elements.all())
    by_id = {e.pk: e for e in all_elements}
    elements = [e for e in all_elements if e.active]
    for element in elements:
        cells = [("", element.name)]
        for dim in element.disaggregations:
            cells += [(f"{dim}:{opt}", f"{element.name} ({label})") for opt, label in DISAGGREGATION_OPTIONS[dim]]
        for category, label in cells:
            name = element.field_name(category)
            text = raw.get(name)
            if text is None or str(text).strip() == "":
                continue
            number = _decimal(text, name, out.errors)
            if number is None:
                out.errors[name] = _("%(l)s: '%(v)s' không phải là số.") % {"l": label, "v": str(text)[:30]}
                continue
            if number < 0:
                out.errors[name] = _("%(l)s: không được âm.") % {"l": label}
            elif element.measure == Measure.PERCENT and number > 100:
                out.errors[name] = _("%(l)s: tỷ lệ phải trong khoảng 0–100 (nhận được %(v)s).") % {
                    "l": label, "v": format_number(number, 2)}
            out.values[(element.pk, category)] = number
        # disaggregations sum to the total
        for dim in element.disaggregations:
            opts = [f"{dim}:{opt}" for opt, _label in DISAGGREGATION_OPTIONS[dim]]
            present = [o for o in opts if (element.pk, o) in out.values]
            if not present:
                continue
            if len(present) != len(opts):
                out.errors[element.field_name(opts[0])] = _(
                    "%(l)s: nhập đủ các phần theo %(d)s hoặc để trống tất cả.") % {
                    "l": element.name, "d": DISAGG_LABELS.get(dim, dim)}
                continue
            parts = sum((out.values[(element.pk, o)] for o in opts), Decimal(0))
            total = out.values.get((element.pk, ""))
            if total is None:
                out.values[(element.pk, "")] = parts
            elif parts != total:
                out.errors[element.field_name()] = _(
                    "%(l)s: tổng theo %(d)s (%(p)s) khác tổng số (%(t)s).") % {
                    "l": element.name, "d": DISAGG_LABELS.get(dim, dim), "p": format_number(parts, 2 if parts % 1 else 0),
                    "t": format_number(total, 2 if total % 1 else 0)}
        if final and element.required and (element.pk, "") not in out.values:
            out.errors.setdefault(element.field_name(), _("%(l)s: chưa nhập.") % {"l": element.name})
    # a part may not exceed its whole (also for each disaggregation part)
    for (eid, category), number in list(out.values.items()):
        element = by_id[eid]
        whole_id = element.part_of_id
        if whole_id and (whole_id, category) in out.values and number > out.values[(whole_id, category)]:
            out.errors.setdefault(element.field_name(category), _(
                "%(p)s (%(v)s) không được lớn hơn %(w)s (%(t)s).") % {
                "p": element.name, "v": format_number(number, 2 if number % 1 else 0), "w": by_id[whole_id].name,
                "t": format_number(out.values[(whole_id, category)], 0)})
    previous: dict[int, Decimal] | None = None
    for rule in submission.form.rules.filter(active=True):
        left = out.values.get((rule.left_id, ""))
        if left is None:
            continue
        key, message = f"rule:{rule.pk}", ""
        left_name = by_id[rule.left_id].name if rule.left_id in by_id else "?"
        if rule.kind == ValidationRule.Kind.LE and rule.right_id:
            right = out.values.get((rule.right_id, ""))
            if right is not None and left > right:
                message = rule.message or _("%(a)s không được lớn hơn %(b)s.") % {
                    "a": left_name, "b": by_id[rule.right_id].name}
        elif rule.kind == ValidationRule.Kind.RANGE:
            if (rule.minimum is not None and left < rule.minimum) or (rule.maximum is not None and left > rule.maximum):
                message = rule.message or _("%(a)s nằm ngoài khoảng cho phép.") % {"a": left_name}
        elif rule.kind == ValidationRule.Kind.CHANGE and rule.threshold is not None:
            if previous is None:
                previous = _previous_totals(submission)
            last = previous.get(rule.left_id)
            if last and abs(left - last) / last > rule.threshold:
                message = _("%(a)s = %(v)s, khác nhiều so với kỳ trước (%(l)s): hãy kiểm tra, xác nhận và "
                            "giải thích.") % {"a": left_name, "v": format_number(left), "l": format_number(last)}
        if not message:
            continue
        name = by_id[rule.left_id].field_name() if rule.left_id in by_id else key
        if rule.severity == Severity.ERROR:
            out.errors.setdefault(name, message)
        else:
            out.warnings[key] = message
    return out


DISAGG_LABELS = {"sex": "giới tính", "age": "nhóm tuổi", "ethnicity": "dân tộc", "unit": "đơn vị"}


def _require_editable(submission: Submission, expected_version: int | None) -> None:
    if submission.status == SubmissionStatus.ACCEPTED:
        raise Conflict(_("Báo cáo đã được chấp nhận và khoá; cần cơ quan thường trực mở lại để sửa."),
                       code="locked")
    if submission.status == SubmissionStatus.SUBMITTED:
        raise Conflict(_("Báo cáo đã nộp, đang chờ cơ quan thường trực xem xét."), code="submitted")
    if expected_version is not None and int(expected_version) != submission.version:
        raise Conflict(_("Báo cáo vừa được người khác sửa; hãy tải lại trang."), code="stale")


@transaction.atomic
def submission_save(*, actor: User, submission: Submission, values: Mapping[str, Any],
                    confirmations: Mapping[str, str] | None = None, submit: bool = False,
                    expected_version: int | None = None) -> Checked:
    """Save the values of a draft (or returned) report and, with `submit`, send it to the standing agency.

    Errors refuse everything. Warnings do not stop a draft; submitting needs each warning confirmed with
    a comment (kept with the report)."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    assignee_require_write(actor, form=submission.form, member_unit=submission.member_unit, unit=submission.unit)
    _require_editable(submission, expected_version)
    checked = submission_check(submission=submission, raw=values, final=submit)
    confirmed = {k: _text(v) for k, v in (confirmations or {}).items() if _text(v)}
    if submit:
        for key, message in checked.warnings.items():
            if key not in confirmed:
                checked.errors[f"confirm:{key}"] = _("%(m)s — cần xác nhận kèm giải thích trước khi nộp.") % {
                    "m": message}
    if checked.errors:
        raise ValidationFailed(checked.errors)
    before = {v.element.field_name(v.category): str(v.value) for v in submission.values.select_related("element")}
    submission.values.all().delete()
    elements = {e.pk: e for e in submission.form.elements.all()}
    DataValue.objects.bulk_create([DataValue(submission=submission, element_id=eid, category=cat, value=val)
                                   for (eid, cat), val in checked.values.items()])
    after = {elements[eid].field_name(cat): str(val) for (eid, cat), val in checked.values.items()}
    submission.confirmations = {k: v for k, v in confirmed.items() if k in checked.warnings}
    submission.version += 1
    now = timezone.now()
    if submit:
        submission.status = SubmissionStatus.SUBMITTED
        submission.submitted_at = now
        submission.submitted_by = actor
        submission.first_submitted_at = submission.first_submitted_at or now
    submission.save()
    audit_change(actor=actor, action="programme.submission.submit" if submit else "programme.submission.save",
                 obj=submission, unit=submission.unit,
                 changes={"values": diff(before, after), "confirmations": submission.confirmations})
    return checked


@transaction.atomic
def submission_submit(*, actor: User, submission: Submission, confirmations: Mapping[str, str] | None = None) -> Submission:
    """Submit a draft with the values it holds."""
    raw = {v.element.field_name(v.category): v.value for v in submission.values.select_related("element")}
    submission_save(actor=actor, submission=submission, values=raw, submit=True,
                    confirmations={**submission.confirmations, **(confirmations or {})})
    submission.refresh_from_db()
    return submission


def _review(actor: User, submission: Submission, *, allowed: set[str], what: str) -> Submission:
    require_manager(actor)
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status not in allowed:
        raise Conflict(_("Không thể %(w)s báo cáo đang ở trạng thái '%(s)s'.") % {
            "w": what, "s": submission.get_status_display()}, code="bad_state")
    return submission


@transaction.atomic
def submission_accept(*, actor: User, submission: Submission, comment: str = "") -> Submission:
    """Accept a submitted report: it is locked from now on."""
    submission = _review(actor, submission, allowed={SubmissionStatus.SUBMITTED}, what=_("chấp nhận"))
    submission.status = SubmissionStatus.ACCEPTED
    submission.reviewed_at, submission.reviewed_by = timezone.now(), actor
    submission.review_comment = _text(comment)
    submission.version += 1
    submission.save()
    audit_change(actor=actor, action="programme.submission.accept", obj=submission, unit=submission.unit,
                 changes={"status": ["submitted", "accepted"], "comment": submission.review_comment})
    return submission


@transaction.atomic
def submission_return(*, actor: User, submission: Submission, comment: str) -> Submission:
    """Send a submitted report back to its unit with a comment saying what to correct."""
    if not _text(comment):
        raise ValidationFailed({"comment": _("Hãy ghi rõ lý do trả lại báo cáo.")})
    submission = _review(actor, submission, allowed={SubmissionStatus.SUBMITTED}, what=_("trả lại"))
    submission.status = SubmissionStatus.RETURNED
    submission.reviewed_at, submission.reviewed_by = timezone.now(), actor
    submission.review_comment = _text(comment)
    submission.version += 1
    submission.save()
    audit_change(actor=actor, action="programme.submission.return", obj=submission, unit=submission.unit,
                 changes={"status": ["submitted", "returned"], "comment": submission.review_comment})
    return submission


@transaction.atomic
def submission_reopen(*, actor: User, submission: Submission, reason: str) -> Submission:
    """Unlock an accepted report for a correction (audited with the reason)."""
    if not _text(reason):
        raise ValidationFailed({"reason": _("Hãy ghi lý do mở lại báo cáo đã khoá.")})
    submission = _review(actor, submission, allowed={SubmissionStatus.ACCEPTED}, what=_("mở lại"))
    submission.status = SubmissionStatus.RETURNED
    submission.review_comment = _text(reason)
    submission.reviewed_at, submission.reviewed_by = timezone.now(), actor
    submission.version += 1
    submission.save()
    audit_change(actor=actor, action="programme.submission.reopen", obj=submission, unit=submission.unit,
                 changes={"status": ["accepted", "returned"], "reason": submission.review_comment})
    return submission
