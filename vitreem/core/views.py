import sys

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from .nav import home_panels
from .params import page_param
from .selectors import audit_entries_for_user


@login_required
def home(request):
    from django.db.models import Prefetch, prefetch_related_objects

    from vitreem.places.models import AdminUnit

    # The user's units, with their parents, read once: the scope (core.scope) and the panels' main unit
    # (stats.selectors.default_unit) read `user.units.all()` from this, where the page read them four
    # times, and once more per unit for its parent's name.
    user = request.user
    prefetch_related_objects([user], Prefetch("units", queryset=AdminUnit.objects.select_related("parent")))
    units = sorted(user.units.all(), key=lambda u: (u.version, u.level, u.code))
    return render(request, "core/home.html", {"units": units, "panels": home_panels(request)})


@login_required
def audit_list(request):
    entries = audit_entries_for_user(
        user=request.user,
        action=request.GET.get("action", ""),
        object_type=request.GET.get("object_type", ""),
        actor=request.GET.get("actor", ""),
        object_id=request.GET.get("object_id", ""),
    )
    page = Paginator(entries, 50).get_page(page_param(request.GET.get("page")))
    return render(request, "core/audit_list.html", {"page": page, "title": _("Nhật ký kiểm toán")})


def error_400(request, exception=None):
    """A malformed request (core.params.BadParameter and Django's own BadRequest): its message, 400."""
    from .errors import DomainError

    message = str(exception.message) if isinstance(exception, DomainError) else ""
    return render(request, "400.html", {"message": message}, status=400)


def error_403(request, exception=None):
    return render(request, "403.html", {"message": str(exception or "")}, status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether an error means the database is down, unreachable or read-only (not a bug in a query)."""
    from django.db import InterfaceError, InternalError, OperationalError

    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    # PostgreSQL in read-only mode (a standby, default_transaction_read_only): SQLSTATE 25006.
    return isinstance(exc, InternalError) and getattr(exc.__cause__, "sqlstate", None) == "25006"


def error_500(request):
    """The last page: it must not need what may have failed. No context processors (they read the
    user, hence the database), no user, no session: the template alone, in the request's language.
    When the database is the cause, say so (503: try again later)."""
    from django.http import HttpResponse
    from django.template import loader

    exc = sys.exc_info()[1]
    down = database_unavailable(exc)
    html = loader.get_template("500.html").render({"database_down": down})
    response = HttpResponse(html, status=503 if down else 500)
    if down:
        response["Retry-After"] = "60"
    return response


@login_required
def task_status(request, status_id):
    """Progress of one of the user's jobs; the htmx partial polls itself until the job ends."""
    from django.shortcuts import get_object_or_404

    from .jobs import jobs_reap
    from .models import TaskStatus

    status = get_object_or_404(TaskStatus, pk=status_id, owner=request.user)
    jobs_reap([status])  # a job whose worker died says so instead of "running" forever
    template = "core/task_status_partial.html" if request.htmx else "core/task_status.html"
    response = render(request, template, {"status": status})
    if request.htmx and status.state in (TaskStatus.State.DONE, TaskStatus.State.FAILED):
        # The job ended while a page polled it: reload that page, so everything on it (an import's
        # status, its result) says so — not only the progress bar (issue 21 item 8).
        response["HX-Refresh"] = "true"
    return response
