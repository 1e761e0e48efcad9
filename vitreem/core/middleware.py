"""Request id: every audit row written during a request carries it, so rows can be grouped."""

import uuid
from contextvars import ContextVar

from vitreem.places.selectors import stamp_read_once

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
source_var: ContextVar[str] = ContextVar("audit_source", default="cli")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request.headers.get("X-Request-Id", "")[:36] or str(uuid.uuid4())
        request.request_id = rid
        token = request_id_var.set(rid)
        source_token = source_var.set("api" if request.path.startswith("/api/") else "web")
        try:
            # the unit tree's stamp is read once per request (places.selectors.tree_stamp): its scope and
            # its statistics derive from one stamp, and its query count does not depend on the clock
            with stamp_read_once():
                response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            source_var.reset(source_token)
        response["X-Request-Id"] = rid
        return response


class RefuseNulMiddleware:
    """A NUL character (U+0000) in a request's path, query or text body is a 400 naming the parameter,
    before any view runs: PostgreSQL's text cannot hold one, so psycopg refused to send the query and a
    search for "0\\x00" was a 500 (found by the API fuzzing, issue 15 item 3); no real input holds one.
    JSON bodies and the text fields of posted forms are checked, not uploaded files (whose bytes may hold
    NULs). The API answers its JSON error, a page the 400 page (`BadParameter` is a `BadRequest`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = _nul_in(request)
        if name is None:
            return self.get_response(request)
        from django.utils.translation import gettext as _

        from .params import BadParameter

        error = BadParameter(_("Tham số %(name)s chứa ký tự NUL (mã 0): không được chấp nhận.") % {"name": name},
                             field=name)
        if request.path.startswith("/api/"):
            from .api import api

            return api.create_response(request, error.as_dict(), status=error.status)
        raise error


def _nul_in(request) -> str | None:
    """The name of the first part of the request holding a NUL character, or None."""
    if "\x00" in request.path:
        return "path"
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return name.replace("\x00", "") or "query"
    if request.content_type == "application/json" and b"\\u0000" in request.body:
        import json

        try:
            data = json.loads(request.body)
        except ValueError:
            return None  # not JSON: the view's parser says so
        return _nul_at(data, "body")
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.POST.lists():  # text fields only: files are in request.FILES
            if "\x00" in name or any("\x00" in v for v in values):
                return name.replace("\x00", "") or "body"
    return None


def _nul_at(data, path: str) -> str | None:
    """Where a NUL character is in decoded JSON (`body.child.full_name`), or None."""
    if isinstance(data, str):
        return path if "\x00" in data else None
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        if isinstance(key, str) and "\x00" in key:
            return path
        found = _nul_at(value, f"{path}.{key}")
        if found:
            return found
    return None


class DomainErrorMiddleware:
    """Domain errors a page lets through become their page, in one place (Django's process_exception
    hook), as core/api.py does for the API: NotFound → 404, PermissionDenied → 403 with its message, any
    other DomainError (ValidationFailed, a bad parameter…) → 400 with its message. A view that can show
    the error on its own form catches it itself; nothing else needs a try/except or a decorator."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from .errors import DomainError, NotFound, PermissionDenied

        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        if isinstance(exception, NotFound):
            return render(request, "404.html", status=404)
        if isinstance(exception, PermissionDenied):
            return render(request, "403.html", {"message": exception.message}, status=403)
        return render(request, "400.html", {"message": exception.message}, status=400)


# Browser features no page of vitreem uses, switched off for its own pages and anything they embed
# (issue 20 item 7, beside the Content-Security-Policy): a script that got in could not reach the
# camera, the microphone, the location or payment on a worker's phone.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer", "microphone",
    "midi", "payment", "usb", "browsing-topics"))


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
