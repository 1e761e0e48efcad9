"""Domain errors: raised by services and selectors, turned into a message in one place.

Every message is translatable (Vietnamese first). `field` names the form/API field or the
spreadsheet column at fault so the user knows where to look.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the request. Nothing has been written."""

    code = "invalid"
    status = 400

    def __init__(self, message: Any, *, field: str | None = None, code: str | None = None, **params: Any):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.params = params

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.field:
            body["field"] = self.field
        return body


class ValidationFailed(DomainError):
    """One or more fields are invalid; `errors` maps field -> message."""

    code = "validation_error"

    def __init__(self, errors: dict[str, Any], message: Any = None):
        from django.utils.translation import gettext as _

        self.errors = {k: str(v) for k, v in errors.items()}
        first = next(iter(self.errors.items()), (None, ""))
        super().__init__(message or first[1] or _("Dữ liệu không hợp lệ."), field=first[0])

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body["errors"] = self.errors
        return body


class NotFound(DomainError):
    """Not found, or not within the user's scope: the two look the same on purpose."""

    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """A stale edit or a state that changed under the user (optimistic locking)."""

    code = "conflict"
    status = 409
