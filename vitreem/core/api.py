"""The REST API: one NinjaAPI, routers discovered from each app's `api.py`, errors as JSON.

Authentication: the browser session (with CSRF on unsafe methods) or a personal token in
`Authorization: Bearer vtr_…`. Every error body is {"code": "...", "message": "..."} (`ErrorOut`), and
the schema documents the error statuses the handlers below answer on every operation.
"""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from .errors import DomainError

if TYPE_CHECKING:
    from vitreem.accounts.models import User


class TokenAuth(HttpBearer):
    """A personal token; `token_authenticate` refuses (401 with its code) a revoked, expired or stale one,
    and one made without the second factor the user's role requires."""

    def authenticate(self, request, token) -> User:
        from vitreem.accounts.services import token_authenticate

        user = token_authenticate(token)
        request.user = user
        return user


class Session(SessionAuth):
    """Django session; the two-factor middleware has already refused unverified officers."""

    def authenticate(self, request, key) -> User | None:
        user = request.user
        return user if user.is_authenticated else None


class ErrorOut(Schema):
    """The body of every error answer: a code a program can test, a message for a person (in the user's
    language), the field at fault and, for invalid input, each field's message."""

    code: str
    message: str
    field: str | None = None
    errors: dict[str, str] | None = None


# The statuses the exception handlers answer, whichever operation raised: documented on every operation
# (unless it documents that status itself), so a client — and the schema's fuzzing test — can rely on the
# schema for errors too. A view returns its success; its errors are raised and turned into these here.
ERROR_STATUSES = {
    400: "Dữ liệu không hợp lệ (code validation_error hoặc mã lỗi nghiệp vụ)",
    401: "Chưa đăng nhập, hoặc mã truy cập API không dùng được",
    403: "Không có quyền thực hiện",
    404: "Không tìm thấy, hoặc ngoài phạm vi của người dùng",
    409: "Xung đột: bản ghi đã bị người khác sửa, hoặc trạng thái không cho phép bước này",
}


class Api(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for path in schema["paths"].values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    responses.setdefault(status, {"description": description, "content": error})
        return schema


class LocalSwagger(Swagger):
    """Swagger UI from ninja's own page and files, which the settings add to the template and static
    dirs (ninja is not an installed app: see NINJA_DIR in config/settings/base.py). Ninja itself falls
    back to a page that loads the UI from a public CDN when it is not an installed app."""

    def render_page(self, request, api, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        csrf = any(getattr(a, "csrf", False) for a in api.auth or [])  # the session's: the page sends its token
        context = {"swagger_settings": json.dumps(self.settings, indent=1), "api": api, "add_csrf": csrf}
        return render(request, self.template, context)


class ObjectBodies(Parser):
    """Every JSON body of the API is an object. A schema reads anything else by its attributes (ninja's way
    of reading model instances): a body of "x" set an activity's title to "X" (`"x".title()`), and [] or true
    passed as an empty change (found by the API fuzzing). Anything but an object is refused as an unreadable
    body (400)."""

    def parse_body(self, request) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        return data


api = Api(
    title="vitreem API",
    version="1",
    description="API của hệ thống thông tin vì trẻ em. Mọi dữ liệu đều lọc theo phạm vi của người dùng.",
    auth=[TokenAuth(), Session()],
    parser=ObjectBodies(),
    urls_namespace="api",
    docs=LocalSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    # The API's description (every endpoint, every field of a child's record) is for logged-in users only
    # (issue 20 item 7). A token client reads the schema with a session, or from the code.
    docs_decorator=login_required,
)


def _error(request, status: int, code: str, message: str, **extra) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError) -> HttpResponse:
    errors = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        errors[".".join(loc) or "request"] = err.get("msg", "")
    first = next(iter(errors.items()), ("request", ""))
    return _error(request, 400, "validation_error",
                  _("Dữ liệu không hợp lệ ở trường %(f)s: %(m)s") % {"f": first[0], "m": first[1]},
                  field=first[0], errors=errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc) -> HttpResponse:
    return _error(request, 401, "unauthorized", _("Chưa đăng nhập hoặc phiên làm việc đã hết hạn."))


@api.exception_handler(Http404)
def on_404(request, exc) -> HttpResponse:
    return _error(request, 404, "not_found", _("Không tìm thấy hoặc bạn không có quyền xem."))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))


def _discover_routers() -> None:
    """Mount `router` from every vitreem app that has an api.py (prefix = the app label)."""
    for config in apps.get_app_configs():
        if not config.name.startswith("vitreem."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.api":
                continue
            raise
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router(f"/{getattr(module, 'PREFIX', config.label)}/", router)


_discover_routers()
