"""Field sync API (mounted at /api/field/): the phone downloads its worker's data and sends her changes.

The protocol is described in docs/en/offline.md. Reads go through `selectors` (scoped by
`core.scope`), writes through `services` (which call the registry's, cases' and activities' own
services), so scope, validation and audit are the screens' own.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from vitreem.accounts.models import User
from vitreem.core.errors import PermissionDenied, ValidationFailed
from vitreem.core.params import DateTime

from . import selectors, services

router = Router(tags=["field"])

# One sync request carries at most this many changes (the phone sends its outbox in batches).
MAX_CHANGES = 500
# Responses smaller than this are not worth compressing.
GZIP_MIN = 1024


def _require_field(user: User) -> None:
    if not selectors.field_enabled(user):
        raise PermissionDenied(_("Chỉ người làm công tác bảo vệ trẻ em cấp xã dùng được sổ tay thực địa."))


def _json(request, body: dict[str, Any], status: int = 200) -> HttpResponse:
    """JSON, gzip-compressed when the phone accepts it (the first download of a commune is the big one)."""
    data = json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
    response = HttpResponse(status=status, content_type="application/json")
    if len(data) >= GZIP_MIN and "gzip" in request.headers.get("Accept-Encoding", ""):
        data = gzip.compress(data, compresslevel=6)
        response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding, Cookie, Authorization"
    response["Cache-Control"] = "no-store"  # personal data: never kept by a cache, the service worker's included
    response.content = data
    return response


@router.get("/whoami", url_name="field_whoami", summary="Who is logged in, her scope's fingerprint and the server's clock")
def whoami(request) -> dict[str, Any]:
    """The phone checks this before sending anything: the same account as the data on the phone (else
    the phone's data is erased), the same scope (else it is downloaded again), and its own clock."""
    _require_field(request.user)
    return {"user": {"id": request.user.pk, "name": request.user.display_name},
            "scope_key": selectors.scope_key(request.user), "server_time": timezone.now().isoformat(),
            "settings": {"wipe_days": settings.VITREEM_FIELD_WIPE_DAYS,
                         "clock_tolerance_minutes": settings.VITREEM_FIELD_CLOCK_TOLERANCE_MINUTES}}


@router.get("/snapshot", url_name="field_snapshot", summary="The worker's data for her phone (all of it, or what changed since a cursor)")
def snapshot(request, since: DateTime | None = None) -> HttpResponse:
    """Her communes' children with the fields of the field forms (`child_fields` names the columns of
    each row of `children`), her open cases (summary), her communes' trainings and recreation events
    of these weeks, the code tables, and her changes waiting for a decision. With `since` (the
    previous answer's `cursor`): only the children changed since, and `child_ids`, all her children's
    ids (the phone drops the others)."""
    _require_field(request.user)
    return _json(request, selectors.snapshot_for(user=request.user, since=since))


class SyncIn(Schema):
    device_id: str = Field("", max_length=64, description="A random id the phone made for itself")
    device_time: DateTime | None = Field(None, description="The phone's clock when it sent this request")
    changes: list[dict[str, Any]] = Field(
        description="In the order recorded. Each: id (UUID made on the phone), kind, recorded_at (ISO time by the "
                    "phone's clock), base_version (the record's version on the phone), target ({child|case|guardian|"
                    "activity: id, or child: 'local:<registration change id>'}), data (the new values), base (the "
                    "values the worker saw, for edits)")


@router.post("/sync", url_name="field_sync", summary="Send the phone's changes; each answered applied, conflict, review, waiting or failed")
def sync(request, payload: SyncIn) -> HttpResponse:
    _require_field(request.user)
    if len(payload.changes) > MAX_CHANGES:
        raise ValidationFailed({"changes": _("Gửi tối đa %(n)s thay đổi mỗi lần.") % {"n": MAX_CHANGES}})
    body = services.sync_push(actor=request.user, changes=payload.changes, device_id=payload.device_id,
                              device_time=payload.device_time)
    return _json(request, body)


class ResolveIn(Schema):
    choices: dict[str, str] = Field(description='For each field in conflict: "device" (hers) or "server"')


@router.post("/conflicts/{change_id}/resolve", url_name="field_conflict_resolve", summary="Choose the value that stands for each field in conflict")
def conflict_resolve(request, change_id: str, payload: ResolveIn) -> HttpResponse:
    _require_field(request.user)
    try:
        row = services.conflict_resolve(actor=request.user, change_id=change_id, choices=payload.choices)
    except services.ChangedAgain as again:
        return _json(request, {**again.as_dict(), "held": selectors.held_as_dict(again.row)}, status=409)
    return _json(request, selectors.held_as_dict(row))
