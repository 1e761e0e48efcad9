from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from vitreem.core.errors import PermissionDenied

from .nav import home_panels
from .selectors import audit_entries_for_user


@login_required
def home(request):
    units = list(request.user.units.order_by("version", "level", "code"))
    return render(request, "core/home.html", {"units": units, "panels": home_panels(request)})


@login_required
def audit_list(request):
    try:
        entries = audit_entries_for_user(
            user=request.user,
            action=request.GET.get("action", ""),
            object_type=request.GET.get("object_type", ""),
            actor=request.GET.get("actor", ""),
            object_id=request.GET.get("object_id", ""),
        )
    except PermissionDenied as exc:
        return render(request, "403.html", {"message": exc.message}, status=403)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"page": page, "title": _("Nhật ký kiểm toán")})


def error_403(request, exception=None):
    return render(request, "403.html", {"message": str(exception or "")}, status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)


@login_required
def task_status(request, status_id):
    """Progress of one of the user's jobs; the htmx partial polls itself until the job ends."""
    from django.shortcuts import get_object_or_404

    from .models import TaskStatus

    status = get_object_or_404(TaskStatus, pk=status_id, owner=request.user)
    template = "core/task_status_partial.html" if request.htmx else "core/task_status.html"
    return render(request, template, {"status": status})
