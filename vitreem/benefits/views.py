"""Benefit screens: thin views over selectors (reads) and services (writes)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vitreem.core.audit import audit_read_list
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from vitreem.core.params import page_param, unit_param, year_param
from vitreem.core.scope import require_ability, scope_for
from vitreem.places.selectors import unit_resolve

from . import forms, selectors, services
from .export import amount_in_words, payroll_xlsx
from .models import AllowanceStatus, BeneficiaryGroup, DecisionKind, PaidLine
from .rules import RuleBook, month_label, month_of, month_parse


def _reader(view):
    """Login, and a role that may read child data (reporters and referral agencies may not)."""
    @login_required
    def wrapped(request, *args, **kwargs):
        require_ability(request.user, "read_children", _("Tài khoản của bạn không được xem dữ liệu trợ cấp."))
        return view(request, *args, **kwargs)
    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _unit_param(request, *, on: dt.date | None = None):
    return unit_param(request.GET.get("unit"), user=request.user, on=on)


@_reader
@require_GET
def index(request):
    today = timezone.localdate()
    month = month_of(today)
    updating: set = set()
    summary = selectors.payroll_summary_for_user(user=request.user, updating=updating)
    return render(request, "benefits/index.html", {
        "month": month, "summary": summary, "base_level": RuleBook.load().base_for(month) or 0,
        "words": amount_in_words(summary["total"]), "updating": bool(updating),
        "active": selectors.recipients_active_count(user=request.user),
    })


@_reader
@require_GET
def rules(request):
    return render(request, "benefits/rules.html", {
        **selectors.rules_current(), "can_edit": scope_for(request.user).edits_rules,
        "base_form": forms.BaseLevelForm(), "coef_form": forms.CoefficientForm(),
    })


@_reader
@require_POST
def rules_base_add(request):
    form = forms.BaseLevelForm(request.POST)
    if form.is_valid():
        try:
            services.base_level_set(actor=request.user, amount=form.cleaned_data["amount"],
                                    valid_from=form.cleaned_data["valid_from"],
                                    legal_basis=form.cleaned_data["legal_basis"])
            messages.success(request, _("Đã thêm mức chuẩn mới."))
            return redirect("benefits:rules")
        except (ValidationFailed, DomainError) as exc:
            if isinstance(exc, PermissionDenied):
                raise  # its page: core.middleware.DomainErrorMiddleware
            form.add_error(None, exc.message)
    return render(request, "benefits/rules.html", {
        **selectors.rules_current(), "can_edit": True, "base_form": form, "coef_form": forms.CoefficientForm()},
        status=400)


@_reader
@require_POST
def rules_coefficient_add(request):
    form = forms.CoefficientForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.coefficient_set(actor=request.user, group=d["group"], age_from=d["age_from"], age_to=d["age_to"],
                                     value=d["value"], valid_from=d["valid_from"], legal_basis=d["legal_basis"])
            messages.success(request, _("Đã thêm hệ số mới."))
            return redirect("benefits:rules")
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise  # its page: core.middleware.DomainErrorMiddleware
            form.add_error(None, exc.message)
    return render(request, "benefits/rules.html", {
        **selectors.rules_current(), "can_edit": True, "base_form": forms.BaseLevelForm(), "coef_form": form},
        status=400)


@_reader
@require_GET
def eligibility(request):
    on = _date(request.GET.get("on")) or timezone.localdate()
    unit = _unit_param(request)
    result = selectors.eligibility_for_user(user=request.user, on=on, unit=unit)
    audit_read_list(user=request.user, what="benefits.eligibility", filters={**request.GET.dict(), "on": on},
                    count=len(result.eligible) + len(result.enrolled) + len(result.to_stop))
    return render(request, "benefits/eligibility.html", {
        "result": result, "unit": unit, "can_write": scope_for(request.user).write_children,
        "can_except": services.can_record_exception(request.user), "today": timezone.localdate(),
        "tab": request.GET.get("tab", "eligible"),
    })


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@_reader
@require_POST
def enrol(request):
    """Enrol a child from the eligibility list (htmx: replaces the row with the result)."""
    from vitreem.registry.selectors import child_get_for_user

    form = forms.EnrolForm(request.POST)
    error = ""
    allowance = None
    if form.is_valid():
        d = form.cleaned_data
        try:
            child = child_get_for_user(user=request.user, child_id=d["child"], audit=False)
            allowance = services.allowance_enrol(
                actor=request.user, child=child, group=d["group"], number=d["number"], decided_on=d["decided_on"],
                signed_by=d["signed_by"], arrears_from=d["arrears_from"], arrears_reason=d["arrears_reason"],
                exception_reason=d["exception_reason"], certified_on=d.get("certified_on"))
        except DomainError as exc:
            if isinstance(exc, (NotFound, PermissionDenied)) and not request.htmx:
                raise  # its page: core.middleware.DomainErrorMiddleware
            error = str(exc.message)
    else:
        error = "; ".join(f"{form.fields[k].label if k in form.fields else ''}: {' '.join(v)}"
                          for k, v in form.errors.items())
    if request.htmx:
        return render(request, "benefits/_enrol_result.html", {"allowance": allowance, "error": error},
                      status=200 if allowance else 400)
    if allowance:
        messages.success(request, _("Đã ghi quyết định hưởng trợ cấp."))
        return redirect("benefits:recipient", allowance_id=allowance.pk)
    messages.error(request, error)
    return redirect(reverse("benefits:eligibility"))


@_reader
def single_parent(request, child_id: int):
    """Enrol a child's father or mother as a single parent (Decree 20/2021, Art. 5(4)): the parent's own
    allowance for the household's children raised."""
    from vitreem.registry.selectors import child_get_for_user

    child = child_get_for_user(user=request.user, child_id=child_id)  # shows the child's family: audited
    guardians, family = selectors.single_parent_family(user=request.user, child=child)
    form = forms.SingleParentForm(request.POST or None, guardians=guardians, children=family,
                                  initial={"children": [child.pk]})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            allowance = services.single_parent_enrol(
                actor=request.user, guardian=int(d["guardian"]), children=[int(pk) for pk in d["children"]],
                single_reason=d["single_reason"], number=d["number"], decided_on=d["decided_on"],
                signed_by=d["signed_by"])
        except (ValidationFailed, Conflict) as exc:
            errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": str(exc.message)}
            for name, message in errors.items():
                form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, _("Đã ghi quyết định trợ cấp người đơn thân nuôi con."))
            return redirect("benefits:recipient", allowance_id=allowance.pk)
    return render(request, "benefits/single_parent.html", {"form": form, "child": child},
                  status=400 if form.errors else 200)


@_reader
@require_GET
def recipients(request):
    as_of = _date(request.GET.get("as_of"))
    unit = _unit_param(request, on=as_of)
    qs = selectors.recipients_for_user(user=request.user, status=request.GET.get("status", ""),
                                       q=request.GET.get("q", ""), unit=None if as_of else unit,
                                       health_card=request.GET.get("health_card", ""))
    if as_of is not None:
        # The list behind the `allowance_recipients` figure: same rule as the indicator.
        qs = qs.filter(child__in=_children_with_allowance(request.user, as_of, unit))
    page = Paginator(qs, 50).get_page(page_param(request.GET.get("page")))
    audit_read_list(user=request.user, what="benefits.allowance", filters=request.GET.dict(),
                    count=len(page.object_list), total=page.paginator.count)
    return render(request, "benefits/recipients.html", {"page": page, "statuses": AllowanceStatus.choices,
                                                         "as_of": as_of})


def _children_with_allowance(user, day: dt.date, unit):
    from vitreem.registry.models import Child
    from vitreem.registry.rules import q_child_on, q_lives_in, q_special_on
    from vitreem.stats.engine import params_for

    from .indicators import q_allowance_on

    ids = params_for(as_of=day, unit=unit, user=user).commune_ids(day)
    return Child.objects.filter(q_child_on(day) & q_lives_in(day, ids) & q_special_on(day)
                                & q_allowance_on(day)).values("pk")


@_reader
@require_GET
def recipient(request, allowance_id: int):
    allowance = selectors.allowance_get_for_user(user=request.user, allowance_id=allowance_id)
    periods = allowance.periods.select_related("group", "decision")
    paid = (PaidLine.objects.filter(allowance=allowance).select_related("payroll", "payroll__unit")
            .order_by("-for_month", "pk")[:120])
    writer = scope_for(request.user).write_children
    return render(request, "benefits/recipient.html", {
        "a": allowance, "periods": periods, "decisions": allowance.decisions.select_related("group"),
        "paid": paid, "adjustments": allowance.adjustments.select_related("settled_in"), "can_write": writer,
        "stop_form": forms.StopForm(), "suspend_form": forms.SuspendForm(), "resume_form": forms.ResumeForm(),
        "group_form": forms.ChangeGroupForm(), "adjust_form": forms.AdjustForm(), "card_form": forms.HealthCardForm(),
        "can_except": services.can_record_exception(request.user),
    })


ACTIONS = {
    "stop": (forms.StopForm, lambda user, a, d: services.allowance_stop(
        actor=user, allowance=a, reason=d["reason"], number=d["number"], decided_on=d["decided_on"],
        signed_by=d["signed_by"], last_month=d["last_month"], note=d["note"], transfer_to=d["transfer_to"])),
    "suspend": (forms.SuspendForm, lambda user, a, d: services.allowance_suspend(
        actor=user, allowance=a, number=d["number"], decided_on=d["decided_on"], signed_by=d["signed_by"],
        from_month=d["from_month"], reason=d["reason"])),
    "resume": (forms.ResumeForm, lambda user, a, d: services.allowance_resume(
        actor=user, allowance=a, number=d["number"], decided_on=d["decided_on"], signed_by=d["signed_by"],
        from_month=d["from_month"])),
    "group": (forms.ChangeGroupForm, lambda user, a, d: services.allowance_change_group(
        actor=user, allowance=a, group=d["group"], number=d["number"], decided_on=d["decided_on"],
        signed_by=d["signed_by"], from_month=d["from_month"], exception_reason=d["exception_reason"])),
    "adjust": (forms.AdjustForm, lambda user, a, d: services.payroll_adjust(
        actor=user, allowance=a, for_month=d["for_month"], amount=d["amount"], reason=d["reason"])),
    "health-card": (forms.HealthCardForm, lambda user, a, d: services.allowance_health_card_set(
        actor=user, allowance=a, issued_on=d["health_card_issued_on"], number=d["health_card_number"])),
}


@_reader
@require_POST
def recipient_action(request, allowance_id: int, action: str):
    allowance = selectors.allowance_get_for_user(user=request.user, allowance_id=allowance_id, audit=False)
    if action not in ACTIONS:
        return render(request, "404.html", status=404)
    form_class, run = ACTIONS[action]
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(" ".join(str(e) for e in v) for v in form.errors.values()))
        return redirect("benefits:recipient", allowance_id=allowance.pk)
    try:
        run(request.user, allowance, form.cleaned_data)
        messages.success(request, _("Đã ghi."))
    except PermissionDenied:
        raise  # its page: core.middleware.DomainErrorMiddleware
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("benefits:recipient", allowance_id=allowance.pk)


@_reader
@require_GET
def decisions(request):
    qs = selectors.decisions_for_user(user=request.user, kind=request.GET.get("kind", ""))
    page = Paginator(qs, 50).get_page(page_param(request.GET.get("page")))
    return render(request, "benefits/decisions.html", {"page": page, "kinds": DecisionKind.choices})


@_reader
@require_GET
def payroll_index(request):
    return render(request, "benefits/payroll_index.html", {"months": selectors.payroll_months(user=request.user)})


def _payroll_context(request, month_text: str):
    month = month_parse(month_text)
    unit = _unit_param(request, on=month)
    result = selectors.payroll_for_user(user=request.user, month=month, unit=unit)
    return month, unit, result


@_reader
@require_GET
def payroll(request, month: str):
    try:
        first, unit, result = _payroll_context(request, month)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return render(request, "benefits/payroll.html", {"error": exc.message}, status=400)
    page = Paginator(result.lines, 100).get_page(page_param(request.GET.get("page")))
    audit_read_list(user=request.user, what="benefits.payroll", filters={**request.GET.dict(), "month": month},
                    count=len(page.object_list), total=len(result.lines))
    # The lines carry the official (Vietnamese) group name for the exported payroll; the screen shows
    # the group in the request's language.
    groups = {g.code: g.local_name for g in BeneficiaryGroup.objects.all()}
    return render(request, "benefits/payroll.html", {
        "month": first, "label": month_label(first), "unit": unit, "result": result, "page": page,
        "rows": [(line, groups.get(line.group_code, line.group_name)) for line in page.object_list],
        "words": amount_in_words(result.total, lang=get_language() or "vi"), "can_lock": scope_for(request.user).write_children and not result.locked
        and first <= month_of(timezone.localdate()),
    })


@_reader
@require_GET
def payroll_export(request, month: str):
    from collections import Counter

    from vitreem.privacy.exports import export_audit, require_export_names

    require_export_names(request.user)  # a payroll names every recipient (issue 15 item 8)
    try:
        first, unit, result = _payroll_context(request, month)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return render(request, "benefits/payroll.html", {"error": exc.message}, status=400)
    title = unit.name if unit else _("Toàn bộ phạm vi")
    export_audit(actor=request.user, what="benefits.payroll", rows=len(result.lines),
                 filters={**request.GET.dict(), "month": month},
                 units={str(u): n for u, n in Counter(line.unit_id for line in result.lines).items()})
    response = HttpResponse(payroll_xlsx(result, title_unit=title),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="chi-tra-{first:%Y-%m}.xlsx"'
    return response


@_reader
@require_POST
def payroll_lock(request, month: str):
    try:
        first = month_parse(month)
        unit = _unit_param_post(request, first)
        locked = services.payroll_lock(actor=request.user, month=first, unit=unit)
        messages.success(request, _("Đã khóa bảng chi trả tháng %(m)s cho %(n)s xã/phường.")
                         % {"m": month_label(first), "n": len(locked)})
    except PermissionDenied:
        raise  # its page: core.middleware.DomainErrorMiddleware
    except DomainError as exc:
        messages.error(request, exc.message)
    url = reverse("benefits:payroll", args=[month])
    return redirect(url + (f"?unit={request.POST['unit']}" if request.POST.get("unit") else ""))


def _unit_param_post(request, month: dt.date):
    ref = (request.POST.get("unit") or "").strip()
    if ref:
        return unit_resolve(ref, on=month) if ":" not in ref else unit_resolve(ref)
    units = list(request.user.units.all())
    from vitreem.places.models import version_on

    units = [u for u in units if u.version == version_on(month)] or units
    if not units:
        raise PermissionDenied(_("Bạn không phụ trách đơn vị nào."))
    return units[0]


@_reader
@require_http_methods(["GET"])
def budget(request):
    year_int = year_param(request.GET.get("year"), default=timezone.localdate().year + 1)
    unit = _unit_param(request)
    forecast = selectors.budget_forecast(user=request.user, year=year_int, unit=unit)
    return render(request, "benefits/budget.html", {"f": forecast, "unit": unit})


def home_panel(request):
    """The home page block: this month's payroll at a glance (None for roles without child data)."""
    if not request.user.is_authenticated or not scope_for(request.user).read_children:
        return None
    return {"active": selectors.recipients_active_count(user=request.user), "month": month_of(timezone.localdate())}
