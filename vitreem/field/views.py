"""Pages of field work: the notebook's app shell, the service worker, the web app manifest, and the
review queue of registrations made offline that look like a child already registered."""

from __future__ import annotations

import functools
import hashlib
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from vitreem.core.errors import DomainError, NotFound
from vitreem.core.scope import scope_for

from . import selectors, services
from .strings import field_strings

WORKBOX = "vendor/workbox-7.4.1/"
IDB = "vendor/idb-8.0.4/idb.umd.js"
# What the service worker keeps for offline use: the shell's own files. Never a page or an API
# answer: those carry personal data, which on the phone lives only in the encrypted store.
SHELL_STATIC = ["vitreem/site.css", "vitreem/site.js", "django_htmx/htmx-2.min.js", "django_htmx/django-htmx.js",
                "field/field.css", IDB, "field/store.js", "field/validate.js", "field/app.js", "field/register.js",
                "field/icons/icon-192.png"]
SHELL_TEMPLATES = ["field/shell.html", "base.html"]


def _shell_context() -> dict:
    return {
        "field_config": {
            "urls": {"shell": reverse("field:app"), "whoami": reverse("api:field_whoami"),
                     "snapshot": reverse("api:field_snapshot"), "sync": reverse("api:field_sync"),
                     "resolve": reverse("api:field_conflict_resolve", args=["__id__"]),
                     "review": reverse("field:review"), "login": reverse("accounts:login") + "?next=" + reverse("field:app")},
            "wipe_days": settings.VITREEM_FIELD_WIPE_DAYS,
        },
        "field_strings": field_strings(),
        "shell_scripts": [static(IDB), static("field/store.js"), static("field/validate.js"), static("field/app.js")],
    }


@require_GET
@ensure_csrf_cookie
def app(request):
    """The notebook's shell: no personal data in it (it is cached by the service worker); the data
    comes from the phone's encrypted store."""
    return render(request, "field/shell.html", _shell_context())


def _file_hash(path: str) -> str:
    found = finders.find(path)
    if not found:
        return "missing"
    with open(found, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()[:16]


@functools.lru_cache(maxsize=4)
def _precache(language: str) -> str:
    """The precache list (URL, revision). A file's revision is its content's hash; the shell's is the
    hash of its templates, its strings and its files, so any change reaches the phones."""
    files = [{"url": static(path), "revision": _file_hash(path)} for path in SHELL_STATIC if finders.find(path)]
    shell = hashlib.sha256()
    for name in SHELL_TEMPLATES:
        # The Django backend's template object carries its source.
        shell.update(get_template(name).template.source.encode())  # type: ignore[attr-defined]
    shell.update(json.dumps(field_strings(), sort_keys=True).encode())
    shell.update("".join(f["revision"] for f in files).encode())
    files.append({"url": reverse("field:app"), "revision": shell.hexdigest()[:16]})
    return json.dumps(files)


@require_GET
def service_worker(request):
    precache = _precache(get_language() or "vi") if not settings.DEBUG else _precache.__wrapped__(get_language() or "vi")
    body = render_to_string("field/sw.js", {"workbox_sw": static(WORKBOX + "workbox-sw.js"),
                                            "workbox_dir": static(WORKBOX).rstrip("/"), "precache": precache,
                                            "shell_url": reverse("field:app")})
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    # Served under /field/ but controls the whole site, so that offline any page opens the shell.
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request):
    icons = [{"src": static(f"field/icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
             for size in (192, 512)]
    icons.append({"src": static("field/icons/maskable-512.png"), "sizes": "512x512", "type": "image/png",
                  "purpose": "maskable"})
    body = {"name": _("vitreem — Sổ tay thực địa"), "short_name": "vitreem", "lang": get_language() or "vi",
            "description": _("Làm công tác bảo vệ trẻ em tại thực địa, có hoặc không có mạng."),
            "start_url": reverse("field:app"), "scope": "/", "display": "standalone",
            "background_color": "#ffffff", "theme_color": "#0b5394", "icons": icons}
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


# ---------------------------------------------------------------- the review queue

def _forbidden(request):
    return render(request, "403.html", {"message": _("Chỉ cán bộ có quyền sửa dữ liệu trẻ em mới xét được hồ sơ trùng.")},
                  status=403)


@login_required
@require_GET
def review_list(request):
    if not scope_for(request.user).write_children:
        return _forbidden(request)
    page = Paginator(selectors.review_queue_for_user(user=request.user), 20).get_page(request.GET.get("page"))
    from vitreem.core.audit import audit_read_list

    audit_read_list(user=request.user, what="field.offlinechange", filters=request.GET.dict(),
                    count=len(page.object_list), total=page.paginator.count)
    return render(request, "field/review_list.html", {"page": page, "title": _("Đăng ký ngoại tuyến chờ xét trùng")})


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request, change_id):
    if not scope_for(request.user).write_children:
        return _forbidden(request)
    try:
        change = selectors.held_change_get_for_user(user=request.user, change_id=change_id,
                                                    status=selectors.FieldChange.Status.REVIEW)
    except NotFound:
        raise Http404 from None
    error = None
    if request.method == "POST":
        try:
            services.review_decide(actor=request.user, change_id=change.pk, decision=request.POST.get("decision", ""),
                                   child_id=_int(request.POST.get("child")))
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Đã ghi quyết định."))
            return redirect("field:review")
    data = change.payload.get("data") or {}
    if change.kind == "case.intake":
        data = data.get("new_child") or {}
    ids = [int(c["id"]) for c in change.result.get("candidates") or []]
    candidates = {c.pk: c for c in selectors.review_candidates(user=request.user, ids=ids)}
    rows = [{"candidate": c, "child": candidates.get(int(c["id"]))} for c in change.result.get("candidates") or []]
    return render(request, "field/review_detail.html", {"change": change, "data": data, "rows": rows, "error": error,
                                                        "title": _("Xét hồ sơ trùng")})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

