"""Report pages: request a report (generated in the background), download it, replace the Word template."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vitreem.accounts.http import AuthenticatedHttpRequest
from vitreem.core.errors import DomainError, NotFound, PermissionDenied
from vitreem.core.scope import scope_for
from vitreem.places.models import AdminUnit, version_on
from vitreem.places.selectors import kept_while_tree_unchanged
from vitreem.registry.forms import Options, options_html, unit_label
from vitreem.stats.selectors import require_figures, unit_choices

from .models import Format, GeneratedReport, ReportTemplate
from .services import report_request, reports_for_user, require_template_admin, template_upload

# {(the scope's units, the version of the day, language): (the unit tree's stamp, Options)}: a province's
# ~380 units, read, sorted and escaped on every visit of the reports page; kept per process while the
# unit tree does not change, like the child list's filter (registry.forms._unit_choices).
_UNIT_OPTIONS: dict[tuple[frozenset[int], str, str], Any] = {}


def _unit_options(user, today) -> Options:
    def read() -> Options:
        return Options([(u.ref, unit_label(u, indent_level=False) if isinstance(u, AdminUnit) else str(u.name))
                        for u in unit_choices(user, today)])

    key = (scope_for(user).unit_ids, version_on(today), get_language() or "")
    return kept_while_tree_unchanged(_UNIT_OPTIONS, key, read, limit=1000)


@login_required
@require_http_methods(["GET", "POST"])
def report_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_figures(request.user)
    error = None
    if request.method == "POST":
        try:
            status = report_request(actor=request.user, year=request.POST.get("year"),
                                    unit=request.POST.get("unit") or None, fmt=request.POST.get("format", ""))
        except (NotFound, PermissionDenied):
            raise  # its page: core.middleware.DomainErrorMiddleware
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("core:task_status", status_id=status.pk)
    today = timezone.localdate()
    ctx = {"reports": reports_for_user(user=request.user)[:50], "unit_options": options_html(_unit_options(request.user, today), ""),
           "years": list(range(today.year, 2020, -1)), "formats": Format.choices, "error": error,
           "default_year": today.year - 1}
    return render(request, "reports/report_list.html", ctx, status=400 if error else 200)


@login_required
@require_GET
def report_download(request: AuthenticatedHttpRequest, report_id: int) -> HttpResponseBase:
    report = reports_for_user(user=request.user).filter(pk=report_id).first()
    if report is None or not report.file:
        return render(request, "404.html", status=404)
    return FileResponse(report.file.open("rb"), as_attachment=True, filename=report.file.name.rsplit("/", 1)[-1])


@login_required
@require_http_methods(["GET", "POST"])
def template_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_template_admin(request.user)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            template_upload(actor=request.user, name=(upload.name or "") if upload else "",
                            data=upload.read() if upload else b"")
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Đã nhận mẫu báo cáo mới; các báo cáo từ nay dùng mẫu này."))
            return redirect("reports:templates")
    current = ReportTemplate.objects.filter(valid=True).first()
    return render(request, "reports/templates.html", {"current": current, "error": error,
                                                      "templates": ReportTemplate.objects.all()[:20]},
                  status=400 if error else 200)


@login_required
@require_GET
def template_default(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """The default template, to start editing from."""
    from .render import DEFAULT_TEMPLATE

    return FileResponse(DEFAULT_TEMPLATE.open("rb"), as_attachment=True, filename=DEFAULT_TEMPLATE.name)


__all__ = ["GeneratedReport"]
