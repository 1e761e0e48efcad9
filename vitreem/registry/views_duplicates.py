"""The duplicate review queue: pairs side by side, merge or mark as different children.

Officers (province officer, admin) see the province's pairs; a commune worker sees only pairs whose
two records are both in their commune(s). Read-only roles (leader, reporter) have no access: the
queue exists to be acted on. Links are relative so the pages work wherever the URLs are mounted.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vitreem.core.audit import audit_access, audit_read_list
from vitreem.core.errors import DomainError, NotFound
from vitreem.core.params import page_param
from vitreem.core.scope import scope_for
from vitreem.core.text import fold, nfc

from .duplicates import reasons_text
from .models import BirthPrecision, DuplicateCandidate, Sex
from .selectors import candidates_for_new, duplicate_candidate_get_for_user, duplicate_candidates_for_user
from .services_duplicates import child_merge, duplicate_mark_distinct

PAGE_SIZE = 20


def _forbidden(request):
    return render(request, "403.html", {"message": _("Chỉ cán bộ cấp tỉnh và cán bộ cấp xã được xem hàng chờ hồ sơ trùng.")},
                  status=403)


def _allowed(user) -> bool:
    return scope_for(user).write_children


def _list_url(request) -> str:
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    return reverse(f"{namespace}:list" if namespace else "list")


def _get_candidate(request, pk: int) -> DuplicateCandidate:
    try:
        return duplicate_candidate_get_for_user(user=request.user, candidate_id=pk)
    except NotFound:
        raise Http404 from None


def _min_score(request) -> float:
    try:
        value = float((request.GET.get("min") or "0").replace(",", "."))
    except ValueError:
        return 0.0
    return min(max(value, 0.0), 1.0)


@login_required
@require_GET
def duplicate_list(request):
    if not _allowed(request.user):
        return _forbidden(request)
    qs = duplicate_candidates_for_user(user=request.user)
    minimum = _min_score(request)
    if minimum:
        qs = qs.filter(score__gte=minimum)
    page = Paginator(qs, PAGE_SIZE).get_page(page_param(request.GET.get("page")))
    rows = [{"candidate": c, "reasons": reasons_text(c.reasons)} for c in page]
    audit_read_list(user=request.user, what="registry.duplicatecandidate", filters=request.GET.dict(),
                    count=len(rows), total=page.paginator.count)
    return render(request, "registry/duplicates/list.html",
                  {"page": page, "rows": rows, "min": minimum, "title": _("Hồ sơ có thể trùng")})


def _detail_context(request, candidate: DuplicateCandidate) -> dict:
    sides = [{
        "child": child,
        "guardians": list(child.guardians.all()),
        "episodes": child.special_episodes.count(),
        "assessments": child.risk_assessments.count(),
        "residences": list(child.residences.select_related("unit").order_by("start")),
    } for child in (candidate.child_a, candidate.child_b)]
    return {"candidate": candidate, "sides": sides, "reasons": reasons_text(candidate.reasons),
            "list_url": _list_url(request), "title": _("So sánh hai hồ sơ")}


@login_required
@require_GET
def duplicate_detail(request, pk: int):
    if not _allowed(request.user):
        return _forbidden(request)
    candidate = _get_candidate(request, pk)
    # Both records' details are shown: Decree 13/2023 asks that every view of them is logged.
    for child in (candidate.child_a, candidate.child_b):
        audit_access(actor=request.user, obj=child, unit=child.unit_id, action="view_duplicate")
    return render(request, "registry/duplicates/detail.html", _detail_context(request, candidate))


def _error(request, candidate: DuplicateCandidate, exc: DomainError):
    if isinstance(exc, NotFound):
        raise Http404 from None
    context = _detail_context(request, candidate)
    context["error"] = exc.message
    return render(request, "registry/duplicates/detail.html", context, status=getattr(exc, "status", 400))


@login_required
@require_POST
def duplicate_merge(request, pk: int):
    if not _allowed(request.user):
        return _forbidden(request)
    candidate = _get_candidate(request, pk)
    pair = {str(candidate.child_a_id): candidate.child_a, str(candidate.child_b_id): candidate.child_b}
    survivor_id = request.POST.get("survivor", "")
    if survivor_id not in pair:
        return _error(request, candidate, DomainError(_("Hãy chọn hồ sơ được giữ lại (một trong hai hồ sơ)."),
                                                      field="survivor"))
    survivor = pair.pop(survivor_id)
    merged = next(iter(pair.values()))
    try:
        child_merge(actor=request.user, survivor=survivor, merged=merged, reason=nfc(request.POST.get("reason", "")))
    except DomainError as exc:
        return _error(request, candidate, exc)
    messages.success(request, _("Đã gộp hồ sơ %(m)s vào hồ sơ %(s)s.") % {"m": merged.pk, "s": survivor.pk})
    return HttpResponseRedirect(_list_url(request))


@login_required
@require_POST
def duplicate_distinct(request, pk: int):
    if not _allowed(request.user):
        return _forbidden(request)
    candidate = _get_candidate(request, pk)
    try:
        duplicate_mark_distinct(actor=request.user, child_a=candidate.child_a, child_b=candidate.child_b,
                                reason=nfc(request.POST.get("reason", "")))
    except DomainError as exc:
        return _error(request, candidate, exc)
    messages.success(request, _("Đã ghi nhận: hai hồ sơ là hai trẻ khác nhau."))
    return HttpResponseRedirect(_list_url(request))


def _parse_date(text: str) -> dt.date | None:
    text = (text or "").strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 — a calendar date, no time zone
        except ValueError:
            continue
    return None


@login_required
@require_GET
def duplicate_check(request):
    """Candidates for a child about to be registered (the registration form calls it as the user
    types): JSON, or an htmx fragment with the warning."""
    if not _allowed(request.user):
        return JsonResponse({"code": "forbidden", "message": _("Bạn không có quyền dùng chức năng này.")}, status=403)
    full_name = nfc(request.GET.get("full_name", ""))
    birth = _parse_date(request.GET.get("birth_date", ""))
    personal_id = request.GET.get("personal_id", "").strip()
    if request.GET.get("birth_date") and birth is None:
        return JsonResponse({"code": "invalid", "field": "birth_date",
                             "message": _("Ngày sinh không hợp lệ (dùng dd/mm/yyyy).")}, status=400)
    if not (full_name and birth) and not personal_id:
        return JsonResponse({"code": "invalid", "field": "full_name",
                             "message": _("Cần họ tên và ngày sinh, hoặc số định danh.")}, status=400)
    precision = request.GET.get("birth_precision") or BirthPrecision.DAY
    sex = request.GET.get("sex", "")
    if precision not in BirthPrecision.values or (sex and sex not in Sex.values):
        return JsonResponse({"code": "invalid", "field": "birth_precision" if sex in ("", *Sex.values) else "sex",
                             "message": _("Giá trị không hợp lệ.")}, status=400)
    data = {"full_name": full_name, "name_key": fold(full_name), "birth_date": birth, "birth_precision": precision,
            "sex": sex, "personal_id": personal_id}
    candidates = candidates_for_new(data, unit=None, user=request.user)
    if request.htmx:
        shown = [{**c, "birth_date": dt.date.fromisoformat(c["birth_date"]).strftime("%d/%m/%Y")} for c in candidates]
        return render(request, "registry/duplicates/check_partial.html", {"candidates": shown})
    return JsonResponse({"candidates": candidates})
