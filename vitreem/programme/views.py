"""Programme pages: thin views over selectors (reads) and services (writes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vitreem.accounts.models import MemberUnit
from vitreem.accounts.selectors import member_units_during, standing_agency_on
from vitreem.core.audit import history_for, history_in_words
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from vitreem.places.models import AdminUnit

from . import selectors as sel
from . import services as sv
from .forms import (
    ElementForm,
    ExplanationForm,
    IndicatorForm,
    PlanForm,
    RatingForm,
    ReportFormForm,
    ReviewForm,
    RuleForm,
    TargetForm,
    TaskForm,
    TaskUpdateForm,
)
from .models import (
    DISAGGREGATION_OPTIONS,
    SUBMISSION_ACTIONS,
    Indicator,
    Plan,
    ReportForm,
    Submission,
    SubmissionStatus,
    Target,
    Task,
)
from .periods import period_parse
from .permissions import (
    can_use_programme,
    enters_commune_reports,
    is_manager,
    is_reporter,
    reads_all,
    require_manager,
    require_reader,
)

TARGET_YEARS = [2021, 2022, 2023, 2024, 2025, 2030]




def _year(request, default: int | None = None) -> int:
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or 0)
    except ValueError:
        year = 0
    if not 2015 <= year <= 2035:
        year = default or timezone.localdate().year - 1
    return year


def _error_text(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed):
        return " ".join(exc.errors.values())
    return str(exc.message)


# ---------------------------------------------------------------- overview, catalogue, targets


@login_required
def index(request):
    user = request.user
    if not can_use_programme(user):
        raise PermissionDenied(_("Bạn không có quyền xem trang này."))
    due = sel.reports_due_for_user(user=user)[:20]
    return render(request, "programme/index.html", {"due": due, "year": timezone.localdate().year - 1,
                                                    "manager": is_manager(user)})


@login_required
def indicator_list(request):
    require_reader(request.user)
    q = request.GET.get("q", "").strip()
    indicators = sel.indicators_for_user(user=request.user, q=q)
    return render(request, "programme/indicator_list.html", {"indicators": indicators, "q": q})


@login_required
@require_http_methods(["GET", "POST"])
def indicator_detail(request, code: str):
    require_reader(request.user)
    indicator = sel.indicator_get(code=code)
    form = TargetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sv.target_set(actor=request.user, indicator=indicator, year=form.cleaned_data["year"],
                          value=form.cleaned_data["value"], note=form.cleaned_data["note"])
            messages.success(request, _("Đã lưu mục tiêu năm %(y)s.") % {"y": form.cleaned_data["year"]})
            return redirect("programme:indicator", code=indicator.code)
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                form.add_error(name if name in form.fields else None, message)
    targets = list(Target.objects.filter(indicator=indicator).order_by("year"))
    history = [entry for t in targets for entry in history_for(t)[:20]]
    history.sort(key=lambda e: e.at, reverse=True)
    return render(request, "programme/indicator_detail.html", {
        "indicator": indicator, "targets": targets, "form": form, "history": history[:30],
        "manager": is_manager(request.user), "status": 400 if form.errors else 200,
    }, status=400 if form.errors else 200)


@login_required
def target_table(request):
    require_reader(request.user)
    rows = sel.targets_table(user=request.user, years=TARGET_YEARS)
    return render(request, "programme/targets.html", {"rows": rows, "years": TARGET_YEARS,
                                                      "manager": is_manager(request.user)})


# ---------------------------------------------------------------- forms, data entry, submissions


@login_required
def form_list(request):
    year = _year(request, timezone.localdate().year)
    forms = list(sel.forms_for_user(user=request.user))
    if not forms and not (reads_all(request.user) or is_reporter(request.user)
                          or enters_commune_reports(request.user)):
        raise PermissionDenied(_("Bạn không có quyền xem trang này."))
    blocks = sel.completeness(year=year, user=request.user, forms=forms)
    return render(request, "programme/form_list.html", {"blocks": blocks, "year": year})


def _assignee_from(request, form: ReportForm) -> tuple[MemberUnit | None, AdminUnit | None]:
    key = request.GET.get("for") or request.POST.get("for") or ""
    kind, _sep, pk = key.partition(":")
    try:
        if kind == "mu":
            return MemberUnit.objects.get(pk=int(pk)), None
        if kind == "unit":
            return None, AdminUnit.objects.get(pk=int(pk))
    except (ValueError, MemberUnit.DoesNotExist, AdminUnit.DoesNotExist):
        pass
    if request.user.member_unit_id and not key:
        return request.user.member_unit, None
    raise NotFound(_("Không tìm thấy đơn vị báo cáo."))


def _entry_rows(form: ReportForm, values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for element in form.elements.all():
        # a switched-off element is shown only where a report already holds a value of it
        total = element.field_name()
        if not element.active and not any(k == total or k.startswith(total + ".") for k in values):
            continue
        cells = [{"name": total, "label": _("Tổng số"), "value": values.get(total, ""),
                  "error": errors.get(total, "")}]
        for dim in element.disaggregations:
            for opt, label in DISAGGREGATION_OPTIONS[dim]:
                name = element.field_name(f"{dim}:{opt}")
                cells.append({"name": name, "label": label, "value": values.get(name, ""),
                              "error": errors.get(name, "")})
        rows.append({"element": element, "cells": cells})
    return rows


def _fmt(value) -> str:
    from vitreem.core.text import format_number

    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return format_number(value, 0 if value == value.to_integral_value() else 2)


@login_required
@require_http_methods(["GET", "POST"])
def entry(request, form_code: str, period: str):
    """The data-entry screen of one report: quick to fill, saves drafts, checks rules, submits."""
    form = sel.forms_for_user(user=request.user).filter(code=form_code).first()
    if form is None:
        raise NotFound(_("Không tìm thấy biểu mẫu."))
    parsed = period_parse(period)
    member_unit, unit = _assignee_from(request, form)
    key = sv.assignee_key(member_unit=member_unit, unit=unit)
    submission = Submission.objects.filter(form=form, period=parsed.code, assignee_key=key).first()
    if submission is not None:
        submission = sel.submission_get_for_user(user=request.user, submission_id=submission.pk)
    elif not is_manager(request.user):
        # nothing saved yet: only someone who may enter it gets the empty form
        sv.assignee_require_write(request.user, form=form, member_unit=member_unit, unit=unit)
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    values: dict[str, Any] = {k: _fmt(v) for k, v in (sel.submission_values(submission) if submission else {}).items()}
    confirmations = dict(submission.confirmations) if submission else {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        values = {k: request.POST.get(k, "").strip() for row in _entry_rows(form, {}, {}) for k in
                  [c["name"] for c in row["cells"]]}
        confirmations = {k[len("confirm:"):]: v for k, v in request.POST.items() if k.startswith("confirm:")}
        try:
            if submission is None:
                submission = sv.submission_open(actor=request.user, form=form, period=parsed.code,
                                                member_unit=member_unit, unit=unit)
            if action == "check":
                checked = sv.submission_check(submission=submission, raw=values, final=True)
                errors, warnings = checked.errors, checked.warnings
            else:
                checked = sv.submission_save(actor=request.user, submission=submission, values=values,
                                             confirmations=confirmations, submit=action == "submit",
                                             expected_version=request.POST.get("version") or None)
                if action == "submit":
                    messages.success(request, _("Đã nộp báo cáo. Cơ quan thường trực sẽ xem xét."))
                    return redirect("programme:submission", submission_id=submission.pk)
                messages.success(request, _("Đã lưu nháp."))
                if not checked.warnings:
                    return redirect(f"{request.path}?for={key}")
                warnings = checked.warnings
                submission.refresh_from_db()
        except ValidationFailed as exc:
            errors = exc.errors
            status = 400
            if submission is not None:
                warnings = sv.submission_check(submission=submission, raw=values, final=False).warnings
        except Conflict as exc:
            messages.error(request, exc.message)
            status = 409
        if submission is not None and submission.pk:
            submission.refresh_from_db()
    general = {k: v for k, v in errors.items() if k.startswith("confirm:") or k not in
               {c["name"] for row in _entry_rows(form, {}, {}) for c in row["cells"]}}
    context = {
        "form": form, "period": parsed, "submission": submission, "key": key,
        "due_on": submission.due_on if submission else parsed.due_on(form.deadline_days),
        "assignee": member_unit or unit, "rows": _entry_rows(form, values, errors), "errors": errors,
        "general_errors": general, "warnings": [{"key": k, "message": m, "comment": confirmations.get(k, "")}
                                                for k, m in warnings.items()],
        "editable": submission is None or submission.editable, "manager": is_manager(request.user),
    }
    if request.htmx and request.POST.get("action") == "check":
        return render(request, "programme/_checks.html", context)
    return render(request, "programme/entry.html", context, status=status)


@login_required
def inbox(request):
    user = request.user
    default = SubmissionStatus.SUBMITTED if is_manager(user) else ""
    status = request.GET.get("status", default)
    qs = sel.submissions_for_user(user=user, status=status, form=request.GET.get("form", ""),
                                  period=request.GET.get("period", ""))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "programme/inbox.html", {"page": page, "status": status,
                                                    "statuses": SubmissionStatus.choices})


@login_required
@require_http_methods(["GET", "POST"])
def submission_detail(request, submission_id: int):
    submission = sel.submission_get_for_user(user=request.user, submission_id=submission_id)
    form = ReviewForm(request.POST or None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        comment = request.POST.get("comment", "")
        try:
            if action == "accept":
                sv.submission_accept(actor=request.user, submission=submission, comment=comment)
                messages.success(request, _("Đã chấp nhận và khoá báo cáo."))
            elif action == "return":
                sv.submission_return(actor=request.user, submission=submission, comment=comment)
                messages.success(request, _("Đã trả lại báo cáo cho đơn vị."))
            elif action == "reopen":
                sv.submission_reopen(actor=request.user, submission=submission, reason=comment)
                messages.success(request, _("Đã mở lại báo cáo để sửa."))
            elif action == "submit":
                sv.submission_submit(actor=request.user, submission=submission)
                messages.success(request, _("Đã nộp báo cáo."))
            else:
                raise ValidationFailed({"action": _("Thao tác không hợp lệ.")})
            return redirect("programme:submission", submission_id=submission.pk)
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, _error_text(exc))
            status = exc.status
        submission.refresh_from_db()
    values = sel.submission_values(submission)
    rows = _entry_rows(submission.form, {k: _fmt(v) for k, v in values.items()}, {})
    return render(request, "programme/submission_detail.html", {
        "submission": submission, "rows": rows, "form": form, "manager": is_manager(request.user),
        "history": [{"at": e.at, "actor": e.actor, "action": SUBMISSION_ACTIONS.get(e.action, e.action)}
                    for e in history_for(submission)[:50]],
    }, status=status)


@login_required
def completeness_matrix(request):
    require_reader(request.user)
    year = _year(request)
    blocks = sel.completeness(year=year, user=request.user)
    return render(request, "programme/completeness.html", {"blocks": blocks, "year": year})


# ---------------------------------------------------------------- evaluation


@login_required
@require_http_methods(["GET", "POST"])
def evaluation(request):
    require_reader(request.user)
    year = _year(request)
    if request.method == "POST":
        try:
            sv.evaluation_finalise(actor=request.user, year=year, summary=request.POST.get("summary", ""))
            messages.success(request, _("Đã hoàn tất đánh giá năm %(y)s.") % {"y": year})
            return redirect(f"{request.path}?year={year}")
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, _error_text(exc))
    data = sel.evaluation_for_year(year=year, user=request.user)
    owned = set(request.user.member_unit_id and [request.user.member_unit.code] or [])
    for row in data["targets"]:
        row["can_explain"] = not data["finalised"] and (is_manager(request.user) or row["owner"] in owned)
    return render(request, "programme/evaluation.html", {
        "data": data, "year": year, "years": list(range(2021, timezone.localdate().year + 1)),
        "trend_years": list(range(2021, year + 1)), "manager": is_manager(request.user),
        "explanation_form": ExplanationForm(),
    }, status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def explanation(request, code: str, year: int):
    indicator = sel.indicator_get(code=code)
    try:
        sv.explanation_write(actor=request.user, indicator=indicator, year=year,
                             causes=request.POST.get("causes", ""), solutions=request.POST.get("solutions", ""))
        messages.success(request, _("Đã lưu giải trình cho chỉ tiêu %(n)s.") % {"n": indicator.name})
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    return redirect(f"/programme/evaluation/?year={year}#ind-{indicator.code}")


@login_required
@require_http_methods(["GET", "POST"])
def member_unit_detail(request, code: str):
    member_unit = sel.member_unit_get_for_user(user=request.user, code=code)
    year = _year(request)
    form = RatingForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                sv.member_evaluation_confirm(actor=request.user, year=year, member_unit=member_unit,
                                             rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"])
                messages.success(request, _("Đã xác nhận xếp loại."))
                return redirect(f"{request.path}?year={year}")
            except PermissionDenied:
                raise
            except DomainError as exc:
                messages.error(request, _error_text(exc))
        elif not is_manager(request.user):
            raise PermissionDenied(_("Chỉ cơ quan thường trực được thực hiện việc này."))
    targets = [r for r in sel.evaluation_for_year(year=year, with_trend=False)["targets"] if r["owner"] == code]
    ev = sel.member_unit_evaluations(year=year, member_units=[member_unit], target_rows=targets)[0]
    tasks = list(Task.objects.filter(plan__year=year, lead_unit=member_unit).select_related("plan"))
    blocks = sel.completeness(year=year, user=request.user, member_unit=member_unit)
    return render(request, "programme/member_unit.html", {
        "mu": member_unit, "ev": ev, "year": year, "tasks": tasks, "blocks": blocks, "targets": targets,
        "form": form, "manager": is_manager(request.user), "today": timezone.localdate(),
    }, status=400 if request.method == "POST" else 200)


@login_required
def member_unit_list(request):
    require_reader(request.user)
    year = _year(request)
    rows = sel.member_unit_evaluations(year=year, user=request.user)
    # The standing agency is dated: the page names the one of the year shown (its last day, or today).
    day = min(dt.date(year, 12, 31), timezone.localdate())
    return render(request, "programme/member_units.html", {"rows": rows, "year": year, "standing_day": day,
                                                           "standing_agency": standing_agency_on(day)})


# ---------------------------------------------------------------- plans and tasks


@login_required
@require_http_methods(["GET", "POST"])
def plan_list(request):
    require_reader(request.user)
    year = _year(request, timezone.localdate().year)
    units = (member_units_during(dt.date(year, 1, 1), dt.date(year, 12, 31)) if is_manager(request.user)
             else MemberUnit.objects.filter(pk=request.user.member_unit_id))
    form = PlanForm(request.POST or None, member_units=units, initial={"year": year})
    if request.method == "POST" and form.is_valid():
        try:
            plan = sv.plan_create(actor=request.user, **form.cleaned_data)
            return redirect("programme:plan", plan_id=plan.pk)
        except PermissionDenied:
            raise
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                form.add_error(name if name in form.fields else None, message)
    plans = sel.plans_for_user(user=request.user, year=year)
    return render(request, "programme/plan_list.html", {"plans": plans, "year": year, "form": form,
                                                        "can_create": is_manager(request.user)
                                                        or is_reporter(request.user)},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def plan_detail(request, plan_id: int):
    plan = sel.plan_get_for_user(user=request.user, plan_id=plan_id)
    form = TaskForm(request.POST or None, year=plan.year)
    if request.method == "POST" and form.is_valid():
        try:
            sv.task_create(actor=request.user, plan=plan, **form.cleaned_data)
            messages.success(request, _("Đã thêm nhiệm vụ."))
            return redirect("programme:plan", plan_id=plan.pk)
        except PermissionDenied:
            raise
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                form.add_error(name if name in form.fields else None, message)
    tasks = sel.tasks_of_plan(plan=plan)
    can_edit = is_manager(request.user) or (plan.kind == Plan.Kind.MEMBER_UNIT
                                            and plan.member_unit_id == request.user.member_unit_id)
    return render(request, "programme/plan_detail.html", {
        "plan": plan, "tasks": tasks, "form": form, "can_edit": can_edit, "today": timezone.localdate(),
        "my_unit": request.user.member_unit_id, "manager": is_manager(request.user),
    }, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request, task_id: int):
    task = sel.task_get_for_user(user=request.user, task_id=task_id)
    form = TaskUpdateForm(request.POST or None, initial={"status": task.status, "result": task.result,
                                                         "done_on": task.done_on})
    if request.method == "POST" and form.is_valid():
        try:
            sv.task_update(actor=request.user, task=task, **form.cleaned_data)
            messages.success(request, _("Đã cập nhật nhiệm vụ."))
            return redirect("programme:plan", plan_id=task.plan_id)
        except PermissionDenied:
            raise
        except ValidationFailed as exc:
            for name, message in exc.errors.items():
                form.add_error(name if name in form.fields else None, message)
    can_edit = is_manager(request.user) or task.lead_unit_id == request.user.member_unit_id
    return render(request, "programme/task_detail.html", {"task": task, "form": form, "can_edit": can_edit,
                                                          "history": history_for(task)[:20]},
                  status=400 if form.errors else 200)


def home_panel_context(request) -> dict | None:
    user = request.user
    if not (is_reporter(user) or enters_commune_reports(user)):
        return None
    due = sel.reports_due_for_user(user=user)[:5]
    return {"due": due} if due else None


# ---------------------------------------------------------------- settings: indicators, forms, elements, rules
# The standing agency's maintenance screens (like DHIS2's maintenance app, simpler). Everyone else gets a
# 403 page, on GET as on POST. Services validate, audit and keep what reports already use.


def _put_errors(form, exc: ValidationFailed) -> None:
    for name, message in exc.errors.items():
        form.add_error(name if name in form.fields else None, message)


@login_required
def settings_index(request):
    require_manager(request.user)
    indicators = Indicator.objects.select_related("owner").order_by("objective", "order", "code")
    forms = ReportForm.objects.annotate(n_elements=Count("elements", filter=Q(elements__active=True), distinct=True),
                                        n_rules=Count("rules", filter=Q(rules__active=True), distinct=True))
    return render(request, "programme/settings_index.html", {"indicators": indicators, "forms": forms})


_INDICATOR_FIELDS = ["name", "name_en", "definition", "objective", "measure", "direction", "disaggregations",
                     "source", "owner", "numerator_code", "denominator_code", "numerator_element",
                     "denominator_element", "national_2025", "national_2030", "national_note", "baseline_year",
                     "baseline_value", "order", "active"]


def _initial(obj, names) -> dict[str, Any]:
    out = {}
    for name in names:
        value = getattr(obj, name)
        out[name] = list(value.all()) if hasattr(value, "all") else ("" if value is None else value)
    return out


@login_required
@require_http_methods(["GET", "POST"])
def settings_indicator(request, code: str | None = None):
    """Create (no code) or edit an indicator with its targets for 2021–2030, saved together or not at all."""
    require_manager(request.user)
    indicator = sel.indicator_get(code=code) if code else None
    initial: dict[str, Any] = {"active": True}
    if indicator is not None:
        initial = _initial(indicator, _INDICATOR_FIELDS)
        for t in Target.objects.filter(indicator=indicator):
            initial[f"target_{t.year}"], initial[f"target_note_{t.year}"] = _fmt(t.value), t.note
    form = IndicatorForm(request.POST or None, initial=initial, creating=indicator is None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                if indicator is None:
                    saved = sv.indicator_create(actor=request.user, code=request.POST.get("code", ""),
                                                data=form.indicator_data())
                else:
                    saved = sv.indicator_update(actor=request.user, indicator=indicator, data=form.indicator_data())
                sv.targets_set(actor=request.user, indicator=saved, values=form.target_values())
        except ValidationFailed as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Đã lưu chỉ tiêu %(n)s.") % {"n": saved.name})
            return redirect("programme:settings_indicator", code=saved.code)
    history = history_in_words(history_for(indicator)[:20], form) if indicator is not None else []
    return render(request, "programme/settings_indicator.html", {
        "form": form, "indicator": indicator, "history": history}, status=400 if form.errors else 200)


def _form_get(code: str) -> ReportForm:
    form = ReportForm.objects.filter(code=code).first()
    if form is None:
        raise NotFound(_("Không tìm thấy biểu mẫu."))
    return form


@login_required
@require_http_methods(["GET", "POST"])
def settings_form(request, form_code: str | None = None):
    """Create (no code) or edit a report form; its page also lists and adds its elements and rules."""
    require_manager(request.user)
    report_form = _form_get(form_code) if form_code else None
    posted = request.POST if request.method == "POST" else None
    which = request.POST.get("which", "form")
    initial = _initial(report_form, ["name", "period_type", "deadline_days", "remind_days_before", "member_units",
                                     "for_communes", "province", "active"]) if report_form else {}
    form = ReportFormForm(posted if which == "form" else None, initial=initial, creating=report_form is None)
    element_form = rule_form = None
    if report_form is not None:
        # three forms on one page: distinct element ids, so each label names its own input
        element_form = ElementForm(posted if which == "element" else None, report_form=report_form,
                                   initial={"required": True, "measure": "number"}, auto_id="element_%s")
        rule_form = RuleForm(posted if which == "rule" else None, report_form=report_form, auto_id="rule_%s")
    bound = {"form": form, "element": element_form, "rule": rule_form}.get(which)
    if request.method == "POST" and bound is not None and bound.is_valid():
        data = dict(bound.cleaned_data)
        try:
            with transaction.atomic():  # a new form and its reminder setting together, or nothing
                report_form = _settings_form_save(request, which, report_form, data)
        except ValidationFailed as exc:
            _put_errors(bound, exc)
        else:
            messages.success(request, _("Đã lưu."))
            return redirect("programme:settings_form", form_code=report_form.code)
    context: dict[str, Any] = {
        "form": form, "report_form": report_form, "element_form": element_form, "rule_form": rule_form,
        "history": history_in_words(history_for(report_form)[:20], form) if report_form else []}
    if report_form is not None:
        context["elements"] = list(report_form.elements.select_related("part_of"))
        context["rules"] = list(report_form.rules.select_related("left", "right"))
    errors = any(f is not None and f.errors for f in (form, element_form, rule_form))
    return render(request, "programme/settings_form.html", context, status=400 if errors else 200)


def _settings_form_save(request, which: str, report_form: ReportForm | None, data: dict[str, Any]) -> ReportForm:
    """The write behind one of the three forms of the report-form page; returns the report form."""
    if report_form is None:  # only the form's own fields are posted when it is being created
        saved = sv.form_create(actor=request.user, code=data.pop("code"), name=data.pop("name"),
                               name_en=data.pop("name_en", ""),
                               period_type=data.pop("period_type"), deadline_days=data.pop("deadline_days"),
                               member_units=data.pop("member_units"), for_communes=data.pop("for_communes"),
                               province=data.pop("province"))
        if data.get("remind_days_before") not in (None, ""):
            sv.form_update(actor=request.user, form=saved, data={"remind_days_before": data["remind_days_before"]})
        return saved
    if which == "form":
        sv.form_update(actor=request.user, form=report_form, data=data)
    elif which == "element":
        sv.element_add(actor=request.user, form=report_form, **data)
    else:
        sv.rule_add(actor=request.user, form=report_form, **data)
    return report_form


def _remove_or_restore(request, *, obj, remove, restore, label: str) -> str | None:
    action = request.POST.get("action")
    if action == "remove":
        outcome = remove(actor=request.user, **obj)
        messages.success(request, _("Đã xoá %(l)s.") % {"l": label} if outcome == "deleted" else
                         _("%(l)s đã có số liệu báo cáo nên được ngừng sử dụng (không xoá).") % {"l": label})
        return outcome
    if action == "restore":
        restore(actor=request.user, **obj)
        messages.success(request, _("Đã dùng lại %(l)s.") % {"l": label})
        return "restored"
    return None


@login_required
@require_http_methods(["GET", "POST"])
def settings_element(request, form_code: str, element_id: int):
    require_manager(request.user)
    report_form = _form_get(form_code)
    element = report_form.elements.filter(pk=element_id).first()
    if element is None:
        raise NotFound(_("Không tìm thấy chỉ tiêu báo cáo."))
    back = redirect("programme:settings_form", form_code=report_form.code)
    if request.method == "POST" and _remove_or_restore(
            request, obj={"element": element}, remove=sv.element_remove, restore=sv.element_restore,
            label=element.name):
        return back
    form = ElementForm(request.POST or None, report_form=report_form, element=element,
                       initial=_initial(element, ["code", "name", "measure", "disaggregations", "part_of",
                                                  "required", "order"]))
    if request.method == "POST" and form.is_valid():
        try:
            sv.element_update(actor=request.user, element=element, data=form.cleaned_data)
        except ValidationFailed as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Đã lưu."))
            return back
    return render(request, "programme/settings_item.html", {
        "form": form, "report_form": report_form, "item": element, "used": sv.element_used(element),
        "title": _("Chỉ tiêu báo cáo: %(n)s") % {"n": element.name}, "history": history_in_words(
            history_for(element)[:20], form),
    }, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def settings_rule(request, form_code: str, rule_id: int):
    require_manager(request.user)
    report_form = _form_get(form_code)
    rule = report_form.rules.filter(pk=rule_id).select_related("left").first()
    if rule is None:
        raise NotFound(_("Không tìm thấy quy tắc kiểm tra."))
    back = redirect("programme:settings_form", form_code=report_form.code)
    label = _("quy tắc kiểm tra %(n)s") % {"n": rule.left.name}
    if request.method == "POST" and _remove_or_restore(
            request, obj={"rule": rule}, remove=sv.rule_remove, restore=sv.rule_restore, label=label):
        return back
    initial = _initial(rule, ["kind", "severity", "left", "right", "message"])
    initial.update({name: _fmt(getattr(rule, name)) for name in ("minimum", "maximum", "threshold")})
    form = RuleForm(request.POST or None, report_form=report_form, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sv.rule_update(actor=request.user, rule=rule, data=form.cleaned_data)
        except ValidationFailed as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Đã lưu."))
            return back
    return render(request, "programme/settings_item.html", {
        "form": form, "report_form": report_form, "item": rule, "used": sv.rule_used(rule),
        "title": _("Quy tắc kiểm tra: %(n)s") % {"n": rule.left.name}, "history": history_in_words(
            history_for(rule)[:20], form),
    }, status=400 if form.errors else 200)
