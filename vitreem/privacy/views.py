"""Pages of personal-data protection: the requests' queue, consents, the register of purposes, retention,
the export log (breach response) and the anonymised export. Thin: parse, call a selector or a service,
render. Every read goes through the scope (selectors.py); officers' pages check `Scope.manage_privacy`."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vitreem.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from vitreem.core.scope import scope_for

from . import selectors as sel
from . import services
from .anonymised import anonymised_bytes, anonymised_rows, day_for_year
from .exports import export_audit
from .models import EXCEPTIONS, Basis, Consent, RequestKind, RetentionRule, SubjectRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def domain_errors(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return render(request, "404.html", {"message": exc.message}, status=404)
        except PermissionDenied as exc:
            return render(request, "403.html", {"message": exc.message}, status=403)

    return wrapper


def _reader(user) -> None:
    scope = scope_for(user)
    if not scope.read_children or not scope.unit_ids:
        raise PermissionDenied(_("Tài khoản của bạn không xem được dữ liệu trẻ em."))


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    text = value.strip()
    try:
        return dt.date.fromisoformat(text)  # the date input sends ISO
    except ValueError:
        pass
    try:  # typed text is dd/mm/yyyy
        day, month, year = (int(part) for part in text.split("/"))
        return dt.date(year, month, day)
    except ValueError:
        return None


@login_required
@require_GET
@domain_errors
def index(request):
    _reader(request.user)
    status = request.GET.get("status", "open")
    page = Paginator(sel.requests_for_user(user=request.user, status=status), 25).get_page(request.GET.get("page"))
    return render(request, "privacy/index.html", {
        "page": page, "status": status, "statuses": SubjectRequest.Status.choices, "today": timezone.localdate(),
        "scope": scope_for(request.user), "years": list(range(timezone.localdate().year, 2020, -1))})


@login_required
@require_GET
@domain_errors
def purposes(request):
    services.require_manage(request.user)
    return render(request, "privacy/purposes.html", {"purposes": sel.purposes(), "exceptions": EXCEPTIONS,
                                                     "bases": Basis,
                                                     "scope": scope_for(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def request_new(request):
    from vitreem.registry.selectors import child_get_for_user

    _reader(request.user)
    child = child_get_for_user(user=request.user, child_id=_int(request.GET.get("child")), audit=False)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            req = services.request_register(
                actor=request.user, child=child, kind=request.POST.get("kind", ""),
                requester=request.POST.get("requester", SubjectRequest.Requester.REPRESENTATIVE),
                requester_name=request.POST.get("requester_name", ""), details=request.POST.get("details", ""),
                received_on=_date(request.POST.get("received_on")))  # type: ignore[arg-type]
        except ValidationFailed as exc:
            errors = exc.errors
        except DomainError as exc:
            errors = {"__all__": str(exc.message)}
        else:
            messages.success(request, _("Đã tiếp nhận yêu cầu; hạn trả lời %(d)s.") % {"d": req.due_on.strftime("%d/%m/%Y")})
            return redirect("privacy:request", req.pk)
    return render(request, "privacy/request_new.html", {
        "child": child, "kinds": RequestKind.choices, "requesters": SubjectRequest.Requester.choices,
        "errors": errors, "data": request.POST, "today": timezone.localdate()}, status=400 if errors else 200)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem.")) from None


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def request_detail(request, request_id: int):
    _reader(request.user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "acknowledge":
                services.request_acknowledge(actor=request.user, request_id=request_id)
            elif action in ("done", "refuse"):
                services.request_answer(actor=request.user, request_id=request_id, done=action == "done",
                                        answer=request.POST.get("answer", ""))
            elif action == "end_restriction":
                services.restriction_end(actor=request.user, request_id=request_id)
            else:
                errors = {"action": _("Thao tác không hợp lệ.")}
        except ValidationFailed as exc:
            errors = exc.errors
        except (NotFound, PermissionDenied):
            raise
        except DomainError as exc:
            errors = {"__all__": str(exc.message)}
        if not errors:
            messages.success(request, _("Đã lưu."))
            return redirect("privacy:request", request_id)
    req = sel.request_get_for_user(user=request.user, request_id=request_id)
    restriction = getattr(req, "restriction", None) if req.kind == RequestKind.RESTRICTION else None
    return render(request, "privacy/request.html", {
        "req": req, "errors": errors, "today": timezone.localdate(), "restriction": restriction,
        "can_write": scope_for(request.user).write_children}, status=400 if errors else 200)


@login_required
@require_GET
@domain_errors
def subject_file(request, child_id: int):
    """The child's own file (.pdf), for an access request."""
    from .subject_file import subject_file_pdf

    _reader(request.user)
    pdf, data = subject_file_pdf(user=request.user, child_id=child_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ho-so-du-lieu-tre-{data["child"].pk}.pdf"'
    return response


@login_required
@require_GET
@domain_errors
def consents(request):
    _reader(request.user)
    page = Paginator(sel.consents_for_user(user=request.user, child_id=_opt_int(request.GET.get("child"))),
                     25).get_page(request.GET.get("page"))
    return render(request, "privacy/consents.html", {"page": page, "can_write": scope_for(request.user).write_children,
                                                       "scope": scope_for(request.user)})


def _opt_int(value) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def consent_new(request):
    from vitreem.registry.selectors import child_get_for_user

    _reader(request.user)
    child = child_get_for_user(user=request.user, child_id=_int(request.GET.get("child")), audit=False)
    errors: dict[str, str] = {}
    if request.method == "POST":
        agrees = request.POST.get("child_agrees")
        try:
            services.consent_record(
                actor=request.user, child=child, purpose=request.POST.get("purpose", ""),
                representative_name=request.POST.get("representative_name", ""),
                representative_relationship=request.POST.get("representative_relationship", ""),
                given_on=_date(request.POST.get("given_on")),  # type: ignore[arg-type]
                evidence=request.POST.get("evidence", ""), method=request.POST.get("method", "written"),
                child_agrees=True if agrees == "yes" else False if agrees == "no" else None)
        except ValidationFailed as exc:
            errors = exc.errors
        except (NotFound, PermissionDenied):
            raise
        except DomainError as exc:
            errors = {"__all__": str(exc.message)}
        else:
            messages.success(request, _("Đã ghi nhận sự đồng ý."))
            return redirect(f"{_url('privacy:consents')}?child={child.pk}")
    return render(request, "privacy/consent_new.html", {
        "child": child, "purposes": sel.purposes().filter(basis=Basis.CONSENT), "methods": Consent.Method.choices,
        "errors": errors, "data": request.POST, "age": child.age_on(timezone.localdate())},
        status=400 if errors else 200)


def _url(name: str, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


@login_required
@require_POST
@domain_errors
def consent_withdraw(request, consent_id: int):
    _reader(request.user)
    try:
        consent = services.consent_withdraw(actor=request.user, consent_id=consent_id,
                                            note=request.POST.get("note", ""))
    except ValidationFailed as exc:
        messages.error(request, next(iter(exc.errors.values())))
        consent = sel.consent_get_for_user(user=request.user, consent_id=consent_id)
    else:
        messages.success(request, _("Đã ghi nhận việc rút lại sự đồng ý."))
    return redirect(f"{_url('privacy:consents')}?child={consent.child_id}")


@login_required
@require_GET
@domain_errors
def exports(request):
    """Breach response: who took which data out, and when."""
    services.require_manage(request.user)
    qs = sel.exports_log(user=request.user, since=_date(request.GET.get("since")), until=_date(request.GET.get("until")),
                         actor=request.GET.get("actor", "").strip(), unit_id=_opt_int(request.GET.get("unit")))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "privacy/exports.html", {"page": page, "scope": scope_for(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def retention(request):
    from .erasure import retention_apply, retention_due

    services.require_manage(request.user)
    scope = scope_for(request.user)
    today = timezone.localdate()
    if request.method == "POST":
        if not scope.write_children:
            raise PermissionDenied(_("Tài khoản của bạn chỉ được xem, không được sửa dữ liệu."))
        counts = retention_apply(actor=request.user, on=today, unit_ids=scope.unit_ids)
        messages.success(request, _("Đã khử nhận dạng %(c)s hồ sơ trẻ em và %(k)s hồ sơ vụ việc đến hạn.")
                         % {"c": counts["child"], "k": counts["case"]})
        return redirect("privacy:retention")
    due = retention_due(on=today, unit_ids=scope.unit_ids)
    return render(request, "privacy/retention.html", {
        "due": due[:500], "count": len(due), "rules": RetentionRule.objects.all(), "today": today, "scope": scope})


@login_required
@require_GET
@domain_errors
def anonymised(request):
    """Figures out: every role that reads child figures; no names, ages in bands, cells under 5 hidden."""
    _reader(request.user)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        return HttpResponse(_("Định dạng phải là xlsx hoặc csv."), status=400)
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        return HttpResponse(_("Năm không hợp lệ."), status=400)
    if not 2000 <= year <= timezone.localdate().year:
        return HttpResponse(_("Năm không hợp lệ."), status=400)
    day = day_for_year(year)
    rows = anonymised_rows(user=request.user, day=day)
    data = anonymised_bytes(rows, fmt=fmt, day=day)
    export_audit(actor=request.user, what="privacy.anonymised", rows=len(rows),
                 filters={"year": year, "format": fmt}, named=False)
    response = HttpResponse(data, content_type=XLSX if fmt == "xlsx" else "text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="so-lieu-an-danh-{year}.{fmt}"'
    return response
