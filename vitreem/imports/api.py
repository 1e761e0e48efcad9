"""Imports API (mounted at /api/imports/): upload a list and run it as a job, read an import's result.

Same services and selectors as the screens: scoped, audited, all-or-nothing unless valid_only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from vitreem.core.jobs import job_start
from vitreem.core.params import Offset
from vitreem.places.selectors import unit_resolve

from .models import ImportBatch
from .selectors import import_get_for_user, imports_for_user

router = Router(tags=["imports"])


class ImportOut(Schema):
    id: int
    filename: str
    status: str
    unit: str
    owner: str
    created_at: dt.datetime
    task: uuid.UUID | None = None
    result: dict[str, Any]

    @staticmethod
    def from_batch(b: ImportBatch, *, full: bool = False) -> ImportOut:
        result = dict(b.result or {})
        if not full:
            result = {k: result.get(k) for k in ("rows", "valid", "invalid", "created", "updated", "unchanged", "review",
                                                 "written") if k in result}
        return ImportOut(id=b.pk, filename=b.filename, status=b.status, unit=b.unit.ref, owner=b.owner.username,
                         created_at=b.created_at, task=b.task_id, result=result)


class ImportIn(Schema):
    unit: str | None = None
    sheet: str = ""
    dry_run: bool = False
    valid_only: bool = False


@router.get("/", response=list[ImportOut])
def list_imports(request, limit: int = 50, offset: Offset = 0) -> list[ImportOut]:
    qs = imports_for_user(user=request.auth)[max(0, offset): max(0, offset) + min(max(1, limit), 200)]
    return [ImportOut.from_batch(b) for b in qs]


@router.get("/{import_id}", response=ImportOut)
def get_import(request, import_id: int) -> ImportOut:
    return ImportOut.from_batch(import_get_for_user(user=request.auth, import_id=import_id), full=True)


@router.post("/", response={202: ImportOut})
def create_import(request, payload: Form[ImportIn], file: File[UploadedFile]) -> Status[ImportOut]:
    """Upload a list and run it in the background; poll GET /api/imports/{id} (status, result)."""
    from .services import import_create
    from .tasks import import_check, import_run

    unit = unit_resolve(payload.unit) if payload.unit else None
    with transaction.atomic():
        batch = import_create(actor=request.auth, filename=file.name or "upload", content=file.read(),
                              default_unit=unit, sheet=payload.sheet)
        if payload.dry_run:
            batch.dry_run = True
            batch.save(update_fields=["dry_run"])
        status = job_start(kind="import", owner=request.auth, task=import_check if payload.dry_run else import_run,
                           import_id=batch.pk, user_id=request.auth.pk, valid_only=payload.valid_only)
        batch.status, batch.task_id = ImportBatch.Status.RUNNING, status.pk
        batch.save(update_fields=["status", "task_id"])
    batch.refresh_from_db()
    return Status(202, ImportOut.from_batch(batch))
