"""Case screens: thin views over the selectors and services (server-rendered, htmx for the child search)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vitreem.core.audit import audit_access, audit_read_list
from vitreem.core.errors import DomainError, NotFound
from vitreem.core.params import page_param, year_param
from vitreem.core.scope import scope_for
from vitreem.registry.selectors import children_for_user

from . import attachments as attachment_services
from . import forms, services
from .documents import FORMS, document_render
from .models import Attachment, Channel, Concern, Plan, Status
from .notifications import due_label
from .selectors import (
    case_get_for_user,
    case_list,
    cases_due_first,
    cases_due_soon,
    cases_for_user,
    cases_overdue,
    commune_choices,
    mask_name,
    names_visible,
    referral_open_for,
    timeline_for,
)
from .workflow import case_actions_for


def _error_page(request, exc: DomainError):
    template = "404.html" if exc.status == 404 else "403.html"
    return render(request, template, {"message": exc.message}, status=exc.status)


def _rows(request, cases) -> list[dict[str, Any]]:
    full = names_visible(request.user)
    now = timezone.now()
    # The labels looked up once per page: Django's get_FOO_display translates every choice of the field
    # on each call (about 1,150 translations for a page of 50 cases, a quarter of the page's time).
    concerns, statuses = dict(Concern.choices), dict(Status.choices)
    return [{"case": c, "child": c.child.full_name if full else mask_name(c.child.full_name),
             "concern": concerns.get(c.concern, c.concern), "status": statuses.get(c.status, c.status),
             "overdue": bool(c.next_due_at and c.next_due_at <= now), "due_label": due_label(c.next_due_kind)}
            for c in cases]


@login_required
@require_GET
def case_list_view(request):
    if not scope_for(request.user).read_case_details:
        return redirect("cases:stats")
    g = request.GET
    mine = g.get("mine", "1" if scope_for(request.user).commune_worker and not g else "") == "1"
    qs = case_list(user=request.user, status=g.get("status", ""), concern=g.get("concern", ""),
                   unit=g.get("unit", ""), age_band=g.get("age_band", ""), sex=g.get("sex", ""),
                   ethnicity=g.get("ethnicity", ""), overdue=g.get("overdue", ""), mine=mine, q=g.get("q", ""))
    page = Paginator(qs, 50).get_page(page_param(g.get("page")))
    audit_read_list(user=request.user, what="cases.case", filters={**g.dict(), "mine": mine},
                    count=len(page.object_list), total=page.paginator.count)
    from vitreem.registry.forms import options_html
    from vitreem.registry.models import Ethnicity

    communes = commune_choices(request.user)
    return render(request, "cases/list.html", {
        "page": page, "rows": _rows(request, page.object_list), "statuses": Status.choices,
        "concerns": Concern.choices, "mine": mine,
        "unit_options": options_html(communes, g.get("unit", "")) if communes else "",
        "ethnicity_options": options_html(Ethnicity.objects.order_by("code").values_list("code", "name"),
                                          g.get("ethnicity", "")),
        "age_bands": ["0-5", "6-10", "11-15"], "can_intake": scope_for(request.user).works_cases,
        "title": _("Vụ việc của tôi") if mine else _("Danh sách vụ việc"),
    })


@login_required
@require_GET
def overdue_view(request):
    if not scope_for(request.user).read_case_details:
        return redirect("cases:stats")
    mine = request.GET.get("mine") == "1"
    overdue = _rows(request, cases_overdue(user=request.user, mine=mine)[:300])
    due_soon = _rows(request, cases_due_soon(user=request.user, mine=mine)[:300])
    audit_read_list(user=request.user, what="cases.case", filters={"overdue": "list", "mine": mine},
                    count=len(overdue) + len(due_soon))
    return render(request, "cases/overdue.html", {"overdue": overdue, "due_soon": due_soon, "mine": mine})


@login_required
@require_GET
def child_search(request):
    """htmx: children of the worker's communes matching a name, for the intake form."""
    from vitreem.core.text import fold

    # The intake form's search box sends its own name (child_q); the API-style name q is kept.
    q = (request.GET.get("q") or request.GET.get("child_q") or "").strip()
    children = []
    if len(q) >= 2:
        children = list(children_for_user(user=request.user).filter(name_key__contains=fold(q))
                        .select_related("unit").order_by("given_key", "name_key")[:15])
    return render(request, "cases/_child_options.html", {"children": children, "q": q})


@login_required
@require_http_methods(["GET", "POST"])
def intake_view(request):
    if not scope_for(request.user).works_cases:
        return render(request, "403.html", {"message": _("Chỉ người làm công tác bảo vệ trẻ em tiếp nhận vụ việc.")},
                      status=403)
    form = forms.IntakeForm(request.POST or None,
                            initial={"received_at": timezone.localtime().replace(second=0, microsecond=0)})
    duplicates = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            new_child = None
            if not d["child"] and d["new_full_name"]:
                new_child = {"full_name": d["new_full_name"], "birth_date": d["new_birth_date"], "sex": d["new_sex"],
                             "village": d["new_village"]}
            try:
                case = services.case_intake(
                    actor=request.user, child=d["child"], new_child=new_child,
                    confirm_not_duplicate=d["confirm_not_duplicate"], received_at=d["received_at"],
                    channel=d["channel"], place=d["place"], concern=d["concern"], summary=d["summary"],
                    reporter_anonymous=d["reporter_anonymous"], reporter_name=d["reporter_name"],
                    reporter_phone=d["reporter_phone"], reporter_relation=d["reporter_relation"],
                    perpetrator=d["perpetrator"], in_danger=d["in_danger"])
            except DomainError as exc:
                status = exc.status
                _form_errors(form, exc)
                duplicates = getattr(exc, "candidates", None)
            else:
                messages.success(request, _("Đã tiếp nhận vụ việc %(c)s.") % {"c": case.code})
                return redirect("cases:detail", case_id=case.pk)
        else:
            status = 400
    chosen = None
    if form.data.get("child"):
        chosen = children_for_user(user=request.user).filter(pk=form.data.get("child")).first()
    return render(request, "cases/intake.html", {"form": form, "duplicates": duplicates, "chosen": chosen},
                  status=status)


def _form_errors(form, exc: DomainError) -> None:
    errors = getattr(exc, "errors", None) or {exc.field or "__all__": exc.message}
    for field, message in errors.items():
        name = field.replace("child.", "new_") if field.startswith("child.") else field
        if name == "new_full_name" or name in form.fields:
            form.add_error(name, str(message))
        else:
            form.add_error(None, str(message))


# ---------------------------------------------------------------- the case page and its steps

# The form each action of the workflow table shows on the case page, with its initial values.
# "item", "referral_close" and "attach" are per-row buttons (plan items, referrals, the upload form).
def _action_forms(case, v: dict[str, Any], candidates: list) -> dict[str, Callable[[], Any]]:
    today = timezone.localdate()
    now_local = timezone.localtime().replace(second=0, microsecond=0)
    return {
        "edit": lambda: True,
        "verify": lambda: forms.VerifyForm(initial={**v, "verified_on": today}),
        "emergency": lambda: forms.EmergencyForm(initial={**v, "done_at": now_local}),
        "isolate": lambda: forms.IsolateForm(initial={**v, "start": today, "until": today + dt.timedelta(days=14)}),
        "isolation_extend": lambda: forms.ExtendForm(initial=v),
        "isolation_end": lambda: forms.IsolationEndForm(initial={**v, "ended_on": today}),
        "assess": lambda: forms.AssessForm(initial={**v, "assessed_on": today}),
        "plan": lambda: forms.PlanForm(initial={**v, "drafted_on": today, "review_on": today + dt.timedelta(days=30)}),
        "approve": lambda: forms.ApproveForm(initial={**v, "approved_on": today}),
        "review": lambda: forms.ReviewForm(initial={**v, "reviewed_on": today}),
        "close": lambda: forms.CloseForm(initial=v),
        "reopen": lambda: forms.ReopenForm(initial=v),
        "note": lambda: forms.NoteForm(initial=v),
        "referral": lambda: forms.ReferralForm(initial=v),
        "reassign": lambda: forms.ReassignForm(initial=v, candidates=candidates),
    }


def _detail_context(request, case, *, forms_override: dict[str, Any] | None = None) -> dict[str, Any]:
    user = request.user
    today = timezone.localdate()
    # What the page offers is what the workflow table allows (the services check the same table).
    allowed = case_actions_for(user, case)
    candidates = list(services.owner_candidates(case)) if "reassign" in allowed else []
    makers = _action_forms(case, {"version": case.version}, candidates)
    actions: dict[str, Any] = {name: makers[name]() for name in allowed if name in makers}
    if forms_override:
        actions.update(forms_override)
    for name, form in actions.items():
        # Several forms share a page: give each its own ids so every label points at its own field.
        if isinstance(form, forms.forms.Form):
            form.auto_id = f"{name}-%s"
    plans = list(case.plans.prefetch_related("items").order_by("-number"))
    return {
        "case": case, "actions": actions, "plans": plans, "reviews": list(case.reviews.all()),
        "referrals": list(case.referrals.select_related("member_unit")), "events": list(timeline_for(case)[:200]),
        "attachments": list(case.attachments.all()), "forms_list": FORMS.items(),
        "allowed": set(allowed), "attachment_form": forms.AttachmentForm(),
        "agency_referral": referral_open_for(case, user),
        "item_statuses": forms.PlanItem.ItemStatus.choices, "approved_state": Plan.State.APPROVED,
        "due_label": due_label(case.next_due_kind),
        "overdue": bool(case.next_due_at and case.next_due_at <= timezone.now()),
        "child_age": case.child.age_on(today), "reassign_candidates": bool(candidates),
    }


@login_required
@require_GET
def detail_view(request, case_id: int):
    try:
        case = case_get_for_user(user=request.user, case_id=case_id)
    except DomainError as exc:
        return _error_page(request, exc)
    return render(request, "cases/detail.html", _detail_context(request, case))


def _call(fn: Callable, **fixed: Any) -> Callable:
    def run(actor, case_id, version, data):
        return fn(actor=actor, case=case_id, expected_version=version, **fixed, **data)

    return run


ACTIONS: dict[str, tuple[type, Callable]] = {
    "verify": (forms.VerifyForm, _call(services.case_verify)),
    "emergency": (forms.EmergencyForm, _call(services.case_emergency)),
    "isolate": (forms.IsolateForm, _call(services.case_isolate)),
    "isolation_extend": (forms.ExtendForm, _call(services.case_isolation_extend)),
    "isolation_end": (forms.IsolationEndForm, _call(services.case_isolation_end)),
    "assess": (forms.AssessForm, _call(services.case_assess)),
    "approve": (forms.ApproveForm, _call(services.plan_approve)),
    "item": (forms.ItemForm, _call(services.plan_item_update)),
    "note": (forms.NoteForm, _call(services.case_note)),
    "referral": (forms.ReferralForm, _call(services.referral_open)),
    "referral_close": (forms.ReferralCloseForm, _call(services.referral_close)),
    "review": (forms.ReviewForm, _call(services.case_review)),
    "close": (forms.CloseForm, _call(services.case_close)),
    "reopen": (forms.ReopenForm, _call(services.case_reopen)),
}


@login_required
@require_POST
def action_view(request, case_id: int, action: str):
    """One step of the case (a POST from a form on the case page). Refusals re-render the page with
    the message and the user's input; nothing is saved."""
    try:
        case = case_get_for_user(user=request.user, case_id=case_id, audit=False)
    except DomainError as exc:
        return _error_page(request, exc)
    if action == "plan":
        form: Any = forms.PlanForm(request.POST)
        run = None
    elif action in ACTIONS:
        form_class, run = ACTIONS[action]
        form = form_class(request.POST)
    else:
        return _error_page(request, NotFound(_("Không có bước này.")))
    status = 400
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        try:
            if action == "plan":
                services.plan_draft(actor=request.user, case=case.pk, expected_version=version,
                                    drafted_on=data["drafted_on"], goal=data["goal"], review_on=data["review_on"],
                                    items=form.items())
            else:
                assert run is not None
                run(request.user, case.pk, version, data)
        except DomainError as exc:
            status = exc.status
            if exc.status in (403, 404) and not getattr(exc, "errors", None):
                return _error_page(request, exc)
            _form_errors(form, exc)
        else:
            messages.success(request, _("Đã lưu."))
            if not cases_for_user(request.user).filter(pk=case.pk).exists():
                return redirect("cases:list")
            return redirect("cases:detail", case_id=case.pk)
    case = case_get_for_user(user=request.user, case_id=case.pk, audit=False)
    ctx = _detail_context(request, case, forms_override={action: form} if action not in ("item", "referral_close")
                          else None)
    ctx["failed_action"] = action
    ctx["failed_errors"] = [str(e) for errs in form.errors.values() for e in errs]
    return render(request, "cases/detail.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def reassign_view(request, case_id: int):
    """Hand the case to another worker of its commune (htmx form on the case page; a plain POST
    works too). With htmx a refusal answers the form with its messages and status 200, because
    htmx swaps only 2xx answers; a success sends the browser back to the case page."""
    from django_htmx.http import HttpResponseClientRedirect

    try:
        case = case_get_for_user(user=request.user, case_id=case_id, audit=False)
    except DomainError as exc:
        return _error_page(request, exc)
    if not scope_for(request.user).manages_caseload:
        return render(request, "403.html", {"message": _("Vai trò của bạn không được giao lại vụ việc.")},
                      status=403)
    candidates = list(services.owner_candidates(case))
    form = forms.ReassignForm(request.POST or None, initial={"version": case.version}, candidates=candidates)
    form.auto_id = "reassign-%s"
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.case_reassign(actor=request.user, case=case.pk, expected_version=data["version"],
                                       owner=data["owner"], reason=data["reason"])
            except DomainError as exc:
                if exc.status in (403, 404) and not getattr(exc, "errors", None):
                    return _error_page(request, exc)
                status = exc.status
                _form_errors(form, exc)
            else:
                messages.success(request, _("Đã giao lại vụ việc."))
                target = reverse("cases:detail", kwargs={"case_id": case.pk})
                return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    if request.htmx or request.method == "GET":
        return render(request, "cases/_reassign_form.html",
                      {"form": form, "case": case, "has_candidates": bool(candidates)},
                      status=200 if request.htmx else status)
    ctx = _detail_context(request, case, forms_override={"reassign": form})
    ctx["failed_action"] = "reassign"
    ctx["failed_errors"] = [str(e) for errs in form.errors.values() for e in errs]
    return render(request, "cases/detail.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit_view(request, case_id: int):
    try:
        # The form shows the whole case: opening it is a read like the case page (audited); a save is a change.
        case = case_get_for_user(user=request.user, case_id=case_id, audit=request.method == "GET")
    except DomainError as exc:
        return _error_page(request, exc)
    initial = {name: getattr(case, name) for name in services.EDITABLE_FIELDS} | {"version": case.version}
    form = forms.EditForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version", None)
            try:
                services.case_update(actor=request.user, case=case.pk, expected_version=version, **data)
            except DomainError as exc:
                if exc.status in (403, 404):
                    return _error_page(request, exc)
                status = exc.status
                _form_errors(form, exc)
            else:
                messages.success(request, _("Đã lưu thay đổi."))
                return redirect("cases:detail", case_id=case.pk)
    return render(request, "cases/edit.html", {"form": form, "case": case}, status=status)


@login_required
@require_GET
def document_view(request, case_id: int, form: str, fmt: str):
    try:
        case = case_get_for_user(user=request.user, case_id=case_id, audit=False)
        content, filename, content_type = document_render(case=case, form=form, fmt=fmt)
    except DomainError as exc:
        if exc.status in (403, 404):
            return _error_page(request, exc)
        messages.error(request, exc.message)
        return redirect("cases:detail", case_id=case_id)
    from django.db import transaction

    with transaction.atomic():
        audit_access(actor=request.user, obj=case, unit=case.unit_id, action=f"print:{form}")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def attachment_upload(request, case_id: int):
    try:
        case = case_get_for_user(user=request.user, case_id=case_id, audit=False)
    except DomainError as exc:
        return _error_page(request, exc)
    form = forms.AttachmentForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            attachment_services.attachment_add(actor=request.user, case=case.pk, upload=form.cleaned_data["file"],
                                               description=form.cleaned_data["description"])
        except DomainError as exc:
            if exc.status in (403, 404) and not getattr(exc, "errors", None):
                return _error_page(request, exc)
            status = exc.status
            _form_errors(form, exc)
        else:
            messages.success(request, _("Đã đính kèm tệp."))
            return redirect("cases:detail", case_id=case.pk)
    ctx = _detail_context(request, case)
    ctx["attachment_form"] = form
    ctx["failed_action"] = "attachment"
    ctx["failed_errors"] = [str(e) for errs in form.errors.values() for e in errs]
    return render(request, "cases/detail.html", ctx, status=status)


@login_required
@require_GET
def attachment_download(request, case_id: int, attachment_id: int):
    try:
        case = case_get_for_user(user=request.user, case_id=case_id, audit=False)
    except DomainError as exc:
        return _error_page(request, exc)
    attachment = Attachment.objects.filter(pk=attachment_id, case=case).first()
    if attachment is None:
        return _error_page(request, NotFound(_("Không tìm thấy tệp.")))
    from django.db import transaction

    with transaction.atomic():
        audit_access(actor=request.user, obj=case, unit=case.unit_id, action=f"attachment:{attachment.pk}")
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name,
                        content_type=attachment.content_type)


@login_required
@require_GET
def stats_view(request):
    """Counts only: what leaders and member-unit reporters may see (and everyone else too)."""
    from vitreem.stats.engine import compute, params_for

    from . import indicators

    year = year_param(request.GET.get("year"), default=timezone.localdate().year)
    params = indicators.params_for_counts(user=request.user, year=year) or params_for(year=year, user=request.user)
    values = compute(params, indicators.CODES)
    from vitreem.stats.engine import indicators as registry

    reg = registry()
    from .models import Outcome

    labels = {"cases_by_type": dict(Concern.choices), "cases_by_channel": dict(Channel.choices),
              "cases_by_outcome": dict(Outcome.choices)}
    rows = []
    for code in indicators.CODES:
        value = values[code]
        items = ([(labels.get(code, {}).get(k, k), v) for k, v in value.items()]
                 if isinstance(value, dict) else None)
        rows.append({"code": code, "label": reg[code].label, "value": value, "items": items})
    return render(request, "cases/stats.html", {
        "rows": rows, "year": year, "years": range(timezone.localdate().year, 2020, -1),
    })


def home_panel_context(request) -> dict[str, Any] | None:
    user = request.user
    scope = scope_for(user)
    if not scope.read_case_details:  # leaders and reporters see the counts only
        return None
    mine = scope.commune_worker
    # The heading counts every case of the list, the table shows the first ten (issue 21 item 4: "Quá hạn
    # (10)" under a headline of 13 overdue cases); a worker's lists are the cases she is in charge of, and
    # say so, beside the commune's figure above.
    lists = cases_due_first(user=user, mine=mine, first=10)
    (overdue, overdue_total), (soon, soon_total) = lists["overdue"], lists["due_soon"]
    from .notifications import notifications_for_user

    notices = list(notifications_for_user(user=user)[:5])
    if not overdue and not soon and not notices and not scope.works_cases:
        return None
    return {"overdue": _rows(request, overdue), "due_soon": _rows(request, soon), "notices": notices, "mine": mine,
            "overdue_total": overdue_total, "due_soon_total": soon_total}
