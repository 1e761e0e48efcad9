"""Pages: overview with the year's figures, lists with filters, quick entry forms, the training's
participants (add a row or upload a sheet), the calendar, play points, partners and the budget table.
Views are thin: they parse, call a selector or a service, and render."""

from __future__ import annotations

import calendar
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vitreem.core.audit import history_for, history_in_words
from vitreem.core.errors import DomainError, NotFound, PermissionDenied
from vitreem.core.params import MAX_ID, int_param, page_param
from vitreem.core.scope import scope_for
from vitreem.places.selectors import unit_resolve
from vitreem.stats.engine import indicators, params_for

from . import forms as f
from . import selectors as sel
from . import services
from .models import Kind, Partner, Source, Status, Topic
from .sheets import SheetInvalid, template_xlsx


def _unit_param(request, year: int):
    ref = request.GET.get("unit", "").strip()
    if not ref:
        return None
    try:
        unit = unit_resolve(ref) if ":" in ref else unit_resolve(ref, on=params_for(year=year).as_of)
    except DomainError:
        return None
    return unit if scope_for(request.user).sees_unit(unit.pk) else None


def can_write(user) -> bool:
    return scope_for(user).write_children


@login_required
@require_GET
def index(request):
    year = f.parse_year(request.GET.get("year"))
    unit = _unit_param(request, year)
    params = params_for(year=year, unit=unit, user=request.user)
    figures = sel.activity_figures(year=year, unit=unit, user=request.user)
    registry = indicators()
    cards = []
    for code in ("communication_events", "people_reached", "training_courses", "trainees", "campaigns",
                 "recreation_events", "children_in_recreation", "budget_allocated", "budget_spent"):
        ind = registry[code]
        cards.append({"code": code, "label": ind.label, "value": figures[code], "measure": ind.measure,
                      "url": ind.drilldown(params) if ind.drilldown else None})
    return render(request, "activities/index.html", {
        "year": year, "unit": unit, "figures": figures, "cards": cards,
        "play_points": figures["play_points"], "sources": Source.choices,
        "by_source": [(label, figures["budget_by_source"][code]) for code, label in Source.choices],
        "kinds": Kind.choices, "can_write": can_write(request.user),
        "years": list(range(dt.date.today().year, 2019, -1)),  # noqa: DTZ011 — a list of years
    })


@login_required
@require_GET
def activity_list(request):
    year = f.parse_year(request.GET.get("year"))
    unit = _unit_param(request, year)
    params = params_for(year=year, unit=unit, user=request.user)
    partner = request.GET.get("partner", "")
    qs = sel.activities_filter(
        sel.activities_for_user(user=request.user), kind=request.GET.get("kind", ""),
        topic=request.GET.get("topic", ""), status=request.GET.get("status", ""),
        unit_ids=sel.unit_ids_for_period(params) if unit else None,
        start=params.period_start, end=params.period_end,
        partner=int_param(partner, name="partner", minimum=1, maximum=MAX_ID), q=request.GET.get("q", ""))
    page = Paginator(qs, 50).get_page(page_param(request.GET.get("page")))
    return render(request, "activities/list.html", {
        "page": page, "year": year, "unit": unit, "kinds": Kind.choices, "topics": Topic.choices,
        "statuses": Status.choices, "partners": Partner.objects.order_by("name"), "can_write": can_write(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def activity_create(request, kind: str):
    if kind not in Kind.values:
        raise Http404
    form = f.ActivityForm(request.POST or None, user=request.user, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(actor=request.user, kind=kind, data=form.data_for_service())
        except DomainError as exc:
            f.put_errors(form, exc)
        else:
            messages.success(request, _("Đã lưu hoạt động."))
            return redirect("activities:detail", activity.pk)
    return render(request, "activities/form.html", {"form": form, "kind": Kind(kind), "activity": None},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk: int):
    activity = sel.activity_get_for_user(user=request.user, activity_id=pk)
    initial = {name: getattr(activity, name) for name in f.ActivityForm.base_fields
               if hasattr(activity, name) and name not in {"partners", "units_taking_part"}}
    initial["unit"], initial["budget_line"] = activity.unit_id, activity.budget_line_id
    initial["organiser"] = activity.organiser_id
    initial["partners"] = list(activity.partners.values_list("pk", flat=True))
    initial["units_taking_part"] = list(activity.units_taking_part.values_list("pk", flat=True))
    form = f.ActivityForm(request.POST or None, user=request.user, kind=activity.kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(actor=request.user, activity=activity, data=form.data_for_service(),
                                     expected_version=int(request.POST.get("version") or activity.version))
        except DomainError as exc:
            f.put_errors(form, exc)
        else:
            messages.success(request, _("Đã lưu thay đổi."))
            return redirect("activities:detail", activity.pk)
    return render(request, "activities/form.html", {"form": form, "kind": Kind(activity.kind), "activity": activity},
                  status=400 if form.errors else 200)


def _detail_context(request, activity, **extra):
    ctx = {"activity": activity, "can_write": can_write(request.user) and
           scope_for(request.user).sees_unit(activity.unit_id), "statuses": Status.choices,
           "partners": list(activity.partners.all()), "attachments": list(activity.attachments.all())}
    if activity.kind == Kind.TRAINING:
        ctx.update(participants=list(sel.participants_of(activity)), summary=sel.participants_summary(activity),
                   participant_form=extra.pop("participant_form", None) or f.ParticipantForm(),
                   upload_form=f.UploadForm())
    if activity.kind == Kind.RECREATION:
        ctx.update(child_links=list(sel.linked_children_for_user(user=request.user, activity=activity)),
                   child_form=extra.pop("child_form", None) or f.ChildLinkForm())
    if activity.kind == Kind.CAMPAIGN:
        ctx["units_taking_part"] = list(activity.units_taking_part.order_by("code"))
    ctx["attachment_form"] = f.AttachmentForm()
    ctx.update(extra)
    return ctx


@login_required
@require_GET
def activity_detail(request, pk: int):
    activity = sel.activity_get_for_user(user=request.user, activity_id=pk)
    return render(request, "activities/detail.html", _detail_context(request, activity))


@login_required
@require_POST
def activity_status(request, pk: int):
    activity = sel.activity_get_for_user(user=request.user, activity_id=pk)
    try:
        services.activity_set_status(actor=request.user, activity=activity, status=request.POST.get("status", ""))
    except PermissionDenied:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("activities:detail", activity.pk)


@login_required
@require_POST
def participant_add(request, pk: int):
    activity = sel.activity_get_for_user(user=request.user, activity_id=pk)
    form = f.ParticipantForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.participant_add(actor=request.user, activity=activity, data=form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as exc:
            f.put_errors(form, exc)
            status = 400
        else:
            form = f.ParticipantForm()
    else:
        status = 400
    ctx = _detail_context(request, activity, participant_form=form)
    if request.htmx:
        return render(request, "activities/_participants.html", ctx, status=status)
    return render(request, "activities/detail.html", ctx, status=status)


@login_required
@require_POST
def participant_remove(request, pk: int, participant_id: int):
    activity = sel.activity_get_for_user(user=request.user, activity_id=pk)
    participant = activity.participants.filter(pk=participant_id).first()
    if participant is None:
        raise Http404
    services.participant_remove(actor=request.user, participant=participant)
    if request.htmx:
        return render(request, "activities/_participants.html", _detail_context(request, activity))
    return redirect("activities:detail", activity.pk)


@login_required
@require_POST
def participants_upload(request, pk: int):
    activity = sel.activity_get_for_user(user=request.user, activity_id=pk)
    form = f.UploadForm(request.POST, request.FILES)
    sheet_errors = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > 5 * 1024 * 1024:
                raise DomainError(_("Tệp lớn hơn 5 MB."), field="file")
            count = services.participants_import(actor=request.user, activity=activity, content=upload.read(),
                                                 replace=form.cleaned_data["replace"])
        except PermissionDenied:
            raise
        except SheetInvalid as exc:
            sheet_errors = exc.rows
            messages.error(request, exc.message)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Đã thêm %(n)d người từ danh sách.") % {"n": count})
            return redirect("activities:detail", activity.pk)
    ctx = _detail_context(request, activity, sheet_errors=sheet_errors)
    ctx["upload_form"] = form
    return render(request, "activities/detail.html", ctx, status=400)


@login_required
@require_GET
def participants_template(request):
    response = HttpResponse(template_xlsx(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="danh-sach-hoc-vien.xlsx"'
    return response


@login_required
@require_POST
def child_link(request, pk: int):
    activity = sel.activity_get_for_user(user=request.user, activity_id=pk)
    form = f.ChildLinkForm(request.POST)
    if form.is_valid():
        try:
            services.recreation_child_link(actor=request.user, activity=activity,
                                           child_id=form.cleaned_data["child_id"], gift=form.cleaned_data["gift"],
                                           gift_value=form.cleaned_data["gift_value"] or 0)
        except PermissionDenied:
            raise
        except DomainError as exc:
            f.put_errors(form, exc)
        else:
            return redirect("activities:detail", activity.pk)
    return render(request, "activities/detail.html", _detail_context(request, activity, child_form=form), status=400)


@login_required
@require_POST
def attachment_add(request, pk: int):
    activity = sel.activity_get_for_user(user=request.user, activity_id=pk)
    form = f.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(actor=request.user, activity=activity, upload=form.cleaned_data["file"],
                                    title=form.cleaned_data["title"])
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Đã đính kèm tệp."))
    return redirect("activities:detail", activity.pk)


@login_required
@require_GET
def activity_calendar(request):
    first = f.parse_month(request.GET.get("month"))
    days_in = calendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=days_in)
    items = list(sel.activities_planned(user=request.user, start=first, end=last))
    weeks = [[{"day": d, "in_month": d.month == first.month,
               "items": [a for a in items if a.start_date <= d <= a.end_date]} for d in week]
             for week in calendar.Calendar().monthdatescalendar(first.year, first.month)]
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    next_month = last + dt.timedelta(days=1)
    return render(request, "activities/calendar.html", {
        "first": first, "weeks": weeks, "items": items, "prev": prev_month.strftime("%Y-%m"),
        "next": next_month.strftime("%Y-%m")})


@login_required
@require_http_methods(["GET", "POST"])
def play_points(request):
    form = f.PlayPointForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.play_point_create(actor=request.user, **form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as exc:
            f.put_errors(form, exc)
        else:
            messages.success(request, _("Đã thêm điểm vui chơi."))
            return redirect("activities:play_points")
    on = None
    if request.GET.get("on"):
        try:
            on = dt.date.fromisoformat(request.GET["on"])
        except ValueError:
            on = None
    year = on.year if on else f.parse_year(None)
    unit = _unit_param(request, year)
    points = sel.play_points_for_user(user=request.user, unit=unit, on=on)
    page = Paginator(points, 100).get_page(request.GET.get("page"))
    return render(request, "activities/play_points.html", {
        "page": page, "form": form, "on": on, "unit": unit, "can_write": can_write(request.user)},
        status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def partners(request):
    # two forms on one page: distinct element ids, so each label names its own input
    partner_form = f.PartnerForm(request.POST if request.POST.get("form") == "partner" else None,
                                 auto_id="partner_%s")
    project_form = f.ProjectForm(request.POST if request.POST.get("form") == "project" else None, user=request.user,
                                 auto_id="project_%s")
    if request.method == "POST":
        form = partner_form if request.POST.get("form") == "partner" else project_form
        if form.is_valid():
            try:
                if form is partner_form:
                    services.partner_create(actor=request.user, **form.cleaned_data)
                else:
                    data = dict(form.cleaned_data)
                    data["funding"] = data.get("funding") or 0
                    data["communes"] = list(data.get("communes") or [])
                    services.project_create(actor=request.user, **data)
            except PermissionDenied:
                raise
            except DomainError as exc:
                f.put_errors(form, exc)
            else:
                messages.success(request, _("Đã lưu."))
                return redirect("activities:partners")
    return render(request, "activities/partners.html", {
        "partners": sel.partners_list(), "projects": sel.projects_for_user(user=request.user).prefetch_related(
            "communes"), "partner_form": partner_form, "project_form": project_form,
        "province": scope_for(request.user).province_wide, "can_write": can_write(request.user),
        "can_edit": scope_for(request.user).standing_agency},
        status=400 if (partner_form.errors or project_form.errors) else 200)


@login_required
@require_http_methods(["GET", "POST"])
def budget(request):
    year = f.parse_year(request.GET.get("year"))
    unit = _unit_param(request, year)
    which = request.POST.get("form")
    alloc_form = f.AllocationForm(request.POST if which == "allocation" else None, user=request.user,
                                  initial={"year": year}, auto_id="allocation_%s")
    spend_form = f.SpendingForm(request.POST if which == "spending" else None, user=request.user, year=year,
                                auto_id="spending_%s")
    if request.method == "POST":
        form = alloc_form if which == "allocation" else spend_form
        if form.is_valid():
            try:
                if form is alloc_form:
                    services.allocation_create(actor=request.user, **form.cleaned_data)
                else:
                    services.spending_record(actor=request.user, **form.cleaned_data)
            except PermissionDenied:
                raise
            except DomainError as exc:
                f.put_errors(form, exc)
            else:
                messages.success(request, _("Đã lưu."))
                return redirect(f"{request.path}?year={year}")
    params = params_for(year=year, unit=unit, user=request.user)
    table = sel.budget_table(params)
    return render(request, "activities/budget.html", {
        "year": year, "unit": unit, "table": table, "alloc_form": alloc_form, "spend_form": spend_form,
        "can_write": can_write(request.user)},
        status=400 if (alloc_form.errors or spend_form.errors) else 200)


# ---------------------------------------------------------------- settings screens (standing agency only)


def _edit_page(request, *, form, title: str, save, back: str, obj, extra: dict | None = None):
    """One edit screen: the officer's form → the service → back to the list, or the refusal on the form
    (nothing saved). Everyone else gets a 403 page, on GET as on POST."""
    services.require_officer(request.user)
    if request.method == "POST" and form.is_valid():
        try:
            save(dict(form.cleaned_data))
        except PermissionDenied:
            raise
        except DomainError as exc:
            f.put_errors(form, exc)
        else:
            messages.success(request, _("Đã lưu."))
            return redirect(back)
    return render(request, "activities/edit.html", {
        "form": form, "title": title, "back": back, "history": history_in_words(history_for(obj)[:20], form),
        **(extra or {})},
        status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def partner_edit(request, partner_id: int):
    services.require_officer(request.user)
    partner = Partner.objects.filter(pk=partner_id).first()
    if partner is None:
        raise NotFound(_("Không tìm thấy đối tác."))
    form = f.PartnerEditForm(request.POST or None,
                             initial=f.initial_of(partner, ["name", "kind", "country", "contact", "active"]))
    return _edit_page(request, form=form, obj=partner, title=_("Sửa đối tác: %(n)s") % {"n": partner.name},
                      back=reverse("activities:partners"),
                      save=lambda data: services.partner_update(actor=request.user, partner=partner, data=data))


@login_required
@require_http_methods(["GET", "POST"])
def project_edit(request, project_id: int):
    services.require_officer(request.user)
    project = sel.project_get_for_user(user=request.user, project_id=project_id)
    form = f.ProjectForm(request.POST or None, user=request.user, initial=f.initial_of(project, [
        "partner", "name", "model_type", "unit", "start_date", "end_date", "funding", "communes", "results"]))

    def save(data):
        data["communes"] = list(data.get("communes") or [])
        data["funding"] = data.get("funding") or 0
        services.project_update(actor=request.user, project=project, data=data)

    return _edit_page(request, form=form, obj=project, title=_("Sửa dự án, mô hình: %(n)s") % {"n": project.name},
                      back=reverse("activities:partners"), save=save)


@login_required
@require_GET
def budget_lines(request):
    """The budget lines of a year with their spending, each with its edit link (officers)."""
    year = f.parse_year(request.GET.get("year"))
    lines = list(sel.allocations_for_user(user=request.user, year=year).select_related("project")
                 .prefetch_related("spendings"))
    return render(request, "activities/budget_lines.html", {
        "year": year, "lines": lines, "can_edit": scope_for(request.user).standing_agency})


@login_required
@require_http_methods(["GET", "POST"])
def allocation_edit(request, allocation_id: int):
    services.require_officer(request.user)
    line = sel.allocation_get_for_user(user=request.user, allocation_id=allocation_id)
    form = f.AllocationEditForm(request.POST or None, user=request.user, initial=f.initial_of(line, [
        "year", "unit", "member_unit", "source", "purpose", "amount", "project", "note"]))
    return _edit_page(request, form=form, obj=line, title=_("Sửa dòng dự toán: %(n)s") % {"n": str(line)},
                      back=f"{reverse('activities:budget_lines')}?year={line.year}",
                      save=lambda data: services.allocation_update(actor=request.user, line=line, data=data))


@login_required
@require_http_methods(["GET", "POST"])
def spending_edit(request, spending_id: int):
    services.require_officer(request.user)
    spending = sel.spending_get_for_user(user=request.user, spending_id=spending_id)
    form = f.SpendingForm(request.POST or None, user=request.user, initial=f.initial_of(spending, [
        "allocation", "spent_on", "amount", "description"]))
    return _edit_page(request, form=form, obj=spending,
                      title=_("Sửa khoản chi ngày %(d)s") % {"d": spending.spent_on.strftime("%d/%m/%Y")},
                      back=f"{reverse('activities:budget_lines')}?year={spending.allocation.year}",
                      save=lambda data: services.spending_update(actor=request.user, spending=spending, data=data),
                      extra={"activity": spending.activity})


# what activities/home_panel.html shows
HOME_CODES = ["communication_events", "training_courses", "recreation_events"]


def home_panel(request):
    """Home page: this year's activity figures in the user's scope."""
    if not request.user.is_authenticated or not scope_for(request.user).unit_ids:
        return None
    from vitreem.stats.selectors import default_unit

    year = dt.date.today().year  # noqa: DTZ011 — the calendar year is enough here
    # the user's main unit (their province, their commune): its figures are stored (rollups), where the
    # whole of the user's scope would be computed on every visit
    unit = default_unit(request.user, timezone.localdate())
    # Last values while the worker recomputes after a change (marked): under steady data entry the
    # province's figures were recomputed by every officer's visit to the home page (the load benchmark).
    updating: set = set()
    figures = sel.activity_figures(year=year, unit=unit, user=request.user, codes=HOME_CODES, updating=updating)
    return {"year": year, "figures": figures, "unit": unit, "updating": bool(updating)}
