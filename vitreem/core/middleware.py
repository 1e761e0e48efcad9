"""Request id: every audit row written during a request carries it, so rows can be grouped."""

import uuid
from contextvars import ContextVar

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
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            source_var.reset(source_token)
        response["X-Request-Id"] = rid
        return response


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
