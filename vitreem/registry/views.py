"""Registry screens: thin views over selectors (reads, scoped) and services (writes, audited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vitreem.accounts.http import AuthenticatedHttpRequest
from vitreem.core.audit import audit_read_list, history_for
from vitreem.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from vitreem.core.models import AuditEntry
from vitreem.core.params import page_param
from vitreem.core.scope import require_ability, scope_for
from vitreem.places.selectors import unit_resolve

from . import services
from .forms import (
    ChildFilterForm,
    ChildForm,
    EndForm,
    EpisodeCloseForm,
    EpisodeOpenForm,
    GuardianForm,
    GuardianRemoveForm,
    HouseholdForm,
    MoveForm,
    PovertyForm,
    PovertyReviewForm,
    RiskAssessForm,
)
from .history import history_rows
from .models import BirthPrecision, Child, Sex
from .selectors import (
    WordMatches,
    child_get_for_user,
    children_filter,
    children_flags,
    children_for_user,
    episode_get_for_user,
    guardian_get_for_user,
    household_get_for_user,
    household_members_for_user,
    households_for_user,
    is_name_search,
    list_day,
    listed_poverty,
    page_rows,
    poverty_review_in_force,
    poverty_reviews_for_user,
    word_search_keys,
)

PAGE_SIZE = 50


COUNT_CAP = 10_000
# A name search counts fewer: its matches are all read and sorted by name (no index gives that order),
# and one common word finds tens of thousands ("thi", the middle name of most girls: 33,000 children
# of the demo province). Sorting them to count up to 10,000 was a third of that search (the keys' top
# 10,001 of 33,000: 29 ms of 78 ms of SQL); past 1,000 matches the page says to type more of the name.
SEARCH_COUNT_CAP = 1_000


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows (`exact` says whether the count is the whole total).

    The rows counted are taken in the order of the scope's unit: PostgreSQL then reads the unit index
    and stops after `cap` + 1. Unordered, it chose a table scan that stops at the same count and
    costed it as if the scope's rows were spread evenly, but one province's children lie together: on
    the 1,000,000-child country a province whose rows come late read 215 MB (194 ms; 4.5 ms by the
    index), and the table of a country of 25 million is 10 GiB."""

    def __init__(self, *args: Any, cap: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        qs = cast(QuerySet, self.object_list)
        return qs.order_by("unit_id")[: self.cap + 1].count()

    @property
    def exact(self) -> bool:
        return self.count <= self.cap


def _page(paginator: Paginator, number: str | None, *, searching: bool, by_key: QuerySet | None = None,
          keys: WordMatches | None = None) -> Page:
    """paginator.get_page, but the last page (often the only one) needs no COUNT query. `by_key`,
    `keys`: see `page_rows`."""
    wanted = page_param(number)
    rows, total = page_rows(cast(QuerySet, paginator.object_list), offset=(wanted - 1) * paginator.per_page,
                            limit=paginator.per_page, keys_first=searching,
                            cap=paginator.cap if isinstance(paginator, CappedPaginator) else None, by_key=by_key,
                            keys=keys)
    if total is None:
        page = paginator.get_page(wanted)
        if page.number == wanted:
            return Page(rows, wanted, paginator)
        return page  # beyond the last page: Django's get_page shows the last one
    paginator.__dict__["count"] = total  # fills the cached_property: no COUNT query
    return Page(rows, wanted, paginator)


@dataclass
class Row:
    """A child as a list shows it: the record, its birth date as written, its badges, the link to its
    page and its sex as written."""

    child: Child
    birth: str
    flags: dict[str, Any]
    url: str
    sex: str


def list_rows(children: list[Child], flags: dict[int, dict[str, Any]]) -> list[Row]:
    """The rows of a list of children. The link and the sex label are made here once per page: a
    `{% url %}` and a `get_sex_display` (which translates every choice of the field) per row were
    about a sixth of the rendering of a 50-row page."""
    prefix = reverse("registry:child", args=[0]).removesuffix("0/")
    sexes = {value: str(label) for value, label in Sex.choices}
    return [Row(c, birth_display(c), flags.get(c.pk, {}), f"{prefix}{c.pk}/", sexes.get(c.sex, c.sex))
            for c in children]




def _require_read(user) -> None:
    # Names of children are sensitive (Decree 13/2023): member-unit reporters see figures only.
    require_ability(user, "read_children", _("Tài khoản của bạn không được xem danh sách trẻ em."))


def _require_write(user) -> None:
    if not scope_for(user).write_children:
        raise PermissionDenied(_("Tài khoản của bạn chỉ được xem, không được sửa dữ liệu."))


def birth_display(child: Child) -> str:
    """dd/mm/yyyy, or mm/yyyy / yyyy when only that much of the birth date is known."""
    if child.birth_precision == BirthPrecision.YEAR:
        return str(child.birth_date.year)
    if child.birth_precision == BirthPrecision.MONTH:
        return child.birth_date.strftime("%m/%Y")
    return child.birth_date.strftime("%d/%m/%Y")


# ---------------------------------------------------------------- the list

@login_required
@require_GET
def child_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_read(request.user)
    form = ChildFilterForm(request.GET, user=request.user)
    if form.is_valid():
        filters = form.filter_kwargs()
        # As of a past date, records that have ended since still count (rules.q_child_on decides).
        base = children_for_user(user=request.user, include_ended=filters["as_of"] is not None)
        keys = word_search_keys(user=request.user, **filters)
        qs = children_filter(base, user=request.user, **filters) if keys is None else keys.children(base)
    else:
        filters = {"as_of": None}
        base = qs = Child.objects.none()
        keys = None
    day = list_day(filters["as_of"])
    # The list behind a dashboard figure (as_of) shows the exact total, equal to the figure; a
    # browsing list counts up to COUNT_CAP only (a name search to SEARCH_COUNT_CAP), so the province's 200,000 rows are not counted
    # on every keystroke.
    searching = is_name_search(**filters)
    rows_qs = qs.select_related("unit", "ethnicity")
    paginator = (Paginator(rows_qs, PAGE_SIZE) if filters["as_of"] is not None
                 else CappedPaginator(rows_qs, PAGE_SIZE, cap=SEARCH_COUNT_CAP if searching else COUNT_CAP))
    page = _page(paginator, request.GET.get("page"), searching=searching,
                 by_key=base.select_related("unit", "ethnicity"), keys=keys)
    children = list(page.object_list)
    flags = children_flags(children, day=day, poverty=listed_poverty(**filters))
    rows = list_rows(children, flags)
    audit_read_list(user=request.user, what="registry.child", filters=request.GET.dict(), count=len(rows))
    ctx = {"form": form, "page": page, "rows": rows, "day": day, "as_of": filters["as_of"],
           "can_write": scope_for(request.user).write_children}
    htmx = getattr(request, "htmx", None)
    template = "registry/_child_table.html" if htmx and not htmx.boosted else "registry/child_list.html"
    return render(request, template, ctx)


# ---------------------------------------------------------------- one child

@login_required
@require_GET
def child_detail(request: AuthenticatedHttpRequest, child_id: int) -> HttpResponse:
    child = child_get_for_user(user=request.user, child_id=child_id)
    today = timezone.localdate()
    household = child.household
    ctx: dict[str, Any] = {
        "child": child, "birth_text": birth_display(child), "age": child.age_on(today),
        "flags": children_flags([child], day=today)[child.pk],
        "household": household,
        "members": (list(household_members_for_user(user=request.user, household=household).exclude(pk=child.pk))
                    if household else []),
        "poverty": list(household.poverty.order_by("-year")) if household else [],
        "residences": list(child.residences.select_related("unit").order_by("-start")),
        "episodes": list(child.special_episodes.select_related("group", "subgroup", "recorded_by").order_by("-start")),
        "assessments": list(child.risk_assessments.select_related("assessed_by")
                            .prefetch_related("risks__factor").order_by("-assessed_on", "-pk")),
        "active_risks": list(child.risks.filter(end__isnull=True).select_related("factor")),
        "guardians": list(child.guardians.all()),
        "history": history_rows(list(history_for(child).filter(kind=AuditEntry.Kind.CHANGE)
                                     .select_related("actor")[:100])),
        "merged_into": child.merged_into if child.merged_into_id else None,
        "can_write": scope_for(request.user).write_children and child.ended_on is None,
    }
    if child.ended_on is not None:
        # The evidence typed when the record was ended lives in that change's audit row.
        ended = next((h for h in ctx["history"] if h["action"] == "child.end"), None)
        ctx["end_note"] = (ended["changes"] or {}).get("note", "") if ended else ""
    return render(request, "registry/child_detail.html", ctx)


def _household_from(request: AuthenticatedHttpRequest, value: str | None):
    if not value:
        return None
    if not value.isdigit():
        raise NotFound(_("Không tìm thấy hộ gia đình."))
    return household_get_for_user(user=request.user, household_id=int(value))


@login_required
@require_http_methods(["GET", "POST"])
def child_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_write(request.user)
    household = _household_from(request, request.GET.get("household") or request.POST.get("household"))
    candidates: list[dict[str, Any]] = []
    if request.method == "POST":
        form = ChildForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                child = services.child_register(
                    actor=request.user, data=form.child_data(), unit=form.cleaned_data["unit"], household=household,
                    ethnicity=form.cleaned_data.get("ethnicity") or None, guardians=form.guardians(),
                    confirm_not_duplicate=form.cleaned_data.get("confirm_not_duplicate", False))
            except services.PossibleDuplicate as exc:
                candidates = exc.candidates
                data = request.POST.copy()
                data["confirm_not_duplicate"] = "on"
                form = ChildForm(data, user=request.user)
                form.is_valid()
            except DomainError as exc:
                if isinstance(exc, (NotFound, PermissionDenied)) and exc.field != "unit":
                    raise
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Đã đăng ký trẻ %(n)s.") % {"n": child.full_name})
                return redirect("registry:child", child_id=child.pk)
    else:
        initial: dict[str, Any] = {}
        if household is not None:
            initial = {"unit": household.unit.ref, "village": household.village}
        form = ChildForm(initial=initial, user=request.user)
    return render(request, "registry/child_form.html", {"form": form, "candidates": candidates,
                                                         "household": household, "child": None})


@login_required
@require_http_methods(["GET", "POST"])
def child_edit(request: AuthenticatedHttpRequest, child_id: int) -> HttpResponse:
    _require_write(request.user)
    child = child_get_for_user(user=request.user, child_id=child_id, audit=request.method == "GET")
    if request.method == "POST":
        form = ChildForm(request.POST, user=request.user, edit=True)
        if form.is_valid():
            try:
                services.child_update(actor=request.user, child=child, data=form.child_data(),
                                      expected_version=form.cleaned_data.get("version"),
                                      ethnicity=form.cleaned_data.get("ethnicity") or None)
            except Conflict as exc:
                form.add_error(None, exc.message)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Đã lưu thay đổi."))
                return redirect("registry:child", child_id=child.pk)
    else:
        form = ChildForm(initial={
            "full_name": child.full_name, "birth_date": child.birth_date, "birth_precision": child.birth_precision,
            "sex": child.sex, "ethnicity": child.ethnicity.code if child.ethnicity else "",
            "personal_id": child.personal_id, "birth_registered": child.birth_registered, "village": child.village,
            "schooling": child.schooling, "school_level": child.school_level, "dropout_date": child.dropout_date,
            "disability": child.disability, "note": child.note, "version": child.version,
        }, user=request.user, edit=True)
    return render(request, "registry/child_form.html", {"form": form, "child": child, "candidates": []})


# ---------------------------------------------------------------- one-action forms of a child's page

def _service_error(form, exc: DomainError) -> None:
    """A service refusal goes on the form; "not found" stays a 404 (nothing to reveal)."""
    if isinstance(exc, NotFound) or (isinstance(exc, PermissionDenied) and exc.field != "unit"):
        raise exc
    form.add_domain_error(exc)


def _child_action(request: AuthenticatedHttpRequest, *, child, form, act: Callable[[dict[str, Any]], object],
                  done: Callable[[dict[str, Any]], str], title: str, submit: str, intro: str = "") -> HttpResponse:
    """A form that records one thing about a child: on a valid POST `act` (a service) runs; its refusal
    is shown on the form, its success on the child's page."""
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data)
        except DomainError as exc:
            _service_error(form, exc)
        else:
            messages.success(request, done(form.cleaned_data))
            return redirect("registry:child", child_id=child.pk)
    return render(request, "registry/simple_form.html", {
        "form": form, "child": child, "title": title, "submit": submit, "intro": intro})


# ---------------------------------------------------------------- episodes and risk

@login_required
@require_http_methods(["GET", "POST"])
def episode_open(request: AuthenticatedHttpRequest, child_id: int) -> HttpResponse:
    _require_write(request.user)
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    return _child_action(
        request, child=child, form=EpisodeOpenForm(request.POST or None),
        act=lambda d: services.special_episode_open(actor=request.user, child=child, group=d["group"], start=d["start"],
                                                    end=d.get("end"), evidence=d.get("evidence") or "",
                                                    nurture_case=d.get("nurture_case") or ""),
        done=lambda d: _("Đã ghi nhận hoàn cảnh đặc biệt."), title=_("Ghi nhận hoàn cảnh đặc biệt"), submit=_("Lưu"))


@login_required
@require_http_methods(["GET", "POST"])
def episode_close(request: AuthenticatedHttpRequest, episode_id: int) -> HttpResponse:
    _require_write(request.user)
    episode = episode_get_for_user(user=request.user, episode_id=episode_id)
    return _child_action(
        request, child=episode.child, form=EpisodeCloseForm(request.POST or None),
        act=lambda d: services.special_episode_close(actor=request.user, episode=episode, end=d["end"]),
        done=lambda d: _("Đã kết thúc đợt hoàn cảnh đặc biệt."),
        title=_("Kết thúc: %(g)s") % {"g": episode.subgroup or episode.group}, submit=_("Kết thúc"))


@login_required
@require_http_methods(["GET", "POST"])
def risk_assess(request: AuthenticatedHttpRequest, child_id: int) -> HttpResponse:
    _require_write(request.user)
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    initial = {"assessed_on": timezone.localdate(),
               "factors": list(child.risks.filter(end__isnull=True).values_list("factor__code", flat=True))}
    return _child_action(
        request, child=child, form=RiskAssessForm(request.POST or None, initial=initial),
        act=lambda d: services.risk_assess(actor=request.user, child=child, assessed_on=d["assessed_on"],
                                           factors=d["factors"], note=d.get("note") or ""),
        done=lambda d: _("Đã ghi nhận đánh giá nguy cơ."), title=_("Đánh giá nguy cơ"), submit=_("Lưu"))


# ---------------------------------------------------------------- moving, ending, guardians

@login_required
@require_http_methods(["GET", "POST"])
def child_move(request: AuthenticatedHttpRequest, child_id: int) -> HttpResponse:
    _require_write(request.user)
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    url = reverse("registry:child_move", args=[child.pk])
    if request.method == "POST":
        form = MoveForm(request.POST, user=request.user, child=child, url=url)
    else:
        # ?unit= comes from the commune select: htmx reloads the household list of that commune.
        form = MoveForm(initial={"on": timezone.localdate(), "version": child.version,
                                 "unit": request.GET.get("unit", "")}, user=request.user, child=child, url=url)
    return _child_action(
        request, child=child, form=form,
        act=lambda d: services.child_move(actor=request.user, child=child, unit=d["unit"], on=d["on"],
                                          household=d.get("household"), village=d.get("village") or None,
                                          expected_version=d.get("version")),
        done=lambda d: _("Đã ghi nhận trẻ chuyển đến %(u)s.") % {"u": d["unit"].name},
        title=_("Chuyển nơi ở: %(n)s") % {"n": child.full_name}, submit=_("Lưu"),
        intro=_("Nơi ở hiện tại: %(u)s. Trẻ chuyển khỏi tỉnh thì dùng “Kết thúc hồ sơ”.") % {"u": child.unit.name}
        + ("" if form.units else " " + _("Bạn chỉ chuyển được trẻ giữa các xã/phường thuộc phạm vi của mình; "
                                          "chuyển sang xã/phường khác trong tỉnh do cán bộ cấp tỉnh ghi nhận.")))


@login_required
@require_http_methods(["GET", "POST"])
def child_end(request: AuthenticatedHttpRequest, child_id: int) -> HttpResponse:
    _require_write(request.user)
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    return _child_action(
        request, child=child,
        form=EndForm(request.POST or None, initial={"on": timezone.localdate(), "version": child.version}),
        act=lambda d: services.child_end(actor=request.user, child=child, on=d["on"], reason=d["reason"],
                                         note=d.get("note") or "", expected_version=d.get("version")),
        done=lambda d: _("Đã kết thúc hồ sơ của %(n)s.") % {"n": child.full_name},
        title=_("Kết thúc hồ sơ: %(n)s") % {"n": child.full_name}, submit=_("Kết thúc hồ sơ"),
        intro=_("Hồ sơ không bị xoá: trẻ vẫn có trong lịch sử nhưng không được tính từ ngày kết thúc."))


@login_required
@require_http_methods(["GET", "POST"])
def guardian_add(request: AuthenticatedHttpRequest, child_id: int) -> HttpResponse:
    _require_write(request.user)
    child = child_get_for_user(user=request.user, child_id=child_id, audit=False)
    return _child_action(
        request, child=child, form=GuardianForm(request.POST or None),
        act=lambda d: services.guardian_add(actor=request.user, child=child, full_name=d["full_name"],
                                            relationship=d["relationship"], phone=d.get("phone") or ""),
        done=lambda d: _("Đã thêm %(n)s.") % {"n": d["full_name"]},
        title=_("Thêm cha, mẹ, người nuôi dưỡng"), submit=_("Lưu"))


@login_required
@require_http_methods(["GET", "POST"])
def guardian_edit(request: AuthenticatedHttpRequest, guardian_id: int) -> HttpResponse:
    _require_write(request.user)
    guardian = guardian_get_for_user(user=request.user, guardian_id=guardian_id)
    initial = {"full_name": guardian.full_name, "relationship": guardian.relationship, "phone": guardian.phone}
    return _child_action(
        request, child=guardian.child, form=GuardianForm(request.POST or None, initial=initial),
        act=lambda d: services.guardian_update(actor=request.user, guardian=guardian, full_name=d["full_name"],
                                               relationship=d["relationship"], phone=d.get("phone") or ""),
        done=lambda d: _("Đã sửa thông tin %(n)s.") % {"n": d["full_name"]},
        title=_("Sửa cha, mẹ, người nuôi dưỡng: %(n)s") % {"n": guardian.full_name}, submit=_("Lưu"))


@login_required
@require_http_methods(["GET", "POST"])
def guardian_remove(request: AuthenticatedHttpRequest, guardian_id: int) -> HttpResponse:
    _require_write(request.user)
    guardian = guardian_get_for_user(user=request.user, guardian_id=guardian_id)
    return _child_action(
        request, child=guardian.child, form=GuardianRemoveForm(request.POST or None),
        act=lambda d: services.guardian_remove(actor=request.user, guardian=guardian, reason=d.get("reason") or ""),
        done=lambda d: _("Đã bỏ %(n)s khỏi hồ sơ của trẻ.") % {"n": guardian.full_name},
        title=_("Bỏ %(n)s khỏi hồ sơ của %(c)s") % {"n": guardian.full_name, "c": guardian.child.full_name},
        submit=_("Bỏ khỏi hồ sơ"),
        intro=_("Việc này được ghi vào lịch sử thay đổi của trẻ cùng lý do."))


# ---------------------------------------------------------------- households

@login_required
@require_GET
def household_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    from vitreem.core.text import fold

    _require_read(request.user)
    qs = households_for_user(user=request.user).select_related("unit")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(head_key__contains=fold(q))
    page = Paginator(qs.order_by("head_key", "pk"), PAGE_SIZE).get_page(page_param(request.GET.get("page")))
    audit_read_list(user=request.user, what="registry.household", filters=request.GET.dict(),
                    count=len(page.object_list), total=page.paginator.count)
    return render(request, "registry/household_list.html", {
        "page": page, "q": q, "can_write": scope_for(request.user).write_children})


@login_required
@require_GET
def household_detail(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    household = household_get_for_user(user=request.user, household_id=household_id, audit=True)
    members = list_rows(list(household_members_for_user(user=request.user, household=household)), {})
    in_force = poverty_review_in_force(unit_id=household.unit_id, day=timezone.localdate())
    return render(request, "registry/household_detail.html", {
        "household": household, "members": members, "poverty": list(household.poverty.order_by("-year")),
        "in_force": in_force, "form": PovertyForm(), "can_write": scope_for(request.user).write_children})


@login_required
@require_http_methods(["GET", "POST"])
def poverty_reviews(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each commune's decided poverty list in force today, and the form that records a decision."""
    _require_read(request.user)
    can_write = scope_for(request.user).write_children
    form = PovertyReviewForm(request.POST or None, user=request.user)
    if request.method == "POST":
        _require_write(request.user)
        if form.is_valid():
            d = form.cleaned_data
            try:
                review = services.poverty_review_record(
                    actor=request.user, unit=d["unit"], year=d["year"], decided_on=d["decided_on"],
                    decision_number=d.get("decision_number") or "")
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Đã ghi: danh sách hộ nghèo, cận nghèo năm %(y)s của %(u)s được công nhận "
                                            "ngày %(d)s.") % {"y": review.year, "u": review.unit.name,
                                                              "d": review.decided_on.strftime("%d/%m/%Y")})
                return redirect("registry:poverty_reviews")
    day = timezone.localdate()
    return render(request, "registry/poverty_reviews.html", {
        "rows": poverty_reviews_for_user(user=request.user, day=day), "day": day, "form": form,
        "can_write": can_write})


@login_required
@require_http_methods(["GET", "POST"])
def household_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_write(request.user)
    form = HouseholdForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            household = services.household_create(actor=request.user, unit=unit_resolve(d["unit"]),
                                                  head_name=d["head_name"], village=d.get("village") or "",
                                                  address=d.get("address") or "")
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Đã tạo hộ gia đình."))
            return redirect("registry:household", household_id=household.pk)
    return render(request, "registry/simple_form.html", {
        "form": form, "title": _("Thêm hộ gia đình"), "submit": _("Lưu")})


@login_required
@require_http_methods(["GET", "POST"])
def household_poverty(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    _require_write(request.user)
    household = household_get_for_user(user=request.user, household_id=household_id)
    form = PovertyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.household_poverty_set(actor=request.user, household=household, year=d["year"],
                                           status=d["status"], decision_number=d.get("decision_number") or "",
                                           decision_date=d.get("decision_date"))
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Đã ghi phân loại hộ năm %(y)s.") % {"y": d["year"]})
            return redirect("registry:household", household_id=household.pk)
    return render(request, "registry/simple_form.html", {
        "form": form, "household": household, "submit": _("Lưu"),
        "title": _("Phân loại hộ nghèo, cận nghèo: %(h)s") % {"h": household.head_name}})
