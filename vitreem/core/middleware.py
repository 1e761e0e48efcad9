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
